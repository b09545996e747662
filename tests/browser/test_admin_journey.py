"""An admin asks "what has Priya done, and whose records did she open?": types a name in
the audit log's "Who" box (no name ever reaches the URL), chooses among several people
when the name is shared, and goes back to everyone; desktop and tablet, axe on every
page; and the same with JavaScript off."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from peerapp.demo import DEMO_PASSWORD


def _filter_by_person(journey) -> None:
    page = journey.page
    journey.login("admin@demo.peerapp", DEMO_PASSWORD)
    journey.visit("/admin/audit")
    journey.check_accessibility()

    page.get_by_label("Who").fill("Priya Shah")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_label("Who")).to_have_value("Priya Shah")
    assert re.search(r"[?&]user=\d+", page.url) and "Priya" not in page.url and "@" not in page.url
    rows = page.locator("table tbody tr")
    expect(rows.first).to_be_visible()
    assert all("Priya Shah" in text for text in rows.locator("td:nth-child(2)").all_inner_texts())
    journey.check_accessibility()

    # A part of the address that every demo login shares: several people, offered as links.
    page.get_by_label("Who").fill("demo.peerapp")
    page.get_by_role("button", name="Filter").click()
    people = page.locator("#audit-people")
    expect(people).to_contain_text("Choose one")
    journey.check_accessibility()
    people.get_by_role("link", name="Tom Okafor").click()
    expect(page.get_by_label("Who")).to_have_value("Tom Okafor")
    assert "Tom" not in page.url and "demo.peerapp" not in page.url

    # Nobody by that name: said on the box, with the typed text kept.
    page.get_by_label("Who").fill("Nobody Of That Name")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".nhsuk-error-message")).to_contain_text("No one's name or email address contains this")
    expect(page.get_by_label("Who")).to_have_value("Nobody Of That Name")
    journey.check_accessibility()

    journey.visit("/admin/audit?user=1")
    page.get_by_role("link", name="Show everyone's events").click()
    expect(page.get_by_label("Who")).to_have_value("")


def test_an_admin_filters_the_audit_log_by_a_typed_name(journey, seed_demo):
    seed_demo(journey.server)
    _filter_by_person(journey)


def test_the_same_without_javascript(make_journey, seed_demo):
    journey = make_journey("tablet", java_script=False)
    seed_demo(journey.server)
    _filter_by_person(journey)
