"""A peer lead, on a tablet, takes a trained candidate from offer to active peer:
records the checks, ticks the induction with one tap per item, signs it off and
sees them become ready to practise; later a check lapses and the role pauses itself."""
from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from peerapp.db import db

PASSWORD = "a long journey password 2026"


class MovableClock:
    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


def _seed(server):
    from peerapp.models import Team, User
    from peerapp.passwords import hash_password
    from peerapp.training.models import Candidate, EquivalentTraining
    from peerapp.workforce.models import PeerLeadDesignation

    with server.app.app_context(), db.connection_context():
        team = Team.create(name="Journey EIP Team")
        hashed = hash_password(PASSWORD)
        lead = User.create(email="lead@journey.nhs.uk", name="Lena Lead", team=team, password_hash=hashed)
        lead.set_roles(["peer_lead"])
        lead2 = User.create(email="lead2@journey.nhs.uk", name="Lou Lead", team=team, password_hash=hashed)
        lead2.set_roles(["peer_lead"])
        for person in (lead, lead2):
            PeerLeadDesignation.create(team=team, user=person, paid=True, designated_on=dt.date(2026, 1, 1))
        candidate = Candidate.create(name="Robin Hart", preferred_name="Robin", email="robin@example.org",
                                     team=team, nominated_by=lead, nominated_on=dt.date(2026, 1, 10))
        EquivalentTraining.create(candidate=candidate, provider="Recovery College", completed_on=dt.date(2026, 3, 1),
                                  recognised_by=lead, recognised_on=dt.date(2026, 3, 2))
        return lead, candidate


def _record_check(journey, role_url, code, completed, expires=None, dbs=False):
    page = journey.page
    page.locator(f'tr[data-check="{code}"] a[href*="/checks/new"]').click()
    page.wait_for_url("**/checks/new**")
    journey.check_accessibility()
    page.get_by_label("Date completed").fill(completed)
    if expires:
        page.get_by_label("Expiry date").fill(expires)
    if dbs:
        page.get_by_label("DBS level").select_option("enhanced")
        page.locator("#dbs_update_service").get_by_label("Yes").check()
        page.get_by_label("Clear").check()
    page.get_by_role("button", name="Record the check").click()
    page.wait_for_url(re.compile(re.escape(role_url) + "#checks$"))
    expect(page.locator(f'tr[data-check="{code}"]')).to_have_attribute("data-state", "in_date")


def test_lead_onboards_a_volunteer_until_ready_then_a_lapsed_check_pauses_them(make_journey, device):
    journey = make_journey(device)
    server = journey.server
    clock = MovableClock(dt.datetime(2026, 5, 1, 9))
    server.app.config["CLOCK"] = clock
    _seed(server)
    page = journey.page
    journey.login("lead@journey.nhs.uk", PASSWORD)
    expect(page.locator("#workforce-panel")).to_be_visible()

    # Offer a volunteer role.
    journey.visit("/workforce/offer")
    page.get_by_label("Trained candidate").select_option(label="Robin Hart")
    page.get_by_label("Volunteer").check()
    page.get_by_label("Hours a week").fill("6")
    page.get_by_label("Wednesday").check()
    page.get_by_label("Thursday").check()
    page.get_by_label("Start date").fill("2026-05-11")
    page.get_by_label("Supervisor").select_option(label="Lena Lead")
    page.get_by_label("Maximum caseload").fill("2")
    page.get_by_label("Languages").fill("English, Polish")
    page.get_by_role("button", name="Offer the role").click()
    page.wait_for_url(re.compile(r"/workforce/roles/\d+$"))
    role_url = page.url.replace(server.url, "")
    expect(page.locator("#role-status")).to_contain_text("Offered")
    journey.check_accessibility()

    page.get_by_role("button", name="Start onboarding").click()
    expect(page.locator("#role-status")).to_contain_text("Onboarding")
    expect(page.locator("#readiness-problems")).to_contain_text("DBS check not recorded")

    # Recruitment checks: information governance training lapses on 1 June.
    _record_check(journey, role_url, "dbs", "2026-04-20", "2029-04-20", dbs=True)
    _record_check(journey, role_url, "confidentiality_agreement", "2026-04-20")
    _record_check(journey, role_url, "ig_training", "2025-06-01", "2026-06-01")
    _record_check(journey, role_url, "confidentiality_training", "2026-04-20", "2027-04-20")
    _record_check(journey, role_url, "safeguarding_training", "2026-04-20", "2029-04-20")
    expect(page.locator("#readiness-problems li")).to_have_text(["Induction not signed off"])

    # Induction: one tap per item, swapped in place by htmx (no page load).
    page.evaluate("window.__same_page = true")
    items = page.locator("#induction .workforce-tick")
    for index in range(items.count()):
        page.locator("#induction .workforce-tick").nth(index).click()
        expect(page.locator("#induction .workforce-tick").nth(index)).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__same_page === true")
    journey.check_accessibility()
    page.get_by_role("button", name="Sign off induction").click()
    expect(page.locator("#induction-signed-off")).to_be_visible()
    expect(page.locator("#ready")).to_be_visible()
    expect(page.locator("#role-status")).to_contain_text("Ready to practise")
    journey.check_accessibility()

    # Active: the peer's account is made and its one-time password shown once.
    page.get_by_role("button", name="Make active").click()
    expect(page.locator("#one-time-password")).to_be_visible()
    journey.check_accessibility()
    journey.visit(role_url)
    expect(page.locator("#role-status")).to_contain_text("Active")
    journey.visit("/workforce/")
    expect(page.locator("#expiring-60")).to_contain_text("Information governance training")

    # A month later the IG training lapses: the role pauses itself, with the reason.
    clock.now = dt.datetime(2026, 6, 2, 9)
    journey.login("lead@journey.nhs.uk", PASSWORD)  # the old session timed out meanwhile
    expect(page.locator("#workforce-panel")).to_contain_text("Paused automatically")
    journey.visit(role_url)
    expect(page.locator("#role-status")).to_contain_text("Paused")
    expect(page.locator("#status-reason")).to_contain_text("Information governance training expired on 1 June 2026")
    journey.visit("/workforce/")
    expect(page.locator("#expiring-expired")).to_contain_text("Information governance training")

    # Renewed: active again, nobody had to press resume.
    journey.visit(role_url)
    _record_check(journey, role_url, "ig_training", "2026-06-02", "2027-06-02")
    expect(page.locator("#role-status")).to_contain_text("Active")
    expect(page.locator("#ready")).to_be_visible()


def test_a_peer_sees_their_own_role_on_a_tablet(make_journey, seed_demo):
    journey = make_journey("tablet")
    seed_demo(journey.server)
    from peerapp.demo import DEMO_PASSWORD
    page = journey.page
    journey.login("volunteer@demo.peerapp", DEMO_PASSWORD)
    expect(page.locator("#my-role-panel")).to_be_visible()
    journey.visit("/workforce/me")
    expect(page.get_by_role("heading", name=re.compile("Your role"))).to_be_visible()
    expect(page.locator("#checks-table")).to_contain_text("DBS check")
    # The team-meeting arrangement waits for the peer's own agreement.
    page.get_by_role("button", name="I agree to this arrangement").click()
    expect(page.locator("#meetings")).to_contain_text("Agreed jointly")
    journey.check_accessibility()
