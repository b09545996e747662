"""The outcome cycle in the browser (desktop and tablet, axe on every page): a peer
lead enters a service user's baseline on one page and the end measure one question
per screen, sees the change chart, and a viewer opens the printable report. With
JavaScript off the same entry works."""
from __future__ import annotations

from playwright.sync_api import expect

from peerapp.db import db
from peerapp.demo import DEMO_PASSWORD


def _referral_without_measures(server) -> int:
    from peerapp.outcomes.models import MeasureResponse
    from peerapp.referrals.models import Referral
    with server.app.app_context(), db.connection_context():
        measured = MeasureResponse.select(MeasureResponse.referral).where(MeasureResponse.referral.is_null(False))
        return Referral.select().where(Referral.state.in_(("matched", "first meeting", "active")),
                                     Referral.id.not_in(measured)).first().id


def _answer(page, key, label):
    page.locator(f"#item_{key}-group").get_by_label(label, exact=True).check()


def test_a_lead_runs_the_outcome_cycle_and_a_viewer_prints_the_report(make_journey, device, seed_demo):
    lead = make_journey(device)
    seed_demo(lead.server)
    referral_id = _referral_without_measures(lead.server)
    page = lead.page
    lead.login("lead@demo.peerapp", DEMO_PASSWORD)
    lead.visit("/outcomes/")
    expect(page.locator("#due-list")).to_be_visible()
    lead.visit(f"/outcomes/referrals/{referral_id}")
    expect(page.locator("#no-measures")).to_be_visible()

    # Baseline, all questions on one page.
    page.get_by_role("link", name="Record: all questions on one page").click()
    lead.check_accessibility()
    page.get_by_label("Baseline").check()
    for key, label in (("looking_forward", "A little"), ("stuck", "Mostly"), ("small_steps", "A little"),
                       ("choices", "A little")):
        _answer(page, key, label)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#table-demo-hope-agency")).to_contain_text("8")
    lead.check_accessibility()

    # End, one question per screen.
    page.get_by_role("link", name="Record: one question per screen").click()
    page.get_by_label("End (at closing)").check()
    page.get_by_role("button", name="Next").click()
    for key, label in (("looking_forward", "Mostly"), ("stuck", "A little"), ("small_steps", "Mostly"),
                       ("choices", "Completely")):
        expect(page.locator("#step-count")).to_be_visible()
        lead.check_accessibility()
        _answer(page, key, label)
        page.get_by_role("button", name="Save" if key == "choices" else "Next").click()
    expect(page.locator("#change-demo-hope-agency")).to_contain_text("reliable improvement")
    expect(page.locator("#chart-demo-hope-agency")).to_be_visible()
    lead.check_accessibility()

    # A viewer prints the commissioner report: counts only, the filters not printed.
    viewer = make_journey(device)
    viewer.login("viewer@demo.peerapp", DEMO_PASSWORD)
    viewer.visit("/outcomes/report")
    expect(viewer.page.get_by_role("heading", name="Outcomes report")).to_be_visible()
    expect(viewer.page.locator("[id^=change-demo-hope-agency]").first).to_be_visible()
    viewer.page.emulate_media(media="print")
    expect(viewer.page.locator("form.outcomes-noprint")).to_be_hidden()


def test_entering_a_measure_works_with_javascript_off(make_journey, device, seed_demo):
    lead = make_journey(device, java_script=False)
    seed_demo(lead.server)
    referral_id = _referral_without_measures(lead.server)
    page = lead.page
    lead.login("lead@demo.peerapp", DEMO_PASSWORD)
    lead.visit(f"/outcomes/referrals/{referral_id}")
    page.get_by_role("link", name="Record: one question per screen").click()
    page.get_by_label("Baseline").check()
    page.get_by_role("button", name="Next").click()
    for key in ("looking_forward", "stuck", "small_steps", "choices"):
        _answer(page, key, "Somewhat")
        page.get_by_role("button", name="Save" if key == "choices" else "Next").click()
    expect(page.locator("#table-demo-hope-agency")).to_contain_text("12")
