"""Training rounds: the curriculum, candidates nominated by teams, cohorts of six
dated sessions, places and the waiting list, the register, and equivalents.

Completion is never stored: it is derived from the register and the curriculum's
rule (``completion.py``) every time it is asked for.

What other areas use: ``candidate.completed_training()`` and ``Candidate.trained(team)``.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

import peewee as pw

from .. import clock
from ..db import db, read_memo
from ..models import BaseModel, Team, User
from . import completion
from .completion import ABSENT, CAUGHT_UP, LATE, PRESENT, STATUSES, Mark, Rule

# Enrolment statuses: a place in the cohort, on its waiting list, or withdrawn.
PLACE, WAITING, WITHDRAWN = "place", "waiting", "withdrawn"
ENROLMENT_STATUSES = {PLACE: "Has a place", WAITING: "Waiting list", WITHDRAWN: "Withdrawn"}

DEFAULT_SESSIONS = [
    "Principles and impact of peer support",
    "Your own recovery and readiness for peer work",
    "Using lived experience to help others' recovery",
    "Writing your own work-WRAP",
    "Rehearsing the SOP's policies and procedures",
    "Boundaries, self-care and next steps",
]


class Curriculum(BaseModel):
    """The training package: one row, its sessions and what counts as completion."""

    name = pw.CharField(max_length=120, default="Peer support training")
    minimum_sessions = pw.IntegerField(default=6)
    # Session numbers that must be among those attended, e.g. "1,5" ("" = none).
    required_sessions = pw.CharField(max_length=60, default="")
    updated_at = pw.DateTimeField(default=clock.now)

    @classmethod
    def current(cls) -> "Curriculum":
        return cls.select().order_by(cls.id).get()

    def sessions(self):
        return self.session_rows.order_by(CurriculumSession.number)

    def titles(self) -> dict[int, str]:
        return {s.number: s.title for s in self.sessions()}

    def required(self) -> frozenset[int]:
        return frozenset(int(n) for n in self.required_sessions.split(",") if n.strip().isdigit())

    def rule(self) -> Rule:
        total = self.session_rows.count() or 6
        return Rule(total=total, minimum=min(self.minimum_sessions, total), required=self.required())


class CurriculumSession(BaseModel):
    curriculum = pw.ForeignKeyField(Curriculum, backref="session_rows", on_delete="CASCADE")
    number = pw.IntegerField()
    title = pw.CharField(max_length=160)

    class Meta:
        indexes = ((("curriculum", "number"), True),)


class Candidate(BaseModel):
    """A person nominated for training. Kept minimal on purpose: who they are and
    how to reach them, never their health or use of services."""

    name = pw.CharField(max_length=120)
    preferred_name = pw.CharField(max_length=120, default="")
    pronouns = pw.CharField(max_length=40, default="")
    email = pw.CharField(max_length=254, default="")
    phone = pw.CharField(max_length=40, default="")
    team = pw.ForeignKeyField(Team, backref="candidates", on_delete="RESTRICT")  # the nominating team
    nominated_by = pw.ForeignKeyField(User, backref="nominations", on_delete="RESTRICT")
    nominated_on = pw.DateField()
    user = pw.ForeignKeyField(User, null=True, backref="candidate_records", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.name

    @property
    def known_as(self) -> str:
        return self.preferred_name or self.name

    # --- the answers other areas use -------------------------------------
    def completed_training(self) -> dt.date | None:
        """The day this person completed training (derived, or an equivalent
        recognised), or None if they have not."""
        return Candidate.completion_dates([self.id]).get(self.id)

    @classmethod
    def trained(cls, team: Team | None = None):
        """Candidates who have completed training or an equivalent, by name."""
        query = cls.select()
        if team is not None:
            query = query.where(cls.team == team)
        done = cls.completion_dates([c.id for c in query])
        return cls.select().where(cls.id.in_(list(done) or [0])).order_by(cls.name)

    @classmethod
    def completion_dates(cls, candidate_ids=None) -> dict[int, dt.date]:
        """candidate id -> completion day, for everyone (or these ids) who completed.
        A few queries whatever the number of people. Within a GET request each
        person's answer is worked out once (the home page's training and workforce
        panels both ask about the team)."""
        memo = read_memo("completion_dates")
        if memo is None or candidate_ids is None:
            return cls._completion_dates(candidate_ids)
        ids = sorted(set(candidate_ids))
        missing = [i for i in ids if i not in memo]
        if missing:
            found = cls._completion_dates(missing)
            memo.update({i: found.get(i) for i in missing})
        return {i: memo[i] for i in ids if memo[i] is not None}

    @classmethod
    def _completion_dates(cls, candidate_ids=None) -> dict[int, dt.date]:
        rule = Curriculum.current().rule()
        enrolments = Enrolment.select(Enrolment.id, Enrolment.candidate).where(Enrolment.status != WITHDRAWN)
        equivalents = EquivalentTraining.select(EquivalentTraining.candidate, EquivalentTraining.completed_on)
        if candidate_ids is not None:
            ids = list(candidate_ids)
            enrolments = enrolments.where(Enrolment.candidate.in_(ids))
            equivalents = equivalents.where(EquivalentTraining.candidate.in_(ids))
        owner = dict(enrolments.tuples())
        found: dict[int, dt.date] = {}
        for enrolment_id, day in Enrolment.completion_days(list(owner), rule).items():
            who = owner[enrolment_id]
            found[who] = min(day, found.get(who, day))
        for who, completed_on in equivalents.tuples():
            found[who] = min(completed_on, found.get(who, completed_on))
        return found

    @classmethod
    def completed_ids(cls, rule: Rule | None = None):
        """A subquery of the ids of everyone who completed: the rule met on a live
        enrolment's register, or an equivalent recognised. The same answer as
        ``completion_dates`` (whether, not when), asked of the database, so a list
        of who has *not* completed needs no register read into Python (the rule's
        SQL: ``Enrolment.met_on_register``)."""
        by_register = (Enrolment.met_on_register(rule, Enrolment.candidate)
                       .where(Enrolment.status != WITHDRAWN))
        return by_register | EquivalentTraining.select(EquivalentTraining.candidate)

    # --- who may see whom --------------------------------------------------
    @classmethod
    def visible_to(cls, user: User):
        """Facilitators see every candidate (they run the training); peer leads and
        managers see their own team's nominations; everyone else, nobody."""
        query = cls.select(cls, Team).join(Team)
        if user.has_role("facilitator"):
            return query
        if user.has_role("peer_lead", "manager") and user.team_id:
            return query.where(cls.team == user.team_id)
        return query.where(cls.id == 0)

    def enrolments_in_order(self):
        return (self.enrolments.select(Enrolment, Cohort).join(Cohort)
                .order_by(Enrolment.created_at))

    def equivalents_in_order(self):
        return self.equivalents.order_by(EquivalentTraining.completed_on)


class Cohort(BaseModel):
    """A training round: six dated sessions, a venue and a number of places."""

    name = pw.CharField(max_length=120, unique=True)
    venue = pw.CharField(max_length=200, default="")
    places = pw.IntegerField(constraints=[pw.Check("places >= 1")])
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def listed(cls):
        return cls.select().order_by(cls.created_at.desc(), cls.id.desc())

    @classmethod
    def facilitated_by(cls, user: User):
        return (cls.select().join(CohortFacilitator).where(CohortFacilitator.user == user)
                .order_by(cls.created_at.desc()))

    def sessions(self):
        return self.session_rows.order_by(CohortSession.number)

    def facilitators(self):
        return (User.select().join(CohortFacilitator, on=(CohortFacilitator.user == User.id))
                .where(CohortFacilitator.cohort == self).order_by(User.name))

    def first_day(self) -> dt.date | None:
        return self.session_rows.select(pw.fn.MIN(CohortSession.held_on)).scalar()

    def last_day(self) -> dt.date | None:
        return self.session_rows.select(pw.fn.MAX(CohortSession.held_on)).scalar()

    def state(self, today: dt.date) -> str:
        return _state(self.first_day(), self.last_day(), today)

    @classmethod
    def overview(cls, cohorts, today: dt.date, user: User | None = None) -> list[dict]:
        """One row per cohort, in the order given: cohort, state, first and last day,
        next session (on or after today), places taken, waiting, completions, and
        whether ``user`` facilitates it. A fixed number of queries for any number."""
        cohorts = list(cohorts)
        ids = [c.id for c in cohorts]
        if not ids:
            return []
        days = {cid: (first, last) for cid, first, last in
                CohortSession.select(CohortSession.cohort, pw.fn.MIN(CohortSession.held_on),
                                     pw.fn.MAX(CohortSession.held_on))
                .where(CohortSession.cohort.in_(ids)).group_by(CohortSession.cohort).tuples()}
        upcoming: dict[int, CohortSession] = {}
        for session in (CohortSession.select().where(CohortSession.cohort.in_(ids), CohortSession.held_on >= today)
                        .order_by(CohortSession.held_on, CohortSession.number)):
            upcoming.setdefault(session.cohort_id, session)
        counts = {(cohort_id, status): n for cohort_id, status, n in
                  Enrolment.select(Enrolment.cohort, Enrolment.status, pw.fn.COUNT(Enrolment.id))
                  .where(Enrolment.cohort.in_(ids)).group_by(Enrolment.cohort, Enrolment.status).tuples()}
        # Whether, not when: counted by the database for this page's places only.
        met = Enrolment.met_on_register(None, Enrolment.id).where(Enrolment.cohort.in_(ids),
                                                                  Enrolment.status == PLACE)
        completions = dict(Enrolment.select(Enrolment.cohort, pw.fn.COUNT(Enrolment.id))
                           .where(Enrolment.id.in_(met)).group_by(Enrolment.cohort).tuples())
        mine = set()
        if user is not None:
            mine = {cid for (cid,) in CohortFacilitator.select(CohortFacilitator.cohort)
                    .where(CohortFacilitator.cohort.in_(ids), CohortFacilitator.user == user).tuples()}
        rows = []
        for cohort in cohorts:
            first, last = days.get(cohort.id, (None, None))
            first, last = _as_date(first), _as_date(last)
            rows.append({"cohort": cohort, "state": _state(first, last, today), "first": first, "last": last,
                         "next": upcoming.get(cohort.id), "taken": counts.get((cohort.id, PLACE), 0),
                         "waiting": counts.get((cohort.id, WAITING), 0),
                         "completions": completions.get(cohort.id, 0),
                         "mine": cohort.id in mine})
        return rows

    def next_session(self, today: dt.date) -> "CohortSession | None":
        return (self.session_rows.where(CohortSession.held_on >= today)
                .order_by(CohortSession.held_on, CohortSession.number).first())

    def _enrolments(self, status: str):
        return (Enrolment.select(Enrolment, Candidate, Team).join(Candidate).join(Team)
                .where(Enrolment.cohort == self, Enrolment.status == status))

    def with_places(self):
        return self._enrolments(PLACE).order_by(Candidate.name)

    def waiting_list(self):
        """In nomination order: whoever was nominated first is offered the next place."""
        return self._enrolments(WAITING).order_by(Candidate.nominated_on, Candidate.id)

    def withdrawn(self):
        return self._enrolments(WITHDRAWN).order_by(Candidate.name)

    def places_taken(self) -> int:
        return self.enrolments.where(Enrolment.status == PLACE).count()

    def places_left(self) -> int:
        return max(0, self.places - self.places_taken())

    def completions(self) -> dict[int, dt.date]:
        """enrolment id -> completion day, for those holding a place."""
        return Enrolment.completion_days([e.id for e in self.with_places()])

    def grid(self) -> dict[tuple[int, int], "Attendance"]:
        """(enrolment id, session id) -> register entry, for the attendance grid."""
        rows = Attendance.select().join(CohortSession).where(CohortSession.cohort == self)
        return {(a.enrolment_id, a.session_id): a for a in rows}


def _state(first: dt.date | None, last: dt.date | None, today: dt.date) -> str:
    if first is None or today < first:
        return "planned"
    return "finished" if today > last else "running"


def _as_date(value) -> dt.date | None:
    """SQLite's MIN()/MAX() of a date column comes back as text."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


class CohortFacilitator(BaseModel):
    cohort = pw.ForeignKeyField(Cohort, backref="facilitator_rows", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, backref="facilitated", on_delete="RESTRICT")

    class Meta:
        indexes = ((("cohort", "user"), True),)


class CohortSession(BaseModel):
    """One of a cohort's six sessions, numbered as in the curriculum."""

    cohort = pw.ForeignKeyField(Cohort, backref="session_rows", on_delete="CASCADE")
    number = pw.IntegerField()
    held_on = pw.DateField()

    class Meta:
        indexes = ((("cohort", "number"), True),)

    def title(self, titles: dict[int, str] | None = None) -> str:
        titles = titles if titles is not None else Curriculum.current().titles()
        return titles.get(self.number, f"Session {self.number}")

    def register(self):
        """Everyone holding a place, with their entry for this session (or None)."""
        entries = {a.enrolment_id: a for a in self.attendance}
        return [(e, entries.get(e.id)) for e in self.cohort.with_places()]


class Enrolment(BaseModel):
    """A candidate's place in (or on the waiting list of) a cohort."""

    cohort = pw.ForeignKeyField(Cohort, backref="enrolments", on_delete="CASCADE")
    candidate = pw.ForeignKeyField(Candidate, backref="enrolments", on_delete="RESTRICT")
    status = pw.CharField(max_length=12, constraints=[pw.Check("status IN ('place', 'waiting', 'withdrawn')")])
    offered_on = pw.DateField(null=True)
    withdrawn_on = pw.DateField(null=True)
    withdrawal_reason = pw.CharField(max_length=500, default="")
    created_at = pw.DateTimeField(default=clock.now)
    # A second place alongside one held elsewhere, to catch up missed sessions. Without it
    # a candidate holds one place at a time (partial unique index, migration m0013; services.py).
    catch_up = pw.BooleanField(default=False)

    class Meta:
        # One candidate, one row per cohort: enrolling twice is refused by the database.
        indexes = ((("cohort", "candidate"), True),)

    @property
    def status_label(self) -> str:
        return ENROLMENT_STATUSES.get(self.status, self.status)

    def completed_on(self) -> dt.date | None:
        return Enrolment.completion_days([self.id]).get(self.id)

    def marks(self) -> list[Mark]:
        return [Mark(a.session.number, a.session.held_on, a.status, a.caught_up_on)
                for a in self.attendance.select(Attendance, CohortSession).join(CohortSession)]

    @classmethod
    def met_on_register(cls, rule: Rule | None, *columns) -> pw.ModelSelect:
        """The enrolments whose register meets the rule (``columns`` selected; add a
        ``where`` to narrow them): the rule in SQL, in this one place, for
        ``Candidate.completed_ids`` and the cohorts list's counts. Whether, not when
        (``completion_days`` says when): the sessions that counted (``Mark.counts_on``:
        present, late, or caught up on a day) counted per enrolment and held against
        ``Rule.is_met``'s two conditions, at least ``minimum`` and every required one."""
        rule = rule or Curriculum.current().rule()
        counted = (Attendance.status.in_([PRESENT, LATE])
                   | ((Attendance.status == CAUGHT_UP) & Attendance.caught_up_on.is_null(False)))
        met = pw.fn.COUNT(pw.fn.DISTINCT(CohortSession.number)) >= rule.minimum
        if rule.required:
            required = pw.Case(None, [(CohortSession.number.in_(sorted(rule.required)), CohortSession.number)])
            met &= pw.fn.COUNT(pw.fn.DISTINCT(required)) == len(rule.required)
        return (cls.select(*columns).join(Attendance).join(CohortSession)
                .where(counted).group_by(cls.id, *columns).having(met))

    @staticmethod
    def completion_days(enrolment_ids, rule: Rule | None = None) -> dict[int, dt.date]:
        """enrolment id -> the day the rule was met on that enrolment's register."""
        ids = list(enrolment_ids)
        if not ids:
            return {}
        rule = rule or Curriculum.current().rule()
        marks: dict[int, list[Mark]] = defaultdict(list)
        # The register lines by enrolment, then each one's session. With a plain join SQLite
        # walked every session and probed its register for each enrolment asked about
        # (7-9 ms CPU for 250 places, against 1.5 ms): CROSS JOIN keeps SQLite to the
        # order written (its documented planner hint); PostgreSQL plans it as any join.
        rows = (Attendance.select(Attendance.enrolment, Attendance.status, Attendance.caught_up_on,
                                  CohortSession.number, CohortSession.held_on)
                .join(CohortSession, pw.JOIN.CROSS)
                .where(Attendance.session == CohortSession.id, Attendance.enrolment.in_(ids)))
        # The cursor's rows as they come (peewee's per-value conversion was most of the
        # time for thousands of register lines); dates made here.
        for enrolment_id, status, caught_up_on, number, held_on in db.execute(rows):
            marks[enrolment_id].append(Mark(number, _as_date(held_on), status, _as_date(caught_up_on)))
        found = {}
        for enrolment_id, these in marks.items():
            day = completion.completion_date(rule, these)
            if day is not None:
                found[enrolment_id] = day
        return found


class Attendance(BaseModel):
    """One line of a session's register."""

    session = pw.ForeignKeyField(CohortSession, backref="attendance", on_delete="CASCADE")
    enrolment = pw.ForeignKeyField(Enrolment, backref="attendance", on_delete="CASCADE")
    status = pw.CharField(max_length=12, constraints=[
        pw.Check("status IN ('present', 'late', 'absent', 'caught_up')"),
        pw.Check("status <> 'caught_up' OR caught_up_on IS NOT NULL")])
    caught_up_on = pw.DateField(null=True)
    caught_up_with = pw.CharField(max_length=120, default="")
    recorded_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    recorded_at = pw.DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("session", "enrolment"), True),)

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def counts(self) -> bool:
        return self.status in completion.COUNTS


class EquivalentTraining(BaseModel):
    """Training done elsewhere, recognised as equivalent: counts as completion."""

    candidate = pw.ForeignKeyField(Candidate, backref="equivalents", on_delete="CASCADE")
    provider = pw.CharField(max_length=200)
    completed_on = pw.DateField()
    evidence = pw.TextField(default="")
    recognised_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    recognised_on = pw.DateField()
    created_at = pw.DateTimeField(default=clock.now)


TRAINING_MODELS = [Curriculum, CurriculumSession, Candidate, Cohort, CohortFacilitator, CohortSession,
                   Enrolment, Attendance, EquivalentTraining]

__all__ = ["ABSENT", "CAUGHT_UP", "LATE", "PRESENT", "PLACE", "WAITING", "WITHDRAWN", "STATUSES",
           "ENROLMENT_STATUSES", "DEFAULT_SESSIONS", *[m.__name__ for m in TRAINING_MODELS]]
