"""Service users, the intervention catalogue, referrals and everything that happens to them.

Service users never log in: they are records kept by the team. The answers other
areas need (matching above all) are methods here:

    Referral.awaiting_match(team=None)        referral.requested_interventions()
    referral.volunteer_allowed                referral.risk_level
    referral.assign(role, by_user, how=...)   raises AssignmentRefused (plain English)
    referral.assignment_problems(role)        [] when the peer may take it
    referral.not_a_good_fit_peers()           not_a_good_fit_pairs() -> {(service user id, role id)}
    referral.waiting_days()                   referral.excluded_peers()
    caseload(role) -> int                     (workforce asks it for a role page's caseload)
    service_user.interests / .languages / .availability (lists) / .area / .preferences
    DeclaredConflict.for_service_user(su)     DeclaredConflict.for_peer(role) / .between(su, role)
    Assignment rows (how "by hand" | "matching run", ended_reason "not a good fit", ...)
"""
from __future__ import annotations

import functools
import operator

import datetime as dt
import hashlib

import peewee as pw

from .. import clock, history
from ..changes import Refusal, compare_and_set
from ..db import db, is_sqlite
from ..models import BaseModel, Team, User
from ..workforce.models import PeerRole
from . import states
from .nhs_number import formatted as _formatted_nhs

# Matching reads these; the engine's Settings.volunteer_risk_levels default is the same.
VOLUNTEER_RISK_LEVELS = ("low",)

DAYS = (("mon", "Monday"), ("tue", "Tuesday"), ("wed", "Wednesday"), ("thu", "Thursday"),
        ("fri", "Friday"), ("sat", "Saturday"), ("sun", "Sunday"))
PARTS = (("am", "morning"), ("pm", "afternoon"), ("eve", "evening"))
SLOTS = [(f"{d}-{p}", f"{day} {part}") for d, day in DAYS for p, part in PARTS]
SLOT_NAMES = dict(SLOTS)

PREFERENCE_KINDS = (("gender", "Gender of the peer"), ("age_band", "Age band of the peer"),
                    ("background", "Shared background"), ("language", "Language spoken"))
DELIVERY = (("1:1", "One to one"), ("group", "Group"))
SETTINGS = ("community", "home", "phone", "video", "ward", "team base")
ATTENDANCE = ("attended", "did not attend", "cancelled")
CANCELLED_BY = ("service user", "peer", "team")
CONFLICT_SIDES = ("peer", "service user")
ASSIGNMENT_HOW = ("by hand", "matching run")
NOT_A_GOOD_FIT = "not a good fit"
DOUBLE_TAP = dt.timedelta(minutes=2)  # identical submissions this close together are one


class ReferralError(Refusal):
    """A domain rule said no; the message is plain English for the person."""


class AssignmentRefused(ReferralError):
    pass


def stale_message(seen_state: str) -> str:
    """What a person is told when someone else changed the referral after they read it."""
    return (f"Someone else has just changed this referral: it is no longer {states.describe(seen_state)}. "
            "Nothing was saved. Open the referral again to see what they did.")


class ListField(pw.TextField):
    """A short list of words (languages, interests, slots), one per line in the database."""

    def db_value(self, value):
        if value is None:
            return ""
        if isinstance(value, str):
            value = value.split(",")
        seen, out = set(), []
        for item in value:
            item = " ".join(str(item).split())
            if item and item.lower() not in seen:
                seen.add(item.lower())
                out.append(item)
        return "\n".join(out)

    def python_value(self, value):
        return [line for line in (value or "").split("\n") if line]


class ServiceUser(BaseModel):
    """A person referred for peer support. Never a User: service users do not log in."""

    name = pw.CharField(max_length=120)
    preferred_name = pw.CharField(max_length=60, default="")
    nhs_number = pw.CharField(max_length=10, null=True, unique=True)  # digits only, checked
    date_of_birth = pw.DateField(null=True)
    gender = pw.CharField(max_length=60, default="")
    pronouns = pw.CharField(max_length=30, default="")
    contact_preference = pw.TextField(default="")  # how they like to be contacted
    team = pw.ForeignKeyField(Team, backref="service_users", on_delete="RESTRICT")
    care_coordinator = pw.ForeignKeyField(User, null=True, backref="care_coordinated", on_delete="RESTRICT")
    languages = ListField(default="")
    interests = ListField(default="")
    availability = ListField(default="")  # slots such as "mon-am", "tue-pm", "wed-eve"
    area = pw.CharField(max_length=80, default="")
    # Consent to the referral and to sharing information with a peer worker.
    consent_referral_on = pw.DateField(null=True)
    consent_sharing_on = pw.DateField(null=True)
    consent_recorded_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    created_at = pw.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.name

    @property
    def first_name(self) -> str:
        return self.preferred_name or (self.name.split() or [""])[0]

    @property
    def nhs_number_formatted(self) -> str:
        return _formatted_nhs(self.nhs_number) if self.nhs_number else ""

    def version(self) -> str:
        """A digest of the record as it stands, so an edit made on a stale page is noticed
        (two people editing at once) instead of silently overwriting the other's change."""
        fields = [str(getattr(self, f.name)) for f in self._meta.sorted_fields]
        fields += [str(p) for p in self.preferences]
        return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:32]

    def has_consent(self) -> bool:
        return bool(self.consent_referral_on and self.consent_sharing_on)

    @property
    def preferences(self) -> list["PeerPreference"]:
        return list(self.preference_rows.order_by(PeerPreference.kind, PeerPreference.id))

    def availability_names(self) -> list[str]:
        return [SLOT_NAMES.get(s, s) for s in self.availability]

    def age(self, today: dt.date | None = None) -> int | None:
        if not self.date_of_birth:
            return None
        today = today or clock.today()
        dob = self.date_of_birth
        return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))

    @classmethod
    def visible_to(cls, user: User):
        """Service users this person may see: their team's (leads, managers), or
        those they care-co-ordinate or referred (clinicians). Nobody else."""
        allowed = cls.id == -1
        if user.has_role("peer_lead", "manager") and user.team_id:
            allowed = allowed | (cls.team == user.team_id)
        if user.has_role("clinician"):
            allowed = allowed | (cls.care_coordinator == user.id) | cls.id.in_(
                Referral.select(Referral.service_user).where(Referral.referrer == user.id))
        return cls.select().where(allowed)

    def set_preferences(self, rows: list[tuple[str, str, bool]]) -> None:
        with db.atomic():
            PeerPreference.delete().where(PeerPreference.service_user == self).execute()
            for kind, value, must in rows:
                if value.strip():
                    PeerPreference.create(service_user=self, kind=kind, value=value.strip(), must=must)


class PeerPreference(BaseModel):
    """What the service user would like in their peer, each "must" or "would like"."""

    service_user = pw.ForeignKeyField(ServiceUser, backref="preference_rows", on_delete="CASCADE")
    kind = pw.CharField(max_length=20)  # gender | age_band | background | language
    value = pw.CharField(max_length=80)
    must = pw.BooleanField(default=False)

    @property
    def kind_name(self) -> str:
        return dict(PREFERENCE_KINDS).get(self.kind, self.kind)

    def __str__(self) -> str:
        return f"{self.kind_name}: {self.value} ({'must' if self.must else 'would like'})"


class Intervention(BaseModel):
    """An item of the catalogue: a named duty of a peer and how it is delivered.
    Retired items are kept so past referrals and contacts still read correctly."""

    name = pw.CharField(max_length=120, unique=True)
    duties = pw.TextField(default="")  # what the peer does
    delivery = pw.CharField(max_length=10, default="1:1")  # 1:1 | group
    settings = ListField(default="")  # community, home, phone, video, ward, team base
    typical_sessions = pw.IntegerField(null=True)
    session_minutes = pw.IntegerField(null=True)
    frequency = pw.CharField(max_length=60, default="")  # e.g. "weekly"
    volunteers_allowed = pw.BooleanField(default=False)
    risk_levels = ListField(default="low")  # which of low, medium, high it suits
    retired = pw.BooleanField(default=False)
    created_at = pw.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls):
        return cls.select().where(cls.retired == False).order_by(cls.name)  # noqa: E712

    @classmethod
    def listed(cls):
        return cls.select().order_by(cls.retired, cls.name)

    def suits(self, risk_level: str) -> bool:
        return risk_level in self.risk_levels

    def parameters(self) -> str:
        bits = []
        if self.typical_sessions:
            bits.append(f"{self.typical_sessions} session{'s' if self.typical_sessions != 1 else ''}")
        if self.session_minutes:
            bits.append(f"{self.session_minutes} minutes each")
        if self.frequency:
            bits.append(self.frequency)
        return ", ".join(bits)


class Referral(BaseModel):
    """A clinician's referral of a service user for peer support, and where it has got to."""

    service_user = pw.ForeignKeyField(ServiceUser, backref="referrals", on_delete="RESTRICT")
    team = pw.ForeignKeyField(Team, backref="referrals", on_delete="RESTRICT")
    referrer = pw.ForeignKeyField(User, backref="referrals_made", on_delete="RESTRICT")
    referred_on = pw.DateField(default=clock.today)
    own_words = pw.TextField(default="")  # the service user's words: how peer support may help
    goals = pw.TextField(default="")
    risk_summary = pw.TextField(default="")
    risk_level = pw.CharField(max_length=10, default="low")  # low | medium | high
    last_risk_review_on = pw.DateField(null=True)
    consent_override_reason = pw.TextField(default="")  # submitted without recorded consent
    state = pw.CharField(max_length=40, default=states.SUBMITTED, index=True)
    state_changed_at = pw.DateTimeField(default=clock.now)
    # Screening decision
    volunteer_allowed = pw.BooleanField(default=False)
    screening_reasons = pw.TextField(default="")
    risk_considerations = pw.TextField(default="")
    # Written by the peer lead for the peer (what to do, what to avoid): all a volunteer
    # sees of risk besides its level; the clinician's risk summary never reaches them.
    safety_note = pw.TextField(default="")
    screened_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    screened_on = pw.DateField(null=True)
    # Declined or closed
    decline_reason = pw.TextField(default="")
    outcome = pw.CharField(max_length=30, default="")  # goals met | disengaged | not a good fit | moved | other
    closing_summary = pw.TextField(default="")
    closed_on = pw.DateField(null=True)
    created_at = pw.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """A safe name for the referral: no personal data."""
        return self.label_for(self.id)

    @staticmethod
    def label_for(referral_id: int) -> str:
        return f"R-{referral_id:04d}"

    # --- queries other areas use -------------------------------------------------
    @classmethod
    def awaiting_match(cls, team=None):
        query = (cls.select(cls, ServiceUser).join(ServiceUser)
                 .where(cls.state == states.AWAITING_MATCH))
        if team is not None:
            query = query.where(cls.team == team)
        return query.order_by(cls.state_changed_at, cls.id)

    @classmethod
    def in_states(cls, *wanted, team=None):
        query = cls.select(cls, ServiceUser).join(ServiceUser).where(cls.state.in_(wanted))
        if team is not None:
            query = query.where(cls.team == team)
        return query.order_by(cls.referred_on, cls.id)

    @classmethod
    def screening_queue(cls, team=None):
        return cls.in_states(*states.SCREENING_QUEUE_STATES, team=team)

    @classmethod
    def visible_to(cls, user: User, peer_role=None):
        """Referrals this person may see: their team's (peer leads, managers), the ones
        they made or whose service user they care-co-ordinate (clinicians), the ones
        assigned to them now (paid peers: pass their current role). Nobody else."""
        # Each door is a condition an index answers; an OR across the joined
        # service user (or with a dummy "id = -1") made SQLite scan every
        # referral and sort them (issue #17: 0.7 s for a clinician's list).
        doors = []
        if user.has_role("peer_lead", "manager") and user.team_id:
            doors.append(cls.team == user.team_id)
        if user.has_role("clinician"):
            doors.append(cls.id.in_(cls._made_or_coordinated_ids(user)))
        if peer_role is not None and not peer_role.is_volunteer and user.has_role("peer"):
            doors.append(cls.id.in_(
                Assignment.select(Assignment.referral).where(Assignment.peer_role == peer_role,
                                                             Assignment.ended_at.is_null())))
        allowed = functools.reduce(operator.or_, doors) if doors else (cls.id == -1)
        return cls.select(cls, ServiceUser).join(ServiceUser).where(allowed)

    @classmethod
    def _made_or_coordinated_ids(cls, user: User):
        """Ids of the referrals a clinician made or whose service user they care-co-ordinate."""
        made = cls.select(cls.id).where(cls.referrer == user.id)
        coordinated = (cls.select(cls.id).join(ServiceUser, on=(cls.service_user == ServiceUser.id))
                       .where(ServiceUser.care_coordinator == user.id))
        return made | coordinated

    @classmethod
    def made_or_coordinated_by(cls, user: User):
        return (cls.select(cls, ServiceUser).join(ServiceUser)
                .where(cls.id.in_(cls._made_or_coordinated_ids(user))))

    @classmethod
    def assigned_to(cls, role: PeerRole):
        return (cls.select(cls, ServiceUser).join(ServiceUser).switch(cls)
                .join(Assignment, on=(Assignment.referral == cls.id))
                .where(Assignment.peer_role == role, Assignment.ended_at.is_null(),
                       cls.state.in_(states.CASELOAD_STATES))
                .order_by(cls.state_changed_at))

    @classmethod
    def assigned_to_each(cls, roles) -> dict[int, list["Referral"]]:
        """role id -> ``assigned_to(role)`` for many roles, in one query."""
        ids = [role.id for role in roles]
        found: dict[int, list[Referral]] = {role_id: [] for role_id in ids}
        if not ids:
            return found
        rows = (cls.select(cls, ServiceUser, Assignment.id, Assignment.peer_role)
                .join(ServiceUser).switch(cls)
                .join(Assignment, on=(Assignment.referral == cls.id), attr="open_assignment")
                .where(Assignment.peer_role.in_(ids), Assignment.ended_at.is_null(),
                       cls.state.in_(states.CASELOAD_STATES))
                .order_by(cls.state_changed_at))
        for referral in rows:
            found[referral.open_assignment.peer_role_id].append(referral)
        return found

    def waiting_days(self, today: dt.date | None = None) -> int:
        """Days since the referral last changed state (for awaiting match: time on the list)."""
        today = today or clock.today()
        return max(0, (today - clock.local(self.state_changed_at).date()).days)

    def excluded_peers(self) -> list[PeerRole]:
        """Peers with a declared conflict with this service user, whichever side declared it."""
        return list(PeerRole.select().join(DeclaredConflict)
                    .where(DeclaredConflict.service_user == self.service_user_id).distinct())

    def requested_interventions(self) -> list[Intervention]:
        """What the referral asks for: screening's choice once made, else the referrer's."""
        gathered = self.__dict__.get("_requested")
        if gathered is not None:
            return gathered
        return Referral.requested_for([self])[self.id]

    @classmethod
    def requested_for(cls, referrals) -> dict[int, list[Intervention]]:
        """referral id -> ``requested_interventions()``, for a list in one query; each
        referral keeps its answer, so a page asks nothing more row by row."""
        referrals = list(referrals)
        ids = [r.id for r in referrals]
        rows: dict[int, list[Intervention]] = {rid: [] for rid in ids}
        if ids:
            for item in (Intervention.select(Intervention, ReferralIntervention.chosen_at_screening,
                                             ReferralIntervention.referral)
                         .join(ReferralIntervention)
                         .where(ReferralIntervention.referral.in_(ids))
                         .order_by(Intervention.name, Intervention.id).objects()):
                rows[item.referral].append(item)
        found = {}
        for referral in referrals:
            these = rows[referral.id]
            screened = [i for i in these if i.chosen_at_screening]
            found[referral.id] = referral.__dict__["_requested"] = (
                screened or [i for i in these if not i.chosen_at_screening])
        return found

    def referrer_interventions(self) -> list[Intervention]:
        return list(Intervention.select().join(ReferralIntervention)
                    .where(ReferralIntervention.referral == self,
                           ReferralIntervention.chosen_at_screening == False)  # noqa: E712
                    .order_by(Intervention.name))

    def set_interventions(self, interventions, at_screening: bool = False) -> None:
        with db.atomic():
            ReferralIntervention.delete().where(
                ReferralIntervention.referral == self,
                ReferralIntervention.chosen_at_screening == at_screening).execute()
            for item in interventions:
                ReferralIntervention.create(referral=self, intervention=item, chosen_at_screening=at_screening)

    def current_assignment(self) -> "Assignment | None":
        return (Assignment.select().where(Assignment.referral == self, Assignment.ended_at.is_null())
                .order_by(Assignment.assigned_at.desc()).first())

    @property
    def peer_role(self) -> PeerRole | None:
        current = self.current_assignment()
        return current.peer_role if current else None

    def not_a_good_fit_peers(self) -> list[PeerRole]:
        """Peers whose earlier match with this service user ended as not a good fit."""
        return list(PeerRole.select().join(Assignment).join(Referral)
                    .where(Referral.service_user == self.service_user_id,
                           Assignment.ended_reason == NOT_A_GOOD_FIT).distinct())

    def history(self):
        return self.events.order_by(ReferralEvent.at, ReferralEvent.id)

    def contacts_in_order(self):
        return self.contacts.order_by(Contact.contact_on.desc(), Contact.id.desc())

    def first_meetings(self):
        return self.meeting_rows.order_by(FirstMeeting.id.desc())

    def conversation(self) -> list["InformationRequest"]:
        """Every question put to the referrer and its answer, oldest first, with who
        asked and who answered (one query, however long the conversation)."""
        asker, answerer = User.alias(), User.alias()
        return list(InformationRequest.select(InformationRequest, asker, answerer)
                    .join(asker, on=(InformationRequest.asked_by == asker.id), attr="asked_by")
                    .switch(InformationRequest)
                    .join(answerer, pw.JOIN.LEFT_OUTER, on=(InformationRequest.answered_by == answerer.id),
                          attr="answered_by")
                    .where(InformationRequest.referral == self)
                    .order_by(InformationRequest.asked_at, InformationRequest.id))

    def open_questions(self) -> "InformationRequest | None":
        return self.information_requests.where(InformationRequest.answered_at.is_null()).first()

    def next_states(self, roles) -> list[str]:
        return states.next_states(self.state, roles)

    # --- changes -----------------------------------------------------------------
    def move_to(self, target: str, by_user: User, reason: str = "", roles=None) -> "ReferralEvent":
        """Change state through the state machine, recording who, when and why.

        Compare-and-set: the row moves only if it is still in the state this object
        was read in, so of two people acting on one referral only the first wins and
        the other is refused (nothing else in their transaction is kept).
        """
        states.check(self.state, target, roles if roles is not None else by_user.roles, reason)
        with db.atomic():
            now = clock.now()
            compare_and_set(Referral, self.id, {"state": self.state}, state=target, state_changed_at=now,
                            refused=stale_message(self.state))
            event = ReferralEvent.create(referral=self, from_state=self.state, to_state=target,
                                         by_user=by_user, at=now, reason=(reason or "").strip())
            self.state = target
            self.state_changed_at = now
        return event

    def screen(self, by_user: User, decision: str, *, reasons: str = "", risk_considerations: str = "",
               interventions=(), volunteer_allowed: bool = False, questions: str = "",
               risk_level: str | None = None, safety_note: str = "") -> None:
        """A peer lead's screening decision: accepted (then straight on to awaiting match),
        declined with reasons, or questions back to the referrer. ``safety_note`` is
        written for the peer who takes it (volunteers see it instead of the risk summary)."""
        with db.atomic(), history.tracked(self, user=by_user):
            if self.state == states.SUBMITTED:
                self.move_to(states.SCREENING, by_user)
            if self.state != states.SCREENING:
                raise states.TransitionRefused(
                    f"This referral is {states.describe(self.state)}, so it cannot be screened now.")
            self.screening_reasons = reasons.strip()
            self.risk_considerations = risk_considerations.strip()
            self.safety_note = safety_note.strip()
            self.screened_by = by_user
            self.screened_on = clock.today()
            if risk_level:
                self.risk_level = risk_level
            if decision == states.ACCEPTED:
                if not list(interventions):
                    raise ReferralError("Choose at least one suitable intervention before accepting.")
                self.move_to(states.ACCEPTED, by_user, reasons)
                self.volunteer_allowed = bool(volunteer_allowed)
                self.set_interventions(interventions, at_screening=True)
                self.save()
                self.move_to(states.AWAITING_MATCH, by_user)
            elif decision == states.DECLINED:
                self.move_to(states.DECLINED, by_user, reasons)
                self.decline_reason = reasons.strip()
                self.save()
            elif decision == states.MORE_INFO:
                if not questions.strip():
                    raise ReferralError("Write the questions for the referrer.")
                self.move_to(states.MORE_INFO, by_user, questions)
                InformationRequest.create(referral=self, questions=questions.strip(), asked_by=by_user,
                                          asked_at=clock.now())
            else:
                raise ReferralError("Choose a screening decision.")

    def answer_questions(self, by_user: User, answer: str) -> None:
        if self.state != states.MORE_INFO:
            # Without this a peer lead's stale answer page would move a submitted referral
            # on to screening (a move peer leads may make), with the "answer" as its reason.
            raise states.TransitionRefused(f"This referral is {states.describe(self.state)}: "
                                           "there are no questions waiting for an answer.")
        with db.atomic():
            request = self.open_questions()
            with history.tracked(self, history.Part(request, self, "questions"), user=by_user):
                self.move_to(states.SCREENING, by_user, answer)
                if request is not None:
                    request.answer = answer.strip()
                    request.answered_by = by_user
                    request.answered_at = clock.now()
                    request.save()

    def assignment_problems(self, role: PeerRole, today: dt.date | None = None,
                            volunteer_risk_levels=None) -> list[str]:
        """Why this peer may not take this referral (empty when they may): the one
        eligibility rule (``eligibility.problems``), which the matching engine asks too."""
        from . import eligibility, facts  # here: both read this module's models

        problems = [f"{role.display_name} works in another team"] if role.team_id != self.team_id else []
        catalogue = {item.id: item for item in facts.catalogue()}
        found = eligibility.problems(facts.engine_peer(role, today), facts.engine_referral(self, today), catalogue,
                                     volunteer_risk_levels or VOLUNTEER_RISK_LEVELS)
        return problems + [sentence for _, sentence in found]

    def assign(self, peer_role: PeerRole, by_user: User, how: str = "by hand", *,
               overriding: PeerRole | None = None, override_reason: str = "") -> "Assignment":
        """Assign a peer: awaiting match -> matched. Raises AssignmentRefused (plain English).
        ``overriding``: the peer a matching run proposed, when the lead chose another (with a reason)."""
        if how not in ASSIGNMENT_HOW:
            raise AssignmentRefused(f"Unknown way of assigning: {how}")
        if self.state != states.AWAITING_MATCH:
            raise AssignmentRefused(f"This referral is {states.describe(self.state)}, "
                                    "so a peer cannot be assigned now.")
        with db.atomic():
            if not is_sqlite():
                # Capacity is a rule across rows: hold the peer's role row until commit, so two
                # referrals cannot both take a peer's last place (SQLite's IMMEDIATE lock already does).
                PeerRole.select().where(PeerRole.id == peer_role.id).for_update().get()
            problems = self.assignment_problems(peer_role)
            if problems:
                raise AssignmentRefused(f"{peer_role.display_name} cannot be assigned: " + "; ".join(problems) + ".")
            if overriding is not None:
                said = (f"{peer_role.display_name} assigned by overriding the matching run's proposal of "
                        f"{overriding.display_name}. Reason: {override_reason.strip()}")
            else:
                said = f"{peer_role.display_name} assigned {how}"
            self.move_to(states.MATCHED, by_user, said)
            return Assignment.create(referral=self, peer_role=peer_role, assigned_by=by_user,
                                     assigned_at=clock.now(), how=how,
                                     overrode_peer=overriding.display_name if overriding else "",
                                     override_reason=override_reason.strip() if overriding else "")

    def end_assignment(self, by_user: User, reason: str, target: str = states.AWAITING_MATCH) -> None:
        """End a match before the first meeting is arranged (once it is, its outcome says
        how the match ends: record_first_meeting)."""
        if self.state != states.MATCHED:
            raise states.TransitionRefused(f"This referral is {states.describe(self.state)}: only a match "
                                           "waiting for its first meeting can be ended here.")
        with db.atomic():
            current = self.current_assignment()
            with history.tracked(self, history.Part(current, self, "assignment"), user=by_user):
                self.move_to(target, by_user, reason)
                if current is not None:
                    current.ended_at = clock.now()
                    current.ended_reason = reason.strip()[:200]
                    current.ended_by = by_user
                    current.save()

    def arrange_first_meeting(self, by_user: User, meeting_on: dt.date, place: str, attendees: str) -> "FirstMeeting":
        if meeting_on < self.referred_on:
            raise ReferralError(f"The first meeting cannot be before the referral date "
                                f"({self.referred_on:%-d %b %Y}).")
        with db.atomic(), history.tracked(self, user=by_user):
            self.move_to(states.FIRST_MEETING, by_user, f"first meeting arranged for {meeting_on:%-d %b %Y}")
            return FirstMeeting.create(referral=self, assignment=self.current_assignment(),
                                       meeting_on=meeting_on, place=place.strip(), attendees=attendees.strip(),
                                       facilitated_by=by_user, recorded_at=clock.now())

    def record_first_meeting(self, by_user: User, go_ahead: bool, reason: str = "", *,
                             meeting_on: dt.date | None = None, place: str | None = None,
                             attendees: str | None = None) -> "FirstMeeting":
        """The outcome: go ahead (active), or not a good fit (back to awaiting match;
        the assignment ends with "not a good fit")."""
        if self.state != states.FIRST_MEETING:
            raise states.TransitionRefused(f"This referral is {states.describe(self.state)}: "
                                           "there is no first meeting waiting for an outcome.")
        with db.atomic():
            meeting = self.first_meetings().first() or FirstMeeting(
                referral=self, assignment=self.current_assignment(), facilitated_by=by_user)
            with history.tracked(self, history.Part(meeting, self, "first meeting"),
                                 history.Part(self.current_assignment(), self, "assignment"), user=by_user):
                if meeting_on:
                    meeting.meeting_on = meeting_on
                if place is not None:
                    meeting.place = place.strip()
                if attendees is not None:
                    meeting.attendees = attendees.strip()
                meeting.outcome = "go ahead" if go_ahead else NOT_A_GOOD_FIT
                meeting.outcome_reason = (reason or "").strip()
                meeting.recorded_at = clock.now()
                if go_ahead:
                    self.move_to(states.ACTIVE, by_user, reason or "go ahead after the first meeting")
                else:
                    states.check(self.state, states.AWAITING_MATCH, by_user.roles, reason)
                    current = self.current_assignment()
                    self.move_to(states.AWAITING_MATCH, by_user, reason)
                    if current is not None:
                        current.ended_at = clock.now()
                        current.ended_reason = NOT_A_GOOD_FIT
                        current.ended_by = by_user
                        current.save()
                meeting.save()
                return meeting

    def close(self, by_user: User, outcome: str, summary: str) -> None:
        if outcome not in states.CLOSING_OUTCOMES:
            raise ReferralError("Choose an outcome.")
        with db.atomic():
            current = self.current_assignment()
            with history.tracked(self, history.Part(current, self, "assignment"), user=by_user):
                self.move_to(states.CLOSED, by_user, f"{outcome}: {summary}".strip())
                self.outcome = outcome
                self.closing_summary = summary.strip()
                self.closed_on = clock.today()
                self.save()
                if current is not None:
                    current.ended_at = clock.now()
                    current.ended_reason = "not a good fit" if outcome == NOT_A_GOOD_FIT else "referral closed"
                    current.ended_by = by_user
                    current.save()

    def record_contact(self, by_user: User, **fields) -> "Contact":
        """A contact with the service user. Refused before the referral date, in the future,
        or when no peer is working with the referral."""
        if self.state not in (states.FIRST_MEETING, states.ACTIVE):
            raise ReferralError(f"Contacts are recorded once the first meeting is arranged; "
                                f"this referral is {states.describe(self.state)}.")
        contact_on = fields["contact_on"]
        if contact_on < self.referred_on:
            raise ReferralError(f"The contact date is before the referral date ({self.referred_on:%-d %b %Y}).")
        if contact_on > clock.today():
            raise ReferralError("The contact date is in the future: record contacts once they have happened.")
        assignment = self.current_assignment()
        with db.atomic():
            # A double tap on a slow tablet sends the same contact twice: keep one.
            twin = (Contact.select().where(
                Contact.referral == self, Contact.recorded_by == by_user,
                Contact.recorded_at >= clock.now() - DOUBLE_TAP,
                *[getattr(Contact, name) == value for name, value in fields.items()]).first())
            if twin is not None:
                return twin
            return Contact.create(referral=self, peer_role=assignment.peer_role if assignment else None,
                                  recorded_by=by_user, recorded_at=clock.now(), **fields)


def correct_contact(contact: "Contact", by_user: User, *, reason: str, seen: str | None, **fields) -> list:
    """Correct a recorded contact (a wrong date, duration, setting, attendance or summary),
    in any state of its referral: the same date rules as recording it, field history
    with the reason, one guarded UPDATE. Call inside the view's transaction with its audit."""
    referral = Referral.get_by_id(contact.referral_id)
    contact_on = fields["contact_on"]
    if contact_on < referral.referred_on:
        raise ReferralError(f"The contact date is before the referral date ({referral.referred_on:%-d %b %Y}).")
    if contact_on > clock.today():
        raise ReferralError("The contact date is in the future: record contacts once they have happened.")
    if fields.get("debrief_on") is not None and fields["debrief_on"] < contact_on:
        raise ReferralError("The debrief cannot be before the contact.")
    if not reason.strip():
        raise ReferralError("Say why the record is corrected.")
    with db.atomic():
        return history.correct(contact, fields, reason=reason, seen=seen, user=by_user)


class ReferralIntervention(BaseModel):
    """Interventions asked for by the referrer, and those screening found suitable."""

    referral = pw.ForeignKeyField(Referral, backref="intervention_rows", on_delete="CASCADE")
    intervention = pw.ForeignKeyField(Intervention, backref="referral_rows", on_delete="RESTRICT")
    chosen_at_screening = pw.BooleanField(default=False)

    class Meta:
        indexes = ((("referral", "intervention", "chosen_at_screening"), True),)


class ReferralEvent(BaseModel):
    """Every change of state: who, when, from where to where, and why."""

    referral = pw.ForeignKeyField(Referral, backref="events", on_delete="CASCADE")
    from_state = pw.CharField(max_length=40)
    to_state = pw.CharField(max_length=40)
    by_user = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    at = pw.DateTimeField(default=clock.now)
    reason = pw.TextField(default="")


class InformationRequest(BaseModel):
    """Questions a peer lead sends back to the referrer, and the referrer's answer."""

    referral = pw.ForeignKeyField(Referral, backref="information_requests", on_delete="CASCADE")
    questions = pw.TextField()
    asked_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    asked_at = pw.DateTimeField(default=clock.now)
    answer = pw.TextField(default="")
    answered_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    answered_at = pw.DateTimeField(null=True)


class DeclaredConflict(BaseModel):
    """A peer and a service user who must not be matched (they know each other, ...),
    declared by either side and recorded by the peer lead."""

    service_user = pw.ForeignKeyField(ServiceUser, backref="conflicts", on_delete="CASCADE")
    peer_role = pw.ForeignKeyField(PeerRole, backref="service_user_conflicts", on_delete="CASCADE")
    declared_by_side = pw.CharField(max_length=20)  # peer | service user
    note = pw.TextField(default="")
    recorded_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    recorded_on = pw.DateField(default=clock.today)

    class Meta:
        indexes = ((("service_user", "peer_role", "declared_by_side"), True),)

    @classmethod
    def between(cls, service_user, role) -> bool:
        return cls.select().where(cls.service_user == service_user, cls.peer_role == role).exists()

    @classmethod
    def for_service_user(cls, service_user):
        return cls.select().where(cls.service_user == service_user)

    @classmethod
    def for_peer(cls, role):
        return cls.select().where(cls.peer_role == role)


class Assignment(BaseModel):
    """Which peer works with which referral, from when to when, and why it ended."""

    referral = pw.ForeignKeyField(Referral, backref="assignments", on_delete="CASCADE")
    peer_role = pw.ForeignKeyField(PeerRole, backref="referral_assignments", on_delete="RESTRICT")
    assigned_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    assigned_at = pw.DateTimeField(default=clock.now)
    how = pw.CharField(max_length=20, default="by hand")  # by hand | matching run
    ended_at = pw.DateTimeField(null=True)
    ended_reason = pw.CharField(max_length=200, default="")  # "not a good fit", "referral closed", ...
    ended_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    # An override of a matching run's proposal: the peer the run proposed (their name as it
    # was; a second key to peer_role would make every join between the two ambiguous), and why not them.
    overrode_peer = pw.CharField(max_length=200, default="")
    override_reason = pw.TextField(default="")

    @property
    def how_text(self) -> str:
        """How the peer came to be assigned, as the referral page and its history say it."""
        if self.overrode_peer:
            return "by overriding the matching run's proposal"
        return self.how


class FirstMeeting(BaseModel):
    """The introduction of the peer to the service user, facilitated by a peer lead."""

    referral = pw.ForeignKeyField(Referral, backref="meeting_rows", on_delete="CASCADE")
    assignment = pw.ForeignKeyField(Assignment, null=True, backref="first_meetings", on_delete="SET NULL")
    meeting_on = pw.DateField(null=True)
    place = pw.CharField(max_length=200, default="")
    attendees = pw.TextField(default="")
    facilitated_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    outcome = pw.CharField(max_length=20, default="")  # "" until recorded | go ahead | not a good fit
    outcome_reason = pw.TextField(default="")
    recorded_at = pw.DateTimeField(default=clock.now)


class Contact(BaseModel):
    """One contact between the peer and the service user. Volunteers' contacts are
    entered by their peer lead at the end-of-day debrief."""

    referral = pw.ForeignKeyField(Referral, backref="contacts", on_delete="CASCADE")
    peer_role = pw.ForeignKeyField(PeerRole, null=True, backref="referral_contacts", on_delete="RESTRICT")
    contact_on = pw.DateField()
    minutes = pw.IntegerField(null=True)
    intervention = pw.ForeignKeyField(Intervention, null=True, backref="contacts", on_delete="RESTRICT")
    setting = pw.CharField(max_length=20, default="")
    attendance = pw.CharField(max_length=20, default="attended")  # attended | did not attend | cancelled
    cancelled_by = pw.CharField(max_length=20, default="")  # service user | peer | team
    summary = pw.TextField(default="")
    recorded_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    recorded_at = pw.DateTimeField(default=clock.now)
    # Debrief: reported by a volunteer peer, entered by their peer lead.
    debrief_on = pw.DateField(null=True)

    @property
    def attendance_text(self) -> str:
        if self.attendance == "cancelled" and self.cancelled_by:
            return f"cancelled by {self.cancelled_by}"
        return self.attendance

    @property
    def provenance(self) -> str:
        if self.debrief_on and self.peer_role_id:
            return (f"Reported by {self.peer_role.display_name} at debrief on "
                    f"{self.debrief_on:%-d %b %Y}, entered by {self.recorded_by.name}")
        return f"Recorded by {self.recorded_by.name}"


def caseload(peer_role) -> int:
    """Referrals currently assigned to this role in matched / first meeting / active."""
    return (Assignment.select().join(Referral)
            .where(Assignment.peer_role == peer_role, Assignment.ended_at.is_null(),
                   Referral.state.in_(states.CASELOAD_STATES)).count())


def caseloads(role_ids) -> dict[int, int]:
    """role id -> caseload (as ``caseload``), for many roles in one query; absent = 0."""
    ids = list(role_ids)
    if not ids:
        return {}
    rows = (Assignment.select(Assignment.peer_role, pw.fn.COUNT(Assignment.id)).join(Referral)
            .where(Assignment.peer_role.in_(ids), Assignment.ended_at.is_null(),
                   Referral.state.in_(states.CASELOAD_STATES))
            .group_by(Assignment.peer_role).tuples())
    return dict(rows)


def not_a_good_fit_pairs() -> set[tuple[int, int]]:
    """(service user id, peer role id) pairs whose match ended as not a good fit."""
    rows = (Assignment.select(Referral.service_user, Assignment.peer_role).join(Referral)
            .where(Assignment.ended_reason == NOT_A_GOOD_FIT).tuples())
    return {(su, role) for su, role in rows}


MODELS = [ServiceUser, PeerPreference, Intervention, Referral, ReferralIntervention, ReferralEvent,
          InformationRequest, DeclaredConflict, Assignment, FirstMeeting, Contact]
