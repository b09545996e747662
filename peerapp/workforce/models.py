"""The peer workforce: a trained candidate's role, checks, induction and supervision.

Other areas use a few answers from here and nothing else:

- ``PeerRole.practising(team=None)``: roles that are active and ready to practise
  (referrals' "assign a peer", matching's candidates);
- ``PeerRole.current_for(user)``: a peer's active or paused role, newest first;
- ``role.ready_to_practise(today)`` / ``role.readiness_problems(today)``;
- ``role.interest_list()``, ``language_list()``, ``area_list()``,
  ``availability_list()``, ``background_list()``, ``intervention_kind_list()``;
- ``role.display_name``, ``role.is_volunteer``, ``role.max_caseload``;
- ``StaffConflict.between(staff, role)`` and ``PeerLeadDesignation.is_lead(user, team)``.
"""
from __future__ import annotations

import datetime as dt

import peewee as pw

from .. import clock
from ..changes import Refusal  # noqa: F401  (areas import it from here too)
from ..db import SqlOnce, read_memo
from ..models import BaseModel, Team, User
from ..providers import Question
from ..training.models import Candidate
from .readiness import CheckFact, check_state, readiness_problems

KINDS = {"volunteer": "Volunteer", "paid": "Paid"}
STATUSES = {"offered": "Offered", "onboarding": "Onboarding", "active": "Active",
            "paused": "Paused", "ended": "Ended"}
OPEN_STATUSES = ("offered", "onboarding", "active", "paused")
CURRENT_STATUSES = ("active", "paused")
DBS_LEVELS = {"basic": "Basic", "standard": "Standard", "enhanced": "Enhanced",
              "enhanced_barred": "Enhanced with barred lists"}
DBS_OUTCOMES = {"clear": "Clear", "needs_review": "Needs review"}
# How many service users a peer supports now is counted by referrals, which comes
# after workforce: peerapp.connect_areas() plugs referrals' answer in.
caseload_of = Question("caseload_of(role) -> service users the peer supports now", "referrals")
caseloads_of = Question("caseloads_of(role_ids) -> {role id: caseload} in one query (absent: 0)", "referrals")

DEFAULT_SUPERVISION_DAYS = 30  # "monthly", changeable in the workforce settings




def _split(text: str | None) -> set[str]:
    return {part.strip() for part in (text or "").split(",") if part.strip()}


class WorkforceSetting(BaseModel):
    """Settings of the workforce area kept in the database (e.g. supervision frequency)."""
    name = pw.CharField(max_length=60, primary_key=True)
    value = pw.CharField(max_length=200)

    @classmethod
    def supervision_days(cls) -> int:
        row = cls.get_or_none(cls.name == "supervision_days")
        try:
            return max(1, int(row.value)) if row else DEFAULT_SUPERVISION_DAYS
        except ValueError:
            return DEFAULT_SUPERVISION_DAYS

    @classmethod
    def set_supervision_days(cls, days: int) -> None:
        (cls.insert(name="supervision_days", value=str(int(days)))
         .on_conflict(conflict_target=[cls.name], update={cls.value: str(int(days))}).execute())


class CheckType(BaseModel):
    """A kind of recruitment check; which role kinds need it is data, not code."""
    code = pw.CharField(max_length=40, unique=True)
    name = pw.CharField(max_length=120)
    for_volunteer = pw.BooleanField(default=True)
    for_paid = pw.BooleanField(default=True)
    lapses = pw.BooleanField(default=False)  # has an expiry date
    valid_months = pw.IntegerField(null=True)  # suggested expiry, when it lapses
    position = pw.IntegerField(default=0)
    active = pw.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name

    @property
    def is_dbs(self) -> bool:
        return self.code == "dbs"

    @classmethod
    def required_for(cls, kind: str):
        flag = cls.for_volunteer if kind == "volunteer" else cls.for_paid
        return cls.select().where(cls.active == True, flag == True).order_by(cls.position, cls.id)  # noqa: E712

    @classmethod
    def listed(cls):
        return cls.select().order_by(cls.active.desc(), cls.position, cls.id)


class RecruitmentCheck(BaseModel):
    """One completed check of a person (kept across their roles). Renewal adds a
    row; the newest by completion date is the one that counts. DBS: the level,
    date, Update Service and outcome only, never the certificate's content."""
    candidate = pw.ForeignKeyField(Candidate, backref="recruitment_checks", on_delete="RESTRICT")
    check_type = pw.ForeignKeyField(CheckType, backref="records", on_delete="RESTRICT")
    completed_on = pw.DateField()
    expires_on = pw.DateField(null=True)
    dbs_level = pw.CharField(max_length=20, default="")
    dbs_update_service = pw.BooleanField(null=True)
    dbs_outcome = pw.CharField(max_length=20, default="")
    recorded_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    recorded_at = pw.DateTimeField(default=clock.now)

    class Meta:
        constraints = [pw.Check("expires_on IS NULL OR expires_on > completed_on")]

    @property
    def needs_review(self) -> bool:
        return self.check_type.is_dbs and self.dbs_outcome != "clear"

    def fact(self) -> CheckFact:
        return CheckFact(self.check_type.name, self.completed_on, self.expires_on, self.needs_review)

    def state(self, today: dt.date | None = None) -> str:
        return check_state(self.fact(), today or clock.today())

    @classmethod
    def newest_for(cls, candidate) -> dict[int, "RecruitmentCheck"]:
        """check_type id -> the newest record of that kind for this person."""
        newest: dict[int, RecruitmentCheck] = {}
        rows = (cls.select(cls, CheckType).join(CheckType)
                .where(cls.candidate == candidate)
                .order_by(cls.completed_on.desc(), cls.id.desc()))
        for row in rows:
            newest.setdefault(row.check_type_id, row)
        return newest


class PeerLeadDesignation(BaseModel):
    """A team names its peer leads; the SOP asks for two, both paid staff."""
    team = pw.ForeignKeyField(Team, backref="peer_lead_designations", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, backref="peer_lead_designations", on_delete="CASCADE")
    paid = pw.BooleanField(default=True)
    designated_on = pw.DateField()
    designated_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")

    class Meta:
        indexes = ((("team", "user"), True),)

    @classmethod
    def for_team(cls, team):
        """Designations that count: the person is active, a peer lead, in this team."""
        from ..models import UserRole
        return (cls.select(cls, User).join(User, on=(cls.user == User.id))
                .where(cls.team == team, User.active == True, User.team == team,  # noqa: E712
                       User.id.in_(UserRole.select(UserRole.user).where(UserRole.role == "peer_lead")))
                .order_by(User.name))

    @classmethod
    def leads(cls, team) -> list[User]:
        return [d.user for d in cls.for_team(team)]

    @classmethod
    def is_lead(cls, user, team) -> bool:
        if not (user and team):
            return False
        # The role page asks it of the reader and of the supervisor, often the same person.
        memo = read_memo("is_lead")
        key = (getattr(user, "id", user), getattr(team, "id", team))
        if memo is not None and key in memo:
            return memo[key]
        found = cls.for_team(team).where(cls.user == user).exists()
        if memo is not None:
            memo[key] = found
        return found

    @classmethod
    def warnings(cls, team) -> list[str]:
        named = list(cls.for_team(team))
        found = []
        if len(named) < 2:
            found.append(f"This team has {len(named)} named peer lead{'' if len(named) == 1 else 's'}; "
                         "the SOP asks for two.")
        for d in named:
            if not d.paid:
                found.append(f"{d.user.name} is not paid staff; peer leads should be paid staff.")
        return found


class PeerRole(BaseModel):
    """A candidate's role in a team: offered -> onboarding -> active -> paused -> ended.

    ``status`` is what people decided; ``effective_status(today)`` adds what the
    dates say: an active role whose peer is no longer ready to practise (a check
    lapsed) reads as paused, with the reason, until the check is renewed.
    """
    candidate = pw.ForeignKeyField(Candidate, backref="peer_roles", on_delete="RESTRICT")
    user = pw.ForeignKeyField(User, null=True, backref="peer_roles", on_delete="RESTRICT")
    team = pw.ForeignKeyField(Team, backref="peer_roles", on_delete="RESTRICT")
    kind = pw.CharField(max_length=20)
    hours_per_week = pw.FloatField(default=0)
    working_days = pw.CharField(max_length=100, default="")
    start_date = pw.DateField()
    supervisor = pw.ForeignKeyField(User, backref="supervisees", on_delete="RESTRICT")
    max_caseload = pw.IntegerField(default=0)
    interests = pw.TextField(default="")
    languages = pw.TextField(default="")
    areas = pw.TextField(default="")
    availability = pw.TextField(default="")
    gender = pw.CharField(max_length=60, default="")
    age_band = pw.CharField(max_length=20, default="")
    backgrounds = pw.TextField(default="")
    intervention_kinds = pw.TextField(default="")
    status = pw.CharField(max_length=20, default="offered", index=True)
    status_reason = pw.CharField(max_length=300, default="")
    ended_on = pw.DateField(null=True)
    previous_role = pw.ForeignKeyField("self", null=True, backref="next_roles", on_delete="RESTRICT")
    induction_signed_off_on = pw.DateField(null=True)
    induction_signed_off_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    base_access_on = pw.DateField(null=True)
    base_access_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    auto_paused_since = pw.DateField(null=True)  # kept by the sweep, for the record only
    offered_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    created_at = pw.DateTimeField(default=clock.now)
    updated_at = pw.DateTimeField(default=clock.now)

    class Meta:
        constraints = [pw.Check("kind IN ('volunteer', 'paid')"),
                       pw.Check("status IN ('offered', 'onboarding', 'active', 'paused', 'ended')"),
                       pw.Check("max_caseload >= 0"), pw.Check("hours_per_week >= 0")]

    def __str__(self) -> str:
        return f"{self.display_name} ({KINDS.get(self.kind, self.kind).lower()})"

    # -- who ---------------------------------------------------------------
    @property
    def display_name(self) -> str:
        return self.candidate.preferred_name or self.candidate.name

    @property
    def is_volunteer(self) -> bool:
        return self.kind == "volunteer"

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    # -- matching details, as sets ----------------------------------------
    def interest_list(self) -> set[str]:
        return _split(self.interests)

    def language_list(self) -> set[str]:
        return _split(self.languages)

    def area_list(self) -> set[str]:
        return _split(self.areas)

    def availability_list(self) -> set[str]:
        return _split(self.availability)

    def background_list(self) -> set[str]:
        return _split(self.backgrounds)

    def intervention_kind_list(self) -> set[str]:
        return _split(self.intervention_kinds)

    def working_day_list(self) -> set[str]:
        return _split(self.working_days)

    # -- readiness --------------------------------------------------------
    def _gathered(self) -> dict | None:
        """What ``PeerRole.gather`` fetched for this role with the others of a list."""
        return self.__dict__.get("_gathered_facts")

    def required_check_types(self) -> list[CheckType]:
        gathered = self._gathered()
        if gathered is not None:
            return gathered["required"]
        return list(CheckType.required_for(self.kind))

    def checks(self, today: dt.date | None = None) -> list[tuple[CheckType, RecruitmentCheck | None, str]]:
        """Each required check with its newest record and state (missing, expired, ...)."""
        today = today or clock.today()
        gathered = self._gathered()
        newest = gathered["newest"] if gathered is not None else RecruitmentCheck.newest_for(self.candidate_id)
        rows = []
        for check_type in self.required_check_types():
            record = newest.get(check_type.id)
            rows.append((check_type, record, check_state(record.fact() if record else None, today)))
        return rows

    def _facts(self, today: dt.date) -> dict[str, CheckFact | None]:
        return {ct.name: (rec.fact() if rec else None) for ct, rec, _ in self.checks(today)}

    def training_completed_on(self) -> dt.date | None:
        gathered = self._gathered()
        if gathered is not None:
            return gathered["completed_on"]
        return self.candidate.completed_training()

    def readiness_problems(self, today: dt.date | None = None) -> list[str]:
        today = today or clock.today()
        return readiness_problems(training_completed_on=self.training_completed_on(),
                                  required=self._facts(today),
                                  induction_signed_off_on=self.induction_signed_off_on, today=today)

    def ready_to_practise(self, today: dt.date | None = None) -> bool:
        return self.status != "ended" and not self.readiness_problems(today)

    def checks_problems(self, today: dt.date | None = None) -> list[str]:
        """Training and checks only: what must be true before base access is given."""
        return [p for p in self.readiness_problems(today) if p != "induction not signed off"]

    def effective_status(self, today: dt.date | None = None) -> str:
        if self.status == "active" and not self.ready_to_practise(today):
            return "paused"
        return self.status

    def effective_reason(self, today: dt.date | None = None) -> str:
        if self.status == "active":
            problems = self.readiness_problems(today)
            if problems:
                return "Paused automatically: " + "; ".join(problems)
        return self.status_reason

    def is_paused_automatically(self, today: dt.date | None = None) -> bool:
        return self.status == "active" and self.effective_status(today) == "paused"

    @property
    def is_open(self) -> bool:
        return self.status != "ended"

    # -- queries ------------------------------------------------------------
    @classmethod
    def with_people(cls):
        return cls.select(cls, Candidate).join(Candidate, on=(cls.candidate == Candidate.id))

    @classmethod
    def for_team(cls, team, include_ended: bool = False):
        query = cls.with_people().where(cls.team == team)
        if not include_ended:
            query = query.where(cls.status != "ended")
        return query.order_by(Candidate.name, cls.id)

    @classmethod
    def current_for(cls, user) -> "PeerRole | None":
        if user is None:
            return None
        return (cls.with_people().where(cls.user == user, cls.status.in_(CURRENT_STATUSES))
                .order_by(cls.start_date.desc(), cls.id.desc()).first())

    @classmethod
    def practising(cls, team=None, today: dt.date | None = None):
        """Active roles whose peer is ready to practise today, as a query."""
        today = today or clock.today()
        candidates = cls.with_people().where(cls.status == "active")
        if team is not None:
            candidates = candidates.where(cls.team == team)
        ids = [role.id for role in cls.gather(candidates) if role.ready_to_practise(today)]
        return cls.with_people().where(cls.id.in_(ids)).order_by(Candidate.name, cls.id)

    @classmethod
    def of_candidate(cls, candidate):
        return cls.select().where(cls.candidate == candidate).order_by(cls.start_date, cls.id)

    @classmethod
    def expiring(cls, team, today: dt.date | None = None,
                 roles: list["PeerRole"] | None = None) -> dict[str, list[tuple["PeerRole", RecruitmentCheck, int]]]:
        """Required checks of the team's open roles by when they lapse:
        expired, within 7 days, 8-30 days, 31-60 days. Each (role, check, days left).
        ``roles``: the team's open roles already gathered (``gather``), if the caller has them."""
        today = today or clock.today()
        buckets: dict[str, list] = {"expired": [], "7": [], "30": [], "60": []}
        for role in roles if roles is not None else cls.gather(cls.for_team(team)):
            for check_type, record, state in role.checks(today):
                if record is None or record.expires_on is None:
                    continue
                days = (record.expires_on - today).days
                key = "expired" if days <= 0 else "7" if days <= 7 else "30" if days <= 30 else "60" if days <= 60 else None
                if key:
                    buckets[key].append((role, record, days))
        for rows in buckets.values():
            rows.sort(key=lambda row: (row[2], row[0].display_name))
        return buckets

    @classmethod
    def gather(cls, roles) -> list["PeerRole"]:
        """The roles of a list, each carrying what its readiness, checks, supervision
        and caseload answers need, fetched for all of them in a fixed number of
        queries (a page listing roles asks per row otherwise). The answers are
        worked out by the same methods, from these facts."""
        roles = list(roles)
        if not roles:
            return roles
        role_ids = [role.id for role in roles]
        candidate_ids = sorted({role.candidate_id for role in roles})
        completed = Candidate.completion_dates(candidate_ids)
        active_types = list(CheckType.select().where(CheckType.active == True)  # noqa: E712
                            .order_by(CheckType.position, CheckType.id))
        types = {t.id: t for t in active_types}
        # Only the kinds that are required (active) count; each record gets its kind
        # from the list above rather than from a join (500 roles: 2,000 records).
        newest: dict[int, dict[int, RecruitmentCheck]] = {}
        rows = (RecruitmentCheck.select()
                .where(RecruitmentCheck.candidate.in_(candidate_ids), RecruitmentCheck.check_type.in_(list(types)))
                .order_by(RecruitmentCheck.completed_on.desc(), RecruitmentCheck.id.desc()))
        for row in rows:
            row.check_type = types[row.check_type_id]
            newest.setdefault(row.candidate_id, {}).setdefault(row.check_type_id, row)
        required = {"volunteer": [t for t in active_types if t.for_volunteer],
                    "paid": [t for t in active_types if t.for_paid]}
        last = Supervision.latest_for(role_ids)
        every = WorkforceSetting.supervision_days()
        loads = caseloads_of(role_ids)
        for role in roles:
            role.__dict__["_gathered_facts"] = {
                "completed_on": completed.get(role.candidate_id), "newest": newest.get(role.candidate_id, {}),
                "required": required["volunteer" if role.kind == "volunteer" else "paid"],
                "last_supervision": last.get(role.id), "supervision_days": every,
                "caseload": loads.get(role.id, 0)}
        return roles

    # -- supervision ----------------------------------------------------------
    def last_supervision(self) -> "Supervision | None":
        gathered = self._gathered()
        if gathered is not None:
            return gathered["last_supervision"]
        return (Supervision.select().where(Supervision.role == self)
                .order_by(Supervision.held_on.desc(), Supervision.id.desc()).first())

    def next_supervision_due(self) -> dt.date | None:
        last = self.last_supervision()
        gathered = self._gathered()
        days = gathered["supervision_days"] if gathered is not None else WorkforceSetting.supervision_days()
        every = dt.timedelta(days=days)
        if last is None:
            return self.start_date + every if self.status in CURRENT_STATUSES else None
        return last.next_on or (last.held_on + every)

    def supervision_overdue(self, today: dt.date | None = None) -> bool:
        due = self.next_supervision_due()
        return self.status in CURRENT_STATUSES and due is not None and due < (today or clock.today())

    def active_caseload(self) -> int:
        """How many service users this peer supports now, as the referrals area counts them."""
        gathered = self._gathered()
        if gathered is not None:
            return gathered["caseload"]
        return caseload_of(self)

    # -- who may read supervision and debriefs ------------------------------
    def is_peer(self, user) -> bool:
        return user is not None and (self.user_id == user.id or
                                     (self.candidate.user_id is not None and self.candidate.user_id == user.id))

    # -- transitions ------------------------------------------------------------
    def touch(self) -> None:
        self.updated_at = clock.now()

    def other_current_in_team(self):
        return (PeerRole.select().where(PeerRole.candidate == self.candidate_id, PeerRole.team == self.team_id,
                                        PeerRole.status.in_(CURRENT_STATUSES), PeerRole.id != self.id))


class InductionItem(BaseModel):
    """An item of the induction checklist; the list is data, changed in settings."""
    title = pw.CharField(max_length=160)
    position = pw.IntegerField(default=0)
    active = pw.BooleanField(default=True)

    def __str__(self) -> str:
        return self.title

    @classmethod
    def checklist(cls):
        return cls.select().where(cls.active == True).order_by(cls.position, cls.id)  # noqa: E712


class InductionTick(BaseModel):
    role = pw.ForeignKeyField(PeerRole, backref="induction_ticks", on_delete="CASCADE")
    item = pw.ForeignKeyField(InductionItem, backref="ticks", on_delete="RESTRICT")
    done_on = pw.DateField()
    ticked_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    ticked_at = pw.DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("role", "item"), True),)


class TeamMeetingAgreement(BaseModel):
    """Whether the peer attends team meetings: agreed jointly by the manager, a
    peer lead and the peer. Changing the arrangement clears the confirmations."""
    role = pw.ForeignKeyField(PeerRole, backref="meeting_agreements", unique=True, on_delete="CASCADE")
    attends = pw.BooleanField(default=True)
    arrangement = pw.CharField(max_length=300, default="")
    manager = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    manager_on = pw.DateField(null=True)
    lead = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    lead_on = pw.DateField(null=True)
    peer_on = pw.DateField(null=True)
    updated_at = pw.DateTimeField(default=clock.now)

    @property
    def agreed(self) -> bool:
        return bool(self.manager_on and self.lead_on and self.peer_on)


class Supervision(BaseModel):
    """Content visible only to the peer and their supervisors; every view audited."""
    role = pw.ForeignKeyField(PeerRole, backref="supervisions", on_delete="RESTRICT")
    held_on = pw.DateField()
    duration_minutes = pw.IntegerField()
    how_they_are = pw.TextField(default="")
    actions = pw.TextField(default="")
    next_on = pw.DateField(null=True)
    recorded_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
    recorded_at = pw.DateTimeField(default=clock.now)

    class Meta:
        constraints = [pw.Check("duration_minutes > 0"), pw.Check("next_on IS NULL OR next_on >= held_on")]

    def visible_to(self, user) -> bool:
        role = self.role
        return user is not None and (role.is_peer(user) or user.id in (role.supervisor_id, self.recorded_by_id))

    @classmethod
    def latest_for(cls, role_ids) -> dict[int, "Supervision"]:
        """role id -> its latest supervision (by day held, then entry), in one query."""
        ids = list(role_ids)
        if not ids:
            return {}
        # Its SQL (a window over a subquery) is built once for each number of roles
        # asked about: peewee took longer to build it than SQLite to run it.
        return {row.role_id: row for row in _LATEST_SUPERVISIONS(*ids, variant=len(ids))}


def _latest_supervisions(count: int, *role_ids):
    S = Supervision
    rank = pw.fn.ROW_NUMBER().over(partition_by=[S.role], order_by=[S.held_on.desc(), S.id.desc()]).alias("rank")
    ranked = S.select(S.id, rank).where(S.role.in_(list(role_ids))).alias("ranked")
    return S.select().join(ranked, on=(S.id == ranked.c.id)).where(ranked.c.rank == 1)


_LATEST_SUPERVISIONS = SqlOnce(_latest_supervisions)


class Debrief(BaseModel):
    """End-of-day debrief with a peer lead; same privacy as supervision."""
    role = pw.ForeignKeyField(PeerRole, backref="debriefs", on_delete="RESTRICT")
    held_on = pw.DateField()
    summary = pw.TextField(default="")
    wellbeing = pw.TextField(default="")
    recorded_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
    recorded_at = pw.DateTimeField(default=clock.now)

    def visible_to(self, user) -> bool:
        role = self.role
        return user is not None and (role.is_peer(user) or user.id in (role.supervisor_id, self.recorded_by_id))


class StaffConflict(BaseModel):
    """A staff member's prior care relationship with a peer: the fact only, no detail.
    Such a person is never made that peer's supervisor."""
    staff = pw.ForeignKeyField(User, backref="declared_conflicts", on_delete="RESTRICT")
    role = pw.ForeignKeyField(PeerRole, backref="staff_conflicts", on_delete="CASCADE")
    declared_on = pw.DateField()
    recorded_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    recorded_at = pw.DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("staff", "role"), True),)

    @classmethod
    def between(cls, staff, role_or_candidate) -> bool:
        """Has ``staff`` declared a conflict with this person (any of their roles)?"""
        candidate_id = getattr(role_or_candidate, "candidate_id", None) or getattr(role_or_candidate, "id", None)
        if staff is None or candidate_id is None:
            return False
        # The role page asks it twice (the supervisor's conflict, and why they cannot stay).
        memo = read_memo("staff_conflict")
        key = (getattr(staff, "id", staff), candidate_id)
        if memo is not None and key in memo:
            return memo[key]
        found = (cls.select().join(PeerRole)
                 .where(cls.staff == staff, PeerRole.candidate == candidate_id).exists())
        if memo is not None:
            memo[key] = found
        return found


def current_supervisor_id(user) -> int | None:
    """The supervisor's user id on the person's current role (the work-WRAP asks this)."""
    role = PeerRole.current_for(user)
    return role.supervisor_id if role is not None else None


WORKFORCE_MODELS = [WorkforceSetting, CheckType, RecruitmentCheck, PeerLeadDesignation, PeerRole,
                    InductionItem, InductionTick, TeamMeetingAgreement, Supervision, Debrief, StaffConflict]
