"""One function per thing a person does in presence and lone working.

Each opens ``db.atomic()``, changes rows with a guarded UPDATE
(``compare_and_set``), writes the audit row and the visit's timeline, and raises
``Refusal`` with a message for the person. No Flask here.

Who may act for whom (one rule, one place: ``may_act``): a worker for their own
visits (a volunteer only to extend and check out: their peer lead plans and starts
their visits when they phone, since volunteers do not use records); the team's
peer leads and managers for anyone in the team.
"""
from __future__ import annotations

import datetime as dt
import functools
import operator

import peewee as pw

from .. import clock, history
from ..audit import audit
from ..changes import Refusal, check_version, compare_and_set, unique_violation
from ..db import SqlOnce, db
from ..models import User, UserRole
from . import status
from .models import BaseSignIn, PresenceSettings, Visit, VisitEvent

LEADS = ("peer_lead", "manager")
WORKER_ROLES = ("peer", "peer_lead")
MAX_VISIT_HOURS = 12
EXTEND_CHOICES = {"15": 15, "30": 30}


# --- who ----------------------------------------------------------------------

def is_volunteer(user) -> bool:
    from ..workforce.models import PeerRole
    role = PeerRole.current_for(user) if user.has_role("peer") else None
    return role is not None and role.is_volunteer


def leads_team(actor, team_id) -> bool:
    return actor.has_role(*LEADS) and actor.team_id is not None and actor.team_id == team_id


def may_act(actor, worker, action: str) -> bool:
    """May ``actor`` do ``action`` (plan, start, extend, check_out, sign) for ``worker``?"""
    if leads_team(actor, worker.team_id):
        return True
    if actor.id != worker.id or not actor.has_role(*WORKER_ROLES):
        return False
    return action in ("extend", "check_out", "sign") or not is_volunteer(actor)


def may_see_place(actor, visit) -> bool:
    """The place: the worker, and the team's peer leads and managers. Nobody else."""
    return actor.id == visit.worker_id or leads_team(actor, visit.team_id)


def workers(team_id):
    """People in the team who may go out on visits, by name."""
    return (User.select().where(User.team == team_id, User.active == True,  # noqa: E712
                                User.id.in_(UserRole.select(UserRole.user).where(UserRole.role.in_(WORKER_ROLES))))
            .order_by(User.name))


def referral_choices(actor, team_id) -> list[int]:
    """Referrals a visit may be for: the team's current assignments (a peer: their own)."""
    from ..referrals.models import Assignment
    from ..workforce.models import PeerRole
    query = (Assignment.select(Assignment.referral).join(PeerRole, on=(Assignment.peer_role == PeerRole.id))
             .where(PeerRole.team == team_id, Assignment.ended_at.is_null()))
    if not leads_team(actor, team_id):
        query = query.where(PeerRole.user == actor.id)
    return sorted({row.referral_id for row in query})


def thresholds(team_id) -> status.Thresholds:
    return status.Thresholds.of(PresenceSettings.for_team(team_id))


def _event(visit_id, kind: str, by, note: str = "", at=None) -> None:
    VisitEvent.create(visit=visit_id, at=at or clock.now(), by=by, kind=kind, note=note)


def _visit(visit_id) -> Visit:
    visit = Visit.get_or_none(Visit.id == visit_id)
    if visit is None:
        raise Refusal("That visit is no longer there.")
    return visit


# --- the base -------------------------------------------------------------------

def closing_time(settings: PresenceSettings, moment: dt.datetime) -> dt.datetime:
    """The next closing hour (London) after ``moment``, in naive UTC."""
    local = clock.local(moment)
    closing = local.replace(hour=settings.sign_out_hour, minute=0, second=0, microsecond=0)
    if closing <= local:
        closing = (local + dt.timedelta(days=1)).replace(hour=settings.sign_out_hour, minute=0, second=0,
                                                         microsecond=0)
    closing = closing.replace(tzinfo=clock.LONDON)  # re-resolve the offset (BST) for that day
    return closing.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _close_forgotten(user_id=None) -> int:
    """Write down stays whose closing hour has passed (status already reads them as closed)."""
    now = clock.now()
    query = BaseSignIn.select().where(BaseSignIn.signed_out_at.is_null(), BaseSignIn.closes_at <= now)
    if user_id is not None:
        query = query.where(BaseSignIn.user == user_id)
    closed = 0
    for stay in list(query):
        changed = (BaseSignIn.update(signed_out_at=stay.closes_at, auto_closed=True)
                   .where(BaseSignIn.id == stay.id, BaseSignIn.signed_out_at.is_null()).execute())
        if changed:
            audit("update", stay, summary="forgotten sign-out closed at the team's closing hour", user=None)
            closed += 1
    return closed


def sign_in(worker, *, by) -> BaseSignIn:
    if not may_act(by, worker, "sign"):
        raise Refusal("You may sign in only yourself, or people in your own team as their peer lead.")
    now = clock.now()
    settings = PresenceSettings.for_team(worker.team_id)
    try:
        with db.atomic():
            _close_forgotten(worker.id)
            stay = BaseSignIn.create(team=worker.team_id, user=worker, signed_in_at=now, signed_in_by=by,
                                     closes_at=closing_time(settings, now))
            summary = "signed in at the base" if by.id == worker.id else "signed in at the base by a peer lead (phoned in)"
            audit("create", stay, summary=summary, user=by)
    except pw.IntegrityError as error:
        if unique_violation(error):
            raise Refusal(f"{worker.name} is already signed in.") from None
        raise
    return stay


def sign_out(worker, *, by) -> None:
    if not may_act(by, worker, "sign"):
        raise Refusal("You may sign out only yourself, or people in your own team as their peer lead.")
    with db.atomic():
        _close_forgotten(worker.id)
        stay = BaseSignIn.get_or_none(BaseSignIn.user == worker, BaseSignIn.signed_out_at.is_null())
        if stay is None:
            raise Refusal(f"{worker.name} is not signed in.")
        compare_and_set(BaseSignIn, stay.id, {"signed_out_at": None}, signed_out_at=clock.now(),
                        signed_out_by=by, refused=f"Someone has just signed {worker.name} out.")
        summary = "signed out of the base" if by.id == worker.id else "signed out of the base by a peer lead (phoned in)"
        audit("update", stay, summary=summary, user=by)


def day_board(team_id, now=None) -> list[dict]:
    """Everyone in the team who goes out, with where they are today: three queries."""
    now = now or clock.now()
    start_of_day = (clock.local(now).replace(hour=0, minute=0, second=0, microsecond=0)
                    .astimezone(dt.timezone.utc).replace(tzinfo=None))
    people = list(workers(team_id))
    ids = [p.id for p in people]
    Signer, Closer = User.alias(), User.alias()
    stays = {}
    for stay in (BaseSignIn.select(BaseSignIn, Signer, Closer)
                 .join(Signer, on=(BaseSignIn.signed_in_by == Signer.id))
                 .switch(BaseSignIn).join(Closer, pw.JOIN.LEFT_OUTER, on=(BaseSignIn.signed_out_by == Closer.id))
                 .where(BaseSignIn.user.in_(ids),
                        (BaseSignIn.signed_in_at >= start_of_day) | BaseSignIn.signed_out_at.is_null())
                 .order_by(BaseSignIn.signed_in_at)):
        stays[stay.user_id] = stay  # the latest stay wins
    out = {v.worker_id: v for v in Visit.select().where(Visit.worker.in_(ids), Visit.state == "started")}
    ended_today = {v.worker_id: v for v in Visit.select().where(Visit.worker.in_(ids), Visit.state == "ended",
                                                               Visit.ended_at >= start_of_day)
                   .order_by(Visit.ended_at)}
    rows = []
    for person in people:
        stay, visit = stays.get(person.id), out.get(person.id)
        if visit is not None:
            where, since = "out", visit.started_at
        elif stay is not None and stay.out_at(now) is None:
            where, since = "in", stay.signed_in_at
        elif stay is not None and stay.signed_in_at >= start_of_day or person.id in ended_today:
            where = "finished"
            since = stay.out_at(now) if stay is not None else ended_today[person.id].ended_at
        else:
            where, since = "away", None
        rows.append({"person": person, "where": where, "since": since, "stay": stay, "visit": visit,
                     "auto_closed": bool(stay and where == "finished" and stay.closed_automatically(now))})
    return rows


# --- visits ----------------------------------------------------------------------

def plan_visit(worker, *, by, starts_at: dt.datetime, expected_return_at: dt.datetime, place: str,
               referral_id=None, buddy=None, contact_phone: str = "") -> Visit:
    if not may_act(by, worker, "plan"):
        raise Refusal("A volunteer's visits are planned and started by their peer lead when they phone.")
    if expected_return_at <= starts_at:
        raise Refusal("The expected return must be after the start.")
    if expected_return_at - starts_at > dt.timedelta(hours=MAX_VISIT_HOURS):
        raise Refusal(f"A visit longer than {MAX_VISIT_HOURS} hours is not a visit: check the times.")
    if buddy is not None and (buddy.team_id != worker.team_id or buddy.id == worker.id):
        raise Refusal("The buddy must be someone else in the team.")
    if referral_id and referral_id not in referral_choices(by, worker.team_id):
        raise Refusal("Choose one of the referrals offered.")
    try:
        return _plan(worker, by, starts_at, expected_return_at, place, referral_id, buddy, contact_phone)
    except pw.IntegrityError as error:
        if unique_violation(error):  # a double tap: the same visit is already planned
            raise Refusal(f"This visit is already planned for {worker.name}: see their visits.") from None
        raise


def _plan(worker, by, starts_at, expected_return_at, place, referral_id, buddy, contact_phone) -> Visit:
    with db.atomic():
        visit = Visit.create(team=worker.team_id, worker=worker, planned_by=by, planned_at=clock.now(),
                             starts_at=starts_at, expected_return_at=expected_return_at, place=place.strip(),
                             referral=referral_id, buddy=buddy, contact_phone=contact_phone.strip())
        _event(visit.id, "planned", by)
        audit("create", visit, summary="visit planned", user=by)
    return visit


def start_visit(visit_id, *, by, version: int) -> None:
    visit = _visit(visit_id)
    if not may_act(by, visit.worker, "start"):
        raise Refusal("A volunteer's visit is started by their peer lead when they phone.")
    now = clock.now()
    expected = visit.expected_return_at
    if expected <= now:
        # Started late: keep the planned length from now, so it is not overdue at once.
        expected = now + (visit.expected_return_at - visit.starts_at)
    due_soon, overdue, escalate = thresholds(visit.team_id).moments(expected)
    try:
        with db.atomic():
            changes = dict(state="started", version=version + 1, started_at=now, started_by=by,
                           expected_return_at=expected, due_soon_at=due_soon, overdue_at=overdue,
                           escalate_at=escalate)
            compare_and_set(Visit, visit.id, {"state": "planned", "version": version},
                            **changes, refused="Someone has just changed this visit: look at it again.")
            history.record_update(visit, changes, user=by)
            note = "" if by.id == visit.worker_id else "started by a peer lead (phoned in)"
            _event(visit.id, "started", by, note)
            audit("update", visit, summary="visit started" + (f", {note}" if note else ""), user=by)
    except pw.IntegrityError as error:
        if unique_violation(error):
            raise Refusal(f"{visit.worker.name} already has a visit under way: check that one out first.") from None
        raise


def extend_visit(visit_id, *, by, version: int, minutes: int, reason: str = "") -> None:
    visit = _visit(visit_id)
    if not may_act(by, visit.worker, "extend"):
        raise Refusal("You may extend only your own visits, or visits in your team as its peer lead.")
    now = clock.now()
    if not status.may_extend(visit, now):
        raise Refusal("This visit is overdue: the peer lead is following it up. "
                      "Check out safe, or record how it was resolved.")
    if not 1 <= minutes <= 240:
        raise Refusal("Extend by 1 to 240 minutes.")
    if minutes not in EXTEND_CHOICES.values() and not reason.strip():
        raise Refusal("Say why the visit needs a different extension.")
    expected = max(visit.expected_return_at, now) + dt.timedelta(minutes=minutes)
    due_soon, overdue, escalate = thresholds(visit.team_id).moments(expected)
    with db.atomic():
        changes = dict(version=version + 1, expected_return_at=expected, due_soon_at=due_soon, overdue_at=overdue,
                       escalate_at=escalate)
        compare_and_set(Visit, visit.id, {"state": "started", "version": version},
                        **changes, refused="Someone has just changed this visit: look at it again.")
        history.record_update(visit, changes, user=by)
        _event(visit.id, "extended", by, f"+{minutes} min" + (f": {reason.strip()}" if reason.strip() else ""))
        audit("update", visit, summary=f"visit extended by {minutes} minutes", user=by)


def check_out(visit_id, *, by, version: int) -> None:
    visit = _visit(visit_id)
    if not may_act(by, visit.worker, "check_out"):
        raise Refusal("You may check out only your own visits, or visits in your team as its peer lead.")
    with db.atomic():
        changes = dict(version=version + 1, state="ended", ended_at=clock.now(), ended_by=by, outcome="checked_out")
        compare_and_set(Visit, visit.id, {"state": "started", "version": version},
                        **changes, refused="Someone has just changed this visit: look at it again.")
        history.record_update(visit, changes, user=by)
        note = "" if by.id == visit.worker_id else "recorded by a peer lead (phoned in)"
        _event(visit.id, "checked_out", by, note)
        audit("update", visit, summary="checked out safe" + (f", {note}" if note else ""), user=by)


def cancel_visit(visit_id, *, by, version: int) -> None:
    visit = _visit(visit_id)
    if not may_act(by, visit.worker, "plan"):
        raise Refusal("A volunteer's visits are changed by their peer lead.")
    with db.atomic():
        changes = dict(version=version + 1, state="cancelled", ended_at=clock.now(), ended_by=by)
        compare_and_set(Visit, visit.id, {"state": "planned", "version": version},
                        **changes, refused="This visit has just been started or changed: look at it again.")
        history.record_update(visit, changes, user=by)
        _event(visit.id, "cancelled", by)
        audit("update", visit, summary="planned visit cancelled", user=by)


# --- the escalation ladder -------------------------------------------------------------

def acknowledge(visit_id, *, by, step: str) -> None:
    """'peer_lead': "I am calling them". 'manager': the manager has seen the escalation."""
    visit = _visit(visit_id)
    if not leads_team(by, visit.team_id):
        raise Refusal("Only the team's peer leads and managers follow up a late visit.")
    now = clock.now()
    current = status.of(visit, now)
    if step == "peer_lead":
        if current not in (status.OVERDUE, status.ESCALATED):
            raise Refusal("This visit is not overdue (it may have just been checked out).")
        field, by_field, label = "lead_ack_at", "lead_ack_by", "peer lead calling them"
    elif step == "manager":
        if not by.has_role("manager"):
            raise Refusal("A manager acknowledges an escalated visit.")
        if current != status.ESCALATED:
            raise Refusal("This visit is not escalated (it may have just been resolved).")
        field, by_field, label = "manager_ack_at", "manager_ack_by", "manager acknowledged the escalation"
    else:
        raise Refusal("Choose who is acknowledging.")
    with db.atomic():
        changes = dict(**{field: now, by_field: by.id}, version=Visit.version + 1)
        compare_and_set(Visit, visit.id, {"state": "started", field: None},
                        **changes, refused="Someone has just acknowledged this visit: look at the board again.")
        history.record_update(visit, changes, user=by)
        _event(visit.id, f"ack_{step}", by)
        audit("update", visit, summary=label, user=by)


def record_outcome(visit_id, *, by, outcome: str, notes: str = "", emergency_followed: bool = False) -> None:
    visit = _visit(visit_id)
    if not leads_team(by, visit.team_id):
        raise Refusal("Only the team's peer leads and managers record how a late visit ended.")
    if outcome not in ("safe", "not_reached"):
        raise Refusal("Choose whether they were reached and safe, or could not be reached.")
    if visit.state != "started" or status.of(visit, clock.now()) not in (status.OVERDUE, status.ESCALATED):
        raise Refusal("This visit is not overdue (it may have just been checked out).")
    if visit.lead_ack_at is None and visit.manager_ack_at is None:
        raise Refusal("Acknowledge first (\"I am calling them\"), then record what happened.")
    if outcome == "not_reached" and not (emergency_followed and notes.strip()):
        raise Refusal("When they could not be reached, follow the emergency procedure, "
                      "tick that you did, and write what was done.")
    with db.atomic():
        changes = dict(state="ended", ended_at=clock.now(), ended_by=by, outcome=outcome, outcome_notes=notes.strip(),
                       version=Visit.version + 1)
        compare_and_set(Visit, visit.id, {"state": "started"},
                        **changes, refused="Someone has just resolved this visit.")
        history.record_update(visit, changes, user=by)
        _event(visit.id, outcome, by, notes.strip())
        audit("update", visit, summary=f"late visit resolved: {outcome.replace('_', ' ')}", user=by)


# --- what people see -------------------------------------------------------------------

def board_visits(team_id, now=None) -> list[Visit]:
    """Visits under way (and today's planned ones), most urgent first: one query."""
    now = now or clock.now()
    Worker, LeadAck, ManagerAck = User.alias(), User.alias(), User.alias()
    visits = list(Visit.select(Visit, Worker, LeadAck, ManagerAck)
                  .join(Worker, on=(Visit.worker == Worker.id))
                  .switch(Visit).join(LeadAck, pw.JOIN.LEFT_OUTER, on=(Visit.lead_ack_by == LeadAck.id))
                  .switch(Visit).join(ManagerAck, pw.JOIN.LEFT_OUTER, on=(Visit.manager_ack_by == ManagerAck.id))
                  .where(Visit.team == team_id, Visit.state == "started"))
    visits.sort(key=lambda v: status.urgency(v, now))
    return visits


def late_visits(actor, now=None) -> tuple[int, int]:
    """(waiting for this person's acknowledgement, late and not yet resolved) in their
    team: the banner's one query, so a peer lead cannot lose track until it is resolved."""
    if not actor.has_role(*LEADS) or actor.team_id is None:
        return 0, 0
    now = now or clock.now()
    if actor.has_role("manager"):
        waits = ("lead", "manager") if actor.has_role("peer_lead") else ("manager",)
    else:
        waits = ("lead",)
    row = next(iter(_LATE_VISITS(actor.team_id, *[now] * (len(waits) + 1), variant=waits)))
    return int(row["waiting"] or 0), int(row["late"] or 0)


def _late_visits(waits: tuple[str, ...], team_id, *moments):
    """The banner's query, built into SQL once per engine and ``waits`` (every page of a
    lead or manager asks it): whose acknowledgement counts as waiting, one moment each,
    then the moment a visit is late from."""
    moments = list(moments)
    waiting = {"lead": lambda now: (Visit.overdue_at <= now) & Visit.lead_ack_at.is_null(),
               "manager": lambda now: (Visit.escalate_at <= now) & Visit.manager_ack_at.is_null()}
    condition = functools.reduce(operator.or_, [waiting[who](moments.pop(0)) for who in waits])
    return (Visit.select(pw.fn.COUNT(Visit.id).alias("late"),
                         pw.fn.SUM(pw.Case(None, [(condition, 1)], 0)).alias("waiting"))
            .where(Visit.team == team_id, Visit.state == "started", Visit.overdue_at <= moments.pop(0))
            .dicts())


_LATE_VISITS = SqlOnce(_late_visits)


def waiting(actor, now=None) -> int:
    """How many late visits wait for this person's acknowledgement."""
    return late_visits(actor, now)[0]


def visible_visits(actor):
    """Visits this person may open: their own, and their team's if they lead it."""
    query = Visit.select(Visit, User).join(User, on=(Visit.worker == User.id))
    if actor.has_role(*LEADS) and actor.team_id is not None:
        return query.where((Visit.team == actor.team_id) | (Visit.worker == actor.id))
    return query.where(Visit.worker == actor.id)


def save_settings(team_id, *, by, expected_version: str | None = None, **values) -> None:
    """A team's thresholds: they apply to visits started or extended from now.
    ``expected_version`` (from the form): someone else's change since the page was
    opened refuses the save (``StaleEdit``) rather than overwriting it."""
    if not leads_team(by, team_id):
        raise Refusal("Only the team's peer leads and managers change these settings.")
    values = {k: int(v) for k, v in values.items() if k in PresenceSettings.DEFAULTS}
    with db.atomic():
        row = PresenceSettings.get_or_none(PresenceSettings.team == team_id)
        if row is None:
            row = PresenceSettings.create(team=team_id, updated_by=by, updated_at=clock.now(),
                                          **{**PresenceSettings.DEFAULTS, **values})
        else:
            check_version(row, expected_version)
            PresenceSettings.update(updated_by=by, updated_at=clock.now(), **values).where(
                PresenceSettings.id == row.id).execute()
        audit("update", row, summary="presence thresholds changed", user=by)
