"""Service users, the intervention catalogue, referrals and everything that happens to them.

Service users never log in: they are records kept by the team. This module holds
fields and queries; every change is a function of ``services.py``. The answers other
areas need (matching above all) are methods here:

    Referral.awaiting_match(team=None)        referral.requested_interventions()
    referral.volunteer_allowed                referral.risk_level
    referral.assignment_problems(role)        [] when the peer may take it (services.assign asks it)
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

from .. import clock
from ..db import SqlOnce, is_sqlite
from ..models import BaseModel, Team, User
from ..training.models import Candidate
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
        # The states as literals, not parameters: only then can either engine use the
        # partial index that holds just the queue (migration m0111).
        query = (cls.select(cls, ServiceUser).join(ServiceUser)
                 .where(pw.Expression(cls.state, pw.OP.IN, pw.SQL(_SCREENING_QUEUE_LITERAL))))
        if team is not None:
            query = query.where(cls.team == team)
        return query.order_by(cls.referred_on, cls.id)

    @classmethod
    def visible_to(cls, user: User, peer_role=None):
        """Referrals this person may see: their team's (peer leads, managers), the ones
        they made or whose service user they care-co-ordinate (clinicians), the ones
        assigned to them now (paid peers: pass their current role). Nobody else."""
        doors, values = cls.doors_for(user, peer_role)
        return cls.through_doors(doors, *values)

    @classmethod
    def through_doors(cls, doors: tuple[str, ...], *values):
        """The referrals these doors open, each value the one its door compares with
        (``doors_for``), with the service user joined: ``visible_to``'s query."""
        return cls.select(cls, ServiceUser).join(ServiceUser).where(cls._allowed(doors, *values))

    @classmethod
    def visible_one(cls, user: User, peer_role, referral_id: int) -> "Referral | None":
        """``visible_to(user, peer_role)``'s referral with this id, or None: the same doors,
        whose SQL is built once for each combination of them (every referral page asks)."""
        doors, values = cls.doors_for(user, peer_role)
        return next(iter(_VISIBLE_ONE(referral_id, *values, variant=doors)), None)

    @classmethod
    def only_team_seen_by(cls, user: User, peer_role=None) -> Team | None:
        """The one team whose referrals are all this person may see (a peer lead's or
        manager's own, loaded with them at sign-in), or None when their doors may open
        onto several teams."""
        doors, _ = cls.doors_for(user, peer_role)
        return user.team if doors == ("team",) else None

    @classmethod
    def doors_for(cls, user: User, peer_role) -> tuple[tuple[str, ...], list]:
        """Which doors this person's roles open, and the value each door compares with."""
        doors, values = [], []
        if user.has_role("peer_lead", "manager") and user.team_id:
            doors.append("team")
            values.append(user.team_id)
        if user.has_role("clinician"):
            door, door_values = cls.clinicians_door(user)
            doors += door
            values += door_values
        if peer_role is not None and not peer_role.is_volunteer and user.has_role("peer"):
            doors.append("peer")
            values.append(peer_role.id)
        return tuple(doors), values

    @classmethod
    def _allowed(cls, doors, *values):
        # Each door is a condition an index answers; an OR across the joined
        # service user (or with a dummy "id = -1") made SQLite scan every
        # referral and sort them (issue #17: 0.7 s for a clinician's list).
        values = list(values)
        conditions = []
        if "team" in doors:
            conditions.append(cls.team == values.pop(0))
        if "clinician" in doors:
            conditions.append(cls.id.in_(cls._made_or_coordinated_ids(values.pop(0), values.pop(0))))
        if "peer" in doors:
            conditions.append(cls.id.in_(
                Assignment.select(Assignment.referral).where(Assignment.peer_role == values.pop(0),
                                                             Assignment.ended_at.is_null())))
        return functools.reduce(operator.or_, conditions) if conditions else (cls.id == -1)

    @classmethod
    def _made_or_coordinated_ids(cls, referrer_id: int, coordinator_id: int):
        """Ids of the referrals a clinician made or whose service user they care-co-ordinate."""
        made = cls.select(cls.id).where(cls.referrer == referrer_id)
        coordinated = (cls.select(cls.id).join(ServiceUser, on=(cls.service_user == ServiceUser.id))
                       .where(ServiceUser.care_coordinator == coordinator_id))
        return made | coordinated

    @classmethod
    def clinicians_door(cls, user: User) -> tuple[tuple[str, ...], list]:
        """The clinician's door alone (``doors_for``): the referrals they made or whose service
        user they care-co-ordinate, whatever other roles they hold."""
        return ("clinician",), [user.id, user.id]

    @classmethod
    def made_or_coordinated_by(cls, user: User):
        doors, values = cls.clinicians_door(user)
        return cls.through_doors(doors, *values)

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

    def intervention_choices(self) -> list[tuple[int, str]]:
        """(id, name) of what a contact may be about: ``requested_interventions()`` first,
        then the rest of the current catalogue, in one query (the contact form's list)."""
        rows = list(_INTERVENTION_CHOICES(self.id))  # (id, name, retired, chosen_at_screening or None)
        screened = [(i, name) for i, name, _, chosen in rows if chosen]
        requested = list(dict.fromkeys(screened or [(i, name) for i, name, _, chosen in rows if chosen is False]))
        asked = {i for i, _ in requested}
        others = dict.fromkeys((i, name) for i, name, retired, _ in rows if not retired and i not in asked)
        return requested + list(others)

    def referrer_interventions(self) -> list[Intervention]:
        return list(Intervention.select().join(ReferralIntervention)
                    .where(ReferralIntervention.referral == self,
                           ReferralIntervention.chosen_at_screening == False)  # noqa: E712
                    .order_by(Intervention.name))

    def current_assignment(self) -> "Assignment | None":
        """The open assignment (one at most: m0044), its peer role joined in."""
        return next(iter(_CURRENT_ASSIGNMENT(self.id)), None)

    def state_and_peer_role_id(self) -> tuple[str, int | None]:
        """Inside ``db.atomic()``: the referral's state as it is now and the peer role of its
        open assignment, the referral held until commit (``changes.hold``: FOR UPDATE on
        PostgreSQL; SQLite's IMMEDIATE transaction already holds the database)."""
        row = next(iter(_STATE_AND_PEER(self.id)), None)
        if row is None:
            return None, None
        return row

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
        """The contacts, newest first, each with what its row shows joined (the
        intervention, who recorded it, the peer it was reported for): a query a row
        was 9,000 queries on a referral with 3,000 contacts."""
        recorder = User.alias()
        return (Contact.select(Contact, Intervention, recorder, PeerRole, Candidate)
                .join(Intervention, pw.JOIN.LEFT_OUTER, on=(Contact.intervention == Intervention.id),
                      attr="intervention")
                .switch(Contact).join(recorder, on=(Contact.recorded_by == recorder.id), attr="recorded_by")
                .switch(Contact).join(PeerRole, pw.JOIN.LEFT_OUTER, on=(Contact.peer_role == PeerRole.id),
                                      attr="peer_role")
                .join(Candidate, pw.JOIN.LEFT_OUTER, on=(PeerRole.candidate == Candidate.id), attr="candidate")
                .where(Contact.referral == self.id)
                .order_by(Contact.contact_on.desc(), Contact.id.desc()))

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


class _ReferralValues:
    """A referral as the plain values one row of a list shows (peewee's ``.objects()``
    passes them by name). Making a referral, its service user and its team or referrer
    for every row was a seventh of a 50-row list's time."""

    __slots__ = ()

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values[name])

    @classmethod
    def from_values(cls, values) -> "_ReferralValues":
        """From the values in ``__slots__`` order (paging.ListQuery's rows)."""
        made = cls.__new__(cls)
        for name, value in zip(cls.__slots__, values):
            setattr(made, name, value)
        return made

    @property
    def label(self) -> str:
        return Referral.label_for(self.id)


class ReferralRow(_ReferralValues):
    """One row of a referral list: what templates/referrals/_referral_list.html shows."""

    __slots__ = ("id", "referred_on", "state", "risk_level", "service_user_name", "team_name")

    @classmethod
    def of(cls, query: pw.ModelSelect) -> pw.ModelSelect:
        """``query`` (of referrals with their service user joined) as these rows."""
        return (query.switch(Referral).join(Team, on=(Referral.team == Team.id))
                .select(Referral.id, Referral.referred_on, Referral.state, Referral.risk_level,
                        ServiceUser.name.alias("service_user_name"), Team.name.alias("team_name"))
                .objects(cls))


class ReferralCard(_ReferralValues):
    """One card of a queue (screening, awaiting match): what templates/referrals/
    queue.html shows, with the referrer's name joined."""

    __slots__ = ("id", "state", "risk_level", "referred_on", "state_changed_at", "volunteer_allowed",
                 "service_user_name", "languages", "referrer_name")

    @classmethod
    def of(cls, query: pw.ModelSelect) -> pw.ModelSelect:
        """``query`` (of referrals with their service user joined) as these cards."""
        referrer, referrer_id, referrer_name = _REFERRER
        return (query.switch(Referral).join(referrer, on=(Referral.referrer == referrer_id))
                .select(Referral.id, Referral.state, Referral.risk_level, Referral.referred_on,
                        Referral.state_changed_at, Referral.volunteer_allowed,
                        ServiceUser.name.alias("service_user_name"), ServiceUser.languages,
                        referrer_name.alias("referrer_name"))
                .objects(cls))


# The referrer, for every queue. Made once: each column of a peewee alias is a
# class made when it is named (~30 us each, on every visit to a queue).
_REFERRER = (lambda alias: (alias, alias.id, alias.name))(User.alias())


class ReferralIntervention(BaseModel):
    """Interventions asked for by the referrer, and those screening found suitable."""

    referral = pw.ForeignKeyField(Referral, backref="intervention_rows", on_delete="CASCADE")
    intervention = pw.ForeignKeyField(Intervention, backref="referral_rows", on_delete="RESTRICT")
    chosen_at_screening = pw.BooleanField(default=False)

    class Meta:
        indexes = ((("referral", "intervention", "chosen_at_screening"), True),)


class ReferralEvent(BaseModel):
    """Every change of state: who, when, from where to where, and why."""

    # Indexed by (referral_id, at, id) (m0113 dropped the index of referral_id alone).
    referral = pw.ForeignKeyField(Referral, backref="events", on_delete="CASCADE", index=False)
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

    # Indexed by (referral_id, contact_on, id, attendance, setting, intervention_id)
    # (m0110; m0113 dropped the index of referral_id alone).
    referral = pw.ForeignKeyField(Referral, backref="contacts", on_delete="CASCADE", index=False)
    peer_role = pw.ForeignKeyField(PeerRole, null=True, backref="referral_contacts", on_delete="RESTRICT")
    contact_on = pw.DateField()
    minutes = pw.IntegerField(null=True)
    intervention = pw.ForeignKeyField(Intervention, null=True, backref="contacts", on_delete="RESTRICT")
    setting = pw.CharField(max_length=20, default="")
    attendance = pw.CharField(max_length=20, default="attended")  # attended | did not attend | cancelled
    cancelled_by = pw.CharField(max_length=20, default="")  # service user | peer | team
    summary = pw.TextField(default="")
    # Indexed by (recorded_by_id, referral_id, recorded_at) (m0114): the double-tap check.
    recorded_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT", index=False)
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

    @classmethod
    def latest_recorded(cls, referral_id: int, user_id: int, since: dt.datetime) -> "Contact | None":
        """The contact this user recorded last on this referral, if it was since then (a
        double tap's first: the caller compares the fields). One seek in m0114's index,
        however many contacts the referral has that day."""
        return next(iter(_LATEST_RECORDED(user_id, referral_id, since)), None)


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


# Built into SQL once per engine (db.SqlOnce): every referral page and the contact POST ask these.
# The screening states as SQL literals, as the partial index of the queue (m0111) names them.
_SCREENING_QUEUE_LITERAL = "(" + ", ".join("'" + state.replace("'", "''") + "'"
                                           for state in states.SCREENING_QUEUE_STATES) + ")"

_VISIBLE_ONE = SqlOnce(lambda doors, referral_id, *values: (
    Referral.select(Referral, ServiceUser).join(ServiceUser)
    .where(Referral._allowed(doors, *values), Referral.id == referral_id).limit(1)))

_CURRENT_ASSIGNMENT = SqlOnce(lambda referral_id: (
    Assignment.select(Assignment, PeerRole).join(PeerRole, on=(Assignment.peer_role == PeerRole.id))
    .where(Assignment.referral == referral_id, Assignment.ended_at.is_null())
    .order_by(Assignment.assigned_at.desc()).limit(1)))


def _state_and_peer(referral_id):
    open_peer = (Assignment.select(Assignment.peer_role)
                 .where(Assignment.referral == Referral.id, Assignment.ended_at.is_null()).limit(1))
    query = (Referral.select(Referral.state, open_peer.alias("peer_role_id"))
             .where(Referral.id == referral_id).tuples())
    return query if is_sqlite() else query.for_update()


_STATE_AND_PEER = SqlOnce(_state_and_peer)

# Every intervention of the current catalogue and those the referral asks for (retired
# or not), each with how it was asked for (None: not asked), in the catalogue's order.
_INTERVENTION_CHOICES = SqlOnce(lambda referral_id: (
    Intervention.select(Intervention.id, Intervention.name, Intervention.retired,
                        ReferralIntervention.chosen_at_screening)
    .join(ReferralIntervention, pw.JOIN.LEFT_OUTER,
          on=((ReferralIntervention.intervention == Intervention.id)
              & (ReferralIntervention.referral == referral_id)))
    .where((Intervention.retired == False) | ReferralIntervention.id.is_null(False))  # noqa: E712
    .order_by(Intervention.name, Intervention.id).tuples()))

_LATEST_RECORDED = SqlOnce(lambda user_id, referral_id, since: (
    Contact.select().where(Contact.recorded_by == user_id, Contact.referral == referral_id,
                           Contact.recorded_at >= since)
    .order_by(Contact.recorded_at.desc(), Contact.id.desc()).limit(1)))
