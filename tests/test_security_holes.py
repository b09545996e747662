"""The holes the probe of issue 10 found, each closed as a class (see ../shared/SECURITY.md,
'Rows added after the second review')."""
from __future__ import annotations

import datetime as dt
import re
import hashlib
import os
import stat
from pathlib import Path

import pytest

from peerapp import create_app, passwords
from peerapp.audit import AuditEvent
from peerapp.db import db
from peerapp.models import LoginFailure, LoginSession, Team, User
from tests.conftest import TEST_PASSWORD

T0 = dt.datetime(2026, 6, 1, 9, 0)


def sign_in(client, email, password=TEST_PASSWORD, address="10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


# -- 2. one-time passwords are one-time and enforced ---------------------------

def _issue_one_time(client_for, user) -> str:
    response = client_for("admin").post(f"/admin/users/{user.id}/reset-password")
    assert response.status_code == 200
    import re
    return re.search(r"([0-9a-f]{6}-[0-9a-f]{6}-[0-9a-f]{6}-[0-9a-f]{6})", response.get_data(as_text=True)).group(1)


def test_a_one_time_password_opens_only_the_change_page_and_works_once(app, client_for, make_user, clock):
    clock.freeze(T0)
    person = make_user("peer_lead", email="otp@test.nhs.uk")
    one_time = _issue_one_time(client_for, person)
    browser = app.test_client()
    assert sign_in(browser, "otp@test.nhs.uk", one_time).headers["Location"] == "/account/password"
    for path in ["/", "/admin/users", "/workforce/"]:
        response = browser.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/password", path
    htmx = browser.get("/", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"] == "/account/password"
    assert browser.get("/account/password").status_code == 200
    browser.post("/logout")
    # Used once: it does not open a second session.
    again = sign_in(app.test_client(), "otp@test.nhs.uk", one_time)
    assert again.status_code == 422 and "already been used" in again.get_data(as_text=True)


def test_changing_the_one_time_password_opens_the_app(app, client_for, make_user, clock):
    clock.freeze(T0)
    person = make_user("peer_lead", email="otp2@test.nhs.uk")
    one_time = _issue_one_time(client_for, person)
    browser = app.test_client()
    sign_in(browser, "otp2@test.nhs.uk", one_time)
    changed = browser.post("/account/password", data={"new_password": "seven blue kites over Leeds",
                                                       "confirm": "seven blue kites over Leeds"})
    assert changed.status_code == 302
    assert browser.get("/").status_code == 200
    assert User.get_by_id(person.id).must_change_password is False


def test_an_unused_one_time_password_expires_after_the_configured_hours(app, client_for, make_user, clock):
    assert app.config["ONE_TIME_PASSWORD_HOURS"] == 72
    clock.freeze(T0)
    person = make_user("clinician", email="late@test.nhs.uk")
    one_time = _issue_one_time(client_for, person)
    clock.advance(hours=72, minutes=1)
    late = sign_in(app.test_client(), "late@test.nhs.uk", one_time)
    assert late.status_code == 422 and "expired" in late.get_data(as_text=True)
    assert LoginSession.select().where(LoginSession.user == person).count() == 0


# -- 3. re-authentication is counted with login failures -----------------------

@pytest.mark.parametrize("path,field", [("/account/confirm", "password"), ("/account/password", "current_password")])
def test_wrong_passwords_typed_while_signed_in_end_the_session_at_the_limit(client_for, users, path, field):
    peer = client_for("peer")
    data = {field: "not my password at all", "new_password": "seven blue kites over Leeds",
            "confirm": "seven blue kites over Leeds"}
    for _ in range(4):
        assert peer.post(path, data=data).status_code == 422
    assert LoginFailure.select().count() == 4
    ended = peer.post(path, data=data)
    assert ended.status_code == 302 and ended.headers["Location"] == "/login"
    assert LoginSession.select().where(LoginSession.user == users["peer"]).count() == 0
    assert peer.get("/").status_code == 302
    assert AuditEvent.select().where(AuditEvent.action == "password_confirm_failed").count() == 5


# -- 4. an attacker cannot lock the owner out ----------------------------------

def test_one_wrong_password_every_three_minutes_never_keeps_the_owner_out(app, make_user, clock):
    make_user("peer_lead", email="target@test.nhs.uk")
    clock.freeze(T0)
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(40):  # two hours of guessing from another address
        sign_in(attacker, "target@test.nhs.uk", "guess guess guess", address="203.0.113.9")
        clock.advance(minutes=3)
    # The attacker's address waits ever longer; only a handful of its guesses were even checked.
    assert LoginFailure.select().count() < 20
    assert sign_in(owner, "target@test.nhs.uk", address="10.1.2.3").status_code == 302


def test_many_addresses_share_at_most_a_hundred_failures_an_hour(app, make_user, clock):
    make_user("peer_lead", email="target@test.nhs.uk")
    clock.freeze(T0 - dt.timedelta(days=3))
    assert sign_in(app.test_client(), "target@test.nhs.uk", address="10.1.1.1").status_code == 302
    clock.freeze(T0)
    app.config["LOGIN_ACCOUNT_MAX_PER_HOUR"] = 10
    known = app.test_client()
    for n in range(12):
        for _ in range(2):
            sign_in(app.test_client(), "target@test.nhs.uk", "guess guess guess", address=f"198.51.100.{n}")
    assert LoginFailure.select().count() == 10  # past 10 an hour, new addresses wait too
    assert sign_in(app.test_client(), "target@test.nhs.uk", address="10.9.9.9").status_code == 422
    # The address the owner signed in from before still gets in.
    assert sign_in(known, "target@test.nhs.uk", address="10.1.1.1").status_code == 302


def test_admins_see_accounts_under_attack(app, client_for, make_user, clock):
    make_user("clinician", name="Casey Target", email="casey@test.nhs.uk")
    clock.freeze(T0)
    for n in range(4):
        sign_in(app.test_client(), "casey@test.nhs.uk", "guess guess guess", address=f"192.0.2.{n}")
    page = client_for("admin").get("/admin/sign-in-failures")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Casey Target" in text and "casey@test.nhs.uk" in text
    assert client_for("manager").get("/admin/sign-in-failures").status_code == 403


# -- 9. the last admin ----------------------------------------------------------

def test_the_only_admin_cannot_remove_their_own_admin_role(client_for, users):
    admin = users["admin"]
    page = client_for("admin").get(f"/admin/users/{admin.id}").get_data(as_text=True)
    version = re.search(r'id="version" name="version" type="hidden" value="([^"]*)"', page).group(1)
    response = client_for("admin").post(f"/admin/users/{admin.id}", data={
        "name": admin.name, "email": admin.email, "team": "0", "roles": ["manager"], "version": version})
    assert response.status_code == 422 and "last active administrator" in response.get_data(as_text=True)
    assert User.get_by_id(admin.id).roles == {"admin"}


def test_the_last_active_admin_cannot_be_deactivated(client_for, make_user, users):
    other = make_user("admin", email="second.admin@test.nhs.uk", active=True)
    client = client_for("admin")
    client.post(f"/admin/users/{other.id}/deactivate")
    assert User.get_by_id(other.id).active is False
    # Now make the remaining admin's deactivation possible only through another admin: none left.
    third = make_user("admin", email="third@test.nhs.uk")
    with db.connection_context():
        User.update(active=False).where(User.id == users["admin"].id).execute()
    from tests.conftest import password_hash  # noqa: F401
    third_client = client.application.test_client()
    with db.connection_context():
        token = LoginSession.start(third)
    with third_client.session_transaction() as s:
        s["sid"], s["_user_id"] = token, str(third.id)
    # third tries to deactivate themselves (refused) and is the only active admin.
    third_client.post(f"/admin/users/{third.id}/deactivate",
                      data={"csrf_token": third_client.get("/admin/users").get_data(as_text=True)
                            .split('name="csrf_token" value="')[1].split('"')[0]})
    assert User.get_by_id(third.id).active is True


# -- 10. body limits for every content type --------------------------------------

def test_an_urlencoded_body_with_too_many_fields_is_refused_before_parsing(client_for):
    admin = client_for("admin")
    token = admin.csrf_token()
    body = f"csrf_token={token}&name=Flood&" + "&".join("f=" for _ in range(300_000))
    assert len(body) < 2 * 1024 * 1024
    response = admin.post("/admin/teams/new", data=body, csrf=False,
                          content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "too much to send at once" in response.get_data(as_text=True)
    assert Team.select().where(Team.name == "Flood").count() == 0


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                          "text/plain", "application/json"])
def test_an_oversized_body_of_any_type_is_413(client_for, content_type):
    response = client_for("admin").post("/admin/teams/new", data=b"a=" + b"x" * (3 * 1024 * 1024),
                                        csrf=False, content_type=content_type)
    assert response.status_code == 413


def test_multipart_with_too_many_parts_is_413(client_for):
    admin = client_for("admin")
    data = {"csrf_token": admin.csrf_token(), "name": "Flood"}
    data.update({f"f{i}": "" for i in range(1500)})
    response = admin.post("/admin/teams/new", data=data, csrf=False, content_type="multipart/form-data")
    assert response.status_code == 413


# -- 11. the CSRF-refused page -----------------------------------------------------

def test_a_refused_post_with_this_sessions_own_token_shows_the_text_to_check(app, client_for):
    admin = client_for("admin")
    token = admin.csrf_token()
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    import time
    time.sleep(2)  # the token is now too old (a limit an install may set)
    response = admin.post("/admin/teams/new", data={"csrf_token": token, "name": "Kept Team"}, csrf=False)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Kept Team" in text and 'type="hidden" name="name"' not in text  # seen and editable, not hidden
    assert '<textarea class="nhsuk-textarea" id="resume-' in text


# -- 12. weak passwords -------------------------------------------------------------

@pytest.mark.parametrize("weak", ["123456789012", "abcabcabcabc", "demo-peer-support-2026", "qwertyuiop12",
                                  "9876543210987", "zxcvbnmasdfg", "Demo-Peer-Support-2026!"])
def test_weak_passwords_are_refused(weak):
    assert passwords.problems(weak)


@pytest.mark.parametrize("fine", [TEST_PASSWORD, "seven blue kites over Leeds", "Tr0ub4dor&3xyz"])
def test_ordinary_passphrases_are_fine(fine):
    assert passwords.problems(fine) == []


def test_the_breached_password_list_is_the_recorded_one():
    path = Path(passwords.__file__).parent / "data" / "breached-passwords.txt"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == \
        "861b4d0bacb7ff670bd98e8f92260694f7d75e2267239ebd92c007357d1cfe2b"
    assert "861b4d0bacb7ff670bd98e8f92260694f7d75e2267239ebd92c007357d1cfe2b" in \
        (path.parent / "SOURCES.md").read_text()
    assert len(path.read_text().splitlines()) == 49_233


def test_the_demo_password_is_refused_when_choosing_a_new_one(client_for):
    response = client_for("peer").post("/account/password", data={
        "current_password": TEST_PASSWORD, "new_password": "demo-peer-support-2026",
        "confirm": "demo-peer-support-2026"})
    assert response.status_code == 422 and "published password" in response.get_data(as_text=True)


# -- 13. file modes ------------------------------------------------------------------

@pytest.mark.sqlite_only(reason="file modes of the SQLite file, its WAL and backups; PostgreSQL keeps its own files")
def test_database_wal_and_backups_are_private(app, tmp_path, users):
    runner = app.test_cli_runner()
    database = Path(app.config["DATABASE"])
    with db.connection_context():
        Team.create(name="Mode check")
        # While a connection is open the WAL exists.
        for path in [database, Path(str(database) + "-wal"), Path(str(database) + "-shm")]:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    dest = tmp_path / "backup.sqlite3"
    assert runner.invoke(args=["backup", str(dest)]).exit_code == 0
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_an_old_world_readable_database_is_made_private_at_start(tmp_path):
    path = tmp_path / "old.sqlite3"
    os.umask(0o022)
    path.write_bytes(b"")
    path.chmod(0o644)
    create_app({"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "x"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- 14. demo accounts in production --------------------------------------------------

def test_serving_refuses_a_database_with_demo_accounts_unless_allowed(app, tmp_path, monkeypatch):
    from peerapp.demo import load_demo
    with app.app_context():
        load_demo()
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    config = {"DATABASE": app.config["DATABASE"], "SECRET_KEY": "x"}
    with pytest.raises(RuntimeError) as refused:
        create_app(config)
    assert "admin@demo.peerapp" in str(refused.value) and "ALLOW_DEMO" in str(refused.value)
    assert create_app({**config, "ALLOW_DEMO": True})
    # The flask command still starts, so an admin can remove them.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    assert create_app(config)


def test_make_run_allows_the_demo_and_readme_says_how_to_serve_safely():
    root = Path(__file__).resolve().parents[1]
    assert "PEERAPP_ALLOW_DEMO=true" in (root / "Makefile").read_text()
    assert "ALLOW_DEMO" in (root / "README.md").read_text()


# -- 5. one bounded integer parser; every int parameter of every route fuzzed ------------

ROOT = Path(__file__).resolve().parents[1]


def test_no_view_reads_an_integer_but_through_the_bounded_parser():
    offenders = []
    for path in (ROOT / "peerapp").rglob("*.py"):
        text = path.read_text()
        for pattern in (r"type=int\)", r"int\(request\.", r"int\(\s*request\.(args|values|form)"):
            for match in re.finditer(pattern, text):
                line = text[:match.start()].count("\n") + 1
                if path.name != "forms.py" or "int_arg" not in text.splitlines()[line - 1]:
                    offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == [] or all("peerapp/forms.py" in o for o in offenders), offenders


def _int_parameter_names(app) -> set[str]:
    from flask_wtf import FlaskForm
    from wtforms import DecimalField, FloatField, IntegerField
    from wtforms.fields.core import UnboundField
    names = {"previous", "candidate", "type", "page"}  # the query parameters the probe found
    for path in (ROOT / "peerapp").rglob("*.py"):
        names |= set(re.findall(r'int_arg\(\s*"(\w+)"', path.read_text()))
    seen, todo = set(), [FlaskForm]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    for cls in seen:
        for name in dir(cls):
            field = getattr(cls, name, None)
            if isinstance(field, UnboundField) and (
                    issubclass(field.field_class, (IntegerField, DecimalField, FloatField))
                    or field.kwargs.get("coerce") is int):
                names.add(name)
    return names


def test_huge_and_negative_integers_in_every_int_parameter_of_every_route_never_500(app):
    from werkzeug.routing import IntegerConverter

    from peerapp.access import PUBLIC, SIGNED_IN, allowed_roles
    from peerapp.demo import DEMO_USERS, load_demo
    with app.app_context():
        load_demo()
        names = _int_parameter_names(app)
        people = {spec["key"]: User.by_email(spec["email"]) for spec in DEMO_USERS}
    assert {"team", "user", "hours_per_week"} & names
    clients = {}
    for key, user in people.items():
        client = app.test_client()
        with app.app_context():
            token = LoginSession.start(user)
        with client.session_transaction() as session:
            session["sid"], session["_user_id"] = token, str(user.id)
        clients[key] = (user, client)
    failures, tried = [], 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint in ("auth.logout", "auth.sign_out_everywhere"):
            continue
        if any(not isinstance(rule._converters[a], IntegerConverter) for a in rule.arguments):
            continue
        roles = allowed_roles(rule.endpoint, app)
        who = [c for u, c in clients.values() if PUBLIC in roles or SIGNED_IN in roles or u.has_role(*roles)][:2]
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", "1", url)
        for value in (str(2**63), str(-2**63 - 1)):
            fuzz = {name: value for name in names}
            for client in who:
                for method in sorted(rule.methods & {"GET", "POST"}):
                    if method == "GET":
                        response = client.get(url, query_string=fuzz)
                    else:
                        response = client.post(url, query_string=fuzz, data={**fuzz, "csrf_token": client.csrf_token()},
                                               csrf=False)
                    tried += 1
                    if response.status_code >= 500:
                        failures.append((method, url, response.status_code))
    assert tried > 100
    assert failures == []
