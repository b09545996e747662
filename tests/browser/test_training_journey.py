"""The training journey on a tablet: a facilitator takes the register for the
last session of a round of 12, one tap each, and watches completion appear;
the same without JavaScript; and the facilitator's home on a desktop."""
from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from peerapp import clock, passwords
from peerapp.db import db
from peerapp.demo import DEMO_PASSWORD
from peerapp.models import Team, User

PASSWORD = "a long tablet training password"
FIRST_NAMES = ["Ada", "Ben", "Cara", "Dev", "Esme", "Finn", "Gita", "Hugo", "Isla", "Jon", "Kemi", "Luca"]


def _seed_round_of_twelve(server) -> int:
    """Sessions 1-5 attended by all twelve; session 6 is today. Returns its id."""
    from peerapp.training.models import (PLACE, PRESENT, Attendance, Candidate, Cohort, CohortFacilitator,
                                         CohortSession, Enrolment)

    with server.app.app_context(), db.connection_context():
        today = clock.today()
        team = Team.create(name="Journey EIP Team")
        facilitator = User.create(email="jo@journey.nhs.uk", name="Jo Bennett", team=team,
                                  password_hash=passwords.hash_password(PASSWORD))
        facilitator.set_roles(["facilitator"])
        lead = User.create(email="lead@journey.nhs.uk", name="Priya Shah", team=team)
        lead.set_roles(["peer_lead"])
        cohort = Cohort.create(name="Round 3", venue="Room 2", places=12)
        CohortFacilitator.create(cohort=cohort, user=facilitator)
        sessions = [CohortSession.create(cohort=cohort, number=n, held_on=today - dt.timedelta(weeks=6 - n))
                    for n in range(1, 7)]
        for i, first in enumerate(FIRST_NAMES):
            person = Candidate.create(name=f"{first} Journey", team=team, nominated_by=lead,
                                      nominated_on=today - dt.timedelta(days=90 - i))
            enrolment = Enrolment.create(cohort=cohort, candidate=person, status=PLACE)
            for session in sessions[:5]:
                Attendance.create(session=session, enrolment=enrolment, status=PRESENT)
        return sessions[5].id


def test_facilitator_takes_the_register_with_one_tap_each(make_journey, device):
    journey = make_journey(device)
    session_id = _seed_round_of_twelve(journey.server)
    page = journey.page
    journey.login("jo@journey.nhs.uk", PASSWORD)

    # Home: the next session is today, one link straight to its register.
    expect(page.locator("#next-session")).to_contain_text("Today")
    page.get_by_role("link", name="Open the register").click()
    expect(page.get_by_role("heading", name="Session 6: Boundaries, self-care and next steps")).to_be_visible()
    journey.check_accessibility()

    rows = page.locator(".training-register__row")
    expect(rows).to_have_count(12)
    # Every tap target is at least 44px high, on a tablet.
    for box in [b.bounding_box() for b in rows.first.locator("button").all()]:
        assert box["height"] >= 44 and box["width"] >= 44
    assert page.locator(".training-catchup__summary").first.bounding_box()["height"] >= 44

    page.evaluate("window.__same_page = true")
    for i in range(12):
        row = rows.nth(i)
        expect(row.locator(".training-register__completion")).to_contain_text("not complete yet")
        row.get_by_role("button", name="Present").click()
        # The row is swapped in place: the status is written, completion appears.
        expect(rows.nth(i).locator(".training-status")).to_have_text("Present")
        expect(rows.nth(i).locator(".training-register__completion")).to_contain_text("Training complete")
    assert page.evaluate("window.__same_page === true"), "the register reloaded the page"
    expect(page.locator('button[aria-pressed="true"]')).to_have_count(12)

    # Correct one exception: Luca was late.
    rows.nth(11).get_by_role("button", name="Late").click()
    expect(rows.nth(11).locator(".training-status")).to_have_text("Late")
    # Keyboard and switch users keep their place: focus stays on the button they pressed.
    expect(rows.nth(11).get_by_role("button", name="Late")).to_be_focused()
    journey.check_accessibility()

    # A catch-up needs its date: without one, the row says so and nothing changes.
    rows.nth(0).locator("summary").click()
    rows.nth(0).get_by_role("button", name="Save catch-up").click()
    expect(rows.nth(0)).to_contain_text("Enter the date of the catch-up")
    expect(rows.nth(0).locator(".training-status")).to_have_text("Present")
    journey.check_accessibility()

    # The cohort page agrees: 12 of 12 completed.
    page.get_by_role("link", name="Back to the cohort").click()
    expect(page.locator("#completed-count")).to_have_text("12 of 12")
    journey.check_accessibility()
    assert f"/training/sessions/{session_id}/register" in page.locator("#sessions").inner_html()


def test_the_register_works_without_javascript(make_journey):
    journey = make_journey("tablet", java_script=False)
    session_id = _seed_round_of_twelve(journey.server)
    page = journey.page
    journey.login("jo@journey.nhs.uk", PASSWORD)
    page.goto(journey.url(f"/training/sessions/{session_id}/register"))
    rows = page.locator(".training-register__row")
    expect(rows).to_have_count(12)
    for i in range(12):
        # Each tap is a real form POST that comes back to the register.
        rows.nth(i).get_by_role("button", name="Present").click()
        page.wait_for_url(f"**/training/sessions/{session_id}/register**")
        expect(rows.nth(i).locator(".training-status")).to_have_text("Present")
        expect(rows.nth(i).locator(".training-register__completion")).to_contain_text("Training complete")
    # A catch-up without a date is refused on the same page, with the reason.
    rows.nth(3).locator("summary").click()
    rows.nth(3).get_by_role("button", name="Save catch-up").click()
    expect(page.locator(".training-register__errors")).to_contain_text("Enter the date of the catch-up")
    expect(rows.nth(3).locator(".training-status")).to_have_text("Present")
    page.get_by_role("link", name="Back to the cohort").click()
    expect(page.locator("#completed-count")).to_have_text("12 of 12")


def test_facilitator_home_and_cohort_on_a_desktop(make_journey, seed_demo):
    journey = make_journey("desktop")
    seed_demo(journey.server)
    page = journey.page
    journey.login("facilitator@demo.peerapp", DEMO_PASSWORD)
    panel = page.locator("#training-home")
    expect(panel.get_by_role("heading", name="Your training cohorts")).to_be_visible()
    expect(panel.locator("#my-cohorts")).to_contain_text("Round 2 – Autumn")
    expect(panel.locator("#my-cohorts")).to_contain_text("8 of 8")
    expect(panel.locator("#next-session")).to_contain_text("Today")

    panel.get_by_role("link", name="Round 1 – Spring").click()
    expect(page.locator("#attendance-grid tbody tr")).to_have_count(7)
    expect(page.locator("#withdrawn")).to_contain_text("Leah Thompson")
    journey.check_accessibility()

    page.get_by_role("link", name="Sam Rivers", exact=True).click()
    expect(page.locator("#completion")).to_contain_text("Training complete")
    journey.check_accessibility()
    page.get_by_role("link", name="Certificate").click()
    expect(page.locator("#certificate")).to_contain_text("Sam Rivers")
    journey.check_accessibility()
    # The printed certificate is one clean page: no header, menu or buttons.
    page.emulate_media(media="print")
    assert not page.locator("header.nhsuk-header").is_visible()
    assert not page.locator("button[data-print]").is_visible()
    assert page.locator("#certificate").is_visible()
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1, "the certificate should print on one page"
    page.emulate_media(media="screen")

    journey.visit("/training/curriculum")
    journey.visit("/training/summary")
