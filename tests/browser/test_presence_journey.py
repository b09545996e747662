"""Lone working on a tablet at the base (and a desktop): a peer plans and starts a
visit; the peer lead's overdue board, left open, shows it late by polling, with
nobody reloading; the lead acknowledges and records that they are safe. The board
says so plainly when the server cannot be reached, and reloads itself with
JavaScript off. The server's clock is moved by the test (app.config["CLOCK"])."""
from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from peerapp import clock as house_clock
from peerapp import passwords
from peerapp.db import db
from peerapp.models import Team, User
from tests.conftest import Clock

PASSWORD = "a long tablet journey password"


def _seed(server) -> Clock:
    from peerapp.training.models import Candidate
    from peerapp.workforce.models import PeerRole

    moment = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, second=0, microsecond=0)
    ticking = Clock(moment)
    server.app.config.update(CLOCK=ticking, PRESENCE_BOARD_SECONDS=1, PRESENCE_BOARD_RELOAD_SECONDS=2)
    with server.app.app_context(), db.connection_context():
        hashed = passwords.hash_password(PASSWORD)
        team = Team.create(name="Journey EIP Team")
        peer = User.create(email="rowan@journey.nhs.uk", name="Rowan Ellis", team=team, password_hash=hashed)
        peer.set_roles(["peer"])
        lead = User.create(email="priya@journey.nhs.uk", name="Priya Shah", team=team, password_hash=hashed)
        lead.set_roles(["peer_lead"])
        candidate = Candidate.create(name=peer.name, team=team, nominated_by=lead,
                                     nominated_on=dt.date(2025, 9, 1), user=peer)
        PeerRole.create(candidate=candidate, user=peer, team=team, kind="paid", start_date=dt.date(2025, 11, 1),
                        supervisor=lead, status="active")
    return ticking


def test_a_late_visit_reaches_the_board_by_itself_and_is_resolved(make_journey, device):
    worker = make_journey(device)
    base = make_journey("tablet")
    ticking = _seed(worker.server)
    local = house_clock.local(ticking())

    # The peer plans the visit and starts it.
    worker.login("rowan@journey.nhs.uk", PASSWORD)
    worker.visit("/presence/")
    worker.page.get_by_role("link", name="Plan a visit").first.click()
    expect(worker.page.get_by_role("heading", name="Plan a visit")).to_be_visible()
    worker.check_accessibility()
    worker.page.get_by_label("Leaves at").fill(local.strftime("%H:%M"))
    worker.page.get_by_label("Expected back at").fill((local + dt.timedelta(hours=1)).strftime("%H:%M"))
    worker.page.get_by_label("Where").fill("Flat 2, 8 Canal Street")
    worker.page.get_by_label("Phone to reach them on").fill("07700 900555")
    worker.page.get_by_role("button", name="Plan the visit").click()
    worker.page.get_by_role("button", name="Start the visit now").click()
    expect(worker.page.locator("#visit-status")).to_contain_text("On a visit")
    worker.check_accessibility()

    # The lead's board at the base: nobody late yet.
    base.login("priya@journey.nhs.uk", PASSWORD)
    base.visit("/presence/board")
    board = base.page.locator("#overdue-board")
    expect(board).to_contain_text("0 late")
    expect(board).to_contain_text("Rowan Ellis")
    base.page.evaluate("() => { window.boardNotReloaded = true; }")

    # Time passes: the visit is overdue and the open board shows it by itself. The clock
    # moves in steps shorter than the idle timeout, with a poll between (as on a real tablet).
    for _ in range(3):
        ticking.advance(minutes=22)
        expect(board.locator("time")).to_have_text(house_clock.local(ticking()).strftime("%H:%M:%S"), timeout=10_000)
    expect(board).to_contain_text("1 late", timeout=10_000)
    expect(board.locator(".presence-tag--overdue")).to_contain_text("Overdue")
    expect(board).to_contain_text(house_clock.local(ticking()).strftime("%H:%M"))  # the time refreshed
    assert base.page.evaluate("() => window.boardNotReloaded === true"), "the page was reloaded"
    base.check_accessibility()

    # When the server cannot be reached the board says so and stops looking current.
    base.page.route("**/presence/board", lambda route: route.abort())
    expect(base.page.locator("#board-connection")).to_be_visible(timeout=10_000)
    expect(base.page.locator("#board-connection")).to_contain_text("Cannot reach the server")
    expect(board).to_have_class(re.compile("presence-board--stale"))
    base.page.unroute("**/presence/board")
    expect(base.page.locator("#board-connection")).to_be_hidden(timeout=10_000)
    base.check_accessibility()

    # "I am calling them", then the outcome.
    base.page.get_by_role("button", name=re.compile("I am calling them")).click()
    expect(base.page.locator("#overdue-board")).to_contain_text("Priya Shah calling them since")
    base.check_accessibility()
    base.page.get_by_role("link", name=re.compile("Record what happened")).click()
    base.page.get_by_label("Reached them: they are safe").check()
    base.page.get_by_label("Notes").fill("Phone on silent; safe and on the way back.")
    base.page.get_by_role("button", name="Record what happened").click()
    expect(base.page.locator("#timeline")).to_contain_text("Resolved: reached, safe")
    expect(base.page.locator("#timeline")).to_contain_text("Peer lead: I am calling them")
    base.check_accessibility()
    base.visit("/presence/board")
    expect(base.page.locator("#overdue-board")).to_contain_text("0 late")


def test_with_javascript_off_the_board_reloads_itself(make_journey):
    worker = make_journey("desktop")
    base = make_journey("tablet", java_script=False)
    ticking = _seed(worker.server)
    from peerapp.presence import services
    with worker.server.app.app_context(), db.connection_context():
        peer = User.get(User.email == "rowan@journey.nhs.uk")
        visit = services.plan_visit(peer, by=peer, starts_at=ticking(), expected_return_at=ticking() + dt.timedelta(hours=1),
                                    place="Library")
        services.start_visit(visit.id, by=peer, version=1)
    base.login("priya@journey.nhs.uk", PASSWORD)
    base.visit("/presence/board")
    expect(base.page.locator("#overdue-board")).to_contain_text("0 late")
    for _ in range(3):  # steps shorter than the idle timeout, each seen by a meta refresh (2 s here)
        ticking.advance(minutes=22)
        with base.page.expect_navigation(timeout=20_000):
            pass
        expect(base.page.locator("#overdue-board time")).to_have_text(house_clock.local(ticking()).strftime("%H:%M:%S"))
    expect(base.page.locator("#overdue-board")).to_contain_text("1 late")
    # The buttons still work as plain forms.
    base.page.get_by_role("button", name=re.compile("I am calling them")).click()
    expect(base.page.locator("#overdue-board")).to_contain_text("Priya Shah calling them since")


def test_the_demo_board_shows_every_state_accessibly(make_journey, seed_demo):
    from peerapp.demo import DEMO_PASSWORD
    lead = make_journey("tablet")
    seed_demo(lead.server)
    lead.login("lead@demo.peerapp", DEMO_PASSWORD)
    expect(lead.page.locator("#presence-banner-open")).to_contain_text("being followed up")
    lead.visit("/presence/board")
    board = lead.page.locator("#overdue-board")
    for words in ("Escalated to manager", "Overdue", "Due back soon", "Priya Shah calling them since"):
        expect(board).to_contain_text(words)
    text = board.inner_text()
    assert text.index("Ben Carter") < text.index("Aisha Khan") < text.index("Chris Lee")  # most urgent first
    lead.visit("/presence/")
    expect(lead.page.locator("table.presence-day")).to_contain_text("phoned in")
    lead.visit("/presence/settings")
    lead.visit("/presence/visits/new")
    lead.logout()
    lead.login("manager@demo.peerapp", DEMO_PASSWORD)
    expect(lead.page.locator("#presence-banner")).to_contain_text("1 late visit waiting for you")
    lead.visit("/presence/board")
    expect(board.get_by_role("button", name=re.compile("I have seen this escalation"))).to_be_visible()
