"""Presence pages: who sees what (places above all), the board's refresh with and
without JavaScript, the ladder through the pages, and the banner on every page."""
from __future__ import annotations

import datetime as dt

import pytest

from peerapp.audit import AuditEvent
from peerapp.db import db
from peerapp.presence import services
from peerapp.presence.models import BaseSignIn, Visit
from tests.dom import parse
from tests.test_presence import T0, people, started  # noqa: F401  (fixtures)

PLACE = "Flat 3, 17 Quarry Lane"


@pytest.fixture
def go(app):
    """Start a visit under the test's clock; requests push their own app context."""
    def start(*args, **kwargs):
        with app.app_context():
            return started(*args, **kwargs)
    return start


def board_meta_refresh(html: str) -> int | None:
    """The refresh a page asks of browsers without JavaScript (a meta inside noscript)."""
    found = parse(html).select("noscript > meta[http-equiv=refresh]")
    return int(found[0].get("content")) if found else None


def test_the_board_refreshes_itself_with_and_without_javascript(people, go, login, clock):
    go(people["peer"], people["peer"], place=PLACE)
    lead = login(people["lead"])
    page = lead.get("/presence/board")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # JS off: the browser reloads within 30 s; JS on: htmx polls every 20 s, no inline script.
    assert board_meta_refresh(html) is not None and board_meta_refresh(html) <= 30
    assert 'hx-trigger="every 20s"' in html and 'id="overdue-board"' in html
    assert "<script>" not in html and 'src="/static/js/presence.js"' in html
    assert "Updated at" in html and "10:00:00" in html
    assert "not a certified alarm-receiving service (BS 8484)" in html
    # The poll gets the fragment only (root carries the id htmx swaps), with the new time.
    clock.advance(minutes=66)
    poll = lead.get("/presence/board", headers={"HX-Request": "true"})
    text = poll.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="overdue-board"') and "<html" not in text
    assert "11:06:00" in text and "Overdue" in text and "I am calling them" in text
    assert "Vary" in poll.headers and "HX-Request" in poll.headers["Vary"]


def test_most_urgent_first_with_words_and_icons(people, go, login, clock):
    calm = go(people["peer"], people["peer"], minutes=120)
    late = go(people["other"], people["other"], minutes=30)
    clock.advance(minutes=70)  # the other is escalated (30 + 5 + 30 = 65), the peer is on a visit
    html = login(people["lead"]).get("/presence/board").get_data(as_text=True)
    assert html.index(f'id="visit-{late.id}"') < html.index(f'id="visit-{calm.id}"')
    assert "‼</span> Escalated to manager" in html and "→</span> On a visit" in html


def test_places_are_seen_only_by_the_worker_and_the_teams_leads(people, go, login, make_user, clock, team):
    visit = go(people["volunteer"], people["lead"], place=PLACE)
    assert PLACE in login(people["volunteer"]).get(f"/presence/visits/{visit.id}").get_data(as_text=True)
    assert PLACE in login(people["lead"]).get(f"/presence/visits/{visit.id}").get_data(as_text=True)
    assert PLACE in login(people["manager"]).get(f"/presence/visits/{visit.id}").get_data(as_text=True)
    other_peer = login(people["other"])
    assert other_peer.get(f"/presence/visits/{visit.id}").status_code == 404
    today = other_peer.get("/presence/").get_data(as_text=True)
    assert "Chris Volunteer" in today and "Out on a visit" in today and PLACE not in today
    with db.connection_context():
        from peerapp.models import Team
        elsewhere = Team.create(name="Elsewhere")
    foreign_lead = login(make_user("peer_lead", team_=elsewhere))
    assert foreign_lead.get(f"/presence/visits/{visit.id}").status_code == 404
    assert PLACE not in foreign_lead.get("/presence/board").get_data(as_text=True)
    for role in ("clinician",):
        client = login(people[role])
        for url in ("/presence/", "/presence/board", f"/presence/visits/{visit.id}", "/presence/visits/new"):
            assert client.get(url).status_code == 403, url
    with db.connection_context():
        assert AuditEvent.select().where(AuditEvent.record_type == "visit", AuditEvent.action == "view").count() == 3


def test_viewer_and_facilitator_see_nothing_here(people, go, make_user, login, clock):
    go(people["peer"], people["peer"], place=PLACE)
    for role in ("viewer", "facilitator", "admin"):
        client = login(make_user(role))
        for url in ("/presence/", "/presence/board", "/presence/visits/1", "/presence/settings"):
            response = client.get(url)
            assert response.status_code == 403 and PLACE not in response.get_data(as_text=True), (role, url)
        assert "Presence" not in client.get("/").get_data(as_text=True)


def test_a_peer_plans_starts_extends_and_checks_out_through_the_pages(people, go, login, clock):
    peer = login(people["peer"])
    form = peer.get("/presence/visits/new").get_data(as_text=True)
    assert "Expected back at" in form
    bad = peer.post("/presence/visits/new", data={"worker": people["peer"].id, "day": "2026-11-30",
                                                  "start_time": "10:00", "return_time": "25:99", "place": PLACE,
                                                  "buddy": 0, "referral": 0})
    assert bad.status_code == 422 and "Enter a time like 14:30" in bad.get_data(as_text=True)
    assert PLACE in bad.get_data(as_text=True)  # typed text kept
    made = peer.post("/presence/visits/new", data={"worker": people["peer"].id, "day": "2026-11-30",
                                                   "start_time": "10:00", "return_time": "11:00", "place": PLACE,
                                                   "buddy": people["lead"].id, "referral": 0,
                                                   "contact_phone": "07700 900123"})
    assert made.status_code == 303
    with db.connection_context():
        visit = Visit.get(Visit.worker == people["peer"].id)
    url = f"/presence/visits/{visit.id}"
    assert peer.post(url + "/start", data={"version": 1}).status_code == 303
    stale = peer.post(url + "/start", data={"version": 1})
    assert stale.status_code == 409 and "just changed" in stale.get_data(as_text=True)
    clock.advance(minutes=50)
    assert peer.post(url + "/extend", data={"version": 2, "minutes": "custom", "custom_minutes": 20}).status_code == 409
    assert peer.post(url + "/extend", data={"version": 2, "minutes": "30"}).status_code == 303
    assert peer.post(url + "/check-out", data={"version": 3}).status_code == 303
    page = peer.get(url).get_data(as_text=True)
    assert "Checked out safe" in page and "Extended" in page and "+30 min" in page


def test_the_ladder_through_the_board_and_the_banner(people, go, login, clock):
    visit = go(people["peer"], people["peer"], place=PLACE)
    lead, manager = login(people["lead"]), login(people["manager"])
    assert 'id="presence-banner"' not in lead.get("/").get_data(as_text=True)
    clock.advance(minutes=66)
    home = lead.get("/").get_data(as_text=True)
    assert 'id="presence-banner"' in home and "1 late visit waiting" in home
    assert 'id="presence-banner"' in lead.get("/presence/visits/new").get_data(as_text=True)  # every page
    assert 'id="presence-banner"' not in manager.get("/").get_data(as_text=True)  # not escalated yet
    ack = lead.htmx("post", f"/presence/visits/{visit.id}/acknowledge", data={"step": "peer_lead", "back": "board"})
    text = ack.get_data(as_text=True)
    assert ack.status_code == 200 and text.lstrip().startswith('<div id="overdue-board"')
    assert "calling them since" in text
    again = lead.htmx("post", f"/presence/visits/{visit.id}/acknowledge", data={"step": "peer_lead", "back": "board"})
    assert "just acknowledged" in again.get_data(as_text=True)
    followed = lead.get("/").get_data(as_text=True)
    assert 'id="presence-banner"' not in followed  # no alarm once someone is calling ...
    assert "1 late visit being followed up, not yet resolved" in followed  # ... but not out of sight
    clock.advance(minutes=30)
    assert "1 late visit waiting" in manager.get("/").get_data(as_text=True)
    assert manager.post(f"/presence/visits/{visit.id}/acknowledge", data={"step": "manager"}).status_code == 303
    bad = manager.post(f"/presence/visits/{visit.id}/outcome", data={"outcome": "not_reached", "notes": ""})
    assert bad.status_code == 409 and "emergency procedure" in bad.get_data(as_text=True)
    done = manager.post(f"/presence/visits/{visit.id}/outcome", data={"outcome": "safe", "notes": "Answered at last"})
    assert done.status_code == 303
    timeline = manager.get(f"/presence/visits/{visit.id}").get_data(as_text=True)
    for words in ("Planned", "Started", "Overdue", "Peer lead: I am calling them", "Escalated to the manager",
                  "Manager acknowledged the escalation", "Resolved: reached, safe"):
        assert words in timeline, words
    assert 'presence-banner' not in manager.get("/").get_data(as_text=True)
    assert 'presence-banner' not in lead.get("/").get_data(as_text=True)


def test_a_volunteer_never_sees_another_persons_visit_place(people, go, login, clock):
    theirs = go(people["peer"], people["peer"], place=PLACE)
    own = go(people["volunteer"], people["lead"], place="Volunteers own place")
    volunteer = login(people["volunteer"])
    assert volunteer.get(f"/presence/visits/{theirs.id}").status_code == 404
    assert volunteer.get("/presence/board").status_code == 403
    assert "Volunteers own place" in volunteer.get(f"/presence/visits/{own.id}").get_data(as_text=True)
    for url in ("/presence/", "/presence/visits/new", f"/presence/visits/{own.id}", "/"):
        assert PLACE not in volunteer.get(url).get_data(as_text=True), url
    # Their peer lead plans and starts their visits: the form says so and offers nobody.
    assert "Only a peer lead can plan your visits" in volunteer.get("/presence/visits/new").get_data(as_text=True)


def test_a_double_tapped_plan_stores_one_visit(people, login, clock):
    peer = login(people["peer"])
    data = {"worker": people["peer"].id, "day": "2026-11-30", "start_time": "10:00", "return_time": "11:00",
            "place": PLACE, "buddy": 0, "referral": 0}
    assert peer.post("/presence/visits/new", data=dict(data)).status_code == 303
    again = peer.post("/presence/visits/new", data=dict(data))
    assert again.status_code == 409 and "already planned" in again.get_data(as_text=True)
    with db.connection_context():
        assert Visit.select().where(Visit.worker == people["peer"].id).count() == 1


def test_sign_in_for_someone_who_phoned(people, go, login, clock):
    lead = login(people["lead"])
    assert lead.post("/presence/sign", data={"action": "in", "person": people["volunteer"].id}).status_code == 303
    page = lead.get("/presence/").get_data(as_text=True)
    assert "phoned in, recorded by Priya Lead" in page
    peer = login(people["peer"])
    peer.post("/presence/sign", data={"action": "out", "person": people["volunteer"].id})
    with db.connection_context():
        assert BaseSignIn.get(BaseSignIn.user == people["volunteer"].id).signed_out_at is None  # refused
    assert peer.post("/presence/sign", data={"action": "in"}).status_code == 303
    with db.connection_context():
        assert BaseSignIn.get(BaseSignIn.user == people["peer"].id).signed_in_by_id == people["peer"].id


def test_settings_are_bounded_and_apply_from_now(people, go, login, clock):
    lead = login(people["lead"])
    bad = lead.post("/presence/settings", data={"reminder_minutes": "99999999999999999999", "grace_minutes": 5,
                                                "escalate_minutes": 30, "sign_out_hour": 20, "keep_place_days": 30})
    assert bad.status_code == 422
    ok = lead.post("/presence/settings", data={"reminder_minutes": 10, "grace_minutes": 0, "escalate_minutes": 15,
                                               "sign_out_hour": 19, "keep_place_days": 7})
    assert ok.status_code == 303
    visit = go(people["peer"], people["peer"])
    assert visit.overdue_at == T0 + dt.timedelta(hours=1) and visit.escalate_at == T0 + dt.timedelta(minutes=75)


def test_the_board_and_the_day_cost_the_same_queries_with_more_people_out(people, go, login, make_user, clock):
    from peerapp.db import counting_queries

    lead = login(people["lead"])

    def cost():
        counts = []
        for url in ("/presence/board", "/presence/", "/"):
            with counting_queries() as counted:
                assert lead.get(url).status_code == 200
            counts.append(counted.n)
        return counts

    go(people["peer"], people["lead"])
    with db.connection_context():
        services.sign_in(people["other"], by=people["other"])
    clock.advance(minutes=70)
    few = cost()
    clock.freeze(T0)
    for n in range(6):
        worker = make_user("peer")
        go(worker, people["lead"], minutes=30 + n)
        with db.connection_context():
            services.sign_in(make_user("peer"), by=people["lead"])
    clock.advance(minutes=70)
    assert min(few) > 0 and cost() == few


from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

nasty = st.one_of(st.text(max_size=200), st.sampled_from([
    "\x00", "\u202e\u202d", "9" * 40, "NaN", "-1", "25:99", "2026-02-30", "<script>alert(1)</script>",
    '"><img src=x hx-get="/logout" hx-trigger="load">', "x" * 10_000]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=nasty, b=nasty, c=nasty)
def test_fuzzed_presence_forms_never_cause_a_server_error(people, go, login, clock, a, b, c):
    lead = login(people["lead"])
    vid = go(people["peer"], people["peer"]).id  # ended again below, for the next example
    for response in (
        lead.post("/presence/visits/new", data={"worker": a, "day": b, "start_time": c, "return_time": a,
                                                "place": b, "buddy": c, "referral": a, "contact_phone": b}),
        lead.post(f"/presence/visits/{vid}/extend", data={"version": a, "minutes": b, "custom_minutes": c,
                                                          "reason": a}),
        lead.post(f"/presence/visits/{vid}/outcome", data={"outcome": a, "notes": b, "emergency_followed": c}),
        lead.post(f"/presence/visits/{vid}/acknowledge", data={"step": a, "back": b}),
        lead.post("/presence/sign", data={"action": a, "person": b}),
        lead.post("/presence/settings", data={"reminder_minutes": a, "grace_minutes": b, "escalate_minutes": c,
                                              "sign_out_hour": a, "keep_place_days": b}),
    ):
        assert response.status_code < 500
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    with db.connection_context():
        Visit.update(state="ended").where(Visit.worker == people["peer"].id).execute()


def test_a_person_that_is_not_a_plain_number_is_refused_not_a_server_error(people, login):
    """'²' passes str.isdigit() but not int(): it was a 500."""
    lead = login(people["lead"])
    for odd in ("²", "١٢", "-1", "x"):
        assert lead.post("/presence/sign", data={"action": "in", "person": odd}).status_code == 400, odd
