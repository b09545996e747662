"""Training rounds: the model answers other areas use, access per role, the
register's htmx contract, bad input, CSV, certificates and counts."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from peerapp.audit import AuditEvent
from peerapp.db import db
from peerapp.models import Team
from peerapp.training.models import (ABSENT, CAUGHT_UP, LATE, PLACE, PRESENT, WAITING, WITHDRAWN, Attendance,
                                     Candidate, Cohort, CohortFacilitator, CohortSession, Curriculum, Enrolment,
                                     EquivalentTraining)
from tests.dom import parse, text

TODAY = dt.date(2026, 5, 1)
START = TODAY - dt.timedelta(weeks=5)  # session 6 is today


@pytest.fixture
def frozen(clock):
    clock.freeze(dt.datetime(2026, 5, 1, 9))  # 10:00 in London
    return clock


@pytest.fixture
def people(users, make_user, team):
    with db.connection_context():
        other_team = Team.create(name="Other Team")
    return {
        "facilitator": users["facilitator"], "lead": users["peer_lead"], "manager": users["manager"],
        "other_lead": make_user("peer_lead", name="Other Lead", team_=other_team),
        "other_manager": make_user("manager", name="Other Manager", team_=other_team),
        "other_team": other_team, "team": team,
    }


class Builder:
    def __init__(self, people):
        self.people = people
        self.n = 0

    def candidate(self, name=None, team=None, nominated_on=None, **kw):
        self.n += 1
        with db.connection_context():
            team = team or self.people["team"]
            lead = self.people["lead"] if team.id == self.people["team"].id else self.people["other_lead"]
            return Candidate.create(name=name or f"Candidate {self.n}", team=team, nominated_by=lead,
                                    nominated_on=nominated_on or TODAY - dt.timedelta(days=100 - self.n), **kw)

    def cohort(self, name="Round 1", places=12, start=START, facilitator=True):
        with db.connection_context():
            cohort = Cohort.create(name=name, places=places, venue="Room 2")
            if facilitator:
                CohortFacilitator.create(cohort=cohort, user=self.people["facilitator"])
            for n in range(1, 7):
                CohortSession.create(cohort=cohort, number=n, held_on=start + dt.timedelta(weeks=n - 1))
            return cohort

    def enrol(self, cohort, candidate, status=PLACE):
        with db.connection_context():
            return Enrolment.create(cohort=cohort, candidate=candidate, status=status)

    def mark(self, enrolment, statuses, catch_up=None):
        with db.connection_context():
            sessions = list(CohortSession.select().where(CohortSession.cohort == enrolment.cohort_id)
                            .order_by(CohortSession.number))
            for session, status in zip(sessions, statuses):
                if status:
                    Attendance.create(session=session, enrolment=enrolment, status=status,
                                      caught_up_on=(catch_up or {}).get(session.number))

    def session(self, cohort, number):
        with db.connection_context():
            return CohortSession.get(CohortSession.cohort == cohort, CohortSession.number == number)


@pytest.fixture
def build(people, frozen):
    return Builder(people)


def in_db(fn):
    with db.connection_context():
        return fn()


# --- the model answers other areas use ------------------------------------------
def test_migration_seeds_the_default_six_session_curriculum(app):
    with db.connection_context():
        curriculum = Curriculum.current()
        titles = curriculum.titles()
        assert list(titles) == [1, 2, 3, 4, 5, 6]
        assert "Principles and impact of peer support" == titles[1]
        assert "work-WRAP" in titles[4]
        assert curriculum.rule().is_every_session


def test_completed_training_is_derived_from_the_register(build):
    cohort = build.cohort()
    done, missed, caught = build.candidate("Done"), build.candidate("Missed"), build.candidate("Caught")
    build.mark(build.enrol(cohort, done), [PRESENT, LATE, PRESENT, PRESENT, PRESENT, PRESENT])
    build.mark(build.enrol(cohort, missed), [PRESENT, PRESENT, ABSENT, PRESENT, PRESENT, PRESENT])
    late_catch_up = TODAY + dt.timedelta(days=0)
    build.mark(build.enrol(cohort, caught), [PRESENT, PRESENT, CAUGHT_UP, PRESENT, PRESENT, PRESENT],
               catch_up={3: late_catch_up})
    with db.connection_context():
        assert done.completed_training() == TODAY  # session 6 is today
        assert missed.completed_training() is None
        assert caught.completed_training() == late_catch_up
        assert {c.name for c in Candidate.trained()} == {"Done", "Caught"}


def test_equivalent_counts_as_completion_and_the_earliest_date_wins(build, people):
    person = build.candidate("Elsewhere")
    with db.connection_context():
        assert person.completed_training() is None
        EquivalentTraining.create(candidate=person, provider="Recovery College", completed_on=dt.date(2025, 1, 2),
                                  evidence="certificate seen", recognised_by=people["facilitator"],
                                  recognised_on=TODAY)
        assert person.completed_training() == dt.date(2025, 1, 2)
        assert [c.name for c in Candidate.trained()] == ["Elsewhere"]


def test_trained_filters_by_nominating_team(build, people):
    ours, theirs = build.candidate("Ours"), build.candidate("Theirs", team=people["other_team"])
    with db.connection_context():
        for person in (ours, theirs):
            EquivalentTraining.create(candidate=person, provider="X", completed_on=dt.date(2025, 1, 2),
                                      evidence="seen", recognised_by=people["facilitator"], recognised_on=TODAY)
        assert [c.name for c in Candidate.trained(people["team"])] == ["Ours"]
        assert [c.name for c in Candidate.trained(people["other_team"])] == ["Theirs"]
        assert Candidate.trained().count() == 2


def test_a_withdrawn_enrolment_does_not_complete(build):
    cohort = build.cohort()
    person = build.candidate()
    enrolment = build.enrol(cohort, person, status=WITHDRAWN)
    build.mark(enrolment, [PRESENT] * 6)
    with db.connection_context():
        assert person.completed_training() is None


def test_the_database_refuses_a_catch_up_without_a_date_and_a_second_enrolment(build):
    cohort = build.cohort()
    person = build.candidate()
    enrolment = build.enrol(cohort, person)
    import peewee
    with db.connection_context():
        session = CohortSession.get(CohortSession.cohort == cohort, CohortSession.number == 1)
        with pytest.raises(peewee.IntegrityError):
            with db.atomic():
                Attendance.create(session=session, enrolment=enrolment, status=CAUGHT_UP)
        with pytest.raises(peewee.IntegrityError):
            with db.atomic():
                Enrolment.create(cohort=cohort, candidate=person, status=PLACE)


# --- access per role ---------------------------------------------------------------
def test_facilitator_runs_every_cohort_even_ones_they_do_not_facilitate(build, client_for):
    cohort = build.cohort(facilitator=False)
    client = client_for("facilitator")
    assert client.get("/training/cohorts").status_code == 200
    assert client.get(f"/training/cohorts/{cohort.id}").status_code == 200
    session = build.session(cohort, 6)
    assert client.get(f"/training/sessions/{session.id}/register").status_code == 200


def test_the_cohorts_list_comes_50_a_page_newest_first_with_each_ones_completions(build, client_for, clock):
    from tests.dom import links, parse
    first = build.cohort(name="Round 0")
    done = build.enrol(first, build.candidate())
    build.mark(done, ["present"] * 6)
    for n in range(1, 55):
        clock.advance(minutes=1)
        build.cohort(name=f"Round {n}")
    client = client_for("facilitator")
    page = parse(client.get("/training/cohorts"))
    newest = [int(n.get("data-cohort-id")) for n in page.select("[data-cohort-id]")]
    assert len(newest) == 50 and "50 shown of 55 cohorts" in page.text
    after = [href for href, _ in links(page) if href.startswith("/training/cohorts?after=")]
    rest = parse(client.get(after[0]))
    older = [int(n.get("data-cohort-id")) for n in rest.select("[data-cohort-id]")]
    assert len(older) == 5 and older[-1] == first.id and not set(older) & set(newest)
    assert rest.one(f"[data-cohort-id='{first.id}']").select("td")[-1].text.strip() == "1"


@pytest.mark.parametrize("role", ["peer_lead", "manager"])
def test_nominating_team_sees_the_training_record_other_teams_get_404(build, client_for, login, people, role):
    cohort = build.cohort()
    person = build.candidate("Nominated Person")
    build.mark(build.enrol(cohort, person), [PRESENT] * 6)
    own = client_for(role)
    r = own.get(f"/training/candidates/{person.id}")
    assert r.status_code == 200 and "Nominated Person" in text(r)
    assert own.get(f"/training/candidates/{person.id}/certificate").status_code == 200
    assert "Nominated Person" in text(own.get("/training/candidates"))
    other = login(people["other_lead"] if role == "peer_lead" else people["other_manager"])
    assert other.get(f"/training/candidates/{person.id}").status_code == 404
    assert other.get(f"/training/candidates/{person.id}/certificate").status_code == 404
    assert other.get(f"/training/candidates/{person.id}/edit").status_code == 404
    assert own.get(f"/training/candidates/{person.id}/edit").status_code == 200
    with db.connection_context():  # every view of the record is audited, to the person who looked
        views = AuditEvent.for_record("candidate", person.id).where(AuditEvent.action == "view")
        assert {e.summary for e in views} == {"training record viewed", "training certificate viewed",
                                              "candidate details viewed to edit"}
        assert {e.user_id for e in views} == {own.user.id}
    assert "Nominated Person" not in text(other.get("/training/candidates"))
    # Cohorts and registers are the facilitators' tools.
    assert own.get(f"/training/cohorts/{cohort.id}").status_code == 403


@pytest.mark.parametrize("role", ["clinician", "peer", "admin"])
def test_clinicians_peers_and_admins_have_no_access(build, client_for, role):
    cohort = build.cohort()
    person = build.candidate()
    session = build.session(cohort, 1)
    client = client_for(role)
    for url in ["/training/cohorts", f"/training/cohorts/{cohort.id}", f"/training/sessions/{session.id}/register",
                "/training/candidates", f"/training/candidates/{person.id}", "/reports/training",
                f"/training/candidates/{person.id}/certificate", "/training/curriculum"]:
        assert client.get(url).status_code == 403, url
    assert client.post(f"/training/sessions/{session.id}/register/1", data={"status": PRESENT}).status_code == 403


def _figure(page, table: str, row: str, column: int = 0) -> str:
    """A cell of a report table (/reports/training), found by its row heading."""
    for tr in page.select(f"#table-training-{table} tr"):
        heading = tr.select_one("th[scope=row]")
        if heading is not None and heading.text == row:
            return tr.select("td")[column].text
    raise AssertionError(f"no row {row!r} in {table}")


def test_training_figures_moved_to_the_reports(build, client_for):
    """The old counts page now lives in Reports; its address still leads there."""
    response = client_for("viewer").get("/training/summary")
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports/training")


def test_viewer_sees_counts_only_never_names(build, client_for, frozen):
    finished = build.cohort(start=TODAY - dt.timedelta(weeks=10))
    for i in range(10):
        person = build.candidate(f"Person Named{i}")
        build.mark(build.enrol(finished, person), [PRESENT] * (6 if i < 8 else 5))
    viewer = client_for("viewer")
    r = viewer.get("/reports/training?period=12m")
    assert r.status_code == 200
    page = parse(r)
    assert "Named" not in page.text
    assert _figure(page, "cohorts", "Finished") == "1"
    assert _figure(page, "people", "With a place on a finished cohort") == "10"
    assert _figure(page, "people", "Of whom completed") == "10"  # 8, rounded to 5
    # 2 did not complete: 1-7 people, so the rate would disclose them.
    assert _figure(page, "rates", "Completed, of those with a place on a finished cohort") == "*"
    for url in ["/training/candidates", "/training/cohorts", f"/training/cohorts/{finished.id}"]:
        assert viewer.get(url).status_code == 403


def test_viewer_small_numbers_are_suppressed_and_large_ones_shown(build, client_for, app, frozen):
    finished = build.cohort(start=TODAY - dt.timedelta(weeks=10), places=20)
    for i in range(20):
        build.mark(build.enrol(finished, build.candidate()), [PRESENT] * (6 if i < 10 else 5))
    page = parse(client_for("viewer").get("/reports/training?period=12m"))
    assert _figure(page, "people", "Of whom completed") == "10"
    assert _figure(page, "rates", "Completed, of those with a place on a finished cohort") == "50%"
    assert _figure(page, "people", "Equivalent training recognised") == "0"
    app.config["SMALL_NUMBER_LIMIT"] = 10
    page = parse(client_for("viewer").get("/reports/training?period=12m"))
    assert _figure(page, "people", "Of whom completed") == "*"


# --- the register: htmx contract, one tap, audit ----------------------------------
def test_register_full_page_without_htmx_and_fragment_with_it(build, client_for):
    cohort = build.cohort()
    build.enrol(cohort, build.candidate("Ana"))
    session = build.session(cohort, 6)
    client = client_for("facilitator")
    full = client.get(f"/training/sessions/{session.id}/register")
    assert full.status_code == 200 and parse(full).select_one("html") is not None
    assert "HX-Request" in full.headers.get("Vary", "")
    part = client.get(f"/training/sessions/{session.id}/register", headers={"HX-Request": "true"})
    root = parse(part).select_one("*")
    assert parse(part).select_one("html") is None and root.get("id") == "register"


def test_one_tap_marks_present_and_htmx_gets_the_row_back(build, client_for):
    cohort = build.cohort()
    person = build.candidate("Ana Tap")
    enrolment = build.enrol(cohort, person)
    build.mark(enrolment, [PRESENT] * 5)
    session = build.session(cohort, 6)
    client = client_for("facilitator")
    r = client.htmx("post", f"/training/sessions/{session.id}/register/{enrolment.id}", data={"status": PRESENT})
    assert r.status_code == 200
    row = parse(r).select_one("*")
    assert row.get("id") == f"register-row-{enrolment.id}" and parse(r).select_one("html") is None
    assert row.select_one(".training-status").text == "Present"
    assert "Training complete" in row.text
    assert row.select_one('button[aria-pressed="true"]').text.startswith("Present")
    with db.connection_context():
        entry = Attendance.get(Attendance.session == session, Attendance.enrolment == enrolment)
        assert entry.status == PRESENT and entry.recorded_by_id == client.user.id
        assert person.completed_training() == TODAY
        assert AuditEvent.for_record("attendance", entry.id).count() == 1


def test_without_javascript_each_button_posts_and_redirects_back(build, client_for):
    cohort = build.cohort()
    enrolment = build.enrol(cohort, build.candidate())
    session = build.session(cohort, 2)
    client = client_for("facilitator")
    page = parse(client.get(f"/training/sessions/{session.id}/register"))
    forms = page.select(f"#register-row-{enrolment.id} form[method=post]")
    assert {f.select_one("input[name=status]")["value"] for f in forms} == {PRESENT, LATE, ABSENT, CAUGHT_UP}
    assert all(f["action"] == f"/training/sessions/{session.id}/register/{enrolment.id}" for f in forms)
    r = client.post(f"/training/sessions/{session.id}/register/{enrolment.id}", data={"status": LATE})
    assert r.status_code == 302 and r.headers["Location"].startswith(f"/training/sessions/{session.id}/register")
    r = client.post(f"/training/sessions/{session.id}/register/{enrolment.id}", data={"status": ABSENT})
    with db.connection_context():
        assert Attendance.get(Attendance.enrolment == enrolment).status == ABSENT
        assert Attendance.select().count() == 1
        actions = [e.action for e in AuditEvent.select().where(AuditEvent.record_type == "attendance")]
        assert actions == ["create", "update"]


def test_mark_everyone_present_then_correct_the_exceptions(build, client_for):
    cohort = build.cohort()
    enrolments = [build.enrol(cohort, build.candidate()) for _ in range(4)]
    build.enrol(cohort, build.candidate(), status=WAITING)
    session = build.session(cohort, 1)
    client = client_for("facilitator")
    r = client.htmx("post", f"/training/sessions/{session.id}/register/everyone-present")
    assert parse(r).select_one("*").get("id") == "register"
    client.post(f"/training/sessions/{session.id}/register/{enrolments[0].id}", data={"status": ABSENT})
    with db.connection_context():
        statuses = {a.enrolment_id: a.status for a in Attendance.select()}
        assert statuses == {e.id: (ABSENT if e is enrolments[0] else PRESENT) for e in enrolments}
        assert AuditEvent.select().where(AuditEvent.record_type == "attendance").count() == 5
    # Pressing it again changes nobody already recorded.
    client.post(f"/training/sessions/{session.id}/register/everyone-present")
    with db.connection_context():
        assert Attendance.get(Attendance.enrolment == enrolments[0]).status == ABSENT


def test_catch_up_with_date_and_with_whom(build, client_for):
    cohort = build.cohort()
    enrolment = build.enrol(cohort, build.candidate())
    session = build.session(cohort, 2)
    client = client_for("facilitator")
    r = client.htmx("post", f"/training/sessions/{session.id}/register/{enrolment.id}",
                    data={"status": CAUGHT_UP, "caught_up_on": "2026-04-20", "caught_up_with": "Jo Bennett"})
    assert "Caught up on 20 Apr 2026 with Jo Bennett" in text(r)
    with db.connection_context():
        entry = Attendance.get(Attendance.enrolment == enrolment)
        assert (entry.status, entry.caught_up_on, entry.caught_up_with) == (CAUGHT_UP, dt.date(2026, 4, 20),
                                                                             "Jo Bennett")


# --- bad input: a clear message, nothing saved changes, never a 500 -----------
def test_catch_up_without_a_date_is_refused_with_a_message(build, client_for):
    cohort = build.cohort()
    enrolment = build.enrol(cohort, build.candidate())
    build.mark(enrolment, [PRESENT])
    session = build.session(cohort, 1)
    client = client_for("facilitator")
    url = f"/training/sessions/{session.id}/register/{enrolment.id}"
    r = client.post(url, data={"status": CAUGHT_UP, "caught_up_on": ""})
    assert r.status_code == 422 and "Enter the date of the catch-up" in text(r)
    r = client.htmx("post", url, data={"status": CAUGHT_UP, "caught_up_on": "not a date"})
    assert r.status_code == 200 and parse(r).select_one("*").get("id") == f"register-row-{enrolment.id}"
    assert "Not a valid date" in text(r)
    date_input = parse(r).select_one("input[name=caught_up_on]")  # the message is tied to the field it is about
    assert date_input["aria-invalid"] == "true"
    assert "Not a valid date" in parse(r).select_one(f'#{date_input.get("aria-describedby")}').text
    r = client.post(url, data={"status": CAUGHT_UP, "caught_up_on": "2026-06-01"})
    assert r.status_code == 422 and "cannot be in the future" in text(r)
    r = client.post(url, data={"status": CAUGHT_UP, "caught_up_on": "2026-01-01"})
    assert r.status_code == 422 and "cannot be before the cohort began on 27 Mar 2026" in text(r)
    r = client.post(url, data={"status": "excellent"})
    assert r.status_code == 422
    with db.connection_context():
        assert Attendance.get(Attendance.enrolment == enrolment).status == PRESENT


def test_attendance_for_someone_not_enrolled_is_refused(build, client_for):
    cohort, other = build.cohort(), build.cohort(name="Round 2")
    waiting = build.enrol(cohort, build.candidate(), status=WAITING)
    elsewhere = build.enrol(other, build.candidate())
    session = build.session(cohort, 1)
    client = client_for("facilitator")
    for enrolment_id in (waiting.id, elsewhere.id, 999999):
        r = client.post(f"/training/sessions/{session.id}/register/{enrolment_id}", data={"status": PRESENT})
        assert r.status_code == 422 and "does not have a place on this cohort" in text(r)
    r = client.htmx("post", f"/training/sessions/{session.id}/register/{waiting.id}", data={"status": PRESENT})
    assert r.status_code == 422 and r.headers["HX-Retarget"] == "#page-alert"
    assert in_db(lambda: Attendance.select().count()) == 0


def test_a_register_post_without_its_csrf_token_saves_nothing(build, client_for):
    cohort = build.cohort()
    enrolment = build.enrol(cohort, build.candidate())
    session = build.session(cohort, 1)
    client = client_for("facilitator")
    r = client.post(f"/training/sessions/{session.id}/register/{enrolment.id}", data={"status": PRESENT}, csrf=False)
    assert r.status_code == 400
    r = client.post(f"/training/sessions/{session.id}/register/everyone-present", csrf=False)
    assert r.status_code == 400
    assert in_db(lambda: Attendance.select().count()) == 0


def test_the_register_of_a_future_session_does_not_open(build, client_for):
    cohort = build.cohort(start=TODAY + dt.timedelta(days=1))
    enrolment = build.enrol(cohort, build.candidate())
    session = build.session(cohort, 1)
    client = client_for("facilitator")
    page = client.get(f"/training/sessions/{session.id}/register")
    assert "opens on the day" in text(page) and not parse(page).select("#register button")
    r = client.post(f"/training/sessions/{session.id}/register/{enrolment.id}", data={"status": PRESENT})
    assert r.status_code == 422
    assert in_db(lambda: Attendance.select().count()) == 0


def cohort_form(**overrides):
    data = {"name": "Round 9", "venue": "Library", "places": "10"}
    for n in range(1, 7):
        data[f"session_{n}"] = (dt.date(2026, 6, 1) + dt.timedelta(weeks=n - 1)).isoformat()
    data.update(overrides)
    return data


def test_facilitator_sets_up_a_cohort(build, client_for, people):
    client = client_for("facilitator")
    form = parse(client.get("/training/cohorts/new"))
    assert form.select_one(f'input[name=facilitators][value="{people["facilitator"].id}"]').has("checked")
    r = client.post("/training/cohorts/new", data={**cohort_form(), "facilitators": str(people["facilitator"].id)})
    assert r.status_code == 302
    with db.connection_context():
        cohort = Cohort.get(Cohort.name == "Round 9")
        assert [s.held_on for s in cohort.sessions()][0] == dt.date(2026, 6, 1)
        assert [u.id for u in cohort.facilitators()] == [people["facilitator"].id]
        assert AuditEvent.for_record("cohort", cohort.id).first().action == "create"


def test_a_session_date_before_the_previous_one_is_refused(build, client_for, people):
    client = client_for("facilitator")
    bad = cohort_form(session_4="2026-06-02", facilitators=str(people["facilitator"].id))
    r = client.post("/training/cohorts/new", data=bad)
    assert r.status_code == 422 and "Session 4 must not be before session 3" in text(r)
    assert in_db(lambda: Cohort.select().count()) == 0
    cohort = build.cohort()
    before = in_db(lambda: [s.held_on for s in cohort.sessions()])
    r = client.post(f"/training/cohorts/{cohort.id}/edit",
                    data={**cohort_form(name="Round 1"), "session_3": "2026-06-05",
                          "facilitators": str(people["facilitator"].id)})
    assert r.status_code == 422 and "Session 2 must not be before session 1" not in text(r)
    assert "Session 3 must not be before session 2" in text(r)
    assert in_db(lambda: [s.held_on for s in cohort.sessions()]) == before


def test_a_session_with_a_register_cannot_move_into_the_future(build, client_for, people):
    cohort = build.cohort()
    build.mark(build.enrol(cohort, build.candidate()), [PRESENT, PRESENT])
    data = {**cohort_form(name="Round 1"), "facilitators": str(people["facilitator"].id)}
    for n in range(1, 7):
        data[f"session_{n}"] = (START + dt.timedelta(weeks=n - 1)).isoformat()
    client = client_for("facilitator")
    later = {**data, **{f"session_{n}": (TODAY + dt.timedelta(days=n)).isoformat() for n in range(2, 7)}}
    r = client.post(f"/training/cohorts/{cohort.id}/edit", data=later)
    assert r.status_code == 422 and "Session 2's register has already been taken" in text(r)
    assert "Session 3's register" not in text(r)  # no register yet: free to move
    assert in_db(lambda: build.session(cohort, 2).held_on) == START + dt.timedelta(weeks=1)
    # Correcting the date to another day that has passed is allowed.
    r = client.post(f"/training/cohorts/{cohort.id}/edit", data={**data, "session_2": (START + dt.timedelta(days=8)).isoformat()})
    assert r.status_code == 302
    assert in_db(lambda: build.session(cohort, 2).held_on) == START + dt.timedelta(days=8)


def test_numbers_and_text_out_of_bounds_get_messages_not_500(build, client_for, people):
    client = client_for("facilitator")
    fid = str(people["facilitator"].id)
    for places in ("99999999999999999999999", "0", "-3", "lots"):
        r = client.post("/training/cohorts/new", data=cohort_form(places=places, facilitators=fid))
        assert r.status_code == 422, places
    r = client.post("/training/cohorts/new", data=cohort_form(name="x" * 500, facilitators=fid))
    assert r.status_code == 422
    r = client.post("/training/cohorts/new", data=cohort_form(facilitators="999999"))
    assert r.status_code == 422
    assert in_db(lambda: Cohort.select().count()) == 0
    r = client.post("/training/curriculum", data={"minimum_sessions": "99999999999999999999", "title_1": "x"})
    assert r.status_code == 422


def test_duplicate_enrolment_is_refused(build, client_for):
    cohort = build.cohort()
    person = build.candidate("Dee Double")
    build.enrol(cohort, person)
    r = client_for("facilitator").post(f"/training/cohorts/{cohort.id}/enrol", data={"candidate": person.id})
    assert r.status_code == 422 and "Dee Double is already on this cohort" in text(r)
    assert in_db(lambda: Enrolment.select().count()) == 1
    # Someone already trained is not in the list, and a hand-made post cannot take a place either.
    trained = build.candidate("Tess Trained")
    build.mark(build.enrol(build.cohort(name="Round 0", start=START - dt.timedelta(weeks=10)), trained), [PRESENT] * 6)
    r = client_for("facilitator").post(f"/training/cohorts/{cohort.id}/enrol", data={"candidate": trained.id})
    assert r.status_code == 422 and "Tess Trained completed training on" in text(r)
    assert in_db(lambda: Enrolment.select().where(Enrolment.cohort == cohort).count()) == 1


def _offered(client, cohort) -> dict[int, str]:
    """The add-a-candidate list on the cohort page: candidate id -> the option's text."""
    page = parse(client.get(f"/training/cohorts/{cohort.id}"))
    return {int(o.get("value")): o.text.strip() for o in page.select("select[name=candidate] option")
            if o.get("value") != "0"}


def test_the_list_offers_only_who_may_be_added_and_the_check_is_the_same_rule(build, client_for, people):
    """Offered: not on this cohort now (a withdrawal may come back), not trained by the
    register under the current rule or by an equivalent; someone placed elsewhere is
    offered with where (a catch-up). Each one the list leaves out, posted by hand, is
    refused with the reason and nothing saved; each one it offers is accepted."""
    cohort, earlier = build.cohort("Round 9", places=20), build.cohort("Round 1", start=START - dt.timedelta(weeks=10))
    waiting_for_a_place = build.candidate("Una Placed")
    came_back = build.candidate("Will Return")
    build.enrol(cohort, came_back, status=WITHDRAWN)
    dropped_out = build.candidate("Dee Parted")
    build.mark(build.enrol(earlier, dropped_out, status=WITHDRAWN), [PRESENT] * 6)  # a withdrawal never completes
    short = build.candidate("Sho Rtone")
    build.mark(build.enrol(earlier, short), [PRESENT, PRESENT, ABSENT, PRESENT, PRESENT, PRESENT])
    trained = build.candidate("Tra Ined")
    build.mark(build.enrol(earlier, trained), [PRESENT, LATE, PRESENT, PRESENT, PRESENT, PRESENT])
    caught = build.candidate("Cau Ghtup")
    build.mark(build.enrol(earlier, caught), [PRESENT, CAUGHT_UP, PRESENT, PRESENT, PRESENT, PRESENT],
               catch_up={2: TODAY})
    elsewhere = build.candidate("Eq Uivalent")
    with db.connection_context():
        EquivalentTraining.create(candidate=elsewhere, provider="Recovery College", completed_on=dt.date(2025, 1, 2),
                                  evidence="certificate seen", recognised_by=people["facilitator"], recognised_on=TODAY)
    here = build.candidate("Al Ready")
    build.enrol(cohort, here)
    client = client_for("facilitator")
    offered = _offered(client, cohort)
    assert set(offered) == {waiting_for_a_place.id, came_back.id, dropped_out.id, short.id}
    assert "has a place in Round 1" in offered[short.id] and "has a place" not in offered[waiting_for_a_place.id]
    # The rule changes: 5 of 6 is enough, so Sho Rtone has completed and is no longer offered.
    with db.connection_context():
        Curriculum.update(minimum_sessions=5).execute()
    assert set(_offered(client, cohort)) == {waiting_for_a_place.id, came_back.id, dropped_out.id}
    for person, reason in [(short, "Sho Rtone completed training on"), (trained, "Tra Ined completed training on"),
                           (caught, "Cau Ghtup completed training on"), (elsewhere, "Eq Uivalent completed training on 2 Jan 2025"),
                           (here, "Al Ready is already on this cohort (has a place)")]:
        r = client.post(f"/training/cohorts/{cohort.id}/enrol", data={"candidate": person.id})
        assert r.status_code == 422 and reason in text(r), person.name
        assert person.id not in _offered(client, cohort)
    assert in_db(lambda: Enrolment.select().where(Enrolment.cohort == cohort).count()) == 2
    for person in (waiting_for_a_place, came_back, dropped_out):
        r = client.post(f"/training/cohorts/{cohort.id}/enrol", data={"candidate": person.id})
        assert r.status_code == 302, person.name
    assert in_db(lambda: Enrolment.select().where(Enrolment.cohort == cohort, Enrolment.status == PLACE).count()) == 4


def test_who_completed_asked_of_the_database_agrees_with_the_register_rule(build, people):
    """``Candidate.completed_ids`` (SQL, for the list) and ``completion_dates`` (the rule
    in Python) name the same people under every kind of rule."""
    from peerapp.training.completion import Rule
    cohort = build.cohort()
    patterns = [[PRESENT] * 6, [PRESENT, ABSENT, PRESENT, PRESENT, PRESENT, PRESENT],
                [ABSENT, PRESENT, PRESENT, PRESENT, PRESENT, ABSENT], [LATE, LATE, ABSENT, ABSENT, PRESENT, PRESENT],
                [PRESENT, CAUGHT_UP, ABSENT, PRESENT, ABSENT, PRESENT], [ABSENT] * 6, [PRESENT]]
    for i, marks in enumerate(patterns):
        build.mark(build.enrol(cohort, build.candidate(f"Person {i}")), marks, catch_up={2: TODAY})
    build.mark(build.enrol(build.cohort("Gone"), build.candidate("Withdrawn"), status=WITHDRAWN), [PRESENT] * 6)
    import peerapp.training.models as models
    with db.connection_context():
        for rule in [Rule(6, 6), Rule(6, 5), Rule(6, 4, frozenset({1, 6})), Rule(6, 3, frozenset({2})), Rule(6, 1),
                     Rule(6, 4, frozenset({3, 4}))]:
            in_sql = {row[0] for row in Candidate.completed_ids(rule).tuples()}
            saved, models.Curriculum.rule = models.Curriculum.rule, lambda self, rule=rule: rule
            try:
                by_rule = set(Candidate.completion_dates())
            finally:
                models.Curriculum.rule = saved
            assert in_sql == by_rule, rule
        assert len({row[0] for row in Candidate.completed_ids(Rule(6, 4)).tuples()}) == 5


def test_the_cohorts_lists_completed_counts_agree_with_the_register_rule(build, client_for):
    """The list counts completions in SQL (``Enrolment.met_on_register``); each cohort's
    number is the places whose register meets the rule in Python: a catch-up counts
    towards it, a required session missed never completes, the waiting list is not counted."""
    with db.connection_context():
        Curriculum.update(minimum_sessions=4, required_sessions="2").execute()
    first, second = build.cohort("Round 1"), build.cohort("Round 2", start=START + dt.timedelta(weeks=8))
    patterns = [([PRESENT] * 6, None),                                           # completed
                ([PRESENT, CAUGHT_UP, ABSENT, PRESENT, PRESENT, ABSENT], {2: TODAY}),  # caught up: completed
                ([ABSENT, CAUGHT_UP, ABSENT, PRESENT, ABSENT, PRESENT], {2: TODAY}),  # three with it: not
                ([PRESENT, ABSENT, PRESENT, PRESENT, PRESENT, PRESENT], None),       # missed required 2: not
                ([LATE, LATE, ABSENT, ABSENT, LATE, PRESENT], None),                 # late counts: completed
                ([PRESENT, PRESENT, PRESENT], None)]                                 # three of four: not
    for i, (marks, catch_up) in enumerate(patterns):
        build.mark(build.enrol(first, build.candidate(f"First {i}")), marks, catch_up=catch_up)
    for i, (marks, catch_up) in enumerate(patterns[:2]):
        build.mark(build.enrol(second, build.candidate(f"Second {i}")), marks, catch_up=catch_up)
    # Only places count: the waiting list's and a withdrawal's registers are not completions here.
    build.mark(build.enrol(second, build.candidate("Waiting"), status=WAITING), [PRESENT] * 6)
    build.mark(build.enrol(second, build.candidate("Gone"), status=WITHDRAWN), [PRESENT] * 6)
    page = parse(client_for("facilitator").get("/training/cohorts"))
    shown = {cohort.id: int(page.one(f"[data-cohort-id='{cohort.id}']").select("td")[-1].text)
             for cohort in (first, second)}
    with db.connection_context():
        by_rule = {cohort.id: len(Enrolment.completion_days(
            [e.id for e in Enrolment.select().where(Enrolment.cohort == cohort, Enrolment.status == PLACE)]))
            for cohort in (first, second)}
    assert shown == by_rule == {first.id: 3, second.id: 2}


def test_one_place_at_a_time_unless_a_facilitator_marks_a_catch_up(build, client_for):
    """Holding a place in a running cohort, a second is refused with the reason on the page;
    the list says where they hold one; ticked as a catch-up, the second place is given."""
    running, second = build.cohort("Round 3"), build.cohort("Round 4", start=START + dt.timedelta(weeks=8))
    person = build.candidate("Pat Twoplaces")
    build.enrol(running, person)
    client = client_for("facilitator")
    page = text(client.get(f"/training/cohorts/{second.id}"))
    assert "Pat Twoplaces" in page and "has a place in Round 3" in page
    r = client.post(f"/training/cohorts/{second.id}/enrol", data={"candidate": person.id})
    assert r.status_code == 422
    assert "Pat Twoplaces already holds a place in Round 3. One place at a time" in text(r)
    assert in_db(lambda: Enrolment.select().where(Enrolment.cohort == second).count()) == 0
    r = client.post(f"/training/cohorts/{second.id}/enrol", data={"candidate": person.id, "catch_up": "y"})
    assert r.status_code == 302
    with db.connection_context():
        given = Enrolment.get(Enrolment.cohort == second, Enrolment.candidate == person)
        assert (given.status, given.catch_up) == (PLACE, True)


def test_the_database_holds_one_place_at_a_time_even_past_the_service(build):
    import peewee as pw
    first, second = build.cohort("Round 5"), build.cohort("Round 6")
    person = build.candidate("Race Winner")
    build.enrol(first, person)
    with db.connection_context():
        with pytest.raises(pw.IntegrityError):
            with db.atomic():
                Enrolment.create(cohort=second, candidate=person, status=PLACE)
        Enrolment.create(cohort=second, candidate=person, status=PLACE, catch_up=True)  # a catch-up may


def test_offering_a_waiting_place_to_someone_placed_elsewhere_says_why(build, client_for):
    cohort, other = build.cohort("Round 7", places=1), build.cohort("Round 8")
    person = build.candidate("Wai Ting")
    build.enrol(other, person)
    build.enrol(cohort, person, status=WAITING)
    r = client_for("facilitator").post(f"/training/cohorts/{cohort.id}/offer-next", follow_redirects=True)
    assert "Wai Ting already holds a place in Round 8. One place at a time" in text(r)
    assert in_db(lambda: Enrolment.get(Enrolment.cohort == cohort).status) == WAITING


def test_when_the_cohort_is_full_candidates_wait_in_nomination_order(build, client_for):
    cohort = build.cohort(places=2)
    late, early = (build.candidate("Late Nominee", nominated_on=TODAY - dt.timedelta(days=5)),
                   build.candidate("Early Nominee", nominated_on=TODAY - dt.timedelta(days=50)))
    holders = [build.candidate(f"Holder {i}") for i in range(2)]
    client = client_for("facilitator")
    for person in holders + [late, early]:  # the later nominee asks first: order is by nomination
        assert client.post(f"/training/cohorts/{cohort.id}/enrol", data={"candidate": person.id}).status_code == 302
    with db.connection_context():
        assert cohort.places_taken() == 2
        assert [e.candidate.name for e in cohort.waiting_list()] == ["Early Nominee", "Late Nominee"]
    # No free place yet: offering one is refused and changes nothing.
    r = client.post(f"/training/cohorts/{cohort.id}/offer-next", follow_redirects=True)
    assert "All 2 places are taken" in text(r)
    assert in_db(lambda: cohort.places_taken()) == 2
    # Someone withdraws, with a reason; the place goes to the first in line.
    holder = in_db(lambda: Enrolment.get(Enrolment.candidate == holders[0]))
    r = client.post(f"/training/enrolments/{holder.id}/withdraw", data={"reason": ""})
    assert r.status_code == 422 and "Enter the reason" in text(r)
    client.post(f"/training/enrolments/{holder.id}/withdraw", data={"reason": "Moved away"})
    client.post(f"/training/cohorts/{cohort.id}/offer-next")
    with db.connection_context():
        holder = Enrolment.get_by_id(holder.id)
        assert (holder.status, holder.withdrawal_reason) == (WITHDRAWN, "Moved away")
        assert Enrolment.get(Enrolment.candidate == late).status == WAITING
        assert Enrolment.get(Enrolment.candidate == early).status == PLACE
        assert cohort.places_taken() == 2
        actions = {e.action for e in AuditEvent.select().where(AuditEvent.record_type == "enrolment")}
        assert actions == {"enrol", "withdraw"}


def test_a_freed_place_goes_to_the_waiting_list_not_to_a_newcomer(build, client_for):
    cohort = build.cohort(places=1)
    holder, waiting, newcomer = build.candidate("Holder"), build.candidate("Waiting One"), build.candidate("Newcomer")
    holding = build.enrol(cohort, holder)
    build.enrol(cohort, waiting, status=WAITING)
    client = client_for("facilitator")
    client.post(f"/training/enrolments/{holding.id}/withdraw", data={"reason": "Moved away"})
    r = client.post(f"/training/cohorts/{cohort.id}/enrol", data={"candidate": newcomer.id}, follow_redirects=True)
    assert "Others are already waiting" in text(r)
    with db.connection_context():
        assert Enrolment.get(Enrolment.candidate == newcomer).status == WAITING
        assert cohort.places_taken() == 0
    client.post(f"/training/cohorts/{cohort.id}/offer-next")
    with db.connection_context():
        assert Enrolment.get(Enrolment.candidate == waiting).status == PLACE
        assert Enrolment.get(Enrolment.candidate == newcomer).status == WAITING


def test_coming_back_after_withdrawing_keeps_the_reason(build, client_for):
    cohort = build.cohort()
    person = build.candidate("Back Again")
    enrolment = build.enrol(cohort, person)
    client = client_for("facilitator")
    client.post(f"/training/enrolments/{enrolment.id}/withdraw", data={"reason": "Family commitments"})
    assert client.post(f"/training/cohorts/{cohort.id}/enrol", data={"candidate": person.id}).status_code == 302
    with db.connection_context():
        again = Enrolment.get_by_id(enrolment.id)
        assert (again.status, again.withdrawal_reason, again.withdrawn_on) == (PLACE, "Family commitments", TODAY)
    assert "Withdrew earlier, on 1 May 2026: Family commitments" in text(client.get(f"/training/candidates/{person.id}"))


def test_places_cannot_drop_below_the_places_taken(build, client_for, people):
    cohort = build.cohort(places=3)
    for _ in range(3):
        build.enrol(cohort, build.candidate())
    data = {**cohort_form(name="Round 1", places="2"), "facilitators": str(people["facilitator"].id)}
    for n in range(1, 7):
        data[f"session_{n}"] = (START + dt.timedelta(weeks=n - 1)).isoformat()
    r = client_for("facilitator").post(f"/training/cohorts/{cohort.id}/edit", data=data)
    assert r.status_code == 422 and "3 people already have places" in text(r)
    assert in_db(lambda: Cohort.get_by_id(cohort.id).places) == 3


# --- nominations, equivalents, curriculum -------------------------------------------
def test_peer_lead_nominates_for_their_own_team(client_for, people, frozen):
    client = client_for("peer_lead")
    r = client.post("/training/candidates/new", data={
        "name": "Nia Newcomer", "preferred_name": "Nia", "pronouns": "she/her", "email": "Nia@Example.org",
        "phone": "07700 900000", "nominated_on": "2026-04-30"})
    assert r.status_code == 302
    with db.connection_context():
        person = Candidate.get(Candidate.name == "Nia Newcomer")
        assert (person.team_id, person.nominated_by_id, person.email) == (people["team"].id, people["lead"].id,
                                                                          "nia@example.org")
        assert AuditEvent.for_record("candidate", person.id).first().action == "create"
    r = client.post("/training/candidates/new", data={"name": "Someone Else", "email": "nia@example.org",
                                                      "nominated_on": "2026-04-30"})
    assert r.status_code == 422 and "already been nominated" in text(r)
    r = client.post("/training/candidates/new", data={"name": "", "nominated_on": "2027-01-01", "phone": "call me"})
    assert r.status_code == 422
    assert {"Enter the candidate's full name", "This date cannot be in the future"} <= set(
        li.text for li in parse(r).select(".nhsuk-error-summary li"))
    assert in_db(lambda: Candidate.select().count()) == 1
    assert client_for("facilitator").get("/training/candidates/new").status_code == 403


def test_facilitator_recognises_equivalent_training(build, client_for):
    person = build.candidate("Eve Quivalent")
    client = client_for("facilitator")
    r = client.post(f"/training/candidates/{person.id}/equivalent", data={
        "provider": "Recovery College", "completed_on": "2026-01-10", "evidence": ""})
    assert r.status_code == 422 and "Describe the evidence" in text(r)
    client.post(f"/training/candidates/{person.id}/equivalent", data={
        "provider": "Recovery College", "completed_on": "2026-01-10", "evidence": "Certificate seen"})
    with db.connection_context():
        row = EquivalentTraining.get(EquivalentTraining.candidate == person)
        assert row.recognised_by_id == client.user.id and row.recognised_on == TODAY
        assert person.completed_training() == dt.date(2026, 1, 10)
    cert = client.get(f"/training/candidates/{person.id}/certificate")
    assert cert.status_code == 200 and "Recovery College" in text(cert)


def test_changing_the_rule_changes_who_has_completed(build, client_for):
    cohort = build.cohort()
    person = build.candidate()
    build.mark(build.enrol(cohort, person), [PRESENT, PRESENT, PRESENT, ABSENT, PRESENT, PRESENT])
    assert in_db(person.completed_training) is None
    client = client_for("facilitator")
    titles = {f"title_{n}": t for n, t in in_db(lambda: Curriculum.current().titles()).items()}
    r = client.post("/training/curriculum", data={**titles, "minimum_sessions": "5", "required_sessions": ["4", "5"]})
    assert r.status_code == 302
    assert in_db(lambda: (Curriculum.current().minimum_sessions, Curriculum.current().required())) == (5, {4, 5})
    assert in_db(person.completed_training) is None  # session 4 is now required
    r = client.post("/training/curriculum", data={**titles, "title_6": "Next steps", "minimum_sessions": "5",
                                                  "required_sessions": ["1"]})
    assert r.status_code == 302
    assert in_db(person.completed_training) == TODAY
    assert in_db(lambda: Curriculum.current().titles()[6]) == "Next steps"
    r = client.post("/training/curriculum", data={**titles, "minimum_sessions": "2",
                                                  "required_sessions": ["1", "2", "3"]})
    assert r.status_code == 422 and "only 2 are needed" in text(r)


# --- certificate, CSV, home ---------------------------------------------------------
def test_certificate_only_for_completed_candidates(build, client_for):
    cohort = build.cohort()
    done, not_yet = build.candidate("Cert Ified"), build.candidate("Not Yet")
    build.mark(build.enrol(cohort, done), [PRESENT] * 6)
    build.mark(build.enrol(cohort, not_yet), [PRESENT] * 5)
    client = client_for("facilitator")
    assert client.get(f"/training/candidates/{not_yet.id}/certificate").status_code == 404
    r = client.get(f"/training/candidates/{done.id}/certificate")
    page = parse(r)
    assert page.select_one("#certificate .training-certificate__name").text == "Cert Ified"
    assert page.select_one("button[data-print]") is not None
    assert page.select_one('link[href$="css/training.css"]') is not None
    with db.connection_context():
        assert AuditEvent.select().where(AuditEvent.record_type == "candidate",
                                         AuditEvent.summary.contains("certificate")).count() == 1


def test_the_certificate_never_names_a_cohort_the_person_withdrew_from(build, client_for):
    left, stayed = build.cohort(name="Left Round"), build.cohort(name="Stayed Round")
    person = build.candidate("Moved Over")
    build.mark(build.enrol(left, person, status=WITHDRAWN), [PRESENT] * 6)
    build.mark(build.enrol(stayed, person), [PRESENT] * 6)
    page = text(client_for("facilitator").get(f"/training/candidates/{person.id}/certificate"))
    assert "Stayed Round" in page and "Left Round" not in page


def test_a_withdrawn_enrolment_is_never_shown_as_completed(build, client_for):
    cohort = build.cohort()
    person = build.candidate("Gone Early")
    enrolment = build.enrol(cohort, person, status=WITHDRAWN)
    build.mark(enrolment, [PRESENT] * 6)
    page = parse(client_for("facilitator").get(f"/training/candidates/{person.id}"))
    assert "Training not complete yet" in page.select_one("#completion").text
    assert page.select_one(f"#enrolment-{enrolment.id}").text.endswith("Withdrawn")


def test_csv_export_is_an_audited_attachment_safe_from_formulas(build, client_for):
    cohort = build.cohort()
    nasty = build.candidate("=HYPERLINK(\"http://evil\")", preferred_name="@SUM(1)")
    build.mark(build.enrol(cohort, nasty), [PRESENT, ABSENT])
    build.enrol(cohort, build.candidate("Zoë Ünicode"))
    r = client_for("facilitator").get(f"/training/cohorts/{cohort.id}/attendance.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][0] == "Name" and len(rows[0]) == 11
    by_name = {row[0]: row for row in rows[1:]}
    assert "'=HYPERLINK(\"http://evil\")" in by_name and by_name["'=HYPERLINK(\"http://evil\")"][1] == "'@SUM(1)"
    assert by_name["'=HYPERLINK(\"http://evil\")"][4:6] == ["Present", "Absent"]
    assert "Zoë Ünicode" in by_name
    with db.connection_context():
        assert AuditEvent.for_record("cohort", cohort.id).where(AuditEvent.action == "export").count() == 1


def test_facilitator_home_shows_my_cohorts_and_the_next_register(build, client_for):
    cohort = build.cohort(start=TODAY - dt.timedelta(weeks=2))  # session 3 is today
    for _ in range(3):
        build.enrol(cohort, build.candidate())
    build.cohort(name="Someone else's", facilitator=False)
    page = parse(client_for("facilitator").get("/"))
    panel = page.select_one("#training-home")
    assert panel is not None
    today_session = build.session(cohort, 3)
    assert panel.select_one(f'a[href="/training/sessions/{today_session.id}/register"]') is not None
    assert "Today" in panel.select_one("#next-session").text
    assert [a.text for a in panel.select("#my-cohorts tbody a")] == ["Round 1"]
    assert "3 of 12" in panel.select_one("#my-cohorts").text
    assert parse(client_for("clinician").get("/")).select_one("#training-home") is None


def test_cohort_page_shows_the_attendance_grid(build, client_for):
    cohort = build.cohort()
    person = build.candidate("Grid Person")
    enrolment = build.enrol(cohort, person)
    build.mark(enrolment, [PRESENT, LATE, ABSENT, CAUGHT_UP], catch_up={4: TODAY})
    page = parse(client_for("facilitator").get(f"/training/cohorts/{cohort.id}"))
    row = page.select_one(f'#attendance-grid tr[data-enrolment-id="{enrolment.id}"]')
    cells = [td.text for td in row.select("td")]
    # Key columns first, so a tablet shows them without swiping; then the sessions.
    assert cells[:2] == ["Not yet", "Withdraw Grid Person"]
    assert cells[2:6] == ["Present", "Late", "Absent", "Caught up 1 May 2026"]


# --- demo data ---------------------------------------------------------------------------
def test_demo_data_has_a_finished_and_a_running_cohort(app):
    from peerapp.demo import load_demo
    with app.app_context(), db.connection_context():
        load_demo()
        from peerapp.models import User
        trained = list(Candidate.trained())
        names = {c.name for c in trained}
        assert {"Sam Rivers", "Chris Lee"} <= names
        assert User.by_email("peer@demo.peerapp").id in {c.user_id for c in trained}
        assert len([c for c in trained if c.user_id is None]) >= 2
        assert EquivalentTraining.select().count() >= 1
        assert Enrolment.select().where(Enrolment.status == WITHDRAWN).count() >= 1
        from peerapp import clock
        states = sorted(c.state(clock.today()) for c in Cohort.select())
        assert states == ["finished", "running"]


@pytest.mark.sqlite_only(reason="upgrades a database built with raw SQL in SQLite's dialect; on PostgreSQL every migration runs from empty for the template")
def test_migration_upgrades_a_database_made_by_the_previous_schema(tmp_path):
    """m0010 on a house-only database keeps its rows and adds the training tables."""
    from peerapp import migrations
    from peerapp.db import open_database

    database = open_database(str(tmp_path / "old.sqlite3"))
    with database.connection_context():
        before = [m for m in migrations.available() if m < "m0010"][-1]
        migrations.upgrade(database, target=before)
        assert "m0010_training" not in migrations.applied(database)
        database.execute_sql("INSERT INTO team (name, base_address, active, created_at) "
                             "VALUES ('Old Team', '', 1, '2025-01-01 00:00:00')")
        ran = migrations.upgrade(database, target="m0010_training")
        assert ran == ["m0010_training"]  # nothing else between the previous schema and ours
        assert database.execute_sql("SELECT name FROM team").fetchall() == [("Old Team",)]
        assert database.execute_sql("SELECT COUNT(*) FROM curriculum_session").fetchone()[0] == 6
        tables = {r[0] for r in database.execute_sql("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"candidate", "cohort", "cohort_session", "enrolment", "attendance", "equivalent_training"} <= tables


def test_ids_too_large_for_the_database_are_404_not_500(build, client_for):
    client = client_for("facilitator")
    huge = "9" * 30
    for url in [f"/training/cohorts/{huge}", f"/training/candidates/{huge}", f"/training/sessions/{huge}/register",
                f"/training/candidates/{huge}/certificate"]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/training/sessions/{huge}/register/{huge}", data={"status": PRESENT}).status_code == 404
    cohort = build.cohort()
    assert client.post(f"/training/cohorts/{cohort.id}/enrol", data={"candidate": huge}).status_code == 422


GARBAGE = [
    {},
    {"name": "\x00\x01", "places": "1e9", "session_1": "31/02/2026", "facilitators": "abc"},
    {"status": "caught_up", "caught_up_on": "2026-13-45", "caught_up_with": "x" * 5000},
    {"candidate": "-1", "reason": "x" * 5000, "provider": "\x07", "completed_on": "yesterday", "evidence": "y" * 30000},
    {"minimum_sessions": "-99999999999999999999", "required_sessions": "9", "title_1": "\x1b[31m"},
    {"email": "not-an-email", "phone": "<script>", "nominated_on": "0000-00-00", "name": "z" * 1000},
]


def test_garbage_posts_never_cause_a_500(build, client_for):
    cohort = build.cohort()
    person = build.candidate()
    enrolment = build.enrol(cohort, person)
    session = build.session(cohort, 1)
    before = in_db(lambda: (Cohort.select().count(), Enrolment.select().count(), Attendance.select().count(),
                            Candidate.select().count(), EquivalentTraining.select().count()))
    facilitator_urls = ["/training/cohorts/new", f"/training/cohorts/{cohort.id}/edit",
                        f"/training/cohorts/{cohort.id}/enrol", f"/training/cohorts/{cohort.id}/offer-next",
                        f"/training/sessions/{session.id}/register/{enrolment.id}",
                        f"/training/candidates/{person.id}/equivalent", "/training/curriculum",
                        f"/training/candidates/{person.id}/edit", f"/training/enrolments/{enrolment.id}/withdraw"]
    for client, urls in [(client_for("facilitator"), facilitator_urls),
                         (client_for("peer_lead"), ["/training/candidates/new", f"/training/candidates/{person.id}/edit"])]:
        for url in urls:
            for data in GARBAGE:
                for send in (client.post, lambda u, data: client.htmx("post", u, data=data)):
                    response = send(url, data=data)
                    assert response.status_code < 500, (url, data, response.status_code)
    after = in_db(lambda: (Cohort.select().count(), Enrolment.select().count(), Attendance.select().count(),
                           Candidate.select().count(), EquivalentTraining.select().count()))
    assert after == before
    assert in_db(lambda: Curriculum.current().titles()[1]) == "Principles and impact of peer support"


def test_the_csv_export_needs_a_recent_login(app, users, clock):
    """An export takes names off the system: the password is asked again after 15 minutes."""
    import datetime as dt

    from peerapp.models import LoginSession

    clock.freeze(dt.datetime(2026, 6, 1, 9))
    client = app.test_client()
    with app.app_context():
        token = LoginSession.start(users["facilitator"])
    with client.session_transaction() as session:
        session["sid"], session["_user_id"] = token, str(users["facilitator"].id)
    clock.advance(minutes=20)
    response = client.get("/training/cohorts/1/attendance.csv")
    assert response.status_code == 302 and "/account/confirm" in response.headers["Location"]
