"""What peer leads and managers do to a role, each a rule-checked, audited write.

Views parse a form and call one of these; a ``Refusal`` carries the message to
show. Every change is made and audited in one ``db.atomic()``. A change of a
role's state is a compare-and-set (``peerapp.changes.compare_and_set``) on what
the person saw, first in the transaction, so two people pressing the same button
leave one change and one audit row; the loser is told someone else has just
changed it. The database's own constraints (one current role per team, one
pending offer per team (m0024), expiry after completion) stay the real guard,
and their errors are turned into the same plain messages.
"""
from __future__ import annotations

import datetime as dt
import secrets

import peewee as pw

from .. import clock, history, passwords
from ..audit import audit
from ..changes import compare_and_set, hold, unique_violation
from ..db import db
from ..models import User
from ..wrap.models import WrapPlan
from ..wrap.rights import erase_plan
from .models import (CURRENT_STATUSES, DBS_OUTCOMES, KINDS, CheckType, Debrief, InductionItem, InductionTick,
                     PeerLeadDesignation, PeerRole, RecruitmentCheck, Refusal, StaffConflict, Supervision,
                     TeamMeetingAgreement)
from .readiness import long_date

# Which status may follow which, and the button that does it.
STAFF_ROLES = ("manager", "peer_lead", "clinician", "facilitator")

NEXT = {"offered": ("onboarding", "ended"), "onboarding": ("active", "ended"),
        "active": ("paused", "ended"), "paused": ("active", "ended"), "ended": ()}


def one_time_password() -> str:
    return "-".join(secrets.token_hex(3) for _ in range(4))


def supervisor_problem(supervisor: User | None, team, role: PeerRole | None = None, candidate=None) -> str | None:
    if supervisor is None:
        return "Choose a supervisor"
    if not PeerLeadDesignation.is_lead(supervisor, team):
        return f"{supervisor.name} is not a named peer lead of {team.name}; choose one of the team's peer leads"
    who = role or candidate
    if who is not None and StaffConflict.between(supervisor, who):
        return (f"{supervisor.name} has declared a prior care relationship with this peer, "
                "so cannot be their supervisor")
    return None


def pending_role(candidate, team) -> PeerRole | None:
    """The person's role offered or in onboarding in this team (at most one: index m0024)."""
    return PeerRole.select().where(PeerRole.candidate == candidate, PeerRole.team == team,
                                   PeerRole.status.in_(("offered", "onboarding"))).first()


def offer_role(*, candidate, team, kind: str, supervisor: User, start_date: dt.date, by: User,
               previous_role: PeerRole | None = None, **details) -> PeerRole:
    """Offer a role to a candidate who has completed training (or an equivalent)."""
    if kind not in KINDS:
        raise Refusal("Choose volunteer or paid")
    if previous_role is not None and (previous_role.candidate_id != candidate.id or previous_role.team_id != team.id):
        # Else one person's induction sign-off would carry over to another, and their role would end.
        raise Refusal(f"The role this one follows must be {candidate.name}'s own in {team.name}")
    if candidate.completed_training() is None:
        raise Refusal(f"{candidate.name} has not completed training (or a recognised equivalent) yet")
    problem = supervisor_problem(supervisor, team, candidate=candidate)
    if problem:
        raise Refusal(problem)
    if pending_role(candidate, team) is not None:
        raise Refusal(f"{candidate.name} already has a role offered in {team.name}; "
                      "carry on with that one or end it first")
    same_kind = PeerRole.select().where(PeerRole.candidate == candidate, PeerRole.team == team,
                                        PeerRole.kind == kind, PeerRole.status.in_(CURRENT_STATUSES))
    if same_kind.exists():
        raise Refusal(f"{candidate.name} already has an active {kind} role in {team.name}")
    now = clock.now()
    try:
        return _create_role(candidate, team, kind, supervisor, start_date, by, previous_role, now, details)
    except pw.IntegrityError as error:
        if not unique_violation(error):
            raise
        raise Refusal(f"Someone else has just offered {candidate.name} a role in {team.name}: "
                      "look again and carry on with that one") from None


def _create_role(candidate, team, kind, supervisor, start_date, by, previous_role, now, details) -> PeerRole:
    with db.atomic():
        role = PeerRole.create(candidate=candidate, team=team, kind=kind, supervisor=supervisor,
                               start_date=start_date, offered_by=by, previous_role=previous_role,
                               status="offered", created_at=now, updated_at=now, **details)
        if previous_role is not None and previous_role.team_id == team.id:
            # Moving from volunteer to paid in the same team: the induction done stays done.
            for tick in previous_role.induction_ticks:
                InductionTick.create(role=role, item=tick.item_id, done_on=tick.done_on,
                                     ticked_by=tick.ticked_by_id, ticked_at=tick.ticked_at)
            if previous_role.induction_signed_off_on:
                role.induction_signed_off_on = previous_role.induction_signed_off_on
                role.induction_signed_off_by = previous_role.induction_signed_off_by_id
                role.save()
        audit("create", role, summary=f"{kind} role offered")
    return role


def changed_under_you(role: PeerRole, seen: str) -> str:
    return (f"Someone else has just changed {role.display_name}'s role (it was {seen} when you opened it): "
            "nothing was saved. Look at the role again before you try.")


def update_details(role: PeerRole, *, by: User, supervisor: User | None, **details) -> None:
    if role.status == "ended":
        raise Refusal("This role has ended; its details are kept as they were")
    # Checked even when unchanged: a supervisor no longer named a peer lead, or who has
    # since declared a prior care relationship, is not kept by saving other details.
    problem = supervisor_problem(supervisor, role.team, role=role)
    if problem:
        raise Refusal(problem)
    with db.atomic():
        before = history.snapshot(role)
        role.touch()
        # Only the details, and only while the role is as the person saw it: a save() of
        # the whole row would write a status changed meanwhile back to what it was.
        compare_and_set(PeerRole, role.id, {"status": role.status}, refused=changed_under_you(role, role.status),
                        supervisor=supervisor, updated_at=role.updated_at, **details)
        role.supervisor = supervisor
        for name, value in details.items():
            setattr(role, name, value)
        history.record_changes(before, role, user=by)
        audit("update", role, summary="role details changed")


def change_status(role: PeerRole, new: str, *, by: User, reason: str = "",
                  today: dt.date | None = None) -> None:
    """Move a role on: start onboarding, pause or end (with a reason). Becoming
    active goes through ``activate``, which checks readiness."""
    today = today or clock.today()
    if new not in NEXT.get(role.status, ()):
        raise Refusal(f"A role that is {role.status} cannot become {new}")
    if new == "active":
        raise Refusal("Use Activate to make a role active")
    if new in ("paused", "ended") and not reason.strip():
        raise Refusal(f"Give a reason the role is {new}")
    seen = role.status
    with db.atomic():
        before = history.snapshot(role)
        role.touch()
        changes = {"status": new, "status_reason": reason.strip(), "updated_at": role.updated_at}
        if new == "ended":
            changes["ended_on"] = today
        compare_and_set(PeerRole, role.id, {"status": seen}, refused=changed_under_you(role, seen), **changes)
        for name, value in changes.items():
            setattr(role, name, value)
        history.record_changes(before, role, user=by)
        audit("status", role, summary=f"role {new}")
        if new == "ended":
            _erase_wrap_on_leaving(role)


def _erase_wrap_on_leaving(role: PeerRole) -> None:
    """A peer's work-WRAP goes when they leave (their last open role ends): every
    version, share and arrangement. The view log keeps only that a plan existed."""
    owner = role.user_id or role.candidate.user_id
    if not owner or PeerRole.select().where(PeerRole.user == owner, PeerRole.status != "ended").exists():
        return
    plan = WrapPlan.get_or_none(WrapPlan.owner == owner)
    if plan is not None:
        erase_plan(plan)
        audit("erase", record_type="wrap_plan", record_id=plan.id, summary="work-WRAP erased on leaving")


def activate(role: PeerRole, *, by: User, today: dt.date | None = None) -> tuple[User, str | None]:
    """Make the role active (from onboarding, or back from a pause): only when the
    peer is ready to practise. Creates the peer's account the first time (role
    peer, in the team, a one-time password shown once) or links an existing one
    found by the candidate's record or email. Returns (user, password or None)."""
    today = today or clock.today()
    if role.status not in ("onboarding", "paused"):
        raise Refusal("Only a role in onboarding, or paused, can be made active"
                      + ("; start onboarding first" if role.status == "offered" else ""))
    clash = role.other_current_in_team().where(PeerRole.id != (role.previous_role_id or 0))
    if clash.exists():
        raise Refusal(f"{role.display_name} already has an active role in {role.team.name}")
    problems = role.readiness_problems(today)
    if problems:
        raise Refusal(f"{role.display_name} is not ready to practise: " + "; ".join(problems))
    problem = supervisor_problem(role.supervisor, role.team, role=role)
    if problem:  # e.g. the supervisor has since declared a prior care relationship
        raise Refusal(f"Choose another supervisor for {role.display_name} first: {problem}")
    candidate = role.candidate
    password = None
    seen = role.status
    try:
        with db.atomic(), history.tracked(role, role.previous_role if role.previous_role_id else None, user=by):
            # Both moves are compare-and-set on what the person saw; the volunteer role it
            # follows ends first (one current role per team is a unique index).
            if role.previous_role_id and role.previous_role.status in CURRENT_STATUSES:
                previous = role.previous_role
                compare_and_set(PeerRole, previous.id, {"status": previous.status},
                                refused=changed_under_you(previous, previous.status),
                                status="ended", ended_on=today, status_reason=f"moved to {role.kind}",
                                updated_at=clock.now())
                audit("status", previous, summary=f"role ended: moved to {role.kind}")
            compare_and_set(PeerRole, role.id, {"status": seen}, refused=changed_under_you(role, seen),
                            status="active", status_reason="", auto_paused_since=None, updated_at=clock.now())
            # A role links only to an account made for this person, or to one an
            # administrator has already given the peer role (password asked
            # again): activation never grants a role to an existing account.
            user = role.user or candidate.user
            if user is None and candidate.email:
                user = User.by_email(candidate.email)
            if user is not None and "peer" not in user.roles:
                raise Refusal(f"The account {user.email} is not a peer worker's account, so "
                              f"{role.display_name}'s role cannot use it. Check the email address in training, "
                              "or ask the administrator to give that account the peer role first.")
            if user is None:
                if not candidate.email:
                    raise Refusal(f"Record {candidate.name}'s email address in training first: "
                                  "their account needs one")
                password = one_time_password()
                user = User.create(email=User.normalise_email(candidate.email), name=candidate.name,
                                   team=role.team, must_change_password=True,
                                   one_time_expires_at=passwords.one_time_expiry(),
                                   password_hash=passwords.hash_password(password))
                audit("create", user, summary="peer account created on activation of their role")
                user.set_roles({"peer"})  # an account made for this role, audited as a role change
            elif not user.active:
                raise Refusal(f"{user.name}'s account is deactivated; ask the administrator to reactivate it")
            if user.team_id is None:
                user.team = role.team
                user.save()
            if candidate.user_id != user.id:
                type(candidate).update(user=user).where(type(candidate).id == candidate.id).execute()
            PeerRole.update(user=user).where(PeerRole.id == role.id).execute()
            role.user = user
            role.status, role.status_reason, role.auto_paused_since = "active", "", None
            role.touch()
            audit("status", role, summary="role active")
    except pw.IntegrityError:
        raise Refusal(f"{role.display_name} already has an active role in {role.team.name}") from None
    return user, password


def _check_rules(check_type: CheckType, completed_on: dt.date, expires_on: dt.date | None, today: dt.date,
                 dbs_level: str, dbs_update_service, dbs_outcome: str) -> tuple[str, object, str]:
    """What a check must say to be recorded (or corrected): refuses, else the DBS
    details to keep (none for a check that is not a DBS)."""
    if completed_on > today:
        raise Refusal("The date completed cannot be in the future")
    if check_type.lapses and expires_on is None:
        raise Refusal(f"Enter the expiry date ({check_type.name} lapses)")
    if expires_on is not None and expires_on <= completed_on:
        raise Refusal(f"The expiry date ({long_date(expires_on)}) must be after the date completed "
                      f"({long_date(completed_on)})")
    if check_type.is_dbs and dbs_outcome not in DBS_OUTCOMES:
        raise Refusal("Choose the DBS outcome: clear or needs review")
    if not check_type.is_dbs:
        return "", None, ""
    return dbs_level, dbs_update_service, dbs_outcome


def record_check(role: PeerRole, *, check_type: CheckType, completed_on: dt.date, expires_on: dt.date | None,
                 by: User, today: dt.date | None = None, dbs_level: str = "", dbs_update_service=None,
                 dbs_outcome: str = "") -> RecruitmentCheck:
    today = today or clock.today()
    dbs_level, dbs_update_service, dbs_outcome = _check_rules(check_type, completed_on, expires_on, today, dbs_level,
                                                              dbs_update_service, dbs_outcome)
    try:
        with db.atomic():
            record = RecruitmentCheck.create(candidate=role.candidate_id, check_type=check_type,
                                             completed_on=completed_on, expires_on=expires_on,
                                             dbs_level=dbs_level, dbs_update_service=dbs_update_service,
                                             dbs_outcome=dbs_outcome, recorded_by=by, recorded_at=clock.now())
            audit("create", record, summary=f"{check_type.code} recorded for peer role {role.id}")
    except pw.IntegrityError:
        raise Refusal("The expiry date must be after the date completed") from None
    return record


def correct_check(role: PeerRole, record: RecruitmentCheck, *, reason: str, seen: str | None, by: User,
                  check_type: CheckType, completed_on: dt.date, expires_on: dt.date | None,
                  today: dt.date | None = None, dbs_level: str = "", dbs_update_service=None,
                  dbs_outcome: str = "") -> list:
    """Correct a recorded check (a mistyped date, the wrong DBS outcome) under the rules
    that recording it follows. Nothing about the role is stored: whether it is paused
    automatically is worked out from its checks as they now stand (``ready_to_practise``),
    the same way as after recording one. Field history with the reason; audited."""
    today = today or clock.today()
    if not reason.strip():
        raise Refusal("Say why you are correcting it")
    dbs_level, dbs_update_service, dbs_outcome = _check_rules(check_type, completed_on, expires_on, today, dbs_level,
                                                              dbs_update_service, dbs_outcome)
    try:
        with db.atomic():
            changed = history.correct(record, dict(check_type=check_type.id, completed_on=completed_on,
                                                   expires_on=expires_on, dbs_level=dbs_level,
                                                   dbs_update_service=dbs_update_service, dbs_outcome=dbs_outcome),
                                      reason=reason, seen=seen, user=by)
            if changed:
                audit("update", record, user=by,
                      summary=f"{check_type.code} corrected for peer role {role.id}: "
                              f"{', '.join(c['field'] for c in changed)}; reason: {reason.strip()}")
    except pw.IntegrityError:
        raise Refusal("The expiry date must be after the date completed") from None
    return changed


def tick_induction(role: PeerRole, item: InductionItem, *, by: User, done_on: dt.date | None = None,
                   done: bool = True) -> None:
    try:
        with db.atomic():
            # The role as it is now, held: a sign-off cannot slip between this check and the tick.
            fresh = hold(PeerRole, role.id)
            if fresh is None or fresh.status == "ended":
                raise Refusal("This role has ended")
            if fresh.induction_signed_off_on:
                raise Refusal("The induction is already signed off")
            existing = InductionTick.get_or_none(role=role, item=item)
            if done and existing is None:
                tick = InductionTick.create(role=role, item=item, done_on=done_on or clock.today(), ticked_by=by,
                                            ticked_at=clock.now())
                audit("create", tick, summary=f"induction item {item.id} ticked for peer role {role.id}")
            elif not done and existing is not None:
                if InductionTick.delete().where(InductionTick.id == existing.id).execute() != 1:
                    raise Refusal(f"Someone else has just unticked \u201c{item.title}\u201d")
                audit("delete", record_type="induction_tick", record_id=existing.id,
                      summary=f"induction item {item.id} unticked for peer role {role.id}")
    except pw.IntegrityError as error:  # ticked by two people at once: unique (role, item)
        if not unique_violation(error):
            raise
        raise Refusal(f"Someone else has just ticked \u201c{item.title}\u201d") from None


def induction_missing(role: PeerRole) -> list[InductionItem]:
    done = {t.item_id for t in role.induction_ticks}
    return [item for item in InductionItem.checklist() if item.id not in done]


def sign_off_induction(role: PeerRole, *, by: User, today: dt.date | None = None) -> None:
    if not PeerLeadDesignation.is_lead(by, role.team):
        raise Refusal("Only a named peer lead of the team can sign off an induction")
    if role.induction_signed_off_on:
        raise Refusal("The induction is already signed off")
    with db.atomic(), history.tracked(role, user=by):
        hold(PeerRole, role.id)  # no tick or untick between counting the ticks and signing off
        missing = induction_missing(role)
        if missing:
            raise Refusal("Tick every item first; still to do: " + ", ".join(i.title for i in missing))
        role.touch()
        compare_and_set(PeerRole, role.id, {"induction_signed_off_on": None, "status": role.status},
                        refused=f"Someone else has just signed off {role.display_name}'s induction, or changed "
                                "the role: nothing was saved.",
                        induction_signed_off_on=today or clock.today(), induction_signed_off_by=by,
                        updated_at=role.updated_at)
        role.induction_signed_off_on, role.induction_signed_off_by = today or clock.today(), by
        audit("update", role, summary="induction signed off")


def give_base_access(role: PeerRole, *, by: User, today: dt.date | None = None) -> None:
    today = today or clock.today()
    if role.status == "ended":
        raise Refusal("This role has ended")
    problems = role.checks_problems(today)
    if problems:
        raise Refusal("Base access can be given only when training and checks are complete and in date: "
                      + "; ".join(problems))
    with db.atomic(), history.tracked(role, user=by):
        role.touch()
        compare_and_set(PeerRole, role.id, {"base_access_on": role.base_access_on, "status": role.status},
                        refused=f"Someone else has just recorded base access for {role.display_name}, or changed "
                                "the role: nothing was saved.",
                        base_access_on=today, base_access_by=by, updated_at=role.updated_at)
        role.base_access_on, role.base_access_by = today, by
        audit("update", role, summary="base access recorded")


def set_meeting_arrangement(role: PeerRole, *, attends: bool, arrangement: str, by: User) -> TeamMeetingAgreement:
    try:
        with db.atomic():
            agreement = TeamMeetingAgreement.get_or_none(role=role) or TeamMeetingAgreement(role=role)
            before = history.snapshot(agreement) if agreement.id else None
            agreement.attends = attends
            agreement.arrangement = arrangement.strip()
            agreement.manager = agreement.lead = None
            agreement.manager_on = agreement.lead_on = agreement.peer_on = None
            agreement.updated_at = clock.now()
            agreement.save()
            if before is not None:
                history.record_changes(before, history.Part(agreement, role, "team meetings"), user=by)
            audit("update", agreement, summary=f"team meeting arrangement set for peer role {role.id}")
    except pw.IntegrityError as error:  # two first arrangements at once: one row per role (unique)
        if not unique_violation(error):
            raise
        raise Refusal("Someone else has just written down the team meeting arrangement: look at it, "
                      "then change it if you need to") from None
    return agreement


def confirm_meeting(role: PeerRole, *, by: User, as_: str, today: dt.date | None = None) -> None:
    """as_: manager | lead | peer: each of the three confirms for themselves."""
    agreement = TeamMeetingAgreement.get_or_none(role=role)
    if agreement is None:
        raise Refusal("Write down the arrangement first")
    before = history.snapshot(agreement)
    today = today or clock.today()
    # Agreed by three people: whoever confirmed as manager cannot confirm as peer lead too.
    other_side = {"manager": agreement.lead_id, "lead": agreement.manager_id}.get(as_)
    if other_side is not None and other_side == by.id:
        raise Refusal("You have already agreed for the " + ("peer lead" if as_ == "manager" else "manager")
                      + "; the manager, a peer lead and the peer are three people")
    # Compare-and-set: the arrangement is still the one the person read, and the other
    # side's confirmation is as they saw it (so one person cannot take both at once).
    expected = {"arrangement": agreement.arrangement, "attends": agreement.attends}
    if as_ == "manager":
        if not (by.has_role("manager") and by.team_id == role.team_id):
            raise Refusal("Only the team's manager can confirm as manager")
        changes, expected["lead"] = {"manager": by.id, "manager_on": today}, agreement.lead_id
    elif as_ == "lead":
        if not PeerLeadDesignation.is_lead(by, role.team):
            raise Refusal("Only a named peer lead of the team can confirm as peer lead")
        changes, expected["manager"] = {"lead": by.id, "lead_on": today}, agreement.manager_id
    elif as_ == "peer":
        if not role.is_peer(by):
            raise Refusal("Only the peer can confirm for themselves")
        changes = {"peer_on": today}
    else:
        raise Refusal("Unknown confirmation")
    with db.atomic():
        compare_and_set(TeamMeetingAgreement, agreement.id, expected, updated_at=clock.now(),
                        refused="Someone else has just changed the team meeting arrangement: nothing was "
                                "confirmed. Read it again before you agree.", **changes)
        history.record_changes(before, history.Part(agreement, role, "team meetings"), user=by)
        audit("update", agreement, summary=f"team meeting arrangement confirmed by {as_}")


def _supervision_rules(role: PeerRole, by: User, held_on: dt.date, next_on: dt.date | None, today: dt.date) -> None:
    if not PeerLeadDesignation.is_lead(by, role.team):
        raise Refusal("Only a named peer lead of the team can record supervision")
    if held_on > today:
        raise Refusal("The supervision date cannot be in the future")
    if next_on is not None and next_on < held_on:
        raise Refusal("The next supervision cannot be before this one")


def record_supervision(role: PeerRole, *, by: User, held_on: dt.date, duration_minutes: int,
                       how_they_are: str, actions: str, next_on: dt.date | None,
                       today: dt.date | None = None) -> Supervision:
    today = today or clock.today()
    _supervision_rules(role, by, held_on, next_on, today)
    with db.atomic():
        record = Supervision.create(role=role, held_on=held_on, duration_minutes=duration_minutes,
                                    how_they_are=how_they_are, actions=actions, next_on=next_on,
                                    recorded_by=by, recorded_at=clock.now())
        audit("create", record, summary=f"supervision recorded for peer role {role.id}")
    return record


def correct_supervision(record: Supervision, *, by: User, reason: str, seen: str | None, held_on: dt.date,
                        duration_minutes: int, how_they_are: str, actions: str, next_on: dt.date | None,
                        today: dt.date | None = None) -> list:
    """Correct a supervision record under the rules of recording one. When supervision
    is next due (and so overdue) is worked out from the records as they now stand
    (``PeerRole.next_supervision_due``): nothing else to update. Field history with the
    reason (the notes are free text: shown only to the record's readers); audited."""
    role = record.role
    _supervision_rules(role, by, held_on, next_on, today or clock.today())
    if not reason.strip():
        raise Refusal("Say why you are correcting it")
    with db.atomic():
        changed = history.correct(record, dict(held_on=held_on, duration_minutes=duration_minutes,
                                               how_they_are=how_they_are, actions=actions, next_on=next_on),
                                  reason=reason, seen=seen, user=by)
        if changed:
            audit("update", record, user=by, summary=f"supervision of peer role {role.id} corrected: "
                                                     f"{', '.join(c['field'] for c in changed)}; reason: {reason.strip()}")
    return changed


def _debrief_rules(role: PeerRole, by: User, held_on: dt.date, today: dt.date) -> None:
    if not PeerLeadDesignation.is_lead(by, role.team):
        raise Refusal("Only a named peer lead of the team can record a debrief")
    if held_on > today:
        raise Refusal("The debrief date cannot be in the future")


def record_debrief(role: PeerRole, *, by: User, held_on: dt.date, summary: str, wellbeing: str,
                   today: dt.date | None = None) -> Debrief:
    today = today or clock.today()
    _debrief_rules(role, by, held_on, today)
    with db.atomic():
        record = Debrief.create(role=role, held_on=held_on, summary=summary, wellbeing=wellbeing,
                                recorded_by=by, recorded_at=clock.now())
        audit("create", record, summary=f"debrief recorded for peer role {role.id}")
    return record


def correct_debrief(record: Debrief, *, by: User, reason: str, seen: str | None, held_on: dt.date, summary: str,
                    wellbeing: str, today: dt.date | None = None) -> list:
    """Correct a debrief under the rules of recording one: field history with the reason; audited."""
    role = record.role
    _debrief_rules(role, by, held_on, today or clock.today())
    if not reason.strip():
        raise Refusal("Say why you are correcting it")
    with db.atomic():
        changed = history.correct(record, dict(held_on=held_on, summary=summary, wellbeing=wellbeing),
                                  reason=reason, seen=seen, user=by)
        if changed:
            audit("update", record, user=by, summary=f"debrief of peer role {role.id} corrected: "
                                                     f"{', '.join(c['field'] for c in changed)}; reason: {reason.strip()}")
    return changed


def declare_conflict(role: PeerRole, *, staff: User, by: User, today: dt.date | None = None) -> StaffConflict:
    """Record the fact of a staff member's prior care relationship with a peer.
    If they supervise this peer now, the role page asks for a new supervisor."""
    if staff.team_id != role.team_id or not staff.has_role(*STAFF_ROLES):
        raise Refusal("Choose a staff member of this team")
    if role.is_peer(staff):
        raise Refusal("A peer cannot declare a conflict with themselves")
    if StaffConflict.between(staff, role):
        raise Refusal(f"{staff.name} has already declared a prior care relationship with this peer")
    with db.atomic():
        conflict = StaffConflict.create(staff=staff, role=role, declared_on=today or clock.today(),
                                        recorded_by=by, recorded_at=clock.now())
        audit("create", conflict, summary=f"staff conflict declared for peer role {role.id}")
    return conflict


def designate_lead(team, user: User | None, *, paid: bool, by: User, today: dt.date | None = None) -> PeerLeadDesignation:
    if user is None:
        raise Refusal("Choose a person with the peer lead role")
    if not (user.has_role("peer_lead") and user.team_id == team.id and user.active):
        raise Refusal(f"{user.name} must have the peer lead role in {team.name} (the administrator sets roles)")
    try:
        with db.atomic():
            row = PeerLeadDesignation.get_or_none(team=team, user=user)
            if row is None:
                row = PeerLeadDesignation.create(team=team, user=user, paid=paid,
                                                 designated_on=today or clock.today(), designated_by=by)
                audit("create", row, summary="peer lead named")
            else:
                row.paid = paid
                row.save()
                audit("update", row, summary="peer lead paid status changed")
    except pw.IntegrityError as error:  # named twice at once: unique (team, user)
        if not unique_violation(error):
            raise
        raise Refusal(f"Someone else has just named {user.name} a peer lead of {team.name}") from None
    return row


def remove_lead(row: PeerLeadDesignation, *, by: User) -> None:
    with db.atomic():
        if PeerLeadDesignation.delete().where(PeerLeadDesignation.id == row.id).execute() != 1:
            raise Refusal(f"Someone else has just un-named {row.user.name} as a peer lead")
        audit("delete", row, summary="peer lead no longer named")


def sweep(today: dt.date | None = None, by: User | None = None) -> tuple[list[PeerRole], list[PeerRole]]:
    """Record, for the log, which active roles are now paused by a lapsed check and
    which have been renewed. Readers never depend on it: the pause is derived."""
    today = today or clock.today()
    paused, resumed = [], []
    with db.atomic():
        for role in PeerRole.with_people().where(PeerRole.status == "active"):
            automatic = not role.ready_to_practise(today)
            if automatic and role.auto_paused_since is None:
                if not _set_auto_paused(role, None, today, by):
                    continue
                audit("auto_pause", role, summary="paused automatically: not ready to practise", user=by)
                paused.append(role)
            elif not automatic and role.auto_paused_since is not None:
                if not _set_auto_paused(role, role.auto_paused_since, None, by):
                    continue
                audit("auto_resume", role, summary="ready to practise again", user=by)
                resumed.append(role)
    return paused, resumed


def _set_auto_paused(role: PeerRole, seen, value, by: User | None) -> bool:
    """The sweep's own compare-and-set: a role changed meanwhile (ended, resumed by
    another sweep) is left alone rather than written back as it was read."""
    condition = (PeerRole.id == role.id) & (PeerRole.status == "active")
    condition &= PeerRole.auto_paused_since.is_null() if seen is None else (PeerRole.auto_paused_since == seen)
    if PeerRole.update(auto_paused_since=value).where(condition).execute() != 1:
        return False
    history.record_update(role, {"auto_paused_since": value}, user=by)
    role.auto_paused_since = value
    return True
