"""A Trust's worth of fictional data, the same every time (fixed random seed).

    python bench/seed.py DATABASE [--scale 1.0] [--referrals 80000] [...]

makes (or adds to) DATABASE with the schema and the demo data, then adds, by
default, what a Trust holds after a few years: 40 teams, 400 peer roles, 1,000
candidates, 80,000 referrals, 800,000 contacts, ~470,000 referral events,
2,000,000 audit rows and 4,000 matching runs. ``--scale 0.05`` shrinks every
size at once (the test suite uses tiny sizes through :func:`seed`). Every name
is invented. Only for benchmarks: never on a real install.

The whole Trust takes ~1 minute on a 2-core machine: the big tables
go in as plain tuples through the driver's executemany, into each model's own
table, columns and defaults, in one transaction; on SQLite their indexes are
made after the load (from the SQL in sqlite_master, so the schema is the
migrated one), the connection loads without fsync and the file gets no WAL
until the end. The data are the same row for row as before.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import peewee as pw  # noqa: E402

TODAY = dt.date(2026, 11, 30)
NOW = dt.datetime(2026, 11, 30, 9, 0)
FIRST = ("Ada Ben Cara Dev Eli Fay Gus Hana Ivo Jia Kai Lena Milo Nia Omar Pia Quin Rosa Sol Tara "
         "Uma Vik Wren Xan Yara Zed").split()
LAST = ("Abbott Bryce Carver Dunn Ellis Frost Gale Hart Irwin Joyce Kemp Lowe Moss Nash Orr Pike "
        "Quill Reyes Shaw Tate Underhill Vance Webb Yates").split()


@dataclass(frozen=True)
class Sizes:
    teams: int = 40
    peer_roles: int = 400
    candidates: int = 1000
    referrals: int = 80_000
    contacts: int = 800_000
    events_per_referral: float = 5.9  # ~470k events for 80k referrals
    audit: int = 2_000_000
    runs: int = 4000
    clinicians_per_team: int = 10

    def scaled(self, factor: float) -> "Sizes":
        def s(v, least):
            return max(least, int(round(v * factor)))
        return replace(self, teams=s(self.teams, 2), peer_roles=s(self.peer_roles, 4),
                       candidates=s(self.candidates, 8), referrals=s(self.referrals, 20),
                       contacts=s(self.contacts, 40), audit=s(self.audit, 50), runs=s(self.runs, 2),
                       clinicians_per_team=max(2, min(self.clinicians_per_team, s(self.clinicians_per_team, 2))))


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _chunks(rows: list, n: int = 500):
    for i in range(0, len(rows), n):
        yield rows[i:i + n]


# Fields whose db_value() hands the driver the value unchanged (ints, text, dates,
# booleans): rows for them go to the driver as they are. Any other field (a
# ListField, say) still has its own db_value() applied to every value.
PLAIN = (pw.AutoField, pw.IntegerField, pw.BigIntegerField, pw.SmallIntegerField, pw.CharField,
         pw.TextField, pw.FloatField, pw.DateField, pw.DateTimeField, pw.BooleanField)


def _plain(field) -> bool:
    if type(field) is pw.ForeignKeyField:
        return _plain(field.rel_field)
    return type(field) in PLAIN


def _as_text(value):
    """What Python's sqlite3 stores for a date or datetime (its default adapters:
    isoformat(), with a space between date and time), worked out once."""
    return str(value) if isinstance(value, (dt.date, dt.datetime)) else value


def _insert(model, names: tuple[str, ...], rows) -> int:
    """Plain tuples (one value per name in ``names``) into the model's table with the
    driver's executemany, in the caller's transaction: the model's own table, columns
    and defaults, without peewee building or converting every row (insert_many() costs
    ~10x). ``rows`` may be a generator: it is streamed, never held."""
    database = model._meta.database
    sqlite = isinstance(getattr(database, "obj", database), pw.SqliteDatabase)
    fields = [model._meta.fields[n] for n in names]
    # Defaults live in the model (Python side), as insert_many() would fill them.
    defaults = {}
    for name, f in model._meta.fields.items():
        if name not in names and f.default is not None:
            defaults[name] = f.default() if callable(f.default) else f.default
    columns = fields + [model._meta.fields[n] for n in defaults]
    param = getattr(database, "obj", database).param  # ? for SQLite, %s for PostgreSQL
    sql = (f'INSERT INTO "{model._meta.table_name}" '
           f"({', '.join(chr(34) + c.column_name + chr(34) for c in columns)}) "
           f"VALUES ({', '.join([param] * len(columns))})")
    tail = tuple(model._meta.fields[n].db_value(v) for n, v in defaults.items())
    if sqlite:
        tail = tuple(_as_text(v) for v in tail)
    convert = [None if _plain(f) else f.db_value for f in fields]
    count = 0

    def counted(rows):
        nonlocal count
        for row in rows:
            count += 1
            yield row
    rows = counted(rows)
    if any(convert):
        rows = (tuple(v if c is None else c(v) for c, v in zip(convert, row)) for row in rows)
    if tail:
        rows = (row + tail for row in rows)
    cursor = database.cursor()
    cursor.executemany(sql, rows)
    return count


def _bulk(model, rows: list[dict]) -> None:
    """Rows as dicts (the small tables): see :func:`_insert`."""
    if rows:
        names = tuple(rows[0])
        _insert(model, names, [tuple(row[n] for n in names) for row in rows])


def _next_id(model) -> int:
    return (model.select(pw.fn.MAX(model.id)).scalar() or 0) + 1


def _fix_sequences(database, models) -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the rows."""
    if isinstance(database, pw.SqliteDatabase):
        return
    for model in models:
        table = model._meta.table_name
        database.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 1))")


# The tables that take millions of rows: on SQLite their secondary indexes are
# dropped before the load and made again after it from the very SQL that made
# them (sqlite_master), so the schema ends as a migrated database's. Sorting the
# rows once per index is far cheaper than keeping 8 indexes in order row by row.
BIG_TABLES = ("audit_event", "contact", "referral_event", "referral", "service_user", "assignment")


@contextmanager
def _indexes_afterwards(database, tables, log=lambda *a: None):
    if not isinstance(database, pw.SqliteDatabase):
        yield
        return
    marks = ", ".join("?" * len(tables))
    indexes = database.execute_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks}) ORDER BY rowid", tables).fetchall()
    for name, _ in indexes:
        database.execute_sql(f'DROP INDEX "{name}"')
    yield
    started = time.perf_counter()
    for _, sql in indexes:
        database.execute_sql(sql)
    log(f"  {len(indexes)} indexes made again in {time.perf_counter() - started:.1f} s")


@contextmanager
def _loading(database):
    """This connection, while it loads (SQLite): no fsync, a big page cache, sorts in
    memory and in two threads. Each only lasts as long as the connection; put back afterwards."""
    if not isinstance(database, pw.SqliteDatabase):
        yield
        return
    names = ("synchronous", "cache_size", "temp_store", "threads")
    before = {n: database.execute_sql(f"PRAGMA {n}").fetchone()[0] for n in names}
    database.execute_sql("PRAGMA synchronous = OFF")
    database.execute_sql("PRAGMA cache_size = -500000")  # ~500 MB
    database.execute_sql("PRAGMA temp_store = MEMORY")
    database.execute_sql("PRAGMA threads = 2")  # CREATE INDEX sorts on both cores
    try:
        yield
    finally:
        for n in names:
            database.execute_sql(f"PRAGMA {n} = {before[n]}")


def seed(sizes: Sizes = Sizes(), rng_seed: int = 17, log=lambda *a: None) -> dict[str, int]:
    """Add ``sizes`` of data to the bound database (schema and demo data already there).

    Existing teams, users and peer roles (the demo's) get their share, so demo
    logins see lists that grow with the sizes."""
    from peerapp.db import db
    with _loading(db.obj):
        return _seed(sizes, rng_seed, log)


def _seed(sizes: Sizes, rng_seed: int, log) -> dict[str, int]:
    from peerapp.audit import AuditEvent
    from peerapp.db import db
    from peerapp.matching.models import MatchingRun, RunProposal, RunUnmatched
    from peerapp.models import Team, User, UserRole
    from peerapp.referrals import states
    from peerapp.referrals.models import (Assignment, Contact, Intervention, Referral, ReferralEvent,
                                          ServiceUser)
    from peerapp.training.models import (Attendance, Candidate, Cohort, CohortFacilitator, CohortSession,
                                         Enrolment)
    from peerapp.workforce.models import PeerLeadDesignation, PeerRole, Supervision

    rng = random.Random(rng_seed)
    database = db.obj
    made: dict[str, int] = {}
    started = time.perf_counter()
    sqlite = isinstance(database, pw.SqliteDatabase)

    def step(label: str, n: int) -> None:
        made[label] = made.get(label, 0) + n
        log(f"  {label:<22} {n:>9,}  {time.perf_counter() - started:6.1f} s")

    password = (User.select(User.password_hash).where(User.password_hash != "").limit(1).scalar() or "")

    # --- teams and staff -------------------------------------------------------------
    with db.atomic():
        existing = list(Team.select().order_by(Team.id))
        tid = _next_id(Team)
        rows = [{"id": tid + i, "name": f"Bench Team {tid + i:03d}", "base_address": f"{tid + i} Bench Road",
                 "active": True, "created_at": NOW} for i in range(max(0, sizes.teams - len(existing)))]
        if rows:
            _bulk(Team, rows)
        teams = [t.id for t in existing] + [r["id"] for r in rows]
        step("teams", len(rows))

        uid = _next_id(User)
        users, roles = [], []
        staff: dict[int, dict[str, list[int]]] = {t: {"manager": [], "peer_lead": [], "clinician": []}
                                                  for t in teams}
        for row in User.select(User.id, User.team, UserRole.role).join(UserRole).tuples():
            user_id, team_id, role = row
            if team_id in staff and role in staff[team_id]:
                staff[team_id][role].append(user_id)
        facilitators = [u for (u,) in UserRole.select(UserRole.user).where(UserRole.role == "facilitator").tuples()]

        def add_user(team_id, role, label):
            nonlocal uid
            users.append({"id": uid, "email": f"bench-{label}-{uid}@bench.peerapp", "name": _name(rng),
                          "team": team_id, "password_hash": password, "active": True, "created_at": NOW,
                          "must_change_password": False})
            roles.append({"user": uid, "role": role})
            uid += 1
            return uid - 1

        for t in teams:
            if not staff[t]["manager"]:
                staff[t]["manager"].append(add_user(t, "manager", "manager"))
            while len(staff[t]["peer_lead"]) < 2:
                staff[t]["peer_lead"].append(add_user(t, "peer_lead", "lead"))
            while len(staff[t]["clinician"]) < sizes.clinicians_per_team:
                staff[t]["clinician"].append(add_user(t, "clinician", "clinician"))
        while len(facilitators) < max(2, sizes.teams // 8):
            facilitators.append(add_user(teams[0], "facilitator", "facilitator"))
        _bulk(User, users)
        _bulk(UserRole, roles)
        step("staff", len(users))
        known = {(d.team_id, d.user_id) for d in PeerLeadDesignation.select()}
        designations = [{"team": t, "user": u, "paid": True, "designated_on": TODAY - dt.timedelta(days=400)}
                        for t in teams for u in staff[t]["peer_lead"] if (t, u) not in known]
        if designations:
            _bulk(PeerLeadDesignation, designations)

    # --- candidates, cohorts and peer roles --------------------------------------------
    with db.atomic():
        cid = _next_id(Candidate)
        existing_candidates = Candidate.select().count()
        candidates = []
        for i in range(max(0, sizes.candidates - existing_candidates)):
            t = teams[i % len(teams)]
            candidates.append({"id": cid + i, "name": _name(rng), "team": t,
                               "nominated_by": rng.choice(staff[t]["clinician"]),
                               "nominated_on": TODAY - dt.timedelta(days=rng.randint(30, 1100)),
                               "email": f"candidate{cid + i}@bench.peerapp", "created_at": NOW})
        if candidates:
            _bulk(Candidate, candidates)
        step("candidates", len(candidates))

        coid = _next_id(Cohort)
        cohorts, sessions, facilitated, enrolments, attendance = [], [], [], [], []
        per_cohort = 12
        sid, eid = _next_id(CohortSession), _next_id(Enrolment)
        for n, chunk in enumerate(_chunks(candidates, per_cohort)):
            cohort_id = coid + n
            start = TODAY - dt.timedelta(days=30 + 14 * n % 1000)
            cohorts.append({"id": cohort_id, "name": f"Bench cohort {cohort_id}", "venue": "Bench Hall",
                            "places": per_cohort, "created_at": NOW})
            facilitated.append({"cohort": cohort_id, "user": facilitators[n % len(facilitators)]})
            session_ids = []
            for number in range(1, 9):
                sessions.append({"id": sid, "cohort": cohort_id, "number": number,
                                 "held_on": start + dt.timedelta(days=7 * number)})
                session_ids.append(sid)
                sid += 1
            for cand in chunk:
                enrolments.append({"id": eid, "cohort": cohort_id, "candidate": cand["id"], "status": "place",
                                   "offered_on": start, "created_at": NOW})
                for s in session_ids:
                    attendance.append({"session": s, "enrolment": eid,
                                       "status": rng.choice(("present", "present", "present", "late", "absent")),
                                       "recorded_at": NOW})
                eid += 1
        for model, rows in ((Cohort, cohorts), (CohortFacilitator, facilitated), (CohortSession, sessions),
                            (Enrolment, enrolments), (Attendance, attendance)):
            if rows:
                _bulk(model, rows)
        step("cohort rows", len(cohorts) + len(sessions) + len(enrolments) + len(attendance))

        rid = _next_id(PeerRole)
        roles_by_team: dict[int, list[int]] = {t: [] for t in teams}
        for role_id, team_id in (PeerRole.select(PeerRole.id, PeerRole.team)
                                 .where(PeerRole.status == "active").tuples()):
            roles_by_team.setdefault(team_id, []).append(role_id)
        existing_roles = PeerRole.select().count()
        peer_roles, peer_users, peer_user_roles = [], [], []
        pool = candidates[:]
        for i in range(max(0, min(len(pool), sizes.peer_roles - existing_roles))):
            cand = pool[i]
            t = cand["team"]
            peer_users.append({"id": uid, "email": f"bench-peer-{uid}@bench.peerapp", "name": cand["name"],
                               "team": t, "password_hash": password, "active": True, "created_at": NOW,
                               "must_change_password": False})
            peer_user_roles.append({"user": uid, "role": "peer"})
            kind = "volunteer" if i % 3 == 0 else "paid"
            peer_roles.append({"id": rid + i, "candidate": cand["id"], "user": uid, "team": t, "kind": kind,
                               "hours_per_week": 0 if kind == "volunteer" else 22.5,
                               "start_date": TODAY - dt.timedelta(days=rng.randint(60, 900)),
                               "supervisor": staff[t]["peer_lead"][0], "max_caseload": 6,
                               "interests": "music\nwalking", "languages": "English", "areas": "North",
                               "status": "active", "created_at": NOW, "updated_at": NOW})
            roles_by_team[t].append(rid + i)
            uid += 1
        if peer_roles:
            _bulk(User, peer_users)
            _bulk(UserRole, peer_user_roles)
            _bulk(PeerRole, peer_roles)
        supervisions = [{"role": r["id"], "held_on": TODAY - dt.timedelta(days=28 * k + 3), "duration_minutes": 60,
                         "how_they_are": "Bench text.", "recorded_by": r["supervisor"], "recorded_at": NOW}
                        for r in peer_roles for k in range(10)]
        if supervisions:
            _bulk(Supervision, supervisions)
        step("peer roles", len(peer_roles))

    # --- service users, referrals, events, assignments, contacts -----------------------
    # The big tables go in as plain tuples, streamed (never a dict or a model per row);
    # dates and datetimes as the text sqlite3 would make of them, made once per value.
    text = _as_text if sqlite else (lambda v: v)
    now = text(NOW)
    interventions = [i for (i,) in Intervention.select(Intervention.id).tuples()]
    plan = ([states.CLOSED] * 60 + [states.DECLINED] * 8 + [states.ACTIVE] * 10 + [states.AWAITING_MATCH] * 4
            + [states.SCREENING] * 4 + [states.SUBMITTED] * 4 + [states.MORE_INFO] * 2 + [states.ACCEPTED] * 2
            + [states.MATCHED] * 3 + [states.FIRST_MEETING] * 3)
    path = [states.SUBMITTED, states.SCREENING, states.ACCEPTED, states.AWAITING_MATCH, states.MATCHED,
            states.FIRST_MEETING, states.ACTIVE, states.CLOSED]
    trails = {state: tuple(zip(path[:path.index(state)], path[1:path.index(state) + 1])) for state in path}
    trails[states.DECLINED] = ((states.SUBMITTED, states.SCREENING), (states.SCREENING, states.DECLINED))
    trails[states.MORE_INFO] = ((states.SUBMITTED, states.SCREENING), (states.SCREENING, states.MORE_INFO))
    finished, caseload, closed = states.FINISHED_STATES, states.CASELOAD_STATES, states.CLOSED
    days = [dt.timedelta(days=k) for k in range(1200)]
    at10, at9, at11, at12 = dt.time(10), dt.time(9), dt.time(11), dt.time(12)
    combine = dt.datetime.combine
    with db.atomic(), _indexes_afterwards(database, BIG_TABLES, log):
        suid, refid = _next_id(ServiceUser), _next_id(Referral)
        aid, evid = _next_id(Assignment), _next_id(ReferralEvent)
        service_users, referrals, events, assignments = [], [], [], []
        assigned: list[tuple[int, int, int, dt.date]] = []  # referral, role, recorded_by, from
        n_su = max(1, sizes.referrals * 3 // 4)
        su_team = []
        born, consent = dt.date(1930, 1, 1), text(TODAY - dt.timedelta(days=1200))
        for i in range(n_su):
            t = teams[i % len(teams)]
            su_team.append(t)
            # One date per person within a team: (team, name, date of birth) is unique.
            service_users.append((suid + i, _name(rng), t, rng.choice(staff[t]["clinician"]),
                                  text(born + dt.timedelta(days=i // len(teams))), consent, now))
        waiting: dict[int, list[int]] = {t: [] for t in teams}  # for the matching runs below
        made_referrals = 0
        for i in range(sizes.referrals):
            su = suid + i % n_su
            t = su_team[i % n_su]
            state = plan[rng.randrange(len(plan))]
            if i >= n_su and state not in finished:
                # A person's earlier referral may still be open: one open referral per team.
                state = closed
            referred_on = TODAY - days[rng.randint(0, 1100) if state in finished else rng.randint(0, 120)]
            referrer = rng.choice(staff[t]["clinician"])
            lead = staff[t]["peer_lead"][0]
            referral_id = refid + i
            is_closed = state == closed
            referrals.append((referral_id, su, t, referrer, text(referred_on), "Bench words.", "Bench goals.",
                              rng.choice(("low", "low", "medium", "high")), state,
                              text(combine(referred_on, at10)), text(combine(referred_on, at9)),
                              text(referred_on + days[200]) if is_closed else None,
                              "goals met" if is_closed else ""))
            made_referrals += 1
            if (state == states.AWAITING_MATCH or is_closed) and len(waiting[t]) < 12:
                waiting[t].append(referral_id)
            extra = max(0, int(rng.random() * 2 * (sizes.events_per_referral - 5)))
            for k, (before, after) in enumerate(trails[state], 1):
                events.append((evid, referral_id, before, after, lead,
                               text(combine(referred_on + days[k], at11)), ""))
                evid += 1
            for k in range(extra):  # risk reviews and the like: events that are not moves
                events.append((evid, referral_id, state, state, lead,
                               text(combine(referred_on + days[9 + k], at12)), "review"))
                evid += 1
            if state in caseload or is_closed:
                role = rng.choice(roles_by_team[t]) if roles_by_team[t] else None
                if role is not None:
                    assignments.append((aid, referral_id, role, lead, text(combine(referred_on + days[5], at10)),
                                        text(combine(referred_on + days[200], at10)) if is_closed else None,
                                        "referral closed" if is_closed else ""))
                    aid += 1
                    assigned.append((referral_id, role, lead, referred_on))
        step("service users", _insert(ServiceUser, ("id", "name", "team", "care_coordinator", "date_of_birth",
                                                    "consent_referral_on", "created_at"), service_users))
        step("referrals", _insert(Referral, ("id", "service_user", "team", "referrer", "referred_on", "own_words",
                                             "goals", "risk_level", "state", "state_changed_at", "created_at",
                                             "closed_on", "outcome"), referrals))
        step("referral events", _insert(ReferralEvent, ("id", "referral", "from_state", "to_state", "by_user", "at",
                                                        "reason"), events))
        step("assignments", _insert(Assignment, ("id", "referral", "peer_role", "assigned_by", "assigned_at",
                                                 "ended_at", "ended_reason"), assignments))
        del service_users, referrals, events, assignments

        def contacts():
            after = [days[6 + k] for k in range(180)]
            n_assigned = len(assigned)
            n_interventions = len(interventions)
            for i in range(sizes.contacts):
                referral_id, role, lead, since = assigned[rng.randrange(n_assigned)]
                yield (referral_id, role, text(since + after[i % 180]), 45,
                       interventions[i % n_interventions] if interventions else None,
                       "community", "attended", "Bench contact.", lead, now)
        if assigned:
            step("contacts", _insert(Contact, ("referral", "peer_role", "contact_on", "minutes", "intervention",
                                               "setting", "attendance", "summary", "recorded_by", "recorded_at"),
                                     contacts()))

        # --- matching runs -----------------------------------------------------------------
        runid = _next_id(MatchingRun)
        runs, proposals, unmatched = [], [], []
        for i in range(sizes.runs):
            t = teams[i % len(teams)]
            run_id = runid + i
            runs.append({"id": run_id, "team": t, "started_by": staff[t]["peer_lead"][0],
                         "started_at": NOW - dt.timedelta(hours=6 * i), "settings_json": "{}",
                         "referral_count": len(waiting[t]), "peer_count": len(roles_by_team[t]),
                         "proposal_count": min(5, len(waiting[t])), "unmatched_count": 0})
            for ref in waiting[t][:5]:
                if roles_by_team[t]:
                    proposals.append({"run": run_id, "referral": ref, "peer_role": rng.choice(roles_by_team[t]),
                                      "score": round(rng.random(), 3), "reasons": "shares interests",
                                      "status": "superseded"})
            for ref in waiting[t][5:7]:
                unmatched.append({"run": run_id, "referral": ref, "reason": "no peer free"})
        for model, rows in ((MatchingRun, runs), (RunProposal, proposals), (RunUnmatched, unmatched)):
            if rows:
                _bulk(model, rows)
        step("matching runs", len(runs))

        # --- audit log -----------------------------------------------------------------------
        all_staff = [u for t in teams for group in staff[t].values() for u in group]
        actions = (["view"] * 10 + ["view_list"] * 6 + ["update"] * 2 + ["create"] * 1 + ["login"] * 1)
        types = ("referral", "referral", "referral", "candidate", "peer_role", "service_user", "cohort")
        ref_ids = list(range(refid, refid + made_referrals)) or [0]

        def audit_rows():
            start = NOW - dt.timedelta(days=1100)
            step_seconds = 1100 * 86400 / max(1, sizes.audit)
            summaries = {a: f"bench {a}" for a in actions}
            n_actions, n_types, n_refs, n_staff = len(actions), len(types), len(ref_ids), len(all_staff)
            second = dt.timedelta(seconds=1)
            for i in range(sizes.audit):
                action = actions[i % n_actions]
                record_type = types[(i * 7) % n_types] if action != "login" else "user"
                yield (text(start + second * int(i * step_seconds)), all_staff[(i * 13) % n_staff], action,
                       record_type,
                       str(ref_ids[(i * 31) % n_refs]) if record_type == "referral" else str(i % 997),
                       summaries[action])
        step("audit rows", _insert(AuditEvent, ("at", "user", "action", "record_type", "record_id", "summary"),
                                   audit_rows()))

    _fix_sequences(database, [Team, User, Candidate, Cohort, CohortSession, Enrolment, PeerRole, ServiceUser,
                              Referral, ReferralEvent, Assignment, MatchingRun])
    if sqlite:
        started_analyze = time.perf_counter()
        database.execute_sql("ANALYZE")
        log(f"  ANALYZE in {time.perf_counter() - started_analyze:.1f} s")
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", help="SQLite file to create or add to (or a postgresql:// URL)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (e.g. 0.1)")
    parser.add_argument("--seed", type=int, default=17)
    for f in fields(Sizes):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=None)
    args = parser.parse_args()
    sizes = Sizes().scaled(args.scale) if args.scale != 1.0 else Sizes()
    sizes = replace(sizes, **{f.name: getattr(args, f.name) for f in fields(Sizes)
                              if getattr(args, f.name) is not None})

    from peerapp import create_app
    from peerapp.cli import upgrade_schema
    from peerapp.db import db
    from peerapp.demo import load_demo
    from peerapp.models import User

    started = time.perf_counter()
    app = create_app({"DATABASE": args.database, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context(), db.connection_context():
        upgrade_schema()
        if User.select().count() == 0:
            load_demo()
        print(f"seeding {args.database} with {sizes}")
        sqlite = isinstance(db.obj, pw.SqliteDatabase)
        if sqlite:  # no WAL while loading: every page would be written twice
            db.execute_sql("PRAGMA journal_mode = MEMORY")
        seed(sizes, rng_seed=args.seed, log=print)
        if sqlite:  # as an install's database is
            db.execute_sql("PRAGMA journal_mode = WAL")
    print(f"done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
