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
    expect(page.locator("#user-list tbody tr")).to_have_count(1)
    assert "Tom Okafor" in page.locator("#user-list").inner_text()


def test_a_lead_on_a_tablet_uses_the_app_served_under_a_path(browser, database_target):
    """An intranet serves peerapp under /peer-support (waitress --url-prefix): a peer
    lead asks for a filtered list, signs in, is brought back to it, filters it in
    place (htmx) and pages on, and never leaves the path."""
    from bench.seed import Sizes, seed
    from peerapp import create_app
    from peerapp.cli import upgrade_schema
    from peerapp.db import db
    from peerapp.demo import load_demo
    from tests.browser.conftest import VIEWPORTS, Journey, LiveServer

    app = create_app({"DATABASE": database_target, "SECRET_KEY": "browser-tests",
                      "WTF_CSRF_SSL_STRICT": False, "REPORT_FIGURES_SECONDS": 0})
    with app.app_context():
        upgrade_schema()
        load_demo()
        seed(Sizes(teams=2, peer_roles=40, candidates=40, referrals=240, contacts=10, audit=10, runs=1,
                   clinicians_per_team=2), rng_seed=3)
    server = LiveServer(app, mount="/peer-support")
    context = browser.new_context(viewport=VIEWPORTS["tablet"], has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        lead = Journey(page, server)
        page.goto(lead.url("/referrals/?state=submitted"))
        page.get_by_label("Email address").fill("lead@demo.peerapp")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/peer-support/referrals/?state=submitted")
        expect(page.locator("#state")).to_have_value("submitted")
        lead.check_accessibility()
        page.evaluate("window.__same_page = true")
        page.locator("#state").select_option("")  # htmx asks for the list again, in place
        expect(page.locator("#referral-list")).to_contain_text("shown of")
        expect(page.get_by_role("link", name="Next 50")).to_be_visible()
        assert page.evaluate("window.__same_page === true")
        page.get_by_role("link", name="Next 50").click()
        expect(page.get_by_role("link", name="Previous 50")).to_be_visible()
        links = page.locator("#referral-list a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert links and all(href.startswith("/peer-support/") for href in links), links
        page.goto(lead.url("/referrals/"))
        lead.check_accessibility()
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url("**/peer-support/login**")
    finally:
        context.close()
        server.stop()
        if not db.is_closed():
            db.close()
