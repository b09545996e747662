"""Headers, CSRF, limits, error pages and logs: what SECURITY.md asks of every response."""
from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from peerapp.models import Team

CSP_PARTS = ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
             "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"]


def assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    for part in CSP_PARTS:
        assert part in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in response.headers.get("Vary", "")


@pytest.mark.parametrize("path", ["/login", "/healthz", "/no-such-page", "/static/css/peerapp.css"])
def test_headers_on_public_responses_and_errors(anon, path):
    assert_security_headers(anon.get(path))


def test_headers_and_no_store_on_pages_behind_login(client_for):
    for path in ["/", "/admin/users", "/account/password", "/admin/users/999999"]:
        response = client_for("admin").get(path)
        assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_headers_on_htmx_fragments(client_for):
    response = client_for("admin").htmx("post", "/admin/users", data={"q": "", "status": "active"})
    assert response.status_code == 200
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_no_inline_script_or_style_on_pages(client_for):
    html = client_for("admin").get("/admin/users").get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html and "onclick" not in html


def test_htmx_is_configured_safely(anon):
    html = anon.get("/login").get_data(as_text=True)
    for setting in ['"historyCacheSize":0', '"selfRequestsOnly":true', '"allowEval":false',
                    '"allowScriptTags":false', '"includeIndicatorStyles":false']:
        assert setting in html


def _team_count():
    return Team.select().count()


@pytest.mark.parametrize("token", [None, "wrong", "other-session"])
def test_state_change_without_a_valid_token_is_refused_and_changes_nothing(app, client_for, token):
    admin = client_for("admin")
    data = {"name": "Sneaky Team", "base_address": ""}
    if token == "wrong":
        data["csrf_token"] = "IjAwMDAi.abc.def"
    elif token == "other-session":
        other = app.test_client()
        data["csrf_token"] = other.csrf_token()
    before = _team_count()
    response = admin.post("/admin/teams/new", data=data, csrf=False)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert _team_count() == before
    # A forged post's fields are never echoed with a fresh token (a one-click post).
    text = response.get_data(as_text=True)
    assert "Sneaky Team" not in text and 'name="name"' not in text


def test_htmx_sends_the_token_as_a_header(client_for):
    admin = client_for("admin")
    response = admin.htmx("post", "/admin/users", data={"q": "Test"})
    assert response.status_code == 200 and 'id="user-list"' in response.get_data(as_text=True)


def test_htmx_request_with_a_refused_token_gets_a_visible_message(client_for):
    admin = client_for("admin")
    response = admin.post("/admin/users", data={"q": "x"}, csrf=False,
                          headers={"HX-Request": "true", "X-CSRFToken": "stale"})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#page-alert"
    assert "expired" in response.get_data(as_text=True)


def test_csrf_token_does_not_expire_on_a_tablet_left_open(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None


def test_oversized_request_is_refused_with_413(client_for):
    response = client_for("admin").post("/admin/teams/new", data={"name": "x", "base_address": "y" * 3_000_000})
    assert response.status_code == 413


def test_error_pages_are_friendly_and_reveal_nothing(app, client_for):
    @app.get("/boom")
    def boom():
        raise RuntimeError("Jane Doe 943 476 5919 secret detail")
    boom.allowed_roles = frozenset({"admin"})
    app.view_functions["boom"].allowed_roles = frozenset({"admin"})
    response = client_for("admin").get("/boom")
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, something went wrong" in text
    assert "Traceback" not in text and "Jane Doe" not in text


def test_logs_carry_no_personal_data_or_passwords(app, anon, client_for, caplog):
    @app.get("/boom2")
    def boom2():
        planted = "Jane" + " Doe"
        raise ValueError(f"invalid literal for int(): {planted!r}")
    app.view_functions["boom2"].allowed_roles = frozenset({"admin"})
    with caplog.at_level(logging.DEBUG):
        anon.post("/login", data={"email": "jane.doe@test.nhs.uk", "password": "Sup3r secret passphrase"})
        client_for("admin").get("/boom2")
    logged = caplog.text
    assert "Jane Doe" not in logged and "jane.doe" not in logged and "Sup3r secret" not in logged
    assert "ValueError" in logged  # the fault is still traceable


def test_mass_assignment_is_ignored(client_for, users):
    """Extra fields like roles or team on a password change do nothing."""
    peer = client_for("peer")
    peer.post("/account/password", data={"current_password": "wrong", "new_password": "x", "confirm": "x",
                                         "roles": "admin", "role": "admin", "team_id": "99"})
    from peerapp.models import User
    assert User.get_by_id(users["peer"].id).roles == {"peer"}


nasty = st.one_of(st.text(max_size=300), st.sampled_from([
    "\x00", "\u202e\u202d", "9" * 40, "NaN", "-1e309", "<script>alert(1)</script>", "' OR 1=1 --",
    '"><img src=x hx-get="/logout" hx-trigger="load">', "x" * 10_000]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=nasty, address=nasty, email=nasty, number=nasty)
def test_fuzzed_forms_never_cause_a_server_error(client_for, name, address, email, number):
    admin = client_for("admin")
    for response in (
        admin.post("/admin/teams/new", data={"name": name, "base_address": address}),
        admin.post("/admin/users/new", data={"name": name, "email": email, "team": number, "roles": [number]}),
        admin.post("/admin/users", data={"q": name, "team": number, "role": email, "status": address}),
        admin.get("/admin/audit", query_string={"action": name, "user": number, "page": number}),
        admin.post("/admin/audit", data={"who": name, "user": number, "action": address, "record_id": email}),
        admin.post("/login", data={"email": email, "password": name}),
    ):
        assert response.status_code < 500
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_ids_too_large_for_sqlite_are_not_found_anywhere(app, client_for):
    admin = client_for("admin")
    for path in ["/admin/users/99999999999999999999999", "/admin/teams/9223372036854775808"]:
        assert admin.get(path).status_code == 404
