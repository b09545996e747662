"""Work-WRAP: writing in sections, versions, the stale-save conflict, nothing
typed lost, the section template as data, the migration and the demo."""
from __future__ import annotations

import datetime as dt

import peewee
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerapp.audit import AuditEvent
from peerapp.db import db
from peerapp.wrap.models import WrapEntry, WrapPlan, WrapSection, WrapVersion
from tests.dom import form_values, parse

TEST_PASSWORD = "correct horse battery staple"  # the password tests/conftest.py gives every user

KEYS = ["well_at_work", "toolbox", "daily_maintenance", "triggers", "early_warning_signs",
        "breaking_down", "if_unwell", "returning", "working_arrangements"]


def fields(response) -> dict[str, str]:
    """Form controls of a page by name: textareas' text, inputs' values."""
    return form_values(response)


def save(client, base: int, **texts):
    data = {"base_version": str(base)}
    data.update({f"section_{k}": v for k, v in texts.items()})
    return client.post("/wrap/write", data=data)


def plan_of(user) -> WrapPlan | None:
    with db.connection_context():
        return WrapPlan.of(user)


def texts_of(version: WrapVersion) -> dict[str, str]:
    with db.connection_context():
        keys = {s.id: s.key for s in WrapSection.select()}
        return {keys[k]: v for k, v in version.texts().items()}


def test_sections_are_seeded_as_data_in_order(app):
    with db.connection_context():
        sections = WrapSection.current()
    assert [s.key for s in sections] == KEYS
    assert sections[6].title == "What helps if I become unwell at work"
    assert "who to contact" in sections[6].prompt.lower()


def test_a_peer_without_a_plan_is_invited_to_start_and_a_get_creates_nothing(client_for, users):
    peer = client_for("peer")
    page = peer.get("/wrap/")
    assert page.status_code == 200
    assert 'href="/wrap/write"' in page.get_data(as_text=True)
    form = fields(peer.get("/wrap/write"))
    assert form["base_version"] == "0"
    assert {f"section_{k}" for k in KEYS} <= set(form)
    assert plan_of(users["peer"]) is None
    assert peer.get("/wrap/versions").status_code == 404
    assert peer.get("/wrap/print").status_code == 404


def test_each_save_is_a_new_immutable_version(client_for, users, clock):
    peer = client_for("peer")
    clock.freeze(dt.datetime(2026, 5, 1, 9))
    response = save(peer, 0, toolbox="A walk at lunch", triggers="Rushing")
    assert response.status_code == 302 and response.headers["Location"].endswith("/wrap/")
    clock.advance(days=2)
    form = fields(peer.get("/wrap/write"))
    assert form["base_version"] == "1"
    assert form["section_toolbox"].strip() == "A walk at lunch"
    assert save(peer, 1, toolbox="A walk at lunch\r\nMusic", triggers="").status_code == 302

    plan = plan_of(users["peer"])
    with db.connection_context():
        versions = list(plan.versions())
        assert [v.number for v in versions] == [2, 1]
        assert versions[1].created_at == dt.datetime(2026, 5, 1, 9)
        assert texts_of(versions[0])["toolbox"] == "A walk at lunch\nMusic"
        assert texts_of(versions[1])["toolbox"] == "A walk at lunch"
        assert texts_of(versions[1])["triggers"] == "Rushing"
        # The database refuses to rewrite history.
        with pytest.raises(peewee.IntegrityError):
            WrapEntry.update(text="changed").where(WrapEntry.version == versions[1]).execute()
        with pytest.raises(peewee.IntegrityError):
            WrapVersion.update(number=7).where(WrapVersion.id == versions[1].id).execute()
        # Changes are audited without content.
        events = list(AuditEvent.for_record("wrap_plan", plan.id).where(AuditEvent.action == "create"))
        assert [e.summary for e in events] == ["saved version 2", "saved version 1"]
        assert all("walk" not in e.summary.lower() for e in AuditEvent.select())


def test_the_owner_reads_earlier_versions(client_for, users):
    peer = client_for("peer")
    save(peer, 0, toolbox="First wording")
    save(peer, 1, toolbox="Second wording")
    listing = peer.get("/wrap/versions")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert 'href="/wrap/versions/1"' in html and 'href="/wrap/versions/2"' in html
    old = peer.get("/wrap/versions/1").get_data(as_text=True)
    assert "First wording" in old and "Second wording" not in old and "earlier version" in old
    assert peer.get("/wrap/versions/3").status_code == 404
    assert "Second wording" in peer.get("/wrap/").get_data(as_text=True)


def test_a_save_from_an_older_version_is_a_conflict_with_the_text_kept(client_for, users):
    peer = client_for("peer")
    save(peer, 0, toolbox="v1 toolbox", triggers="v1 triggers")
    tablet = fields(peer.get("/wrap/write"))      # opened on the tablet, base 1
    assert save(peer, 1, toolbox="desktop toolbox", triggers="v1 triggers").status_code == 302  # desktop saves v2
    typed = {f"section_{k}": "" for k in KEYS}
    typed.update({"section_toolbox": "tablet toolbox", "section_triggers": "v1 triggers"})
    conflict = peer.post("/wrap/write", data={"base_version": tablet["base_version"], **typed})

    assert conflict.status_code == 409
    html = conflict.get_data(as_text=True)
    page = fields(conflict)
    assert parse(conflict).select("#wrap-conflict")
    assert "Not saved yet" in html and "version 2" in html
    assert page["section_toolbox"].strip() == "tablet toolbox"   # nothing typed is lost
    assert page["base_version"] == "2"                            # saving again is on purpose
    assert "desktop toolbox" in html                                     # what v2 says is shown
    with db.connection_context():
        assert plan_of(users["peer"]).latest().number == 2               # no silent overwrite
    resent = peer.post("/wrap/write", data={**page, "csrf_token": peer.csrf_token()})
    assert resent.status_code == 302
    with db.connection_context():
        latest = plan_of(users["peer"]).latest()
        assert latest.number == 3 and texts_of(latest)["toolbox"] == "tablet toolbox"


def test_two_first_plans_from_two_tabs_do_not_make_two_plans(client_for, users):
    peer = client_for("peer")
    assert save(peer, 0, toolbox="tab one").status_code == 302
    assert save(peer, 0, toolbox="tab two").status_code == 409
    with db.connection_context():
        assert WrapPlan.select().where(WrapPlan.owner == users["peer"]).count() == 1
        assert WrapVersion.select().count() == 1


def test_a_validation_error_keeps_every_section(client_for, users):
    peer = client_for("peer")
    response = save(peer, 0, toolbox="Keep me\x00", triggers="Keep me too")
    assert response.status_code == 422
    page = fields(response)
    assert page["section_triggers"].strip() == "Keep me too"
    assert "control characters" in response.get_data(as_text=True)
    assert plan_of(users["peer"]) is None


def test_a_lapsed_session_offers_the_typed_text_back(app, login, users, clock):
    # login() starts the session outside the app, on the real clock: start from there.
    clock.freeze(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    peer = login(users["peer"])
    token = peer.csrf_token()
    clock.advance(minutes=45)  # idle timeout is 30 minutes
    lapsed = peer.post("/wrap/write", data={"csrf_token": token, "base_version": "0",
                                            "section_toolbox": "Typed on a slow afternoon"}, csrf=False)
    assert lapsed.status_code == 401
    login_page = fields(lapsed)
    assert login_page["resume:section_toolbox"] == "Typed on a slow afternoon"
    assert login_page["resume_to"] == "/wrap/write"

    # Sign in through the real form (a fresh token from the login page).
    fresh = parse(peer.get("/login")).one("input[name=csrf_token][type=hidden]").get("value")
    data = {k: v for k, v in login_page.items() if k.startswith("resume")}
    data.update({"csrf_token": fresh, "email": users["peer"].email, "password": TEST_PASSWORD})
    signed_in = peer.post("/login", data=data, csrf=False)
    assert signed_in.status_code == 200
    resume = fields(signed_in)
    assert resume["section_toolbox"] == "Typed on a slow afternoon"
    sent = peer.post("/wrap/write", data=dict(resume), csrf=False)
    if sent.status_code == 400:
        # The house's login re-renders the resumed form with the token of the
        # session it just replaced, so the first send is offered back once more.
        again = fields(sent)
        assert again["section_toolbox"] == "Typed on a slow afternoon"
        sent = peer.post("/wrap/write", data=dict(again), csrf=False)
    assert sent.status_code == 302
    with db.connection_context():
        assert texts_of(plan_of(users["peer"]).latest())["toolbox"] == "Typed on a slow afternoon"


def test_a_post_without_its_token_saves_nothing_and_echoes_nothing(client_for, users):
    """A post whose token is missing may be forged: refused, nothing saved, and its
    fields are not offered back as a ready-to-send form (issue 10, item 11)."""
    peer = client_for("peer")
    refused = peer.post("/wrap/write", data={"base_version": "0", "section_triggers": "Loud rooms"}, csrf=False)
    assert refused.status_code == 400
    assert "section_triggers" not in fields(refused)
    assert plan_of(users["peer"]) is None


def test_wrap_pages_are_never_cached_and_print_has_its_stylesheet(client_for):
    peer = client_for("peer")
    save(peer, 0, toolbox="Tea")
    for url in ("/wrap/", "/wrap/write", "/wrap/versions", "/wrap/versions/1", "/wrap/print", "/wrap/share"):
        response = peer.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    printed = peer.get("/wrap/print").get_data(as_text=True)
    assert "data-print" in printed and "/static/css/wrap.css" in printed and "Tea" in printed


def test_peer_leads_change_the_sections_without_seeing_any_plan(client_for, users):
    peer = client_for("peer")
    save(peer, 0, triggers="Private words about triggers")
    lead = client_for("peer_lead")
    listing = lead.get("/wrap/sections")
    assert listing.status_code == 200 and "Private words" not in listing.get_data(as_text=True)
    with db.connection_context():
        triggers = WrapSection.get(WrapSection.key == "triggers")
    assert lead.post(f"/wrap/sections/{triggers.id}", data={
        "title": "Stresses at work", "prompt": "What upsets you", "order": "5", "active": "y"}).status_code == 302
    assert lead.post("/wrap/sections/new", data={
        "title": "People I trust at work", "prompt": "Names", "order": "200", "active": "y"}).status_code == 302
    form = peer.get("/wrap/write").get_data(as_text=True)
    assert "Stresses at work" in form and "section_people_i_trust_at_work" in form
    assert form.index("Stresses at work") < form.index("What I am like when I am well at work")
    # Taking a section out of use keeps what people wrote in it.
    assert lead.post(f"/wrap/sections/{triggers.id}", data={
        "title": "Stresses at work", "prompt": "", "order": "5"}).status_code == 302
    assert "Private words about triggers" in peer.get("/wrap/").get_data(as_text=True)
    assert client_for("admin").get("/wrap/sections").status_code == 200
    for role in ("manager", "clinician", "facilitator", "peer", "viewer"):
        assert client_for(role).get("/wrap/sections").status_code == 403, role
    assert lead.get("/wrap/sections/999999").status_code == 404


@pytest.mark.sqlite_only(reason="upgrades a database built with raw SQL in SQLite's dialect; on PostgreSQL every migration runs from empty for the template")
def test_the_migration_upgrades_a_database_made_by_the_previous_schema(tmp_path):
    from peerapp import migrations
    from peerapp.db import open_database

    database = open_database(str(tmp_path / "old.sqlite3"))
    before = [m for m in migrations.available() if m < "m0030"][-1]
    migrations.upgrade(database, target=before)
    database.execute_sql("INSERT INTO team (name, base_address, active, created_at) VALUES ('T', '', 1, '2026-01-01')")
    database.execute_sql("INSERT INTO user (email, name, team_id, password_hash, must_change_password, active, "
                         "created_at) VALUES ('p@x.nhs.uk', 'P', 1, '', 0, 1, '2026-01-01')")
    ran = migrations.upgrade(database)
    assert "m0030_wrap" in ran
    assert database.execute_sql("SELECT count(*) FROM user").fetchone()[0] == 1
    assert database.execute_sql("SELECT count(*) FROM wrap_section").fetchone()[0] == len(KEYS)
    database.close()


def test_demo_data_gives_sam_two_versions_and_two_shared_sections(app):
    from peerapp.demo import DEMO_USERS, Demo
    from peerapp.models import Team, User
    from peerapp.wrap import demo as wrap_demo

    # Only this area's seeder, on the house's demo people (other areas' demos are theirs to test).
    with app.app_context(), db.connection_context():
        demo = Demo(team=Team.create(name="Demo team"), password_hash="x")
        for spec in DEMO_USERS:
            demo.add_user(spec["key"], spec["email"], spec["name"], spec["roles"], spec["label"])
        wrap_demo.seed(demo)
        sam, chris = User.by_email("peer@demo.peerapp"), User.by_email("volunteer@demo.peerapp")
        plan = WrapPlan.of(sam)
        assert [v.number for v in plan.versions()] == [2, 1]
        shares = list(plan.active_shares())
        assert len(shares) == 2 and len({s.viewer_id for s in shares}) == 1
        supervisor = shares[0].viewer
        assert supervisor.has_role("peer_lead")
        assert {s.key for s in plan.sections_shared_with(supervisor)} == {"early_warning_signs",
                                                                        "working_arrangements"}
        private = WrapPlan.of(chris)
        assert private.latest() is not None and not private.active_shares().exists()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.one_of(st.text(max_size=30), st.integers(-2**70, 2**70).map(str)),
       text=st.text(max_size=300), big=st.booleans())
def test_fuzzed_saves_never_fail_with_a_server_error(client_for, base, text, big):
    peer = client_for("peer")
    body = text * 80 if big else text + "\u202e\x00"
    response = peer.post("/wrap/write", data={"base_version": base, "section_toolbox": body})
    assert response.status_code < 500


def test_concurrent_saves_from_the_same_version_keep_one_and_report_the_other(app, login, users):
    import threading

    clients = [login(users["peer"]), login(users["peer"])]
    save(clients[0], 0, toolbox="start")
    tokens = [c.csrf_token() for c in clients]
    barrier = threading.Barrier(2)
    codes = []

    def send(n):
        barrier.wait()
        response = clients[n].post("/wrap/write", data={"csrf_token": tokens[n], "base_version": "1",
                                                        "section_toolbox": f"device {n}"}, csrf=False)
        codes.append(response.status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [302, 409]
    with db.connection_context():
        assert [v.number for v in plan_of(users["peer"]).versions()] == [2, 1]


def test_every_page_showing_plan_text_audits_exactly_one_view(client_for, users):
    peer = client_for("peer")
    save(peer, 0, toolbox="Tea")
    plan = plan_of(users["peer"])

    def views() -> int:
        with db.connection_context():
            return AuditEvent.for_record("wrap_plan", plan.id).where(AuditEvent.action == "view").count()

    for url in ("/wrap/", "/wrap/write", "/wrap/versions/1", "/wrap/print"):
        before = views()
        assert peer.get(url).status_code == 200
        assert views() == before + 1, url
