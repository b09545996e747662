"""Signing in and out, throttling, server-side sessions and timeouts."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from peerapp.audit import AuditEvent
from peerapp.models import LoginFailure, LoginSession, User
from tests.conftest import TEST_PASSWORD

T0 = dt.datetime(2026, 6, 1, 9, 0)


def sign_in(client, email, password=TEST_PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


@pytest.fixture
def peer_lead(make_user):
    return make_user("peer_lead", name="Pat Lead", email="pat.lead@test.nhs.uk")


def test_login_with_right_password_starts_a_server_session_and_is_audited(anon, peer_lead):
    response = sign_in(anon, "Pat.Lead@test.nhs.uk ")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert anon.get("/").status_code == 200
    assert LoginSession.select().where(LoginSession.user == peer_lead).count() == 1
    assert AuditEvent.select().where(AuditEvent.action == "login", AuditEvent.user == peer_lead).count() == 1


def test_wrong_password_and_unknown_email_get_the_same_answer(anon, peer_lead):
    wrong = sign_in(anon, "pat.lead@test.nhs.uk", "not the password at all")
    unknown = sign_in(anon, "nobody@test.nhs.uk", "not the password at all")
    assert wrong.status_code == unknown.status_code == 422

    def body(r):  # the CSRF token differs per page, nothing else may
        text = re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))
        return re.sub(r'"X-CSRFToken": "[^"]*"', "", text)

    assert body(wrong).replace("pat.lead@test.nhs.uk", "X") == body(unknown).replace("nobody@test.nhs.uk", "X")
    assert "not right" in wrong.get_data(as_text=True)
    failed = AuditEvent.select().where(AuditEvent.action == "login_failed").count()
    assert failed == 2


def test_an_unknown_email_costs_a_full_hash_like_a_known_one():
    # The written-out dummy hash must have today's parameters, or an unknown email
    # would answer faster (or slower) than a wrong password and tell which is which.
    from peerapp import passwords
    assert not passwords.hasher.check_needs_rehash(passwords.DUMMY_HASH)
    assert passwords.hasher.verify(passwords.DUMMY_HASH, "not a real password, only for timing")


def test_five_failures_make_that_address_wait_a_growing_time(anon, peer_lead, clock):
    clock.freeze(T0)
    for _ in range(5):
        assert sign_in(anon, "pat.lead@test.nhs.uk", "wrong wrong wrong").status_code == 422
    # Even the right password is not checked while this address waits.
    waiting = sign_in(anon, "pat.lead@test.nhs.uk")
    assert waiting.status_code == 422 and "Wait 1 minute" in waiting.get_data(as_text=True)
    clock.advance(seconds=61)
    assert "not right" in sign_in(anon, "pat.lead@test.nhs.uk", "wrong again, sixth").get_data(as_text=True)
    assert "Wait 2 minutes" in sign_in(anon, "pat.lead@test.nhs.uk").get_data(as_text=True)
    clock.advance(seconds=121)
    assert sign_in(anon, "pat.lead@test.nhs.uk").status_code == 302
    # A success clears this address's count.
    assert LoginFailure.select().count() == 0


def test_throttle_is_kept_in_the_database_so_it_holds_across_workers(app, anon, peer_lead, clock):
    clock.freeze(T0)
    for _ in range(5):
        sign_in(anon, "pat.lead@test.nhs.uk", "wrong wrong wrong")
    other_worker = app.test_client()  # no shared memory but the database
    assert sign_in(other_worker, "pat.lead@test.nhs.uk").status_code == 422
    # An attacker cannot keep staff out for long: at most 20 failures an hour count.
    assert LoginFailure.select().count() <= 100


def test_inactive_user_cannot_sign_in(anon, make_user):
    make_user("clinician", email="gone@test.nhs.uk", active=False)
    assert sign_in(anon, "gone@test.nhs.uk").status_code == 422


def test_logout_is_a_post_and_a_replayed_cookie_is_refused(anon, peer_lead):
    sign_in(anon, "pat.lead@test.nhs.uk")
    captured = anon.get_cookie("peerapp_session").value
    assert anon.get("/logout").status_code == 405
    assert anon.post("/logout").status_code == 302
    assert LoginSession.select().count() == 0
    anon.set_cookie("peerapp_session", captured)
    replay = anon.get("/")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]


def test_logout_without_csrf_token_is_refused(anon, peer_lead):
    sign_in(anon, "pat.lead@test.nhs.uk")
    assert anon.post("/logout", csrf=False).status_code == 400
    assert LoginSession.select().count() == 1


def test_idle_timeout_after_thirty_minutes(anon, peer_lead, clock):
    clock.freeze(T0)
    sign_in(anon, "pat.lead@test.nhs.uk")
    clock.advance(minutes=29)
    assert anon.get("/").status_code == 200
    clock.advance(minutes=29)  # activity at 29 min kept it alive
    assert anon.get("/").status_code == 200
    clock.advance(minutes=31)
    response = anon.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_absolute_timeout_after_twelve_hours_even_when_busy(anon, peer_lead, clock):
    clock.freeze(T0)
    sign_in(anon, "pat.lead@test.nhs.uk")
    for _ in range(12 * 3):
        clock.advance(minutes=20)
        if clock() - T0 > dt.timedelta(hours=12):
            break
        assert anon.get("/").status_code == 200
    clock.freeze(T0 + dt.timedelta(hours=12, minutes=1))
    assert anon.get("/").status_code == 302


def test_timeouts_are_configurable(app, anon, peer_lead, clock):
    app.config["IDLE_TIMEOUT_MINUTES"] = 5
    clock.freeze(T0)
    sign_in(anon, "pat.lead@test.nhs.uk")
    clock.advance(minutes=6)
    assert anon.get("/").status_code == 302


def test_password_change_ends_every_other_session(app, peer_lead):
    tablet, desktop = app.test_client(), app.test_client()
    sign_in(tablet, "pat.lead@test.nhs.uk")
    sign_in(desktop, "pat.lead@test.nhs.uk")
    desktop.user = peer_lead
    response = desktop.post("/account/password", data={
        "current_password": TEST_PASSWORD, "new_password": "a brand new long passphrase",
        "confirm": "a brand new long passphrase"})
    assert response.status_code == 302
    assert tablet.get("/").status_code == 302          # the other session is gone
    assert desktop.get("/").status_code == 200         # this one goes on
    assert sign_in(app.test_client(), "pat.lead@test.nhs.uk", "a brand new long passphrase").status_code == 302


@pytest.mark.parametrize("new, message", [
    ("short pass", "at least 12"),
    ("password1234", "too common"),
    ("iloveyou2026!!", "too common"),
    ("aaaaaaaaaaaaaaaa", "too common"),
    ("x" * 129, "no more than 128"),
])
def test_weak_passwords_are_refused_with_a_reason(login, peer_lead, new, message):
    client = login(peer_lead)
    response = client.post("/account/password", data={
        "current_password": TEST_PASSWORD, "new_password": new, "confirm": new})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert User.get_by_id(peer_lead.id).password_hash == peer_lead.password_hash


def test_deactivation_ends_sessions_at_the_next_request(client_for, users):
    peer = client_for("peer")
    assert peer.get("/").status_code == 200
    admin = client_for("admin")
    assert admin.post(f"/admin/users/{users['peer'].id}/deactivate").status_code == 302
    assert peer.get("/").status_code == 302


def test_role_change_ends_sessions_so_new_rights_apply(client_for, users, team):
    clinician = client_for("clinician")
    assert clinician.get("/").status_code == 200
    client_for("admin").post(f"/admin/users/{users['clinician'].id}", data={
        "name": users["clinician"].name, "email": users["clinician"].email,
        "team": str(team.id), "roles": ["clinician", "peer_lead"]})
    assert sorted(User.get_by_id(users["clinician"].id).roles) == ["clinician", "peer_lead"]
    assert clinician.get("/").status_code == 302


def test_sign_out_everywhere(app, peer_lead):
    one, two = app.test_client(), app.test_client()
    sign_in(one, "pat.lead@test.nhs.uk")
    sign_in(two, "pat.lead@test.nhs.uk")
    one.user = peer_lead
    one.post("/account/sign-out-everywhere")
    assert two.get("/").status_code == 302 and one.get("/").status_code == 302


def test_one_time_password_must_be_changed_first(anon, app, users, client_for):
    page = client_for("admin").post(f"/admin/users/{users['peer'].id}/reset-password")
    one_time = re.search(r'id="one-time-password">([^<]+)<', page.get_data(as_text=True)).group(1)
    response = sign_in(anon, users["peer"].email, one_time)
    assert response.headers["Location"] == "/account/password"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"])
def test_next_never_leaves_the_site(anon, peer_lead, target):
    response = sign_in(anon, "pat.lead@test.nhs.uk", next=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_next_keeps_an_internal_path(anon, peer_lead):
    assert sign_in(anon, "pat.lead@test.nhs.uk", next="/account/password").headers["Location"] == "/account/password"


def test_typed_text_survives_an_expired_session(anon, make_user, clock):
    make_user("admin", email="boss@test.nhs.uk")
    clock.freeze(T0)
    sign_in(anon, "boss@test.nhs.uk")
    clock.advance(hours=2)
    lapsed = anon.post("/admin/teams/new", data={"name": "Night Team", "base_address": "Long text typed on a tablet"})
    page = lapsed.get_data(as_text=True)
    assert lapsed.status_code == 401 and "Sign in" in page and "Long text typed on a tablet" in page
    # Sign in again from that page: the typed text is offered back to send.
    again = anon.post("/login", data={"email": "boss@test.nhs.uk", "password": TEST_PASSWORD,
                                      "resume_to": "/admin/teams/new", "resume:name": "Night Team",
                                      "resume:base_address": "Long text typed on a tablet"})
    text = again.get_data(as_text=True)
    assert again.status_code == 200 and 'action="/admin/teams/new"' in text
    assert 'value="Long text typed on a tablet"' in text


def test_htmx_request_with_expired_session_redirects_the_whole_page(anon, peer_lead, clock):
    clock.freeze(T0)
    sign_in(anon, "pat.lead@test.nhs.uk")
    clock.advance(hours=1)
    response = anon.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


def test_changing_roles_needs_a_recent_login(app, make_user, team, clock):
    admin_user = make_user("admin", email="root@test.nhs.uk")
    target = make_user("clinician")
    clock.freeze(T0)
    admin = app.test_client()
    sign_in(admin, "root@test.nhs.uk")
    admin.user = admin_user
    clock.advance(minutes=20)  # still signed in, but the password was typed 20 minutes ago
    data = {"name": target.name, "email": target.email, "team": str(team.id), "roles": ["clinician", "manager"]}
    asked = admin.post(f"/admin/users/{target.id}", data=data)
    assert asked.status_code == 401 and "Confirm it is you" in asked.get_data(as_text=True)
    assert User.get_by_id(target.id).roles == {"clinician"}
    wrong = admin.post("/account/confirm", data={"password": "not it at all", "next": f"/admin/users/{target.id}"})
    assert wrong.status_code == 422
    confirmed = admin.post("/account/confirm", data={
        "password": TEST_PASSWORD, "resume_to": f"/admin/users/{target.id}",
        "resume:name": target.name, "resume:email": target.email, "resume:team": str(team.id),
        "resume:roles": "manager"})
    assert confirmed.status_code == 200 and 'value="manager"' in confirmed.get_data(as_text=True)
    assert admin.post(f"/admin/users/{target.id}", data=data).status_code == 302
    assert User.get_by_id(target.id).roles == {"clinician", "manager"}


def test_the_resume_page_after_signing_in_again_sends_first_time(anon, make_user, clock):
    make_user("admin", email="boss2@test.nhs.uk")
    clock.freeze(T0)
    sign_in(anon, "boss2@test.nhs.uk")
    clock.advance(hours=2)
    anon.post("/admin/teams/new", data={"name": "Evening Team", "base_address": "Kept"})
    again = anon.post("/login", data={"email": "boss2@test.nhs.uk", "password": TEST_PASSWORD,
                                      "resume_to": "/admin/teams/new", "resume:name": "Evening Team",
                                      "resume:base_address": "Kept"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', again.get_data(as_text=True)).group(1)
    sent = anon.post("/admin/teams/new", data={"csrf_token": token, "name": "Evening Team", "base_address": "Kept"},
                     csrf=False)
    assert sent.status_code == 302
    from peerapp.models import Team
    assert Team.get(Team.name == "Evening Team").base_address == "Kept"
