"""Concurrency: for every state change, N people press the button on the same record
at once (each read it first). Exactly one wins, the others are told someone else has
just changed it, the history holds one event, and nobody gets a 500."""
from __future__ import annotations

import pytest

from peerapp.changes import Refusal
from peerapp.db import db
from peerapp.referrals import services, states
from peerapp.referrals.models import Assignment, FirstMeeting, InformationRequest, Referral, ReferralEvent
from peerapp.referrals.views import casework
from race import outcome, race
from test_referrals import advance, inside
from test_referrals import world  # noqa: F401 - the fixture
from test_matching_pages import w  # noqa: F401 - the fixture

N = 4
STALE = "Someone else has just changed this referral"


def _clients(login, user, n=N):
    clients = [login(user) for _ in range(n)]
    return clients, [c.csrf_token() for c in clients]


def _events(referral_id, to_state) -> int:
    return ReferralEvent.select().where(ReferralEvent.referral == referral_id,
                                        ReferralEvent.to_state == to_state).count()


def test_two_copies_of_one_referral_cannot_both_be_assigned(world):
    """The issue's first finding, in the service: two stale copies both assigned."""
    with inside():
        advance(world, world.referral, states.AWAITING_MATCH)
        first, second = Referral.get_by_id(world.referral.id), Referral.get_by_id(world.referral.id)
        services.assign(first, world.paid, by=world.lead)
        with pytest.raises(Refusal, match=STALE):
            services.assign(second, world.volunteer, by=world.lead)
        assert Assignment.select().where(Assignment.referral == first.id, Assignment.ended_at.is_null()).count() == 1
        assert _events(first.id, states.MATCHED) == 1


def test_the_database_refuses_a_second_open_assignment(world):
    """The rule's backstop: a partial unique index, whatever the code forgets."""
    import peewee
    with inside():
        referral = advance(world, world.referral, states.MATCHED, peer=world.paid)
        with pytest.raises(peewee.IntegrityError), db.atomic():
            Assignment.create(referral=referral, peer_role=world.volunteer, assigned_by=world.lead)
        # An ended assignment does not count: the pair can be re-matched later.
        Assignment.update(ended_at=referral.state_changed_at).where(Assignment.referral == referral.id).execute()
        Assignment.create(referral=referral, peer_role=world.volunteer, assigned_by=world.lead)


SCREEN = {"decision": "accepted", "reasons": "fits", "risk_level": "low", "risk_considerations": "none",
          "volunteer_allowed": "y", "safety_note": "Meet in public places; call the base if worried."}

# (state before, url, form, loader in casework, the state the winner reaches)
REFERRAL_RACES = [
    (states.SUBMITTED, "screen", SCREEN, "lead_referral_or_404", states.AWAITING_MATCH),
    (states.AWAITING_MATCH, "assign", {"peer_role": "{paid}"}, "lead_referral_or_404", states.MATCHED),
    (states.MATCHED, "first-meeting/arrange", {"meeting_on": "2026-05-01", "place": "Base", "attendees": "all"},
     "lead_referral_or_404", states.FIRST_MEETING),
    (states.FIRST_MEETING, "first-meeting/outcome", {"outcome": "go ahead", "attendees": "all", "reason": "ok"},
     "lead_referral_or_404", states.ACTIVE),
    (states.FIRST_MEETING, "first-meeting/outcome", {"outcome": "not a good fit", "attendees": "all",
                                                     "reason": "no spark"},
     "lead_referral_or_404", states.AWAITING_MATCH),
    (states.MATCHED, "end-assignment", {"reason": "peer unwell"}, "lead_referral_or_404", states.AWAITING_MATCH),
    (states.ACTIVE, "close", {"outcome": "goals met", "summary": "Done"}, "referral_or_404", states.CLOSED),
    (states.MORE_INFO, "answer", {"answer": "Here you are"}, "referral_or_404", states.SCREENING),
]


@pytest.mark.parametrize(("before", "action", "form", "loader", "after"), REFERRAL_RACES,
                         ids=[f"{r[1]}:{r[4]}" for r in REFERRAL_RACES])
def test_racing_a_referral_change_one_wins(world, login, monkeypatch, before, action, form, loader, after):
    if before == states.MORE_INFO:
        with inside():
            services.screen(Referral.get_by_id(world.referral.id), states.MORE_INFO, by=world.lead,
                            questions="Why now?")
        referral = world.referral
    elif before == states.SUBMITTED:
        referral = world.referral
    else:
        referral = advance(world, world.referral, before, peer=world.paid)
    clients, tokens = _clients(login, world.lead)
    with inside():
        events_before = ReferralEvent.select().where(ReferralEvent.referral == referral.id).count()
    data = {k: v.format(paid=world.paid.id) for k, v in form.items()}
    if action == "screen":
        data["interventions"] = [str(world.items["Phone check-ins"].id)]
    responses = race(monkeypatch, casework, loader, [
        (lambda c=c, t=t: c.post(f"/referrals/{referral.id}/{action}", data={**data, "csrf_token": t},
                                               follow_redirects=True))
        for c, t in zip(clients, tokens)])
    winners, refused = outcome(responses, STALE)
    assert (winners, refused) == (1, N - 1), [r.status_code for r in responses]
    with inside():
        assert Referral.get_by_id(referral.id).state == after
        # One person's change in the history: screening's accept is three moves (submitted ->
        # screening -> accepted -> awaiting match), every other change one.
        events = ReferralEvent.select().where(ReferralEvent.referral == referral.id).count() - events_before
        assert events == (3 if action == "screen" else 1)
        assert Assignment.select().where(Assignment.referral == referral.id,
                                         Assignment.ended_at.is_null()).count() <= 1
        assert FirstMeeting.select().where(FirstMeeting.referral == referral.id).count() <= 1
        assert InformationRequest.select().where(InformationRequest.referral == referral.id,
                                                 InformationRequest.answered_at.is_null()).count() == 0 \
            or action != "answer"


def test_racing_an_approval_assigns_the_referral_once(w, login, client_for, monkeypatch):
    """Four tabs of a peer lead approve one matching proposal at once: one assignment, one
    "awaiting match -> matched" event, one approve audit row; the others are told, with
    nothing changed, and nobody gets a 500."""
    from peerapp.audit import AuditEvent
    from peerapp.matching import views as matching
    from peerapp.matching.models import APPROVED, RunProposal
    from test_matching_pages import proposal_for, start

    proposal = proposal_for(start(client_for("peer_lead")), w.amira)
    clients, tokens = _clients(login, w.lead)
    responses = race(monkeypatch, matching, "_proposal_or_404", [
        (lambda c=c, t=t: c.htmx("post", f"/matching/proposals/{proposal.id}/approve", data={"csrf_token": t}))
        for c, t in zip(clients, tokens)])
    winners, refused = outcome(responses, "nothing was changed")
    assert (winners, refused) == (1, N - 1), [r.status_code for r in responses]
    with db.connection_context():
        assert RunProposal.get_by_id(proposal.id).status == APPROVED
        assert Assignment.select().where(Assignment.referral == w.amira.id).count() == 1
        assert _events(w.amira.id, states.MATCHED) == 1
        assert AuditEvent.for_record("run_proposal", proposal.id).where(AuditEvent.action == "approve").count() == 1


def test_a_contact_waits_for_a_close_being_saved_and_is_then_refused(world):
    """The contact's transaction reads the referral's state held (FOR UPDATE on
    PostgreSQL; SQLite's IMMEDIATE transaction): while a close is being saved, a
    contact from a page opened before waits for it, then is refused. A plain read
    would have seen "active" and stored a contact on a closed referral."""
    import datetime as dt
    import threading
    import time

    from peerapp.referrals.models import Contact
    referral = advance(world, world.referral, states.ACTIVE, peer=world.paid)
    closing, answer = threading.Event(), {}

    def close():
        with inside(), db.atomic():
            services.close(Referral.get_by_id(referral.id), "goals met", "Done", by=world.lead)
            closing.set()
            time.sleep(0.5)  # the close's transaction still open

    def contact():
        closing.wait(10)
        with inside():
            try:
                services.record_contact(stale, by=world.paid.user, contact_on=dt.date(2026, 4, 30),
                                        attendance="attended", summary="Typed before it closed")
                answer["stored"] = True
            except Refusal as refusal:
                answer["refused"] = str(refusal)

    with inside():
        stale = Referral.get_by_id(referral.id)  # the peer's page, opened while active
    threads = [threading.Thread(target=close), threading.Thread(target=contact)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert "this referral is closed" in answer.get("refused", ""), answer
    with inside():
        assert Contact.select().where(Contact.referral == referral.id).count() == 0
        assert Referral.get_by_id(referral.id).state == states.CLOSED
