"""Every form in the app, sent with each field marked "(optional)" left empty,
puts no error on that field.

Walked as every demo role over every page (real demo ids): each POST form found
is sent as the page offers it (its values, checked boxes, selected options) but
with every "(optional)" box emptied; the answer must not be a server error and
must carry no error message on any of those boxes."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict

from peerapp.demo import DEMO_USERS, load_demo
from peerapp.models import LoginSession, User
from tests.test_get_is_safe import _urls


class Forms(HTMLParser):
    """The POST forms of a page: action, controls with their values, optional boxes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.form = None
        self.select = self.textarea = self.label_for = None
        self.label_text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.form = {"action": a.get("action") or "", "data": [], "optional": set(), "ids": {}, "blank": {}}
            self.forms.append(self.form)
        if self.form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "image") and not self.form.get("pressed"):
                self.form["pressed"] = True  # the first button, as a person would press it
                self.form["data"].append([name, a.get("value", "")])
            if kind in ("submit", "button", "image", "file"):
                return
            self.form["data"].append([name, a.get("value", "on" if kind in ("checkbox", "radio") else "")])
            self.form["ids"][a.get("id")] = name
        elif tag == "button" and name and (a.get("type") or "submit") == "submit" and not self.form.get("pressed"):
            self.form["pressed"] = True
            self.form["data"].append([name, a.get("value", "")])
        elif tag == "select" and name:
            self.select = {"name": name, "first": None, "chosen": None, "blank": ""}
            self.form["ids"][a.get("id")] = name
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            if self.select["first"] is None:
                self.select["first"] = value
            if "selected" in a:
                self.select["chosen"] = value
            if value in ("", "0"):  # what a person leaves the select on to say nothing
                self.select["blank"] = value
        elif tag == "textarea" and name:
            self.textarea = [name, ""]
            self.form["ids"][a.get("id")] = name
        elif tag == "label":
            self.label_for, self.label_text = a.get("for"), ""

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data
        if self.label_for is not None:
            self.label_text += data

    def handle_endtag(self, tag):
        if self.form is None:
            return
        if tag == "select" and self.select is not None:
            chosen = self.select["chosen"] if self.select["chosen"] is not None else self.select["first"]
            if chosen is not None:
                self.form["data"].append([self.select["name"], chosen])
                self.form["blank"][self.select["name"]] = self.select["blank"]
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.form["data"].append(self.textarea)
            self.textarea = None
        elif tag == "label" and self.label_for is not None:
            if "(optional)" in self.label_text:
                self.form["optional"].add(self.label_for)
            self.label_for = None
        elif tag == "form":
            self.form = None


def forms_on(html: str) -> list[dict]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def _client(app, email):
    client = app.test_client()
    with app.app_context():
        user = User.by_email(email)
        token = LoginSession.start(user)
    with client.session_transaction() as session:
        session["sid"], session["_user_id"], session["_fresh"] = token, str(user.id), True
    return client


def test_every_form_accepts_its_optional_fields_left_empty(app):
    with app.app_context():
        load_demo()
    urls = sorted(set(_urls(app)))
    sent, problems, seen = 0, [], set()
    for spec in DEMO_USERS:
        client = _client(app, spec["email"])
        for url in urls:
            page = client.get(url)
            if page.status_code != 200 or "text/html" not in page.content_type:
                continue
            for form in forms_on(page.get_data(as_text=True)):
                optional_names = {form["ids"][i] for i in form["optional"] if i in form["ids"]}
                action = form["action"] or url
                shape = (spec["key"], re.sub(r"\d+", "N", action), frozenset(optional_names))
                if not optional_names or shape in seen or action.endswith("/logout"):
                    continue
                seen.add(shape)
                data = [(k, form["blank"].get(k, "") if k in optional_names else v) for k, v in form["data"]]
                answer = client.post(action, data=MultiDict(data), csrf=False)
                sent += 1
                text = answer.get_data(as_text=True)
                assert answer.status_code < 500, (spec["key"], url, action)
                for box_id in form["optional"]:
                    if f'id="{box_id}-error"' in text:
                        problems.append(f"{spec['key']} {url} -> {action}: {box_id} refused when left empty")
    assert sent >= 20
    assert problems == [], "\n".join(problems)
