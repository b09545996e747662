"""The walk over every route as every demo login, on the demo data.

GET never changes a record: every GET page, with real demo ids, answers without
a server error and leaves every table but the audit log and the sessions as it
was. Roles change only where declared (issue 10, item 1 as a class): every form
on those pages is then submitted as that login, and every POST route is tried
with demo ids; every user's roles are compared before and after each post. Only
the admin's user pages (password asked again) may change them.

The two share one crawl of the pages, and run on both engines: an engine's error
(a PostgreSQL type, a GROUP BY) shows up here as a 500."""
from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from peerapp.demo import DEMO_USERS, load_demo
from peerapp.models import LoginSession, User, UserRole
from tests.dom import forms as post_forms
from tests.test_get_is_safe import _fingerprint, _urls

MAY_CHANGE_ROLES = {"admin.user_edit", "admin.user_new"}
# Posting these would end the walking client's own session; roles are untouched by them.
SKIP = {"auth.logout", "auth.sign_out_everywhere"}


def filled(form) -> dict[str, list[str]]:
    """A POST form with a value in every box a person could fill: inputs as the
    page offers them (the first of a group of boxes even if unticked), the chosen
    or first non-empty option of each select, and text in every textarea."""
    data: dict[str, list[str]] = {}
    for c in form.controls:
        name, kind = c.get("name"), (c.get("type") or "text").lower()
        if c.tag == "input":
            if kind in ("checkbox", "radio") and not c.has("checked") and name in data:
                continue
            data.setdefault(name, []).append(c.get("value") or ("on" if kind == "checkbox" else ""))
        elif c.tag == "select":
            options = [o.get("value", "") for o in c.select("option")]
            chosen = [o.get("value", "") for o in c.select("option[selected]") if o.get("value")]
            pick = chosen[-1] if chosen else next((v for v in options if v), None)
            data[name] = [pick] if pick else []
        elif c.tag == "textarea":
            data[name] = ["Walked by the roles test"]
    return data


def _post_urls(app, ids=(1, 2, 3)):
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in SKIP:
            continue
        if any(not isinstance(rule._converters[a], IntegerConverter) for a in rule.arguments):
            continue
        for n in ids if rule.arguments else (None,):
            url = rule.rule
            for name in rule.arguments:
                url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", str(n), url)
            yield url


def _roles(of=None):
    """Every existing user's roles (an account created by the post, e.g. a peer's on
    activation, is a new user, not a change of someone's roles)."""
    rows = sorted((r.user_id, r.role) for r in UserRole.select())
    return rows if of is None else [row for row in rows if row[0] in of]


# One test per demo login, so that the walk spreads over the test processes.
@pytest.mark.parametrize("walking_as", [spec["key"] for spec in DEMO_USERS])
def test_gets_change_nothing_and_no_post_but_the_admins_changes_anyones_roles(app, login, walking_as):
    """As one demo login, on the demo data: every GET page (demo ids 1-3) answers
    without a server error and changes nothing but the audit log and the session's
    last-seen time; then every form those pages offer, and every POST route with
    demo ids, is submitted, and nobody's roles change but on the admin's user pages."""
    spec = next(spec for spec in DEMO_USERS if spec["key"] == walking_as)
    with app.app_context():
        load_demo()
        user = User.by_email(spec["email"])
    client = login(user)
    client.get("/")
    form_pages = set(_urls(app, ids=(1, 2)))
    with app.app_context():
        before = _fingerprint()
    forms, errors = [], []
    for url in sorted(set(_urls(app))):
        response = client.get(url)
        if response.status_code >= 500:
            errors.append(url)
        elif url in form_pages and response.status_code == 200 and "text/html" in response.content_type:
            forms += [(f.action or url, filled(f)) for f in post_forms(response)]
    with app.app_context():
        after = _fingerprint()
    assert errors == []
    changed = sorted(t for t in before if before[t] != after.get(t))
    assert set(changed) <= {"audit_event", "login_session"}, changed

    forms += [(url, {}) for url in sorted(set(_post_urls(app, ids=(1, 2))))]
    violations, tried, seen, token = [], 0, set(), client.csrf_token()
    for action, data in forms:
        key = (action, tuple(sorted(data)))
        if key in seen or not action.startswith("/"):
            continue
        seen.add(key)
        with app.app_context():
            if not LoginSession.select().where(LoginSession.user == user.id).exists():
                client = login(user)  # an earlier post ended it
                token = client.csrf_token()
            before = _roles()
            existing = {user_id for user_id, _ in before} | {u.id for u in User.select(User.id)}
        response = client.post(action, data={**data, "csrf_token": token}, csrf=False)
        tried += 1
        if response.status_code == 400:  # the post started a new session (a password change)
            token = client.csrf_token()
        assert response.status_code < 500, (walking_as, action)
        endpoint = app.url_map.bind("localhost").match(action.split("?")[0], method="POST")[0] \
            if response.status_code != 405 else None
        with app.app_context():
            if _roles(existing) != before and endpoint not in MAY_CHANGE_ROLES:
                violations.append((walking_as, action, endpoint))
    assert tried > 100
    assert violations == []
