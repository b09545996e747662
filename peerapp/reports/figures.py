"""The monitoring figures, as plain counts: no Flask, no disclosure, no names.

Each section is a function ``(start, end, team_ids, today) -> Section`` whose
tables hold raw numbers; the page applies disclosure control (``peerapp.disclosure``)
before anyone sees them. Figures come from aggregate SQL (GROUP BY, MIN, SUM):
a handful of queries per section whatever the amount of data. Times are the median
and the 90th centile (nearest rank) of whole days, computed here from one query,
so the same code runs on SQLite and PostgreSQL.

Impact and Safety come from the outcomes and presence areas (``impact`` /
``safety`` functions there), which build the same ``peerapp.report_tables`` shapes.
"""
from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter, defaultdict

import peewee as pw

from .. import clock
from ..db import SqlOnce
from ..outcomes import change
from ..presence import figures as presence_figures

from ..report_tables import COUNT, DAYS, PLAIN, RATE, Section, Table  # noqa: F401 (the section shape)


def centiles(days: list[int]) -> tuple[float | None, int | None]:
    """(median, 90th centile by nearest rank) of whole days; (None, None) for none."""
    if not days:
        return None, None
    ordered = sorted(days)
    rank = max(1, math.ceil(0.9 * len(ordered)))
    return statistics.median(ordered), ordered[rank - 1]


def _day(value) -> dt.date | None:
    """A DATE or a UTC DATETIME (as the engine returns it) as the London date."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if len(value) > 10 else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return clock.local(value).date()
    return value


# --- Uptake ------------------------------------------------------------------------
STATE_GROUPS = (
    ("Waiting for screening", ("submitted", "screening", "more information requested")),
    ("Accepted, waiting for a peer", ("accepted", "awaiting match")),
    ("Matched, first meeting to come", ("matched", "first meeting")),
    ("Working with a peer", ("active",)),
    ("Declined", ("declined",)),
    ("Closed", ("closed",)),
)


# The sections' queries are built into SQL once per engine and number of teams
# (``db.SqlOnce``, ``variant=len(team_ids)``): peewee took longer to build each of these
# ~25 selects than the engine to run most of them. Every build takes ``(teams, *values)``
# with the team ids first (``_period(...)`` puts them there).
def _period(once: SqlOnce, team_ids: list[int], *values, rows: bool = False):
    run = once.rows if rows else once
    return run(*team_ids, *values, variant=len(team_ids))


def _teams_first(build):
    """``build(teams, *values)`` as a SqlOnce build: ``(n, *team ids, *values)``."""
    return SqlOnce(lambda n, *values: build(list(values[:n]), *values[n:]))


def _received(teams, start, end):
    from ..referrals.models import Referral as R
    return R.select(R.id).where(R.referred_on.between(start, end), R.team.in_(teams))


def _uptake_by_state(teams, start, end):
    from ..referrals.models import Referral as R
    return (R.select(R.state, pw.fn.COUNT(R.id)).where(R.id.in_(_received(teams, start, end)))
            .group_by(R.state).tuples())


def _uptake_rows(teams, start, end):
    # One row per referral: when it was first accepted and first matched (events), and
    # the screening decision day (kept on the referral).
    from ..referrals.models import Referral as R, ReferralEvent as E
    first_at = lambda state: pw.fn.MIN(pw.Case(None, [(E.to_state == state, E.at)], None))  # noqa: E731
    return (R.select(R.id, R.referred_on, R.screened_on,
                     first_at("accepted").alias("accepted_at"), first_at("declined").alias("declined_at"),
                     first_at("matched").alias("matched_at"))
            .join(E, pw.JOIN.LEFT_OUTER, on=(E.referral == R.id))
            .where(R.id.in_(_received(teams, start, end)))
            .group_by(R.id, R.referred_on, R.screened_on).tuples())


def _uptake_met(teams, start, end):
    from ..referrals.models import FirstMeeting as F
    return (F.select(F.referral, pw.fn.MIN(F.meeting_on))
            .where(F.referral.in_(_received(teams, start, end)), F.meeting_on.is_null(False))
            .group_by(F.referral).tuples())


def _uptake_outcomes(teams, start, end):
    from ..referrals.models import Referral as R
    return (R.select(R.outcome, pw.fn.COUNT(R.id))
            .where(R.id.in_(_received(teams, start, end)), R.state == "closed")
            .group_by(R.outcome).order_by(R.outcome).tuples())


_UPTAKE_BY_STATE = _teams_first(_uptake_by_state)
_UPTAKE_ROWS = _teams_first(_uptake_rows)
_UPTAKE_MET = _teams_first(_uptake_met)
_UPTAKE_OUTCOMES = _teams_first(_uptake_outcomes)


def uptake(start: dt.date, end: dt.date, team_ids: list[int], today: dt.date | None = None) -> Section:
    by_state = dict(_period(_UPTAKE_BY_STATE, team_ids, start, end))
    total = sum(by_state.values())
    state_rows = [(label, [sum(by_state.get(s, 0) for s in group)]) for label, group in STATE_GROUPS]

    met = dict(_period(_UPTAKE_MET, team_ids, start, end))
    accepted = declined = 0
    waits: dict[str, list[int]] = {"screening": [], "match": [], "meeting": []}
    # One row per referral of the period: read from the cursor as they come (``_day``
    # makes the dates, each distinct value once: the days repeat), not converted value
    # by value by peewee first.
    made: dict = {None: None}

    def day(value):
        found = made.get(value, made)
        if found is made:
            found = made[value] = _day(value)
        return found

    to_screening, to_match, to_meeting = waits["screening"], waits["match"], waits["meeting"]
    for rid, referred_on, screened_on, accepted_at, declined_at, matched_at in _period(
            _UPTAKE_ROWS, team_ids, start, end, rows=True):
        referred_on = day(referred_on)
        if accepted_at is not None:
            accepted += 1
        if declined_at is not None:
            declined += 1
        if screened_on is not None:
            to_screening.append(max(0, (day(screened_on) - referred_on).days))
        if matched_at is not None:
            to_match.append(max(0, (day(matched_at) - referred_on).days))
        meeting_on = met.get(rid)
        if meeting_on is not None:
            to_meeting.append(max(0, (day(meeting_on) - referred_on).days))

    outcomes = list(_period(_UPTAKE_OUTCOMES, team_ids, start, end))
    time_rows, basis = [], []
    for key, label in (("screening", "Referral to screening decision"), ("match", "Referral to match"),
                       ("meeting", "Referral to first meeting")):
        median, p90 = centiles(waits[key])
        time_rows.append((label, [median, p90]))
        basis.append(len(waits[key]))
    return Section("uptake", "Uptake", "Are referrals coming in, and how long do people wait?", [
        Table("referrals", "Referrals received", ["Referrals"],
              [("Received", [total]), ("Accepted at screening", [accepted]), ("Declined at screening", [declined])],
              note="Referrals made in the period, whatever has happened to them since."),
        Table("where-now", "Where those referrals are now", ["Referrals"], state_rows,
              note="Each referral received in the period, by where it has got to today.", parts=True),
        Table("closed-by-outcome", "Closed, by outcome", ["Referrals"],
              [(outcome or "not recorded", [n]) for outcome, n in outcomes], parts=True),
        Table("waiting-times", "Waiting times (days)", ["Median", "90th centile"], time_rows, kind=DAYS,
              basis=basis, note="Whole days from the referral date; only referrals that got that far."),
    ])


# --- Delivery ------------------------------------------------------------------------
CASELOAD_BANDS = (("No one", 0, 0), ("1 or 2", 1, 2), ("3 or 4", 3, 4), ("5 or more", 5, 10**9))


def _contacts_by_attendance(teams, start, end):
    from ..referrals.models import Contact as C, Referral
    return (C.select(C.attendance, C.setting, pw.fn.COUNT(C.id)).join(Referral, on=(C.referral == Referral.id))
            .where(C.contact_on.between(start, end) & Referral.team.in_(teams))
            .group_by(C.attendance, C.setting).tuples())


def _contacts_by_intervention(teams, start, end):
    # Contacts with each intervention, and per referral (to compare with the planned number):
    # counted per referral, then per intervention, both in the database.
    from ..referrals.models import Contact as C, Intervention, Referral
    per_referral = (C.select(C.intervention.alias("intervention"), C.referral, pw.fn.COUNT(C.id).alias("n"))
                    .join(Referral, on=(C.referral == Referral.id))
                    .where(C.contact_on.between(start, end) & Referral.team.in_(teams), C.attendance == "attended")
                    .group_by(C.intervention, C.referral)).alias("per_referral")
    sessions = per_referral.c.n
    reached = pw.Case(None, [((Intervention.typical_sessions > 0) & (sessions >= Intervention.typical_sessions),
                              pw.SQL("1"))], pw.SQL("0"))
    return (Intervention.select(Intervention.name, pw.fn.COUNT(per_referral.c.referral_id),
                                pw.fn.SUM(sessions), pw.fn.SUM(reached))
            .from_(per_referral)
            .join(Intervention, pw.JOIN.LEFT_OUTER, on=(per_referral.c.intervention == Intervention.id))
            .group_by(Intervention.name).tuples())


def _roles_in_post_now(teams):
    from ..workforce.models import PeerRole
    return (PeerRole.select(PeerRole.id, PeerRole.max_caseload)
            .where(PeerRole.team.in_(teams), PeerRole.status.in_(("active", "paused"))).tuples())


def _caseloads(teams):
    # Caseload now: open assignments of roles in post, counted per role.
    from ..referrals import states
    from ..referrals.models import Assignment, Referral
    from ..workforce.models import PeerRole
    roles = PeerRole.select(PeerRole.id).where(PeerRole.team.in_(teams), PeerRole.status.in_(("active", "paused")))
    return (Assignment.select(Assignment.peer_role, pw.fn.COUNT(Assignment.id))
            .join(Referral, on=(Assignment.referral == Referral.id))
            .where(Assignment.ended_at.is_null(), Referral.state.in_(states.CASELOAD_STATES),
                   Assignment.peer_role.in_(roles))
            .group_by(Assignment.peer_role).tuples())


_CONTACTS_BY_ATTENDANCE = _teams_first(_contacts_by_attendance)
_CONTACTS_BY_INTERVENTION = _teams_first(_contacts_by_intervention)
_ROLES_IN_POST_NOW = _teams_first(_roles_in_post_now)
_CASELOADS = _teams_first(_caseloads)


def delivery(start: dt.date, end: dt.date, team_ids: list[int], today: dt.date | None = None) -> Section:
    # By attendance and setting in one walk of the period's contacts (a few rows).
    attendance: Counter = Counter()
    by_setting: Counter = Counter()
    for how, setting, n in _period(_CONTACTS_BY_ATTENDANCE, team_ids, start, end):
        attendance[how] += n
        if how == "attended":
            by_setting[setting] += n
    attended = attendance.get("attended", 0)
    dna = attendance.get("did not attend", 0)
    attendance_rows = [(label.capitalize(), [attendance.get(label, 0)])
                       for label in ("attended", "did not attend", "cancelled")]
    plan_rows = sorted((name or "No intervention recorded", [referrals, int(n), int(hit)])
                       for name, referrals, n, hit in _period(_CONTACTS_BY_INTERVENTION, team_ids, start, end))

    roles = dict(_period(_ROLES_IN_POST_NOW, team_ids))
    loads = dict(_period(_CASELOADS, team_ids))
    band_rows = [(label, [sum(1 for r in roles if low <= loads.get(r, 0) <= high)])
                 for label, low, high in CASELOAD_BANDS]
    places = [("Service users with a peer now", [sum(loads.values())]),
              ("Places peers have in all", [sum(roles.values())])]
    return Section("delivery", "Delivery", "Is peer support being delivered as planned?", [
        Table("contacts", "Contacts, by attendance", ["Contacts"], attendance_rows,
              note="Contacts dated in the period.", parts=True),
        Table("did-not-attend", "Did-not-attend rate", ["Rate"],
              [("Did not attend, of contacts attended or missed", [(dna, attended + dna)])], kind=RATE),
        Table("settings", "Contacts attended, by setting", ["Contacts"],
              [(setting or "not recorded", [n]) for setting, n in sorted(by_setting.items())], parts=True),
        Table("interventions", "Interventions delivered against their planned sessions",
              ["Referrals", "Sessions attended", "Reached the planned number"], plan_rows,
              note="Per intervention: referrals with an attended contact in the period, the sessions "
                   "they attended, and how many reached the catalogue's number of sessions."),
        Table("caseload", "Peers by caseload now", ["Peers"], band_rows,
              note="Peers in post (active or paused) in the chosen teams, by how many service users they support today.", parts=True),
        Table("places", "Places now", ["Number"], places),
    ])


# --- Workforce -------------------------------------------------------------------------
def _in_post(teams, end):
    from ..workforce.models import PeerRole as P
    return P.select(P.id).where(P.team.in_(teams), P.status.in_(("active", "paused")), P.start_date <= end)


def _peers_by_kind(teams, end):
    from ..workforce.models import PeerRole as P
    return (P.select(P.kind, pw.fn.COUNT(P.id), pw.fn.SUM(P.hours_per_week)).where(P.id.in_(_in_post(teams, end)))
            .group_by(P.kind).tuples())


def _lapsing_checks(teams, end):
    # Newest check of each kind per person in post (one query, newest first).
    from ..workforce.models import CheckType, PeerRole as P, RecruitmentCheck as RC
    return (RC.select(RC.candidate, CheckType.id, CheckType.name, RC.expires_on)
            .join(CheckType)
            .where(CheckType.lapses == True,  # noqa: E712
                   RC.candidate.in_(P.select(P.candidate).where(P.id.in_(_in_post(teams, end)))))
            .order_by(RC.completed_on.desc(), RC.id.desc()).tuples())


def _starts(teams, end):
    from ..workforce.models import PeerRole as P
    return P.select(P.id, P.start_date).where(P.id.in_(_in_post(teams, end))).tuples()


def _supervisions(teams, end, as_of):
    # A join, not ``IN (roles in post)``: SQLite then searches the team's roles and
    # their supervisions by index instead of scanning every supervision.
    from ..workforce.models import PeerRole as P, Supervision as S
    return (S.select(S.role, S.held_on, S.next_on).join(P, on=(S.role == P.id))
            .where(P.team.in_(teams), P.status.in_(("active", "paused")), P.start_date <= end, S.held_on <= as_of)
            .order_by(S.held_on.desc(), S.id.desc()).tuples())


def _named_leads(teams):
    from ..models import User, UserRole
    from ..workforce.models import PeerLeadDesignation as D
    return (D.select(D.team, pw.fn.COUNT(D.id))
            .join(User, on=(D.user == User.id))
            .where(D.team.in_(teams), User.active == True,  # noqa: E712
                   User.team == D.team)
            # Each lead's own role row (one per user and role), not every peer lead
            # in the Trust read to test membership.
            .join(UserRole, on=((UserRole.user == User.id) & (UserRole.role == "peer_lead")))
            .group_by(D.team).tuples())


def _active_teams(teams):
    from ..models import Team
    return Team.select(Team.id).where(Team.id.in_(teams), Team.active == True).tuples()  # noqa: E712


_PEERS_BY_KIND = _teams_first(_peers_by_kind)
_LAPSING_CHECKS = _teams_first(_lapsing_checks)
_STARTS = _teams_first(_starts)
_SUPERVISIONS = _teams_first(_supervisions)
_NAMED_LEADS = _teams_first(_named_leads)
_ACTIVE_TEAMS = _teams_first(_active_teams)


def workforce(start: dt.date, end: dt.date, team_ids: list[int], today: dt.date | None = None) -> Section:
    from ..workforce.models import WorkforceSetting

    today = today or clock.today()
    as_of = min(end, today)
    by_kind = {kind: (n, hours or 0) for kind, n, hours in _period(_PEERS_BY_KIND, team_ids, end)}
    peer_rows = [("Paid", [by_kind.get("paid", (0, 0))[0]]), ("Volunteer", [by_kind.get("volunteer", (0, 0))[0]])]
    hours_rows = [(label, [round(by_kind.get(kind, (0, 0))[1])]) for label, kind in
                  (("Paid", "paid"), ("Volunteer", "volunteer"))]

    checks = _period(_LAPSING_CHECKS, team_ids, end)
    newest, expiring = {}, defaultdict(lambda: [0, 0])
    for candidate_id, type_id, name, expires_on in checks:
        if (candidate_id, type_id) in newest:
            continue
        newest[(candidate_id, type_id)] = expires_on
        expiring[name]  # every lapsing kind held by someone gets a row
        if expires_on is not None and expires_on <= as_of:
            expiring[name][0] += 1
        elif expires_on is not None and expires_on <= as_of + dt.timedelta(days=30):
            expiring[name][1] += 1

    every = dt.timedelta(days=WorkforceSetting.supervision_days())
    starts = dict(_period(_STARTS, team_ids, end))
    last: dict[int, tuple] = {}
    for role_id, held_on, next_on in _period(_SUPERVISIONS, team_ids, end, as_of):
        last.setdefault(role_id, (held_on, next_on))
    overdue = 0
    for role_id, start_date in starts.items():
        held_on, next_on = last.get(role_id, (None, None))
        due = (next_on or held_on + every) if held_on else start_date + every
        overdue += due < as_of
    leads = dict(_period(_NAMED_LEADS, team_ids))
    teams = [tid for (tid,) in _period(_ACTIVE_TEAMS, team_ids)]
    with_two = sum(1 for tid in teams if leads.get(tid, 0) >= 2)
    return Section("workforce", "Workforce", "Are there enough peers, in date and supported?", [
        Table("peers", "Peers in post", ["Peers"], peer_rows,
              note="Roles active or paused today that had started by the end of the period.", parts=True),
        Table("hours", "Hours a week", ["Hours"], hours_rows, note="Contracted or agreed hours of those peers."),
        Table("checks", "Checks that lapse", ["Expired", "Expiring within 30 days"],
              [(name, counts) for name, counts in sorted(expiring.items())],
              note=f"The newest check of each kind per peer in post, on {as_of:%-d %b %Y}."),
        Table("supervision", "Supervision", ["Peers"],
              [("Up to date", [len(starts) - overdue]), ("Overdue", [overdue])],
              note=f"On {as_of:%-d %b %Y}, against the team's supervision frequency.", parts=True),
        Table("peer-leads", "Teams with two named peer leads", ["Teams"],
              [("Two or more named", [with_two]), ("Fewer than two", [len(teams) - with_two])],
              kind=PLAIN, note="The SOP asks each team to name two paid peer leads. Counts of teams are not suppressed."),
    ])


# --- Training --------------------------------------------------------------------------
def _cohort_spans(start, end):
    """Each cohort that ran (or runs) at some time in the period, with its first and last
    session: the Trust's other cohorts are left in the database."""
    from ..training.models import Cohort, CohortSession
    first, last = pw.fn.MIN(CohortSession.held_on), pw.fn.MAX(CohortSession.held_on)
    return (Cohort.select(Cohort.id, first, last).join(CohortSession).group_by(Cohort.id)
            .having((first <= end) & (last >= start)).tuples())


def _places(teams, *cohorts):
    from ..training.models import PLACE, Candidate, Enrolment
    return (Enrolment.select(Enrolment.id, Enrolment.candidate, Enrolment.cohort)
            .join(Candidate)
            .where(Enrolment.status == PLACE, Enrolment.cohort.in_(list(cohorts) or [0]),
                   Candidate.team.in_(teams)).tuples())


def _nominated(teams, start, end):
    from ..training.models import Candidate
    return (Candidate.select(pw.fn.COUNT(Candidate.id))
            .where(Candidate.team.in_(teams), Candidate.nominated_on.between(start, end)).tuples())


def _equivalents(teams, start, end):
    from ..training.models import Candidate, EquivalentTraining as ET
    return (ET.select(pw.fn.COUNT(ET.candidate.distinct())).join(Candidate)
            .where(Candidate.team.in_(teams), ET.recognised_on.between(start, end)).tuples())


_COHORT_SPANS = SqlOnce(_cohort_spans)
_PLACES = SqlOnce(lambda shape, *values: _places(list(values[:shape[0]]), *values[shape[0]:]))
_NOMINATED = _teams_first(_nominated)
_EQUIVALENTS = _teams_first(_equivalents)


def training(start: dt.date, end: dt.date, team_ids: list[int], today: dt.date | None = None) -> Section:
    from ..training.models import Enrolment
    from ..workforce.models import PeerRole

    today = today or clock.today()
    cohort_state = {}
    for cohort_id, first, last in _COHORT_SPANS(start, end):
        first, last = _day(first), _day(last)
        cohort_state[cohort_id] = "planned" if today < first else "finished" if today > last else "running"
    states = Counter(cohort_state.values())
    # A shape per number of teams and of cohorts in the period (a few of each).
    places = list(_PLACES(*team_ids, *cohort_state, variant=(len(team_ids), len(cohort_state))))
    finished = [(eid, cid) for eid, cid, cohort in places if cohort_state[cohort] == "finished"]
    done = Enrolment.completion_days([eid for eid, _ in finished])
    completers = {cid for eid, cid in finished if eid in done}
    with_role = set(PeerRole.select(PeerRole.candidate).where(PeerRole.candidate.in_(list(completers) or [0]))
                    .distinct().tuples())
    [(nominated,)] = _period(_NOMINATED, team_ids, start, end)
    [(equivalents,)] = _period(_EQUIVALENTS, team_ids, start, end)
    return Section("training", "Training", "Are people being trained, and do they go on to a role?", [
        Table("cohorts", "Cohorts in the period", ["Cohorts"],
              [("Finished", [states["finished"]]), ("Running", [states["running"]]), ("Planned", [states["planned"]])],
              kind=PLAIN, note="Cohorts with a session in the period, by where they are today. Counts of cohorts are not suppressed."),
        Table("people", "People", ["People"],
              [("Nominated in the period", [nominated]), ("With a place on a cohort in the period", [len(places)]),
               ("With a place on a finished cohort", [len(finished)]), ("Of whom completed", [len(completers)]),
               ("Equivalent training recognised", [equivalents])]),
        Table("rates", "Completion and conversion", ["Rate"],
              [("Completed, of those with a place on a finished cohort", [(len(completers), len(finished))]),
               ("Went on to a peer role, of those who completed", [(len(with_role), len(completers))])], kind=RATE),
    ])


# --- Impact and Safety: answered by their own areas --------------------------------------
# Reports sits on top of outcomes and presence, so it imports their answers plainly.
impact = change.impact
safety = presence_figures.safety

SECTIONS = {"uptake": uptake, "delivery": delivery, "impact": impact, "workforce": workforce,
            "training": training, "safety": safety}
TITLES = {"uptake": "Uptake", "delivery": "Delivery", "impact": "Impact", "workforce": "Workforce",
          "training": "Training", "safety": "Safety"}
