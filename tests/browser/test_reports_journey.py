"""A manager asks "how is peer support doing this quarter?": filters the report,
prints it (menus and buttons left out, the figures kept), downloads a table as CSV
(password asked again when it was typed long ago); desktop and tablet, axe on every
page; and the same filter with JavaScript off."""
from __future__ import annotations

from playwright.sync_api import expect

from peerapp.db import db
from peerapp.demo import DEMO_PASSWORD
from peerapp.reports.models import StoredReportFigures


def test_manager_filters_prints_and_downloads(journey, seed_demo):
    seed_demo(journey.server)
    page = journey.page
    journey.login("manager@demo.peerapp", DEMO_PASSWORD)
    page.get_by_role("link", name="Reports").first.click()
    expect(page.get_by_role("heading", name="How peer support is doing")).to_be_visible()
    journey.check_accessibility()
    for section in ("Uptake", "Delivery", "Impact", "Workforce", "Training", "Safety"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    # Every chart has the same numbers as its table, for screen readers too.
    first_chart = page.locator("svg.peerapp-chart").first
    expect(first_chart).to_have_attribute("role", "img")
    expect(page.locator("#chart-uptake-referrals-desc")).to_contain_text("Received")

    page.locator("#period").select_option(label="The last 12 months")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator("#report-scope")).to_contain_text("The last 12 months")
    assert "period=12m" in page.url and "@" not in page.url
    journey.check_accessibility()

    page.emulate_media(media="print")
    assert not page.locator("header.nhsuk-header").is_visible()
    assert not page.locator("#report-filter").is_visible()
    assert page.locator("#table-uptake-referrals").is_visible()
    assert page.locator("#chart-uptake-referrals").is_visible()
    page.emulate_media(media="screen")

    with page.expect_download() as info:
        page.locator("#figure-uptake-referrals").get_by_role("link", name="Download this table (CSV)").click()
    download = info.value
    assert download.suggested_filename == "uptake-referrals-12m.csv"
    text = open(download.path(), encoding="utf-8-sig").read()
    assert text.splitlines()[0].startswith("Uptake: Referrals received")


def test_the_filter_works_without_javascript(make_journey, seed_demo):
    journey = make_journey("tablet", java_script=False)
    seed_demo(journey.server)
    page = journey.page
    journey.login("viewer@demo.peerapp", DEMO_PASSWORD)
    journey.visit("/reports/workforce")
    page.locator("#team").select_option(label="South Vale Community Mental Health Team")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator("#report-scope")).to_contain_text("South Vale")


def test_a_viewer_on_a_tablet_reads_figures_the_sweep_worked_out(make_journey, seed_demo):
    """As served: figures kept 5 minutes and this quarter's worked out by the figures
    sweep before the viewer asks; another period is worked out once, then kept."""
    journey = make_journey("tablet")
    seed_demo(journey.server)
    app = journey.server.app
    app.config["REPORT_FIGURES_SECONDS"] = 300
    said = app.test_cli_runner().invoke(args=["report-figures"]).output
    assert "section(s) of" in said and "worked out in" in said, said
    page = journey.page
    journey.login("viewer@demo.peerapp", DEMO_PASSWORD)
    page.get_by_role("link", name="Reports").first.click()
    expect(page.locator("#figures-worked-out")).to_contain_text("They are kept for up to 5 minutes")
    for section in ("Uptake", "Delivery", "Impact", "Workforce", "Training", "Safety"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    journey.check_accessibility()
    page.locator("#period").select_option(label="The last 12 months")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator("#report-scope")).to_contain_text("The last 12 months")
    expect(page.locator("#figures-worked-out")).to_contain_text("Figures worked out at")
    with app.app_context(), db.connection_context():
        # This quarter and the last, all teams and each (the demo's two): 36; the last
        # 12 months for all teams, stored by the viewer's page for the other processes: 6.
        assert StoredReportFigures.select().count() == 36 + 6
