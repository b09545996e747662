"""Every form in the app, sent with each field marked "(optional)" left empty,
puts no error on that field.

Walked as every demo role over every page (real demo ids): each POST form found
is sent as the page offers it (its values, checked boxes, selected options) but
with every "(optional)" box emptied; the answer must not be a server error and
must carry no error message on any of those boxes."""
from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from peerapp.demo import DEMO_USERS, load_demo
from peerapp.models import LoginSession, User
from tests.dom import forms, parse
from tests.test_get_is_safe import _urls


def forms_on(page) -> list[dict]:
    """The POST forms of a page: action, what a browser sends untouched (the first
    submit button pressed), the boxes labelled "(optional)" by id, their names, and
    the option a person leaves a select on to say nothing."""
    found, root = [], parse(page)
    optional_ids = {label.get("for") for label in root.select("label[for]") if "(optional)" in label.text}
    for form in forms(root):
        ids = {c.id: c.get("name") for c in form.controls if c.id and c.tag in ("input", "select", "textarea")}
        optional = optional_ids & set(ids)
        blank = {}
        for select in form.controls:
            if select.tag == "select":
                said_nothing = [o.value for o in select.select("option") if o.value in ("", "0")]
                blank[select.get("name")] = said_nothing[-1] if said_nothing else ""
        found.append({"action": form.action, "data": form.values(pressed=True), "optional": optional,
                      "ids": ids, "blank": blank})
    return found


def _client(app, email):
    client = app.test_client()
    with app.app_context():
        user = User.by_email(email)
        token = LoginSession.start(user)
    with client.session_transaction() as session:
        session["sid"], session["_user_id"], session["_fresh"] = token, str(user.id), True
    return client


@pytest.mark.same_on_every_engine("which boxes a form requires is WTForms', before any query")
@pytest.mark.parametrize("login", [spec["key"] for spec in DEMO_USERS])  # spread over the test processes
def test_every_form_accepts_its_optional_fields_left_empty(app, login):
    spec = next(spec for spec in DEMO_USERS if spec["key"] == login)
    with app.app_context():
        load_demo()
    urls = sorted(set(_urls(app)))
    sent, problems, seen = 0, [], set()
    client = _client(app, spec["email"])
    for url in urls:
        page = client.get(url)
        if page.status_code != 200 or "text/html" not in page.content_type:
            continue
        for form in forms_on(page):
            optional_names = {form["ids"][i] for i in form["optional"] if i in form["ids"]}
            action = form["action"] or url
            shape = (re.sub(r"\d+", "N", action), frozenset(optional_names))
            if not optional_names or shape in seen or action.endswith("/logout"):
                continue
            seen.add(shape)
            data = [(k, form["blank"].get(k, "") if k in optional_names else v) for k, v in form["data"]]
            answer = client.post(action, data=MultiDict(data), csrf=False)
            sent += 1
            assert answer.status_code < 500, (login, url, action)
            shown = parse(answer)
            for box_id in form["optional"]:
                if shown.select(f"[id={box_id}-error]"):
                    problems.append(f"{login} {url} -> {action}: {box_id} refused when left empty")
    assert sent >= (0 if login == "viewer" else 1)  # the viewer fills in nothing with optional boxes
    assert problems == [], "\n".join(problems)
