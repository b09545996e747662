"""Deny by default: every route declares who may use it, and the app keeps to it.

The matrix walks app.url_map, so a new route without a rule fails here.
"""
from __future__ import annotations

import re

import pytest
from flask import Blueprint
from werkzeug.routing import IntegerConverter

from peerapp.access import PUBLIC, SIGNED_IN, allowed_roles
from peerapp.db import db
from peerapp.models import ROLES

PLACEHOLDER = "999999"


def concrete_url(rule) -> str:
    """Fill every converter with a placeholder id (int) or a harmless word."""
    url = rule.rule
    for name in rule.arguments:
        converter = rule._converters[name]
        value = PLACEHOLDER if isinstance(converter, IntegerConverter) else "placeholder"
        url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", value, url)
    return url


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule


def test_every_route_declares_who_may_use_it(app):
    undeclared = sorted(rule.endpoint for rule in routes(app) if not allowed_roles(rule.endpoint, app))
    assert undeclared == [], f"routes without @allow(...): {undeclared}"


@pytest.mark.same_on_every_engine("who may open a page is decided in Python (peerapp.access)")
def test_role_by_route_matrix_for_get(app, client_for, anon):
    unexpected = []
    for rule in routes(app):
        if "GET" not in rule.methods:
            continue
        url = concrete_url(rule)
        allowed = allowed_roles(rule.endpoint, app)
        response = anon.get(url)
        if PUBLIC in allowed:
            assert response.status_code < 500, (url, response.status_code)
        elif response.status_code != 302 or "/login" not in response.headers["Location"]:
            unexpected.append(("anonymous", url, response.status_code))
        for role in ROLES:
            response = client_for(role).get(url)
            may = PUBLIC in allowed or SIGNED_IN in allowed or role in allowed
            if response.status_code >= 500:
                unexpected.append((role, url, response.status_code))
            elif may and response.status_code in (401, 403):
                unexpected.append((role, url, f"{response.status_code} but allowed"))
            elif not may and response.status_code != 403:
                unexpected.append((role, url, f"{response.status_code} but not allowed"))
    assert unexpected == []


@pytest.mark.same_on_every_engine("who may post is decided in Python (peerapp.access)")
def test_role_by_route_matrix_for_post_refuses_undeclared_roles(app, client_for, anon):
    unexpected = []
    for rule in routes(app):
        if "POST" not in rule.methods:
            continue
        url = concrete_url(rule)
        allowed = allowed_roles(rule.endpoint, app)
        if PUBLIC in allowed or SIGNED_IN in allowed:
            continue
        for role in ROLES:
            if role in allowed:
                continue
            response = client_for(role).post(url, data={"role": "admin", "team": "1"})
            if response.status_code != 403:
                unexpected.append((role, url, response.status_code))
        response = anon.post(url, data={})
        if response.status_code not in (302, 401):
            unexpected.append(("anonymous", url, response.status_code))
    assert unexpected == []


def test_a_route_without_a_declaration_refuses_everyone(database_target, client_for):
    from peerapp import create_app
    from peerapp.cli import upgrade_schema

    app = create_app({"TESTING": True, "DATABASE": database_target, "SECRET_KEY": "x"})
    extra = Blueprint("forgotten", __name__)

    @extra.get("/forgotten")
    def forgotten():
        return "secret"

    app.register_blueprint(extra)
    with app.app_context():
        upgrade_schema()
    # Signed in as an admin on this app: still refused.
    from peerapp.models import LoginSession, User
    with app.app_context(), db.connection_context():
        admin = User.create(email="a@x.nhs.uk", name="A")
        admin.set_roles(["admin"])
        token = LoginSession.start(admin)
    client = app.test_client()
    with client.session_transaction() as session:
        session["sid"], session["_user_id"] = token, str(admin.id)
    assert client.get("/forgotten").status_code == 403
    assert b"secret" not in client.get("/forgotten").data


@pytest.mark.same_on_every_engine("which tabs a person is offered is decided in Python (peerapp.navigation)")
def test_an_areas_tabs_offer_only_pages_the_person_may_open(app, client_for):
    """Each area's sub-navigation (templates/*/_tabs.html, through navigation.tabs_for)
    is reached from the menu by every role; every tab it offers opens for that role."""
    from tests.dom import parse
    adapter = app.url_map.bind("localhost")
    offered: dict[str, set[str]] = {}
    for role in ROLES:
        client = client_for(role)
        home = parse(client.get("/"))
        areas = [a.get("href") for a in home.select("header nav[aria-label=Menu] a")]
        for area in areas:
            page = parse(client.get(area))
            tabs = [a for nav in page.select("main nav") if nav.get("aria-label") not in ("Breadcrumb", "Pages")
                    for a in nav.select("li a")]
            for tab in tabs:
                endpoint, _ = adapter.match(tab.get("href").split("?")[0])
                allowed = allowed_roles(endpoint, app)
                assert role in allowed or SIGNED_IN in allowed, (role, area, tab.text)
                offered.setdefault(role, set()).add(endpoint)
    # The lists differ by role: a peer lead screens, a clinician refers and sees their own.
    assert {"referrals.screening_queue", "referrals.index", "referrals.new"} <= offered["peer_lead"]
    assert {"referrals.mine", "referrals.new"} <= offered["clinician"]
    assert "referrals.screening_queue" not in offered["clinician"]
    assert {"admin.users", "admin.audit_log"} <= offered["admin"]
