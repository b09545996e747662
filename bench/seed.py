"""A Trust's worth of fictional data, the same every time (fixed random seed).

    python bench/seed.py DATABASE [--scale 1.0] [--referrals 80000] [...]

makes (or adds to) DATABASE with the schema and the demo data, then adds, by
default, what a Trust holds after a few years: 40 teams, 400 peer roles, 1,000
candidates, 80,000 referrals, 800,000 contacts, ~470,000 referral events,
2,000,000 audit rows and 4,000 matching runs. ``--scale 0.05`` shrinks every
size at once (the test suite uses tiny sizes through :func:`seed`). Rows go in
through the models' bulk inserts (``insert_many``) in one transaction per
table; every name is invented. Only for benchmarks: never on a real install.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
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


def _bulk(model, rows: list[dict]) -> None:
    """The model's own INSERT (its table, columns and field conversions), sent with
    executemany: insert_many() builds every row's SQL in Python, ~10x the cost."""
    if not rows:
        return
    database = model._meta.database
    names = list(rows[0])
    # Defaults live in the model (Python side), as insert_many() would fill them.
    defaults = {}
    for name, f in model._meta.fields.items():
        if name not in names and f.default is not None:
            defaults[name] = f.default() if callable(f.default) else f.default
    columns = [model._meta.fields[n] for n in names] + [model._meta.fields[n] for n in defaults]
    param = getattr(database, "obj", database).param  # ? for SQLite, %s for PostgreSQL
    sql = (f'INSERT INTO "{model._meta.table_name}" '
           f"({', '.join(chr(34) + c.column_name + chr(34) for c in columns)}) "
           f"VALUES ({', '.join([param] * len(columns))})")
    convert = [c.db_value for c in columns[:len(names)]]
    tail = tuple(model._meta.fields[n].db_value(v) for n, v in defaults.items())
    values = [tuple(f(row[n]) for f, n in zip(convert, names)) + tail for row in rows]
    cursor = model._meta.database.cursor()
    for chunk in _chunks(values, 5000):
        cursor.executemany(sql, chunk)


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


def seed(sizes: Sizes = Sizes(), rng_seed: int = 17, log=lambda *a: None) -> dict[str, int]:
    """Add ``sizes`` of data to the bound database (schema and demo data already there).

    Existing teams, users and peer roles (the demo's) get their share, so demo
    logins see lists that grow with the sizes."""
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
    if sqlite:
        database.execute_sql("PRAGMA synchronous = OFF")

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
    interventions = [i for (i,) in Intervention.select(Intervention.id).tuples()]
    plan = ([states.CLOSED] * 60 + [states.DECLINED] * 8 + [states.ACTIVE] * 10 + [states.AWAITING_MATCH] * 4
            + [states.SCREENING] * 4 + [states.SUBMITTED] * 4 + [states.MORE_INFO] * 2 + [states.ACCEPTED] * 2
            + [states.MATCHED] * 3 + [states.FIRST_MEETING] * 3)
    path = [states.SUBMITTED, states.SCREENING, states.ACCEPTED, states.AWAITING_MATCH, states.MATCHED,
            states.FIRST_MEETING, states.ACTIVE, states.CLOSED]
    with db.atomic():
        suid, refid = _next_id(ServiceUser), _next_id(Referral)
        aid, evid = _next_id(Assignment), _next_id(ReferralEvent)
        service_users, referrals, events, assignments = [], [], [], []
        assigned: list[tuple[int, int, int, dt.date]] = []  # referral, role, recorded_by, from
        n_su = max(1, sizes.referrals * 3 // 4)
        for i in range(n_su):
            t = teams[i % len(teams)]
            service_users.append({"id": suid + i, "name": _name(rng), "team": t,
                                  "care_coordinator": rng.choice(staff[t]["clinician"]),
                                  # One date per person within a team: (team, name, date of birth) is unique.
                                  "date_of_birth": dt.date(1930, 1, 1) + dt.timedelta(days=i // len(teams)),
                                  "consent_referral_on": TODAY - dt.timedelta(days=1200), "created_at": NOW})
        for i in range(sizes.referrals):
            su = service_users[i % n_su]
            t = su["team"]
            state = plan[rng.randrange(len(plan))]
            if i >= n_su and state not in states.FINISHED_STATES:
                # A person's earlier referral may still be open: one open referral per team.
                state = states.CLOSED
            referred_on = TODAY - dt.timedelta(days=rng.randint(0, 1100) if state in states.FINISHED_STATES
                                               else rng.randint(0, 120))
            referrer = rng.choice(staff[t]["clinician"])
            lead = staff[t]["peer_lead"][0]
            referral_id = refid + i
            referrals.append({"id": referral_id, "service_user": su["id"], "team": t, "referrer": referrer,
                              "referred_on": referred_on, "own_words": "Bench words.", "goals": "Bench goals.",
                              "risk_level": rng.choice(("low", "low", "medium", "high")), "state": state,
                              "state_changed_at": dt.datetime.combine(referred_on, dt.time(10)),
                              "created_at": dt.datetime.combine(referred_on, dt.time(9)),
                              "closed_on": referred_on + dt.timedelta(days=200) if state == states.CLOSED else None,
                              "outcome": "goals met" if state == states.CLOSED else ""})
            if state == states.DECLINED:
                trail = [states.SUBMITTED, states.SCREENING, states.DECLINED]
            elif state == states.MORE_INFO:
                trail = [states.SUBMITTED, states.SCREENING, states.MORE_INFO]
            else:
                trail = path[:path.index(state) + 1]
            extra = max(0, int(rng.random() * 2 * (sizes.events_per_referral - 5)))
            trail = trail + [states.SCREENING] * 0
            for k in range(1, len(trail)):
                events.append({"id": evid, "referral": referral_id, "from_state": trail[k - 1], "to_state": trail[k],
                               "by_user": lead, "at": dt.datetime.combine(referred_on + dt.timedelta(days=k),
                                                                          dt.time(11)), "reason": ""})
                evid += 1
            for k in range(extra):  # risk reviews and the like: events that are not moves
                events.append({"id": evid, "referral": referral_id, "from_state": state, "to_state": state,
                               "by_user": lead, "at": dt.datetime.combine(referred_on + dt.timedelta(days=9 + k),
                                                                          dt.time(12)), "reason": "review"})
                evid += 1
            if state in states.CASELOAD_STATES or state == states.CLOSED:
                role = rng.choice(roles_by_team[t]) if roles_by_team[t] else None
                if role is not None:
                    ended = state == states.CLOSED
                    assignments.append({"id": aid, "referral": referral_id, "peer_role": role, "assigned_by": lead,
                                        "assigned_at": dt.datetime.combine(referred_on + dt.timedelta(days=5),
                                                                           dt.time(10)),
                                        "ended_at": (dt.datetime.combine(referred_on + dt.timedelta(days=200),
                                                                         dt.time(10)) if ended else None),
                                        "ended_reason": "referral closed" if ended else ""})
                    aid += 1
                    assigned.append((referral_id, role, lead, referred_on))
        _bulk(ServiceUser, service_users)
        _bulk(Referral, referrals)
        _bulk(ReferralEvent, events)
        _bulk(Assignment, assignments)
        step("service users", len(service_users))
        step("referrals", len(referrals))
        step("referral events", len(events))
        step("assignments", len(assignments))

    with db.atomic():
        contacts = []
        if assigned:
            for i in range(sizes.contacts):
                referral_id, role, lead, since = assigned[rng.randrange(len(assigned))]
                contacts.append({"referral": referral_id, "peer_role": role,
                                 "contact_on": since + dt.timedelta(days=6 + i % 180), "minutes": 45,
                                 "intervention": interventions[i % len(interventions)] if interventions else None,
                                 "setting": "community", "attendance": "attended", "summary": "Bench contact.",
                                 "recorded_by": lead, "recorded_at": NOW})
                if len(contacts) >= 50_000:
                    _bulk(Contact, contacts)
                    step("contacts", len(contacts))
                    contacts = []
        if contacts:
            _bulk(Contact, contacts)
            step("contacts", len(contacts))

    # --- matching runs ---------------------------------------------------------------------
    with db.atomic():
        runid = _next_id(MatchingRun)
        runs, proposals, unmatched = [], [], []
        waiting = {t: [] for t in teams}
        for r in referrals:
            if r["state"] in (states.AWAITING_MATCH, states.CLOSED) and len(waiting[r["team"]]) < 12:
                waiting[r["team"]].append(r["id"])
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

    # --- audit log -------------------------------------------------------------------------
    all_staff = [u for t in teams for group in staff[t].values() for u in group]
    actions = (["view"] * 10 + ["view_list"] * 6 + ["update"] * 2 + ["create"] * 1 + ["login"] * 1)
    types = ("referral", "referral", "referral", "candidate", "peer_role", "service_user", "cohort")
    ref_ids = [r["id"] for r in referrals] or [0]
    with db.atomic():
        batch = []
        start = NOW - dt.timedelta(days=1100)
        step_seconds = 1100 * 86400 / max(1, sizes.audit)
        for i in range(sizes.audit):
            action = actions[i % len(actions)]
            record_type = types[(i * 7) % len(types)] if action != "login" else "user"
            batch.append({"at": start + dt.timedelta(seconds=int(i * step_seconds)),
                          "user": all_staff[(i * 13) % len(all_staff)], "action": action,
                          "record_type": record_type,
                          "record_id": str(ref_ids[(i * 31) % len(ref_ids)]) if record_type == "referral" else str(i % 997),
                          "summary": f"bench {action}"})
            if len(batch) >= 50_000:
                _bulk(AuditEvent, batch)
                step("audit rows", len(batch))
                batch = []
        if batch:
            _bulk(AuditEvent, batch)
            step("audit rows", len(batch))

    _fix_sequences(database, [Team, User, Candidate, Cohort, CohortSession, Enrolment, PeerRole, ServiceUser,
                              Referral, ReferralEvent, Assignment, MatchingRun])
    if sqlite:
        database.execute_sql("PRAGMA synchronous = FULL")
        database.execute_sql("ANALYZE")
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
        seed(sizes, rng_seed=args.seed, log=print)
    print(f"done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
