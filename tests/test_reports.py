"""Monitoring: each report's figures against hand-counted data, disclosure on the
page and in the CSV, who sees which teams, and the CSV's safety (BOM, formulas, audit)."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

import pytest

from peerapp.audit import AuditEvent
from peerapp.db import db
from peerapp.models import Team
from peerapp.reports import figures
from peerapp.reports.figures import Table, centiles
from tests.conftest import connected
from peerapp.reports.shown import shown
from tests.dom import parse, rows_by_head

START, END = dt.date(2026, 10, 1), dt.date(2026, 12, 31)
TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def frozen(clock):
    clock.freeze(dt.datetime(2026, 11, 30, 12))
    return clock


def test_centiles_are_median_and_nearest_rank_90th():
    assert centiles([]) == (None, None)
    assert centiles([4]) == (4, 4)
    assert centiles([1, 2, 3, 4]) == (2.5, 4)
    assert centiles(list(range(1, 21))) == (10.5, 18)  # rank ceil(0.9 * 20) = 18


def test_disclosure_of_each_kind_of_table():
    counts = shown(Table("t", "T", ["N"], [("a", [0]), ("b", [3]), ("c", [12])]), limit=7)
    assert [cells for _, cells in counts.rows] == [["0"], ["*"], ["10"]]
    assert [bar[1] for bar in counts.bars] == [0.0, None, 10.0]
    days = shown(Table("d", "D", ["Median", "90th"], [("x", [3, 9]), ("y", [5, 6])], kind=figures.DAYS,
                       basis=[20, 4]), limit=7)
    assert [cells for _, cells in days.rows] == [["3", "9"], ["*", "*"]]
    rates = shown(Table("r", "R", ["Rate"], [("a", [(10, 40)]), ("b", [(2, 40)]), ("c", [(36, 40)]),
                                             ("d", [(0, 0)])], kind=figures.RATE), limit=7)
    # 36 of 40 would reveal that 4 did not: hidden like 2 of 40.
    assert [cells for _, cells in rates.rows] == [["25%"], ["*"], ["*"], ["–"]]


# --- hand-built data ------------------------------------------------------------------
def _world(make_user, team):
    from peerapp.referrals.models import (Assignment, Contact, FirstMeeting, Intervention, Referral, ReferralEvent,
                                          ServiceUser)
    from peerapp.training.models import Candidate
    from peerapp.workforce.models import CheckType, PeerRole, RecruitmentCheck, Supervision

    other = Team.create(name="Other team")
    lead = make_user("peer_lead")
    clinician = make_user("clinician")
    groups = Intervention.create(name="Group", typical_sessions=2)
    talks = Intervention.create(name="Talks", typical_sessions=3)

    def referral(n, day, state, team_=team, **extra):
        su = ServiceUser.create(name=f"Person {n}", team=team_)
        return Referral.create(service_user=su, team=team_, referrer=clinician, referred_on=day, state=state, **extra)

    def event(r, to, day):
        ReferralEvent.create(referral=r, from_state="x", to_state=to, by_user=lead, at=dt.datetime.combine(day, dt.time(10)))

    # Team: 5 in the quarter, 1 before it; other team: 2 in the quarter.
    r1 = referral(1, dt.date(2026, 10, 1), "active", screened_on=dt.date(2026, 10, 3))
    event(r1, "accepted", dt.date(2026, 10, 3)); event(r1, "matched", dt.date(2026, 10, 11))
    r2 = referral(2, dt.date(2026, 10, 5), "declined", screened_on=dt.date(2026, 10, 6))
    event(r2, "declined", dt.date(2026, 10, 6))
    r3 = referral(3, dt.date(2026, 10, 10), "awaiting match", screened_on=dt.date(2026, 10, 20))
    event(r3, "accepted", dt.date(2026, 10, 20))
    referral(4, dt.date(2026, 11, 1), "submitted")
    r5 = referral(5, dt.date(2026, 11, 2), "closed", screened_on=dt.date(2026, 11, 2), outcome="goals met")
    event(r5, "accepted", dt.date(2026, 11, 2)); event(r5, "matched", dt.date(2026, 11, 4))
    event(r5, "matched", dt.date(2026, 11, 20))  # matched twice: the first counts
    referral(6, dt.date(2026, 9, 30), "submitted")
    referral(7, dt.date(2026, 10, 2), "submitted", team_=other)
    referral(8, dt.date(2026, 10, 3), "declined", team_=other)

    candidate = Candidate.create(name="Pat Peer", team=team, nominated_by=lead, nominated_on=dt.date(2026, 10, 2))
    role = PeerRole.create(candidate=candidate, team=team, kind="paid", hours_per_week=15, start_date=dt.date(2026, 6, 1),
                           supervisor=lead, max_caseload=3, status="active")
    vol_candidate = Candidate.create(name="Val Vol", team=team, nominated_by=lead, nominated_on=dt.date(2026, 5, 2))
    PeerRole.create(candidate=vol_candidate, team=team, kind="volunteer", hours_per_week=4.5,
                    start_date=dt.date(2026, 10, 20), supervisor=lead, max_caseload=2, status="paused")
    PeerRole.create(candidate=vol_candidate, team=team, kind="volunteer", hours_per_week=8,
                    start_date=dt.date(2025, 11, 1), supervisor=lead, max_caseload=2, status="ended")
    FirstMeeting.create(referral=r1, meeting_on=dt.date(2026, 10, 15), facilitated_by=lead)
    FirstMeeting.create(referral=r5, meeting_on=dt.date(2026, 11, 9), facilitated_by=lead)
    Assignment.create(referral=r1, peer_role=role, assigned_by=lead)
    Assignment.create(referral=r5, peer_role=role, assigned_by=lead, ended_at=dt.datetime(2026, 11, 25))

    def contact(r, day, attendance, intervention=talks, setting="community"):
        Contact.create(referral=r, peer_role=role, contact_on=day, attendance=attendance, intervention=intervention,
                       setting=setting, recorded_by=lead)
    for day in (dt.date(2026, 10, 16), dt.date(2026, 10, 23), dt.date(2026, 10, 30)):
        contact(r1, day, "attended")
    contact(r1, dt.date(2026, 11, 6), "did not attend")
    contact(r5, dt.date(2026, 11, 10), "attended", groups, "phone")
    contact(r5, dt.date(2026, 11, 11), "cancelled", groups, "phone")
    contact(r1, dt.date(2026, 9, 20), "attended")  # before the quarter

    dbs = CheckType.get_or_none(CheckType.code == "dbs") or CheckType.create(code="dbs", name="DBS", lapses=True)
    RecruitmentCheck.create(candidate=candidate, check_type=dbs, completed_on=dt.date(2023, 12, 1),
                            expires_on=dt.date(2026, 11, 29), dbs_outcome="clear")  # older: superseded
    RecruitmentCheck.create(candidate=candidate, check_type=dbs, completed_on=dt.date(2026, 11, 1),
                            expires_on=dt.date(2026, 12, 20), dbs_outcome="clear")  # expiring within 30 days
    RecruitmentCheck.create(candidate=vol_candidate, check_type=dbs, completed_on=dt.date(2023, 1, 1),
                            expires_on=dt.date(2026, 1, 1), dbs_outcome="clear")  # expired
    Supervision.create(role=role, held_on=dt.date(2026, 11, 20), duration_minutes=60, recorded_by=lead,
                       next_on=dt.date(2026, 12, 20))  # up to date; the volunteer: none, due 30 days after starting (19 Nov)
    return {"team": team, "other": other}


def test_uptake_against_hand_counted_referrals(app, make_user, team):
    with db.connection_context():
        world = _world(make_user, team)
        section = figures.uptake(START, END, [world["team"].id], TODAY)
        assert section.table("referrals").rows == [("Received", [5]), ("Accepted at screening", [3]),
                                                   ("Declined at screening", [1])]
        assert dict(section.table("where-now").rows) == {
            "Waiting for screening": [1], "Accepted, waiting for a peer": [1], "Matched, first meeting to come": [0],
            "Working with a peer": [1], "Declined": [1], "Closed": [1]}
        assert section.table("closed-by-outcome").rows == [("goals met", [1])]
        times = dict(section.table("waiting-times").rows)
        # screening: 2, 1, 10, 0 days; match: 10, 2; first meeting: 14, 7
        assert times["Referral to screening decision"] == [1.5, 10]
        assert times["Referral to match"] == [6, 10]
        assert times["Referral to first meeting"] == [10.5, 14]
        assert section.table("waiting-times").basis == [4, 2, 2]
        both = figures.uptake(START, END, [world["team"].id, world["other"].id], TODAY)
        assert both.table("referrals").rows[0] == ("Received", [7])


def test_delivery_against_hand_counted_contacts(app, make_user, team):
    with db.connection_context():
        world = _world(make_user, team)
        section = figures.delivery(START, END, [world["team"].id], TODAY)
        assert section.table("contacts").rows == [("Attended", [4]), ("Did not attend", [1]), ("Cancelled", [1])]
        assert section.table("did-not-attend").rows == [("Did not attend, of contacts attended or missed", [(1, 5)])]
        assert section.table("settings").rows == [("community", [3]), ("phone", [1])]
        # Talks: one referral, 3 sessions, reached its 3; Group: one referral, 1 of 2.
        assert section.table("interventions").rows == [("Group", [1, 1, 0]), ("Talks", [1, 3, 1])]
        # The paid peer supports one person now (r5's assignment ended); the volunteer no one.
        assert dict(section.table("caseload").rows) == {"No one": [1], "1 or 2": [1], "3 or 4": [0], "5 or more": [0]}
        assert section.table("places").rows == [("Service users with a peer now", [1]),
                                                ("Places peers have in all", [5])]
        assert figures.delivery(START, END, [world["other"].id], TODAY).table("contacts").rows[0] == ("Attended", [0])


def test_workforce_against_hand_counted_roles(app, make_user, team):
    from peerapp.workforce.models import CheckType

    with db.connection_context():
        world = _world(make_user, team)
        section = figures.workforce(START, END, [world["team"].id], TODAY)
        assert section.table("peers").rows == [("Paid", [1]), ("Volunteer", [1])]
        assert section.table("hours").rows == [("Paid", [15]), ("Volunteer", [4])]  # 4.5 rounds to 4 (even)
        assert section.table("checks").rows == [(CheckType.get(CheckType.code == "dbs").name, [1, 1])]
        assert section.table("supervision").rows == [("Up to date", [1]), ("Overdue", [1])]
        assert section.table("peer-leads").rows == [("Two or more named", [0]), ("Fewer than two", [1])]
        # A quarter that ended before the volunteer started: only the paid peer.
        earlier = figures.workforce(dt.date(2026, 7, 1), dt.date(2026, 9, 30), [world["team"].id], TODAY)
        assert earlier.table("peers").rows == [("Paid", [1]), ("Volunteer", [0])]


def test_training_against_hand_counted_cohorts(app, make_user, team):
    from peerapp.training.models import PLACE, Attendance, Candidate, Cohort, CohortSession, Enrolment, Curriculum
    from peerapp.workforce.models import PeerRole

    with db.connection_context():
        if not Curriculum.select().exists():
            Curriculum.create(minimum_sessions=2)
        else:
            Curriculum.update(minimum_sessions=2, required_sessions="").execute()
        lead = make_user("peer_lead")
        finished = Cohort.create(name="Autumn", places=10)
        running = Cohort.create(name="Winter", places=10)
        old = Cohort.create(name="Spring", places=10)
        for cohort, days in ((finished, (dt.date(2026, 10, 5), dt.date(2026, 10, 12))),
                             (running, (dt.date(2026, 11, 20), dt.date(2026, 12, 10))),
                             (old, (dt.date(2026, 4, 1), dt.date(2026, 4, 8)))):
            for number, day in enumerate(days, 1):
                CohortSession.create(cohort=cohort, number=number, held_on=day)
        people = [Candidate.create(name=f"C{n}", team=team, nominated_by=lead, nominated_on=dt.date(2026, 9, 1 + n))
                  for n in range(4)]
        sessions = list(CohortSession.select().where(CohortSession.cohort == finished).order_by(CohortSession.number))
        for n, person in enumerate(people[:3]):
            enrolment = Enrolment.create(cohort=finished, candidate=person, status=PLACE)
            for session in sessions[: 2 if n < 2 else 1]:  # two complete, one does not
                Attendance.create(session=session, enrolment=enrolment, status="present")
        Enrolment.create(cohort=running, candidate=people[3], status=PLACE)
        PeerRole.create(candidate=people[0], team=team, kind="volunteer", start_date=dt.date(2026, 11, 1),
                        supervisor=lead, status="onboarding")
        Candidate.create(name="Late", team=team, nominated_by=lead, nominated_on=dt.date(2026, 10, 20))
        section = figures.training(START, END, [team.id], TODAY)
        assert section.table("cohorts").rows == [("Finished", [1]), ("Running", [1]), ("Planned", [0])]
        assert dict(section.table("people").rows) == {
            "Nominated in the period": [1], "With a place on a cohort in the period": [4],
            "With a place on a finished cohort": [3], "Of whom completed": [2], "Equivalent training recognised": [0]}
        assert section.table("rates").rows == [
            ("Completed, of those with a place on a finished cohort", [(2, 3)]),
            ("Went on to a peer role, of those who completed", [(1, 2)])]


# --- the pages --------------------------------------------------------------------------
def _cells(html: str, table_id: str) -> dict[str, list[str]]:
    """{row header: [cell texts]} of one table on the page."""
    return rows_by_head(parse(html).one(f"table#{table_id}"))


def test_manager_sees_their_team_suppressed_and_rounded(app, make_user, team, login, frozen):
    app.config["SMALL_NUMBER_LIMIT"] = 3  # a setting: 5 shows, 1 to 3 do not
    with db.connection_context():
        world = _world(make_user, team)
    manager = login(make_user("manager"))
    page = manager.get("/reports/uptake?period=q2026-4")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _cells(html, "table-uptake-referrals") == {
        "Received": ["5"], "Accepted at screening": ["*"], "Declined at screening": ["*"]}
    assert "Person 1" not in html
    # The same numbers in the chart's description as in the table.
    assert "Received: 5, Accepted at screening: hidden (small number)" in html
    # A manager cannot choose another team: the parameter is ignored.
    other = manager.get(f"/reports/uptake?period=q2026-4&team={world['other'].id}").get_data(as_text=True)
    assert _cells(other, "table-uptake-referrals")["Received"] == ["5"]


def test_viewer_chooses_a_team_or_all(app, make_user, team, login, frozen):
    app.config["SMALL_NUMBER_LIMIT"] = 3
    with db.connection_context():
        world = _world(make_user, team)
    viewer = login(make_user("viewer", team_=None))
    everyone = viewer.get("/reports/uptake?period=q2026-4").get_data(as_text=True)
    assert _cells(everyone, "table-uptake-referrals")["Received"] == ["5"]  # 7 rounds to 5
    one = viewer.get(f"/reports/uptake?period=q2026-4&team={world['other'].id}").get_data(as_text=True)
    assert _cells(one, "table-uptake-referrals")["Received"] == ["*"]
    bad = viewer.get("/reports/uptake?period=q1999-9&team=banana")
    assert bad.status_code == 422
    assert "Choose a period from the list." in bad.get_data(as_text=True)


def test_every_section_renders_for_each_reader_and_refuses_others(app, make_user, team, login, frozen, client_for):
    with db.connection_context():
        _world(make_user, team)
    for role in ("viewer", "manager"):
        client = login(make_user(role))
        page = client.get("/reports/")
        assert page.status_code == 200
        for key in figures.SECTIONS:
            assert f'id="section-{key}"' in page.get_data(as_text=True)
    facilitator = login(make_user("facilitator"))
    assert 'id="section-training"' in facilitator.get("/reports/").get_data(as_text=True)
    assert 'id="section-uptake"' not in facilitator.get("/reports/").get_data(as_text=True)
    assert facilitator.get("/reports/uptake").status_code == 403
    assert facilitator.get("/reports/training").status_code == 200
    for role in ("peer", "clinician", "peer_lead"):
        assert client_for(role).get("/reports/").status_code == 403


def _signed_in(app, user):
    """Signed in under the frozen clock (the login fixture's session has no app context)."""
    from peerapp.models import LoginSession

    client = app.test_client()
    with app.app_context():
        token = LoginSession.start(user)
    with client.session_transaction() as session:
        session["sid"], session["_user_id"] = token, str(user.id)
    return client


def test_csv_is_escaped_has_a_bom_is_audited_and_asks_for_the_password(app, make_user, team, login, frozen):
    from peerapp.referrals.models import Contact

    with db.connection_context():
        world = _world(make_user, team)
        Contact.update(setting="=HYPERLINK(1)").where(Contact.setting == "phone").execute()
    manager = _signed_in(app, make_user("manager"))
    response = manager.get("/reports/delivery.csv?period=q2026-4&table=settings")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][-1] == "worked out 30 Nov 2026, 12:00"  # as the page says it
    assert sorted(rows[2:4]) == [["'=HYPERLINK(1)", "*"], ["community", "*"]]
    with db.connection_context():
        event = AuditEvent.select().where(AuditEvent.action == "export").get()
        assert event.record_type == "report" and event.record_id == "delivery"
    frozen.advance(minutes=20)  # the password was typed more than 15 minutes ago
    again = manager.get("/reports/delivery.csv?period=q2026-4&table=settings")
    assert again.status_code == 302 and "/confirm" in again.headers["Location"]
    assert manager.get("/reports/delivery.csv?period=q2026-4&table=nonsense").status_code in (302, 404)


def test_report_queries_do_not_grow_with_the_data(app, make_user, team, login, frozen):
    """A handful of aggregate queries per section whatever the number of records."""
    from peerapp.referrals.models import Referral, ServiceUser

    with db.connection_context():
        _world(make_user, team)
    viewer = login(make_user("viewer"))
    counts = []
    for _ in range(2):
        queries = []
        original = db.obj.execute_sql

        def counting(sql, params=None, *args, **kwargs):
            queries.append(sql)
            return original(sql, params, *args, **kwargs)
        db.obj.execute_sql = counting
        try:
            assert viewer.get("/reports/?period=q2026-4").status_code == 200
        finally:
            db.obj.execute_sql = original
        counts.append(len(queries))
        with connected():  # the request's connection stays open, as before the first count
            clinician = make_user("clinician")
            for n in range(30):
                su = ServiceUser.create(name=f"Extra {n}", team=team)
                Referral.create(service_user=su, team=team, referrer=clinician, referred_on=dt.date(2026, 10, 9),
                                state="submitted")
    assert counts[0] == counts[1], counts


def test_a_table_whose_last_row_is_the_total_gets_secondary_suppression():
    """Outcomes' change table ends with its total: one hidden category cannot be read
    back from the total and the others."""
    table = Table("c", "Change", ["People"], [("Improved", [20]), ("No change", [3]), ("Worse", [15]),
                                              ("People with a first and a latest score", [38])], total_row=True)
    rows = dict(shown(table, limit=7).rows)
    assert rows["No change"] == ["*"]
    assert "*" in (rows["Improved"][0], rows["Worse"][0], rows["People with a first and a latest score"][0])


def _referred_since(make_user, team, prefix: str, n: int) -> None:
    """``n`` more referrals to ``team`` on 29 Nov 2026, made after figures were worked out."""
    from peerapp.referrals.models import Referral, ServiceUser
    with connected():
        clinician = make_user("clinician")
        for i in range(n):
            su = ServiceUser.create(name=f"{prefix} {i}", team=team)
            Referral.create(service_user=su, team=team, referrer=clinician, referred_on=dt.date(2026, 11, 29),
                            state="submitted")


def test_figures_are_kept_for_the_set_minutes_and_the_page_says_since_when(app, make_user, team, login, frozen):
    app.config.update(SMALL_NUMBER_LIMIT=3, REPORT_FIGURES_SECONDS=300)
    with db.connection_context():
        world = _world(make_user, team)
    manager = login(make_user("manager"))
    viewer = login(make_user("viewer", team_=None))

    def received(client, query=""):
        html = client.get(f"/reports/uptake?period=q2026-4{query}").get_data(as_text=True)
        return _cells(html, "table-uptake-referrals")["Received"], parse(html).one("#figures-worked-out").text

    assert received(manager) == (["5"], "Figures worked out at 30 Nov 2026, 12:00. They are kept for up to "
                                        "5 minutes, so something recorded since then may not be counted yet.")
    _referred_since(make_user, team, "Late", 3)
    frozen.advance(minutes=4)
    assert received(manager)[0] == ["5"]  # kept: 8 would show as 10
    # Kept per team: the viewer's other team is its own figures, not the manager's.
    assert received(viewer, f"&team={world['other'].id}")[0] == ["*"]
    frozen.advance(minutes=2)
    assert received(manager) == (["10"], "Figures worked out at 30 Nov 2026, 12:06. They are kept for up to "
                                         "5 minutes, so something recorded since then may not be counted yet.")
    # A clock set back never makes old figures look current.
    frozen.freeze(dt.datetime(2026, 11, 30, 11, 59))
    assert "11:59" in received(manager)[1]
    # 0: worked out on every view, and the page does not speak of keeping them.
    app.config["REPORT_FIGURES_SECONDS"] = 0
    _referred_since(make_user, team, "Later", 3)
    assert received(manager) == (["10"], "Figures worked out at 30 Nov 2026, 11:59.")  # 11 rounds to 10
    _referred_since(make_user, team, "Last", 2)
    assert received(manager)[0] == ["15"]  # 13 rounds to 15
    app.config["REPORT_FIGURES_SECONDS"] = 30  # under a minute still says they are kept
    assert "They are kept for up to 1 minute, so" in received(manager)[1]


def _figure_queries(client, url) -> tuple[str, list[str]]:
    """(page, the statements it sent that read the records figures are counted from)."""
    from peerapp.db import counting_queries
    with counting_queries() as counted:
        html = client.get(url).get_data(as_text=True)
    return html, [sql for sql in counted.sql if '"contact"' in sql or '"referral_event"' in sql]


def test_the_figures_sweep_works_them_out_before_anyone_asks_for_every_process(app, make_user, team, login, frozen):
    """This and last quarter's figures, for all teams and each team, are worked out by
    ``flask report-figures`` and stored: a reader in any server process (here: one
    with nothing kept in memory, as after a restart) sees them without the records
    being read again, and a period the sweep does not cover is worked out once."""
    from peerapp.reports.models import StoredReportFigures

    app.config.update(SMALL_NUMBER_LIMIT=3, REPORT_FIGURES_SECONDS=300)
    with db.connection_context():
        world = _world(make_user, team)
        teams = Team.select().count()
    viewer = login(make_user("viewer", team_=None))
    manager = login(make_user("manager"))
    said = app.test_cli_runner().invoke(args=["report-figures"]).output
    swept = 2 * 6 * (teams + 1)  # this quarter and the last, each section, all teams and each team
    assert (f"{swept} section(s) of October to December 2026 and July to September 2026 worked out"
            in said)
    with connected():
        assert StoredReportFigures.select().count() == swept

    def another_process():
        app.extensions.pop("report_figures", None)

    another_process()
    html, read = _figure_queries(viewer, "/reports/?period=q2026-4")
    assert read == []
    assert _cells(html, "table-uptake-referrals")["Received"] == ["5"]  # 7 in all teams rounds to 5
    assert "Figures worked out at 30 Nov 2026, 12:00." in parse(html).one("#figures-worked-out").text
    another_process()
    html, read = _figure_queries(viewer, f"/reports/delivery?period=q2026-4&team={world['other'].id}")
    assert read == []
    html, read = _figure_queries(manager, "/reports/uptake?period=q2026-4")
    assert read == [] and _cells(html, "table-uptake-referrals")["Received"] == ["5"]

    # Recorded since: the stored figures stand until they are 5 minutes old, in every process.
    _referred_since(make_user, team, "Late", 3)
    frozen.advance(minutes=4)
    another_process()
    assert _cells(_figure_queries(manager, "/reports/uptake?period=q2026-4")[0],
                  "table-uptake-referrals")["Received"] == ["5"]
    # The sweep's next run (every 2 minutes on an install) counts them.
    app.test_cli_runner().invoke(args=["report-figures"])
    another_process()
    html, read = _figure_queries(manager, "/reports/uptake?period=q2026-4")
    assert read == [] and _cells(html, "table-uptake-referrals")["Received"] == ["10"]  # 8 rounds to 10
    assert "Figures worked out at 30 Nov 2026, 12:04." in parse(html).one("#figures-worked-out").text

    # Last quarter, which commissioners report on, is swept too.
    another_process()
    assert _figure_queries(viewer, "/reports/uptake?period=q2026-3")[1] == []
    # The quarter before is not: its first reader waits for it, the next process does not.
    html, read = _figure_queries(viewer, "/reports/uptake?period=q2026-2")
    assert read != []
    another_process()
    assert _figure_queries(viewer, "/reports/uptake?period=q2026-2")[1] == []

    # Figures over a day old are removed by the sweep.
    with connected():
        before = StoredReportFigures.select().count()
    frozen.advance(days=2)
    said = app.test_cli_runner().invoke(args=["report-figures"]).output
    assert f"; {before} old removed." in said
    with connected():
        assert StoredReportFigures.select().count() == swept


def test_stored_figures_come_back_as_they_were_worked_out(app, make_user, team):
    """Every section's tables, rates (pairs) and waiting times (halves, none) survive
    being stored and read back, on each engine."""
    from peerapp.reports.kept import decode, encode, store, stored
    from peerapp.reports.models import StoredReportFigures as S

    with db.connection_context():
        world = _world(make_user, team)
        for key, work_out in figures.SECTIONS.items():
            section = work_out(START, END, [team.id, world["other"].id], TODAY)
            assert decode(encode(section)) == section, key
        # Figures stored by an older version of the tables' shape are worked out again, never a 500.
        at = dt.datetime(2026, 11, 30, 12)
        store({"uptake-old": figures.SECTIONS["uptake"](START, END, [team.id], TODAY)}, at)
        assert stored("uptake-old", at, 300) is not None
        S.update(figures='{"key": "uptake", "shape": "gone"}').where(S.key == "uptake-old").execute()
        assert stored("uptake-old", at, 300) is None


def test_stored_figures_worked_out_earlier_never_replace_later_ones(app, make_user, team, frozen):
    """The sweep works for seconds before it stores; a page may store the same section
    meanwhile. The later figures stay, whichever write comes last; figures dated after
    now (a clock set back) are replaced."""
    from peerapp.reports.kept import store, stored

    with app.app_context(), db.connection_context():  # the app's clock, as in a request or the sweep
        _world(make_user, team)
        uptake = figures.SECTIONS["uptake"]
        earlier = uptake(START, END, [team.id], TODAY)
        later = dataclasses.replace(earlier, title="Later")
        noon = dt.datetime(2026, 11, 30, 12)
        frozen.freeze(noon + dt.timedelta(minutes=1))
        store({"k": later}, noon + dt.timedelta(seconds=30))
        store({"k": earlier}, noon)  # the sweep's, begun before the page's
        assert stored("k", noon + dt.timedelta(minutes=1), 300) == (later, noon + dt.timedelta(seconds=30))
        store({"k": earlier}, noon + dt.timedelta(seconds=45))  # worked out later: replaces
        assert stored("k", noon + dt.timedelta(minutes=1), 300)[1] == noon + dt.timedelta(seconds=45)
        frozen.freeze(noon - dt.timedelta(hours=2))  # the clock set back two hours
        store({"k": later}, noon - dt.timedelta(hours=2))
        assert stored("k", noon - dt.timedelta(hours=2), 300) == (later, noon - dt.timedelta(hours=2))


def test_kept_figures_are_bounded_oldest_read_first_out(frozen):
    from peerapp.reports.kept import KeptFigures

    worked = []

    def work_out(key):
        return lambda: worked.append(key) or key
    kept = KeptFigures(size=2)
    for key in ("a", "b", "a", "c", "a", "b"):
        kept.get((key,), 300, work_out(key))
    # "a" was read again before "c" came, so "b" was the one let go and worked out again.
    assert worked == ["a", "b", "c", "b"]
