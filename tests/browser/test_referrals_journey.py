"""The referrals journey, by four people on their own devices:

a clinician refers on a desktop; a peer lead screens, assigns a volunteer and records
the first meeting on a tablet; the volunteer sees their caseload without notes; the
peer lead enters the volunteer's contact at the end-of-day debrief.
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from peerapp import clock
from peerapp.demo import DEMO_PASSWORD

OWN_WORDS = "I would like to talk to someone who has heard voices too, and get back to drawing."


def test_refer_screen_assign_meet_and_debrief(make_journey, seed_demo):
    clinician = make_journey("desktop")
    server = clinician.server
    seed_demo(server)
    with server.app.app_context():
        today = clock.today().isoformat()

    # --- a clinician refers on a desktop -------------------------------------------
    page = clinician.page
    clinician.login("clinician@demo.peerapp", DEMO_PASSWORD)
    expect(page.locator("#panel-my-referrals")).to_be_visible()
    clinician.visit("/referrals/new")
    page.locator("#name").fill("Robin Ashdown")
    page.locator("#preferred_name").fill("Robin")
    page.locator("#nhs_number").fill("999 821 9931")  # a typo in the check digit
    page.locator("#date_of_birth").fill("2001-06-15")
    page.locator("#contact_preference").fill("Text first, then call after 10am.")
    page.locator("#languages").fill("English")
    page.locator("#interests").fill("drawing, walking")
    page.get_by_label("Monday afternoon").check()
    page.locator("#pref_gender").fill("woman")
    page.get_by_label("They consent to this referral for peer support").check()
    page.get_by_label("They consent to sharing information with a peer worker").check()
    page.locator("#consent_on").fill(today)
    page.locator("#own_words").fill(OWN_WORDS)
    page.locator("#goals").fill("Go to the art group at the library.")
    page.get_by_label("Phone check-ins").check()
    page.locator("#risk_summary").fill("No current concerns.")
    page.locator("#risk_level-0").check()
    page.locator("#last_risk_review_on").fill(today)
    page.get_by_role("button", name="Submit the referral").click()
    # The wrong check digit is caught; what was typed is still there.
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("check digit is wrong")
    expect(page.locator("#own_words")).to_have_value(OWN_WORDS)
    clinician.check_accessibility()
    page.locator("#nhs_number").fill("999 821 9930")
    page.get_by_role("button", name="Submit the referral").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Robin Ashdown")
    label = re.search(r"R-\d{4}", heading.inner_text()).group(0)
    referral_path = urlparse_path(page.url)
    assert "Robin" not in page.url and "9998219930" not in page.url
    expect(page.locator("#referral-state")).to_contain_text("Submitted")
    clinician.check_accessibility()

    # --- a peer lead screens and assigns on a tablet ---------------------------------------
    lead = make_journey("tablet")
    tablet = lead.page
    lead.login("lead@demo.peerapp", DEMO_PASSWORD)
    lead.visit("/referrals/screening")
    tablet.get_by_role("link", name=f"Screen {label}").click()
    lead.check_accessibility()
    expect(tablet.locator("#screening-form")).to_be_visible()
    tablet.get_by_label("Accept", exact=True).check()
    tablet.locator("#reasons").fill("Peer support fits Robin's goals.")
    tablet.locator("#risk_considerations").fill("Low risk; usual lone-working plan.")
    tablet.get_by_label("A volunteer peer may take this referral").check()
    tablet.locator("#safety_note").fill("Phone only at first; meet at the library café if you meet.")
    tablet.get_by_role("button", name="Save the decision").click()
    expect(tablet.locator(".peerapp-flash--success")).to_contain_text("added to the waiting list")
    lead.check_accessibility()

    lead.visit("/referrals/awaiting-match")
    tablet.get_by_role("link", name=f"Assign a peer to {label}").click()
    lead.check_accessibility()
    tablet.get_by_label(re.compile(r"^Chris Lee \(volunteer\)")).check()
    tablet.get_by_role("button", name="Assign this peer").click()
    expect(tablet.locator("#assigned-peer")).to_contain_text("Chris Lee")
    lead.check_accessibility()

    # --- the first meeting --------------------------------------------------------------
    tablet.get_by_role("link", name="Arrange the first meeting").click()
    tablet.locator("#meeting_on").fill(today)
    tablet.get_by_role("button", name="Arrange the first meeting").click()
    expect(tablet.locator("#referral-state")).to_contain_text("First meeting")
    lead.check_accessibility()
    tablet.get_by_role("link", name="Record the first meeting").click()
    lead.check_accessibility()
    tablet.get_by_label("Go ahead: peer support starts").check()
    tablet.locator("#reason").fill("Robin and Chris got on well; weekly phone check-ins agreed.")
    tablet.get_by_role("button", name="Record the outcome").click()
    expect(tablet.locator("#referral-state")).to_contain_text("Active")
    expect(tablet.locator("#history")).to_contain_text("first meeting → active")
    lead.check_accessibility()

    # --- the volunteer sees the caseload, without notes --------------------------------------
    volunteer = make_journey("tablet")
    mobile = volunteer.page
    volunteer.login("volunteer@demo.peerapp", DEMO_PASSWORD)
    volunteer.visit("/referrals/caseload")
    card = mobile.locator("#caseload li", has_text="Robin")
    expect(card).to_contain_text("Text first, then call after 10am.")
    expect(card).to_contain_text("Phone check-ins")
    # The peer lead's safety note for them, not the clinician's risk summary.
    expect(card).to_contain_text("Phone only at first; meet at the library café if you meet.")
    expect(card).not_to_contain_text("No current concerns.")
    body = mobile.locator("main").inner_text()
    assert OWN_WORDS not in body and "Ashdown" not in body
    assert mobile.get_by_role("link", name=re.compile("Open .*referral")).count() == 0
    response = mobile.goto(volunteer.url(referral_path))
    assert response.status == 404
    assert OWN_WORDS not in mobile.content()
    volunteer.check_accessibility()

    # --- the peer lead enters the contact at the end-of-day debrief -----------------------------
    lead.visit("/referrals/debrief")
    tablet.get_by_role("link", name=f"Enter a contact for {label}").click()
    lead.check_accessibility()
    tablet.locator("#minutes").fill("20")
    tablet.locator("#intervention").select_option(label="Phone check-ins")
    tablet.locator("#setting").select_option("phone")
    tablet.get_by_label("Attended", exact=True).check()
    tablet.locator("#summary").fill("Robin is drawing again; wants to try the library group.")
    tablet.get_by_role("button", name="Save the contact").click()
    expect(tablet.locator(".peerapp-flash--success")).to_contain_text("Contact recorded")
    lead.visit(referral_path)
    expect(tablet.locator("#contacts")).to_contain_text("Reported by Chris Lee at debrief on")
    expect(tablet.locator("#contacts")).to_contain_text("entered by Priya Shah")

    # The volunteer still sees no notes after the contact was entered.
    volunteer.visit("/referrals/caseload")
    assert "library group" not in mobile.locator("main").inner_text()


def urlparse_path(url: str) -> str:
    from urllib.parse import urlsplit
    return urlsplit(url).path


def test_screening_works_without_javascript(make_journey, seed_demo):
    lead = make_journey("tablet", java_script=False)
    seed_demo(lead.server)
    from peerapp.db import db
    from peerapp.referrals.models import Referral
    with lead.server.app.app_context(), db.connection_context():
        label = Referral.in_states("screening").first().label
    page = lead.page
    lead.login("lead@demo.peerapp", DEMO_PASSWORD)
    page.goto(lead.url("/referrals/screening"))
    page.get_by_role("link", name=f"Screen {label}").click()
    # Declining needs reasons: the form says so and keeps the choice.
    page.get_by_label("Decline", exact=True).check()
    page.get_by_role("button", name="Save the decision").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Give the reasons for declining")
    page.get_by_label("Accept", exact=True).check()
    page.get_by_role("button", name="Save the decision").click()
    expect(page.locator(".peerapp-flash--success")).to_contain_text(f"{label} accepted")
    page.goto(lead.url("/referrals/awaiting-match"))
    expect(page.get_by_role("link", name=f"Assign a peer to {label}")).to_be_visible()


def test_a_long_run_of_contacts_pages_on_a_tablet(make_journey, seed_demo):
    """A referral with more contacts than a page holds: the peer lead on a tablet sees
    the newest 50 and moves to the older ones with a real link, page by page."""
    import datetime as dt

    from peerapp.db import db
    from peerapp.models import User
    from peerapp.referrals import services
    from peerapp.referrals.models import Referral
    lead = make_journey("tablet")
    seed_demo(lead.server)
    with lead.server.app.app_context(), db.connection_context():
        referral = Referral.in_states("active").first()
        peer = User.get_by_id(referral.current_assignment().peer_role.user_id)
        today = clock.today()
        for i in range(55):
            services.record_contact(referral, by=peer, contact_on=max(referral.referred_on, today - dt.timedelta(days=i)),
                                    attendance="attended", summary=f"Weekly call {i:02d}")
        path = f"/referrals/{referral.id}"
    page = lead.page
    lead.login("lead@demo.peerapp", DEMO_PASSWORD)
    lead.visit(path)
    contacts = page.locator("#contacts tr[data-contact-id]")
    expect(contacts).to_have_count(50)
    expect(contacts.first).to_contain_text("Weekly call 00")
    expect(page.get_by_text(re.compile(r"50 shown of \d+ contacts"))).to_be_visible()
    page.get_by_role("navigation", name="Pages of contacts").get_by_role("link", name="Next 50").click()
    expect(page.locator("#contacts")).to_contain_text("Weekly call 54")
    assert "after=" in page.url and "Weekly" not in page.url
    lead.check_accessibility()
