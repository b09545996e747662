"""Presence and lone working: status read from the clock at every threshold,
each transition of a visit, the base board, and the Safety figures."""
from __future__ import annotations

import datetime as dt

import pytest

from peerapp.audit import AuditEvent
from peerapp.changes import Refusal
from peerapp.db import db
from peerapp.presence import figures, services, status
from peerapp.presence.models import BaseSignIn, PresenceSettings, Visit, VisitEvent

T0 = dt.datetime(2026, 11, 30, 10, 0)  # 10:00 UTC = 10:00 London (GMT)


@pytest.fixture(autouse=True)
def in_app(app):
    """The app's clock (``CLOCK``) is read inside an app context."""
    with app.app_context():
        yield


@pytest.fixture
def people(app, make_user, clock, team):
    clock.freeze(T0)
    lead, lead2, manager = make_user("peer_lead", name="Priya Lead"), make_user("peer_lead"), make_user("manager")
    peer, volunteer, other = make_user("peer", name="Sam Peer"), make_user("peer", name="Chris Volunteer"), make_user("peer")
    clinician = make_user("clinician")
    with db.connection_context():
        from peerapp.training.models import Candidate
        from peerapp.workforce.models import PeerRole
        for user, kind in ((peer, "paid"), (volunteer, "volunteer"), (other, "paid")):
            candidate = Candidate.create(name=user.name, team=team, nominated_by=lead, nominated_on=T0.date())
            PeerRole.create(candidate=candidate, user=user, team=team, kind=kind, start_date=T0.date(),
                            supervisor=lead, status="active")
    return dict(lead=lead, lead2=lead2, manager=manager, peer=peer, volunteer=volunteer, other=other,
                clinician=clinician)


def started(worker, by, minutes=60, **kwargs):
    with db.connection_context():
        visit = services.plan_visit(worker, by=by, starts_at=T0, expected_return_at=T0 + dt.timedelta(minutes=minutes),
                                    place=kwargs.pop("place", "12 Elm Road"), **kwargs)
        services.start_visit(visit.id, by=by, version=1)
        return Visit.get_by_id(visit.id)


def reload(visit):
    with db.connection_context():
        return Visit.get_by_id(visit.id)


def test_status_follows_the_clock_across_every_threshold(people, clock):
    visit = started(people["peer"], people["peer"])  # back at 11:00; defaults 15 / 5 / 30
    expect = [(T0, status.ON_VISIT), (T0 + dt.timedelta(minutes=44, seconds=59), status.ON_VISIT),
              (T0 + dt.timedelta(minutes=45), status.DUE_SOON), (T0 + dt.timedelta(minutes=64, seconds=59), status.DUE_SOON),
              (T0 + dt.timedelta(minutes=65), status.OVERDUE), (T0 + dt.timedelta(minutes=94, seconds=59), status.OVERDUE),
              (T0 + dt.timedelta(minutes=95), status.ESCALATED), (T0 + dt.timedelta(hours=9), status.ESCALATED)]
    for moment, expected in expect:
        assert status.of(visit, moment) == expected, moment


def test_thresholds_are_the_teams_own_data(people, clock, team):
    with db.connection_context():
        PresenceSettings.create(team=team, reminder_minutes=5, grace_minutes=0, escalate_minutes=10)
    visit = started(people["peer"], people["peer"])
    assert status.of(visit, T0 + dt.timedelta(minutes=54)) == status.ON_VISIT
    assert status.of(visit, T0 + dt.timedelta(minutes=55)) == status.DUE_SOON
    assert status.of(visit, T0 + dt.timedelta(minutes=60)) == status.OVERDUE
    assert status.of(visit, T0 + dt.timedelta(minutes=70)) == status.ESCALATED


def test_the_ladder_waits_for_the_lead_then_the_manager_and_records_the_outcome(people, clock):
    visit = started(people["peer"], people["peer"])
    clock.freeze(T0 + dt.timedelta(minutes=66))
    assert status.waiting_for(reload(visit), clock()) == "peer_lead"
    with db.connection_context():
        assert services.waiting(people["lead"]) == 1 and services.waiting(people["manager"]) == 0
        with pytest.raises(Refusal, match="Acknowledge first"):
            services.record_outcome(visit.id, by=people["lead"], outcome="safe")
        with pytest.raises(Refusal, match="not escalated"):
            services.acknowledge(visit.id, by=people["manager"], step="manager")
        services.acknowledge(visit.id, by=people["lead"], step="peer_lead")
        with pytest.raises(Refusal, match="just acknowledged"):
            services.acknowledge(visit.id, by=people["lead2"], step="peer_lead")
        assert services.waiting(people["lead"]) == 0
    clock.freeze(T0 + dt.timedelta(minutes=96))
    with db.connection_context():
        assert status.waiting_for(reload(visit), clock()) == "manager"
        assert services.waiting(people["manager"]) == 1 and services.waiting(people["lead"]) == 0
        with pytest.raises(Refusal, match="manager acknowledges"):
            services.acknowledge(visit.id, by=people["lead"], step="manager")
        services.acknowledge(visit.id, by=people["manager"], step="manager")
        assert services.waiting(people["manager"]) == 0
        with pytest.raises(Refusal, match="emergency procedure"):
            services.record_outcome(visit.id, by=people["manager"], outcome="not_reached", notes="")
        services.record_outcome(visit.id, by=people["manager"], outcome="not_reached",
                                notes="Police called, welfare check", emergency_followed=True)
        kinds = [e.kind for e in VisitEvent.select().where(VisitEvent.visit == visit.id).order_by(VisitEvent.id)]
        summaries = [a.summary for a in AuditEvent.for_record("visit", visit.id)]
    assert kinds == ["planned", "started", "ack_peer_lead", "ack_manager", "not_reached"]
    assert "late visit resolved: not reached" in summaries and "manager acknowledged the escalation" in summaries
    done = reload(visit)
    assert done.state == "ended" and status.of(done, clock()) == status.ENDED
    assert done.lead_ack_at == T0 + dt.timedelta(minutes=66) and done.manager_ack_at == T0 + dt.timedelta(minutes=96)


def test_extend_moves_every_threshold_but_not_once_overdue(people, clock):
    visit = started(people["peer"], people["peer"])
    clock.freeze(T0 + dt.timedelta(minutes=50))
    with db.connection_context():
        with pytest.raises(Refusal, match="Say why"):
            services.extend_visit(visit.id, by=people["peer"], version=2, minutes=20)
        services.extend_visit(visit.id, by=people["peer"], version=2, minutes=15)
        with pytest.raises(Refusal, match="just changed"):  # a stale page
            services.extend_visit(visit.id, by=people["peer"], version=2, minutes=30)
        services.extend_visit(visit.id, by=people["peer"], version=3, minutes=20, reason="bus late")
    visit = reload(visit)
    assert visit.expected_return_at == T0 + dt.timedelta(minutes=95)
    assert status.of(visit, T0 + dt.timedelta(minutes=79)) == status.ON_VISIT
    assert status.of(visit, T0 + dt.timedelta(minutes=100)) == status.OVERDUE
    clock.freeze(T0 + dt.timedelta(minutes=100))
    with db.connection_context(), pytest.raises(Refusal, match="overdue"):
        services.extend_visit(visit.id, by=people["peer"], version=4, minutes=30)
    with db.connection_context():
        note = VisitEvent.select().where(VisitEvent.kind == "extended").order_by(VisitEvent.id.desc()).first().note
    assert note == "+20 min: bus late"


def test_check_out_safe_ends_the_visit_once(people, clock):
    visit = started(people["peer"], people["peer"])
    clock.freeze(T0 + dt.timedelta(minutes=70))  # overdue: checking out still resolves it
    with db.connection_context():
        services.check_out(visit.id, by=people["peer"], version=2)
        with pytest.raises(Refusal):
            services.check_out(visit.id, by=people["peer"], version=2)
        assert services.waiting(people["lead"]) == 0
    assert reload(visit).outcome == "checked_out"


def test_a_volunteers_visit_is_planned_and_started_by_their_peer_lead(people, clock):
    with db.connection_context():
        with pytest.raises(Refusal, match="peer lead"):
            services.plan_visit(people["volunteer"], by=people["volunteer"], starts_at=T0,
                                expected_return_at=T0 + dt.timedelta(hours=1), place="Park")
        with pytest.raises(Refusal):
            services.plan_visit(people["volunteer"], by=people["peer"], starts_at=T0,
                                expected_return_at=T0 + dt.timedelta(hours=1), place="Park")
    visit = started(people["volunteer"], people["lead"])
    with db.connection_context():
        services.check_out(visit.id, by=people["volunteer"], version=2)  # they may check themselves out
        event = VisitEvent.get(VisitEvent.visit == visit.id, VisitEvent.kind == "started")
    assert event.note == "started by a peer lead (phoned in)"


def test_one_visit_under_way_per_worker_by_the_database(people, clock):
    started(people["peer"], people["peer"])
    with db.connection_context():
        second = services.plan_visit(people["peer"], by=people["peer"], starts_at=T0,
                                     expected_return_at=T0 + dt.timedelta(hours=1), place="x")
        with pytest.raises(Refusal, match="already has a visit"):
            services.start_visit(second.id, by=people["peer"], version=1)


def test_a_visit_started_late_keeps_its_length(people, clock):
    with db.connection_context():
        visit = services.plan_visit(people["peer"], by=people["peer"], starts_at=T0,
                                    expected_return_at=T0 + dt.timedelta(hours=1), place="x")
    clock.freeze(T0 + dt.timedelta(hours=2))
    with db.connection_context():
        services.start_visit(visit.id, by=people["peer"], version=1)
    visit = reload(visit)
    assert visit.expected_return_at == T0 + dt.timedelta(hours=3)
    assert status.of(visit, clock()) == status.ON_VISIT


def test_base_sign_in_out_and_the_forgotten_sign_out(people, clock, team):
    peer, lead = people["peer"], people["lead"]
    with db.connection_context():
        services.sign_in(peer, by=peer)
        with pytest.raises(Refusal, match="already signed in"):
            services.sign_in(peer, by=lead)
        with pytest.raises(Refusal):
            services.sign_in(people["other"], by=peer)  # a peer signs in only themselves
        services.sign_in(people["volunteer"], by=lead)  # phoned in
        rows = {r["person"].id: r for r in services.day_board(team.id)}
        assert rows[peer.id]["where"] == "in" and rows[people["other"].id]["where"] == "away"
        assert rows[people["volunteer"].id]["stay"].signed_in_by_id == lead.id
        services.sign_out(people["volunteer"], by=lead)
        assert {r["person"].id: r["where"] for r in services.day_board(team.id)}[people["volunteer"].id] == "finished"
    # 20:00 London: the peer who forgot reads as finished, marked so, before any sweep ran.
    clock.freeze(dt.datetime(2026, 11, 30, 20, 0))
    with db.connection_context():
        row = {r["person"].id: r for r in services.day_board(team.id)}[peer.id]
        assert row["where"] == "finished" and row["auto_closed"] and row["since"] == dt.datetime(2026, 11, 30, 20)
        assert BaseSignIn.get(BaseSignIn.user == peer).signed_out_at is None
    clock.freeze(dt.datetime(2026, 12, 1, 8, 0))  # next morning, still no sweep: signing in works
    with db.connection_context():
        services.sign_in(peer, by=peer)
        old = BaseSignIn.select().where(BaseSignIn.user == peer).order_by(BaseSignIn.id).first()
        assert old.auto_closed and old.signed_out_at == dt.datetime(2026, 11, 30, 20)
        assert {r["person"].id: r["where"] for r in services.day_board(team.id)}[peer.id] == "in"


def test_closing_hour_follows_london_time_in_summer(people):
    settings = PresenceSettings(sign_out_hour=20)
    assert services.closing_time(settings, dt.datetime(2026, 7, 1, 9)) == dt.datetime(2026, 7, 1, 19)
    assert services.closing_time(settings, dt.datetime(2026, 7, 1, 19, 30)) == dt.datetime(2026, 7, 2, 19)


def test_safety_figures_count_what_really_happened(people, clock, team, make_user):
    ok = started(people["peer"], people["peer"])
    late = started(people["other"], people["other"])
    with db.connection_context():
        services.check_out(ok.id, by=people["peer"], version=2)  # back before due
    clock.freeze(T0 + dt.timedelta(minutes=100))  # the other is escalated, still out
    with db.connection_context():
        counts = figures.safety_counts(T0.date(), T0.date() + dt.timedelta(days=1), [team.id])
        assert counts == {"visits": 2, "overdue": 1, "escalated": 1, "not_reached": 0, "unresolved": 1}
        services.acknowledge(late.id, by=people["lead"], step="peer_lead")
        services.record_outcome(late.id, by=people["lead"], outcome="safe", notes="Phone battery died")
        assert figures.safety_counts(T0.date(), T0.date() + dt.timedelta(days=1), [team.id])["unresolved"] == 0
        assert figures.safety_counts(T0.date(), T0.date() + dt.timedelta(days=1), [team.id + 1])["visits"] == 0
        assert figures.safety_counts(T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=2), [team.id])["visits"] == 0


def test_the_monitoring_page_gets_a_safety_section(people, clock, team):
    started(people["peer"], people["peer"])
    clock.freeze(T0 + dt.timedelta(minutes=70))
    with db.connection_context():
        section = figures.safety(T0.date(), T0.date(), [team.id])
    assert section.key == "safety"
    assert dict(section.tables[0].rows)["Visits started"] == [1]
    assert dict(section.tables[0].rows)["Went overdue (not back by the expected time and grace)"] == [1]
