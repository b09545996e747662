"""The matching journey on a tablet (768x1024): a peer lead runs matching for the demo
team, reads why a peer was not proposed, approves two proposals in place, and assigns
another peer instead of a third, with a reason. Every page is checked with axe."""
from __future__ import annotations

from playwright.sync_api import expect

from peerapp.db import db
from peerapp.demo import DEMO_PASSWORD


def test_a_peer_lead_runs_matching_approves_two_and_overrides_one(make_journey, seed_demo, device):
    journey = make_journey(device)
    seed_demo(journey.server)
    page = journey.page
    journey.login("lead@demo.peerapp", DEMO_PASSWORD)

    # The home panel leads to matching; yesterday's run is listed.
    expect(page.locator("#panel-matching")).to_contain_text("awaiting a match")
    page.locator("#panel-matching").get_by_role("link", name="Start a matching run").click()
    expect(page.get_by_role("heading", name="Matching", exact=True)).to_be_visible()
    expect(page.locator("#runs tbody tr")).to_have_count(1)
    journey.check_accessibility()

    page.get_by_role("button", name="Start a matching run").click()
    expect(page.locator("#proposals")).to_be_visible()
    journey.check_accessibility()
    run_url = page.url
    rows = page.locator("#proposals tbody tr[data-status=proposed]")
    assert rows.count() >= 3, rows.count()
    # Unmatched referrals say why, in words.
    expect(page.locator("#unmatched li").first).to_contain_text("Not matched:")

    # Why was Marcus not proposed? The disclosure opens with a tap.
    first = rows.first
    why_not = first.locator("details.matching-why-not")
    why_not.locator("summary").click()
    expect(why_not.locator("li", has_text="Marcus Webb")).to_contain_text("not ready to practise: DBS check expired")
    journey.check_accessibility()

    # Touch targets of at least 44px.
    for target in (first.get_by_role("button", name="Approve"), why_not.locator("summary"),
                   first.locator("details.matching-override summary")):
        box = target.bounding_box()
        assert box and box["height"] >= 44, box

    # The row to override later: one with another eligible peer to choose. A row's
    # choices load in place when its "Choose another peer" is opened.
    def has_choices(row) -> bool:
        row.locator("details.matching-override summary").click()
        expect(row.locator(".matching-override__body").locator("form, .matching-no-choice")).to_have_count(1)
        return row.locator("select option").count() > 1
    ids = [row.get_attribute("id") for row in rows.all()]
    override_id = next(i for i in reversed(ids) if has_choices(page.locator(f"#{i}")))
    to_approve = [i for i in ids if i != override_id][:2]
    journey.check_accessibility()

    # Approve two proposals; htmx swaps each row in place, without a page load.
    page.evaluate("window.__same_page = true")
    for row_id in to_approve:
        row = page.locator(f"#{row_id}")
        row.get_by_role("button", name="Approve").click()
        expect(row).to_have_attribute("data-status", "approved")
        expect(row).to_contain_text("Approved")
    assert page.evaluate("window.__same_page === true")
    journey.check_accessibility()

    # Another eligible peer instead of a proposal, with a reason (choices fresh after the approvals).
    page.goto(run_url)
    row = page.locator(f"#{override_id}")
    proposed = row.locator(".matching-row__peer strong").inner_text()
    row.locator("details.matching-override summary").click()
    expect(row.locator(".matching-override__body form")).to_have_count(1)
    select = row.get_by_label("Peer to assign instead")
    options = [o for o in select.locator("option").all_inner_texts() if not o.startswith("Choose")]
    assert options and not any(o.startswith(proposed + " –") for o in options), options
    select.select_option(label=options[0])
    row.get_by_label("Why this peer instead").fill("Knows the family already and can start on Monday.")
    row.get_by_role("button", name="Assign this peer instead").click()
    expect(row).to_have_attribute("data-status", "overridden")
    expect(row).to_contain_text("Knows the family already")
    journey.check_accessibility()

    # Reopened later, the run shows the decisions; the referrals moved on to "matched".
    journey.visit("/matching/")
    page.locator("#runs tbody tr").first.get_by_role("link").click()
    expect(page.locator("#proposals [data-status=approved]")).to_have_count(2)
    expect(page.locator("#proposals [data-status=overridden]")).to_have_count(1)
    journey.check_accessibility()
    with journey.server.app.app_context(), db.connection_context():
        from peerapp.referrals import states
        from peerapp.referrals.models import Assignment, Referral
        made = list(Assignment.select().where(Assignment.how == "matching run"))
        assert len(made) == 3
        assert {Referral.get_by_id(a.referral_id).state for a in made} == {states.MATCHED}

    # The team's settings page, reachable from the matching pages.
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", name="Matching settings")).to_be_visible()
    journey.check_accessibility()


def test_approve_works_without_javascript(make_journey, seed_demo):
    journey = make_journey("tablet", java_script=False)
    seed_demo(journey.server)
    page = journey.page
    journey.login("lead@demo.peerapp", DEMO_PASSWORD)
    page.goto(journey.url("/matching/"))
    page.get_by_role("button", name="Start a matching run").click()
    row_id = page.locator("#proposals tbody tr").first.get_attribute("id")
    row = page.locator(f"#{row_id}")
    # <details> opens without JavaScript; "why not" is then a page of its own.
    row.locator("details.matching-why-not summary").click()
    row.locator("details.matching-why-not").get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("Marcus Webb")
    page.go_back()
    row = page.locator(f"#{row_id}")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(".peerapp-flash--success")).to_contain_text("matched with")
    expect(page.locator(f"#{row_id}")).to_have_attribute("data-status", "approved")
