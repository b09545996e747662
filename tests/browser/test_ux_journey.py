"""What a new user tripped over on a tablet (issue 11), walked in the browser at
768x1024 with touch and on a desktop, axe on every page:

- whole-number boxes: a required one says so (no "(optional)") and asks once; an
  optional one left empty is saved;
- "Approve all (N)" counts what is still open after each approval made in place;
- the attendance grid shows Completed and Withdraw without swiping at 768 px;
- with JavaScript off, every button on the main pages does something when pressed,
  and the certificate offers no dead "Print" button.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

from peerapp.demo import DEMO_PASSWORD


def test_whole_number_boxes_say_whether_they_are_optional_and_accept_empty(make_journey, seed_demo, device):
    journey = make_journey(device)
    seed_demo(journey.server)
    page = journey.page
    journey.login("facilitator@demo.peerapp", DEMO_PASSWORD)

    # A required number: no "(optional)" on its label; left empty it is asked for once.
    journey.visit("/training/cohorts/new")
    places = page.locator('label[for="places"]')
    expect(places).to_have_text("Number of places")
    page.get_by_label("Name or round number").fill("Round 9 – Winter")
    page.get_by_role("button", name=re.compile("Create|Save|Set up")).first.click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter the number of places")
    summary = page.locator(".nhsuk-error-summary li").all_inner_texts()
    assert sum("places" in s or "whole number" in s for s in summary) == 1, summary
    assert not any("Not a valid integer" in s for s in summary), summary
    expect(page.get_by_label("Name or round number")).to_have_value("Round 9 – Winter")  # nothing typed lost
    journey.check_accessibility()
    journey.logout()

    # An optional number left empty is saved as nothing.
    journey.login("lead@demo.peerapp", DEMO_PASSWORD)
    journey.visit("/referrals/interventions/new")
    expect(page.locator('label[for="typical_sessions"]')).to_contain_text("(optional)")
    page.get_by_label("Name").fill("Allotment mornings")
    page.get_by_label("What the peer does").fill("Meets at the allotment and works alongside them.")
    page.locator("#settings-0").check()
    page.locator("#risk_levels-0").check()
    page.get_by_role("button", name=re.compile("Save|Add")).first.click()
    page.wait_for_load_state()
    errors = page.locator(".nhsuk-error-summary li").all_inner_texts()
    assert errors == [], errors
    expect(page.locator("body")).to_contain_text("Allotment mornings")
    journey.check_accessibility()


def test_approve_all_counts_what_is_still_open_after_each_approval(make_journey, seed_demo, device):
    journey = make_journey(device)
    seed_demo(journey.server)
    page = journey.page
    journey.login("lead@demo.peerapp", DEMO_PASSWORD)
    journey.visit("/matching/")
    page.get_by_role("button", name="Start a matching run").click()
    # click() does not wait for the run's page: count its rows once it is there.
    page.wait_for_url("**/matching/runs/*")
    expect(page.locator("#proposals")).to_be_visible()
    rows = page.locator("#proposals tbody tr[data-status=proposed]")
    total = rows.count()
    assert total >= 2
    approve_all = page.locator("#approve-many-actions").get_by_role("button", name=re.compile("Approve all"))
    expect(approve_all).to_have_text(f"Approve all ({total})")
    page.evaluate("window.__same_page = true")
    ids = [row.get_attribute("id") for row in rows.all()]
    for done, row_id in enumerate(ids[:2], start=1):
        page.locator(f"#{row_id}").get_by_role("button", name="Approve").click()
        expect(page.locator(f"#{row_id}")).to_have_attribute("data-status", "approved")
        expect(approve_all).to_have_text(f"Approve all ({total - done})")
    assert page.evaluate("window.__same_page === true"), "the count came from a page reload, not the swap"
    journey.check_accessibility()


def test_the_attendance_grid_shows_completed_and_withdraw_without_swiping(make_journey, seed_demo, device):
    journey = make_journey(device)
    seed_demo(journey.server)
    page = journey.page
    journey.login("facilitator@demo.peerapp", DEMO_PASSWORD)
    page.locator("#training-home").get_by_role("link", name="Round 1 – Spring").click()
    grid = page.locator("#attendance-grid")
    expect(grid).to_be_visible()
    # Sizes are measured once the cohort page's own stylesheet has loaded (it came
    # after the measuring once, and the link measured 21 px high).
    page.wait_for_load_state()
    journey.check_accessibility()
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    targets = [grid.get_by_role("columnheader", name="Completed"), grid.locator("tbody tr").first.locator("td.training-completed"),
               grid.locator("tbody tr").first.get_by_role("link", name=re.compile("^Withdraw"))]
    for target in targets:
        box = target.bounding_box()
        assert box and 0 <= box["x"] and box["x"] + box["width"] <= width, (box, width)
    box = targets[2].bounding_box()
    assert box["height"] >= 44, box  # a touch target


MAIN_PAGES = {
    "facilitator@demo.peerapp": ["/", "/training/", "cohort", "register", "certificate"],
    "lead@demo.peerapp": ["/", "/referrals/screening", "/matching/", "/workforce/"],
    "peer@demo.peerapp": ["/", "/wrap/", "/wrap/print", "/referrals/caseload"],
}
# Buttons each login presses on those pages in the demo (fewer means pages lost theirs).
PRESSED_AT_LEAST = {"facilitator@demo.peerapp": 20, "lead@demo.peerapp": 1, "peer@demo.peerapp": 2}


def _resolve(page, base: str, key: str) -> str:
    """Paths found by following the demo's own links (ids differ between runs). Each
    link's href is read and opened, not clicked: page.url right after a click can
    still be the page before."""
    def follow(link) -> str:
        page.goto(urljoin(page.url, link.get_attribute("href")))
        return page.url.removeprefix(base)
    if key == "cohort":
        page.goto(base + "/")
        return follow(page.locator("#training-home").get_by_role("link", name="Round 1 – Spring"))
    if key == "register":
        page.goto(base + "/")
        return follow(page.get_by_role("link", name="Open the register"))
    if key == "certificate":
        _resolve(page, base, "cohort")
        follow(page.get_by_role("link", name="Sam Rivers", exact=True))
        return follow(page.get_by_role("link", name="Certificate"))
    return key


# Each login's pages are a test of their own, so the two test workers share them
# (as one test, the longest of the suite: 30 s on one worker while the other idled).
@pytest.mark.parametrize("email", list(MAIN_PAGES), ids=lambda email: email.split("@")[0])
def test_without_javascript_every_button_on_the_main_pages_does_something(make_journey, seed_demo, email):
    journey = make_journey("tablet", java_script=False)
    seed_demo(journey.server)
    page = journey.page
    base = journey.server.url
    pressed, dead = 0, []
    journey.login(email, DEMO_PASSWORD)
    paths = [_resolve(page, base, k) for k in MAIN_PAGES[email]]
    for path in paths:
        page.goto(base + path)
        count = page.locator("button:visible").count()
        for i in range(count):
            page.goto(base + path)
            buttons = page.locator("button:visible")
            if i >= buttons.count():
                break  # an earlier press changed the page (a row approved, say)
            button = buttons.nth(i)
            name = button.inner_text().strip()
            if name == "Log out":
                continue
            form = button.locator("xpath=ancestor::form[1]")
            if form.count() and form.locator(":invalid").count():
                continue  # the browser stops it and says which box to fill
            try:
                with page.expect_request(lambda r: r.url.startswith(base), timeout=3000):
                    button.click()
                page.wait_for_load_state()
                pressed += 1
            except Exception:  # noqa: BLE001 - no request at all: a dead button
                dead.append(f"{path}: {name!r}")
    assert dead == [], dead
    assert pressed >= PRESSED_AT_LEAST[email], pressed


def test_without_javascript_the_certificate_says_how_to_print(make_journey, seed_demo):
    journey = make_journey("tablet", java_script=False)
    seed_demo(journey.server)
    page = journey.page
    # The certificate says how to print instead of showing a button that cannot.
    journey.login("facilitator@demo.peerapp", DEMO_PASSWORD)
    page.goto(journey.server.url + _resolve(page, journey.server.url, "certificate"))
    expect(page.locator("button[data-print]")).to_be_hidden()
    expect(page.locator("body")).to_contain_text("use your browser's Print command")  # the way that works


def test_with_javascript_the_print_button_is_there(make_journey, seed_demo):
    journey = make_journey("tablet")
    seed_demo(journey.server)
    page = journey.page
    journey.login("facilitator@demo.peerapp", DEMO_PASSWORD)
    page.goto(journey.server.url + _resolve(page, journey.server.url, "certificate"))
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_visible()
    journey.check_accessibility()
