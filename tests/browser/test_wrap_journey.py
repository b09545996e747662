"""The work-WRAP journey on tablets: a peer writes a plan and shares two
sections, their supervisor reads them, the peer stops sharing and the
supervisor's next request is refused, and the peer sees both views in the log."""
from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from peerapp import passwords
from peerapp.db import db
from peerapp.models import Team, User

PASSWORD = "a long tablet journey password"


def _seed(server):
    from peerapp.training.models import Candidate
    from peerapp.workforce.models import PeerRole

    with server.app.app_context(), db.connection_context():
        hashed = passwords.hash_password(PASSWORD)
        team = Team.create(name="Journey EIP Team")
        peer = User.create(email="rowan@journey.nhs.uk", name="Rowan Ellis", team=team, password_hash=hashed)
        peer.set_roles(["peer"])
        lead = User.create(email="priya@journey.nhs.uk", name="Priya Shah", team=team, password_hash=hashed)
        lead.set_roles(["peer_lead"])
        candidate = Candidate.create(name=peer.name, team=team, nominated_by=lead,
                                     nominated_on=dt.date(2025, 9, 1), user=peer)
        PeerRole.create(candidate=candidate, user=peer, team=team, kind="paid", start_date=dt.date(2025, 11, 1),
                        supervisor=lead, status="active")


def test_a_peer_shares_two_sections_then_stops_sharing(make_journey, device):
    owner = make_journey(device)  # the supervisor reads on a tablet either way
    supervisor = make_journey("tablet")
    _seed(owner.server)
    page = owner.page

    # The peer writes their plan.
    owner.login("rowan@journey.nhs.uk", PASSWORD)
    owner.visit("/wrap/")
    page.get_by_role("link", name="Start your work-WRAP").click()
    expect(page.get_by_role("heading", name="Write your work-WRAP")).to_be_visible()
    owner.check_accessibility()
    page.get_by_label("My wellness toolbox").fill("Walks by the canal at lunchtime.")
    page.get_by_label("Early warning signs and what I and others can do").fill(
        "I go quiet in meetings and skip lunch. Ask me how I am.")
    page.get_by_label("Working arrangements and adjustments I would like").fill("Start at ten on Mondays.")
    page.get_by_label("Triggers at work and what I will do").fill("Crowded waiting rooms: I step outside.")
    page.get_by_role("button", name="Save a new version").click()
    expect(page.locator("#wrap-current")).to_contain_text("Version 1")
    expect(page.locator("#wrap-private")).to_be_visible()
    owner.check_accessibility()

    # ... and shares two sections with their supervisor, confirming with the password.
    page.get_by_role("link", name="Choose what to share").click()
    expect(page.get_by_role("heading", name="Choose what Priya Shah can read")).to_be_visible()
    owner.check_accessibility()
    page.get_by_label("Early warning signs and what I and others can do").check()
    page.get_by_label("Working arrangements and adjustments I would like").check()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Share with Priya Shah").click()
    shares = page.locator("#wrap-shares tbody tr")
    expect(shares).to_have_count(2)
    expect(page.locator("#section-triggers")).to_contain_text("Only you can read this.")
    expect(page.locator("#section-early_warning_signs")).to_contain_text("Priya Shah can read this.")
    owner.check_accessibility()

    # The supervisor reads them on a tablet: only those two sections.
    supervisor.login("priya@journey.nhs.uk", PASSWORD)
    supervisor.visit("/wrap/")
    supervisor.page.get_by_role("link", name="Rowan Ellis").click()
    reader = supervisor.page
    expect(reader.get_by_role("heading", name="Work-WRAP shared by Rowan Ellis")).to_be_visible()
    expect(reader.locator("main")).to_contain_text("I go quiet in meetings")
    expect(reader.locator("main")).to_contain_text("Start at ten on Mondays.")
    expect(reader.locator("main")).not_to_contain_text("Walks by the canal")
    expect(reader.locator("main")).not_to_contain_text("Crowded waiting rooms")
    supervisor.check_accessibility()
    shared_url = reader.url
    supervisor.visit(shared_url.removeprefix(supervisor.server.url))  # a second reading

    # The peer stops sharing; the supervisor's very next request is refused.
    owner.visit("/wrap/")
    page.get_by_role("button", name="Stop sharing everything with Priya Shah").click()
    expect(page.locator("#wrap-private")).to_be_visible()
    owner.check_accessibility()
    refused = reader.goto(shared_url)
    assert refused.status == 404
    expect(reader.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(reader.locator("main")).not_to_contain_text("I go quiet in meetings")
    supervisor.check_accessibility()

    # The peer sees both views in the log.
    views = page.locator("#wrap-views tbody tr")
    expect(views).to_have_count(2)
    expect(views.first).to_contain_text("Priya Shah")
    expect(views.nth(1)).to_contain_text("Priya Shah")

    # And can print their own plan.
    page.get_by_role("link", name="Print your plan").click()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Walks by the canal")
    owner.check_accessibility()


def test_versions_arrangements_and_sections_on_a_tablet(make_journey):
    owner = make_journey("tablet")
    supervisor = make_journey("tablet")
    _seed(owner.server)
    page = owner.page
    owner.login("rowan@journey.nhs.uk", PASSWORD)

    # Two versions; the earlier one stays readable.
    owner.visit("/wrap/write")
    page.get_by_label("My wellness toolbox").fill("Version one toolbox.")
    page.get_by_role("button", name="Save a new version").click()
    owner.visit("/wrap/write")
    page.get_by_label("My wellness toolbox").fill("Version two toolbox.")
    page.get_by_label("Working arrangements and adjustments I would like").fill("Late start on Mondays.")
    page.get_by_role("button", name="Save a new version").click()
    owner.visit("/wrap/versions")
    expect(page.locator("#wrap-versions tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Version 1").click()
    expect(page.locator("main")).to_contain_text("Version one toolbox.")
    owner.check_accessibility()

    owner.visit("/wrap/share")
    page.get_by_label("The whole plan").check()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Share with Priya Shah").click()
    expect(page.locator("#wrap-shares tbody tr")).to_have_count(1)

    # The supervisor records what they agreed (a plain form); the peer confirms with htmx.
    supervisor.login("priya@journey.nhs.uk", PASSWORD)
    supervisor.visit("/wrap/")
    supervisor.page.get_by_role("link", name="Rowan Ellis").click()
    supervisor.page.get_by_role("link", name="Record arrangements you agreed with Rowan Ellis").click()
    supervisor.check_accessibility()
    supervisor.page.get_by_label("Working arrangements agreed").fill("Start at 10:00 on Mondays.")
    supervisor.page.get_by_role("button", name="Record and confirm").click()
    expect(supervisor.page.locator("#wrap-arrangements")).to_contain_text("Waiting for the peer to confirm")
    supervisor.check_accessibility()

    owner.visit("/wrap/")
    page.evaluate("window.__same_page = true")
    page.get_by_role("button", name="Confirm this is what we agreed").click()
    expect(page.locator("#wrap-arrangements")).to_contain_text("Confirmed by both")
    assert page.evaluate("window.__same_page === true")
    owner.check_accessibility()

    # The peer lead adapts the team's sections.
    supervisor.visit("/wrap/sections")
    supervisor.page.get_by_role("link", name="My wellness toolbox").click()
    supervisor.check_accessibility()
    supervisor.page.get_by_label("Title").fill("What keeps me well")
    supervisor.page.get_by_role("button", name="Save section").click()
    expect(supervisor.page.locator("#wrap-section-list")).to_contain_text("What keeps me well")
    supervisor.check_accessibility()
