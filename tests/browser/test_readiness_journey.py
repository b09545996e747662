"""Team readiness on a tablet and a desktop: a clinician raises an anonymous
concern; the manager holds a reflective meeting that airs it, agrees an action
and marks another done; then shows readiness and SOP sign-off at a glance and
signs the new SOP version with their password. axe on every page; the same
journey with JavaScript off."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from peerapp import passwords
from peerapp.db import db
from peerapp.models import Team, User

PASSWORD = "a long readiness journey password"


def _seed(server):
    from peerapp.readiness import services
    with server.app.app_context(), db.connection_context():
        hashed = passwords.hash_password(PASSWORD)
        team = Team.create(name="Journey EIP Team")
        people = {}
        for key, name, role in (("manager", "Morgan Reid", "manager"), ("lead", "Priya Shah", "peer_lead"),
                                ("clinician", "Hannah Cole", "clinician"), ("peer", "Sam Rivers", "peer")):
            people[key] = User.create(email=f"{key}@journey.nhs.uk", name=name, team=team, password_hash=hashed)
            people[key].set_roles([role])
        services.start_checklist(team, by=people["manager"])
        v1 = services.publish_version(team.id, document=None, title="Peer support SOP", effective_on=dt.date(2026, 1, 5),
                                      changes="First version.", body="# Peer support\n\nWho does what.", pdf=None,
                                      pdf_name="", roles=["manager", "peer_lead", "clinician", "peer"], by=people["manager"])
        services.sign(v1, by=people["manager"])
        services.publish_version(team.id, document=v1.document, title="", effective_on=dt.date(2026, 11, 1),
                                 changes="Adds lone working.", body="# Peer support\n\nWho does what.\n\n## Lone working\n\nSign out.",
                                 pdf=None, pdf_name="", roles=["manager", "peer_lead", "clinician", "peer"], by=people["manager"])


def _run(journey):
    page = journey.page
    # A clinician raises a concern anonymously, told first what that covers.
    journey.login("clinician@journey.nhs.uk", PASSWORD)
    journey.visit("/readiness/concerns/new")
    expect(page.locator("#anonymity")).to_contain_text("Your words may identify you")
    page.get_by_label("Workload").check()
    page.get_by_label("Your concern").fill("Peer workers are asked to cover duty calls.")
    page.get_by_label("Raise it anonymously").check()
    page.get_by_role("button", name="Send the concern").click()
    expect(page.get_by_role("heading", name="Your anonymous concern has been sent")).to_be_visible()
    journey.check_accessibility()
    journey.logout()

    # The manager runs the reflective meeting from the home page.
    journey.login("manager@journey.nhs.uk", PASSWORD)
    expect(page.locator("#readiness-panel")).to_contain_text("0 of 12 met")
    page.locator("#readiness-panel").get_by_role("link", name="Hold a reflective meeting").click()
    expect(page.get_by_role("heading", name="Hold a reflective meeting")).to_be_visible()
    journey.check_accessibility()
    page.get_by_label("Priya Shah").check()
    page.get_by_label("Hannah Cole").check()
    page.get_by_label(re.compile("Workload")).check()
    page.get_by_label("Discussion summary").fill("Duty calls are not a peer worker's role.")
    page.get_by_role("button", name="Start the meeting record").click()
    expect(page.locator("#aired")).to_contain_text("Workload")
    expect(page.locator("#attendees")).to_contain_text("Priya Shah")
    journey.check_accessibility()

    # Agree two practical solutions; one is done before the meeting ends.
    for text, owner in (("Take peer workers off the duty rota.", "Morgan Reid"), ("Tell the team why.", "Priya Shah")):
        page.get_by_label("Action agreed").fill(text)
        page.get_by_label("Who will do it").select_option(label=owner)
        page.get_by_label("Due by").fill("2026-12-31")
        page.get_by_label("About the concern").select_option(index=1)
        page.get_by_role("button", name="Agree the action").click()
        expect(page.locator(".readiness-actions")).to_contain_text(text)
    journey.check_accessibility()
    page.get_by_role("button", name=re.compile(r"Mark done.*Tell the team why")).click()
    expect(page.locator(".readiness-actions")).to_contain_text("Done")
    journey.check_accessibility()

    # Readiness and SOP sign-off at a glance.
    journey.visit("/readiness/")
    expect(page.locator("#concerns-discussed")).to_have_text("1")
    expect(page.locator("#sop-sign-off")).to_contain_text("0 of 4")
    page.locator("#sop-sign-off").get_by_role("link", name="Peer support SOP").click()
    expect(page.locator("#sign-off-count")).to_contain_text("0 of 4")
    journey.check_accessibility()

    # The manager signs version 2 with their password (asked again after version 1).
    journey.visit("/")
    page.locator("#sop-panel").get_by_role("link", name=re.compile("version 2")).click()
    expect(page.locator("#sop-text")).to_contain_text("Lone working")
    journey.check_accessibility()
    page.get_by_label("I have read this version and will follow it").check()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign version 2").click()
    expect(page.locator("#sop-documents")).to_contain_text("Signed")
    journey.check_accessibility()
    journey.visit("/readiness/")
    expect(page.locator("#sop-sign-off")).to_contain_text("1 of 4")


def test_a_manager_runs_a_reflective_meeting_and_shows_readiness(journey):
    _seed(journey.server)
    _run(journey)


@pytest.mark.parametrize("device", ["tablet"])
def test_the_same_with_javascript_off(make_journey, device):
    journey = make_journey(device, java_script=False)
    _seed(journey.server)
    _run(journey)
