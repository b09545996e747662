"""The house journey: sign in, open a page, use an htmx interaction, sign out."""
from playwright.sync_api import expect

from peerapp.demo import DEMO_PASSWORD


def test_admin_filters_users_and_logs_out(journey, seed_demo):
    seed_demo(journey.server)
    page = journey.page
    journey.login("admin@demo.peerapp", DEMO_PASSWORD)
    assert page.get_by_role("heading", name="Hello, Alex").is_visible()

    journey.visit("/admin/users")
    rows = page.locator("#user-list tbody tr")
    assert rows.count() >= 9
    # htmx: typing filters the list in place, without a page load.
    page.evaluate("window.__same_page = true")
    page.get_by_label("Name or email").fill("Priya")
    expect(rows).to_have_count(1)
    assert page.evaluate("window.__same_page === true")
    assert "Priya Shah" in rows.first.inner_text()
    journey.check_accessibility()

    # Keyboard users start at the skip link, and focus is visible.
    journey.visit("/")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Skip to main content")
    assert focused.evaluate("el => getComputedStyle(el).outlineStyle + getComputedStyle(el).boxShadow") != "nonenone"
    journey.logout()
    assert page.get_by_role("heading", name="Sign in").is_visible()
    # After logout, a record page sends you back to sign in.
    page.goto(journey.url("/admin/users"))
    assert "/login" in page.url


def test_user_filter_works_without_javascript(make_journey, seed_demo):
    journey = make_journey("tablet", java_script=False)
    seed_demo(journey.server)
    page = journey.page
    journey.login("admin@demo.peerapp", DEMO_PASSWORD)
    page.goto(journey.url("/admin/users"))
    page.get_by_label("Name or email").fill("Tom")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("#user-list tbody tr").count() == 1
    assert "Tom Okafor" in page.locator("#user-list").inner_text()
