"""Concurrency in workforce, training and work-WRAP: N people press the same button on
the same record at once (each read it first, ``race.race``). Exactly one wins, the
others are told someone else has just changed it, the audit trail holds one event,
and nobody gets a 500. Run on SQLite and on PostgreSQL (tests/with_postgres.sh)."""
from __future__ import annotations

import datetime as dt

import peewee
import pytest

from peerapp.audit import AuditEvent
from peerapp.changes import Refusal
from peerapp.db import db
from peerapp.models import User
from peerapp.workforce import services as workforce
from peerapp.workforce import views as workforce_views
from peerapp.workforce.models import InductionItem, PeerRole, TeamMeetingAgreement
from peerapp.training import services as training
from peerapp.training import views as training_views
from peerapp.training.models import PLACE, WAITING, WITHDRAWN, Attendance, CohortSession, Enrolment
from peerapp.wrap import services as wrap
from peerapp.wrap import views as wrap_views
from peerapp.wrap.models import WrapArrangement, WrapPlan, WrapShare
from race import outcome, race
from test_training import build, frozen, people  # noqa: F401 - the fixtures
from test_workforce import complete_checks, make_candidate, offer, ready_role
from test_workforce import wf  # noqa: F401 - the fixture
from test_wrap_sharing import TEST_PASSWORD, section_ids, share
from test_wrap_sharing import world as wrap_world  # noqa: F401 - the fixture

N = 4
SOMEONE = "Someone else has just"


def _clients(login, user, n=N):
    clients = [login(user) for _ in range(n)]
    return clients, [c.csrf_token() for c in clients]


def _audits(record_type: str, record_id: int, action: str, summary: str | None = None) -> int:
    with db.connection_context():
        query = AuditEvent.select().where(AuditEvent.record_type == record_type, AuditEvent.record_id == record_id,
                                          AuditEvent.action == action)
        if summary is not None:
            query = query.where(AuditEvent.summary == summary)
        return query.count()


def _post_all(monkeypatch, module, loader, clients, tokens, url, data):
    return race(monkeypatch, module, loader, [
        (lambda c=c, t=t: c.post(url, data={**data, "csrf_token": t}, follow_redirects=True))
        for c, t in zip(clients, tokens)])


# --- workforce: a role's status ---------------------------------------------------------

def _role_in(wf, status: str) -> PeerRole:
    if status == "offered":
        return offer(wf)
    role = ready_role(wf)  # active
    if status == "paused":
        with db.connection_context():
            workforce.change_status(PeerRole.get_by_id(role.id), "paused", by=wf["lead"], reason="leave")
    return role


STATUS_RACES = [("offered", "onboarding"), ("offered", "ended"), ("active", "paused"), ("active", "ended"),
                ("paused", "ended")]


@pytest.mark.parametrize(("before", "after"), STATUS_RACES, ids=[f"{b}->{a}" for b, a in STATUS_RACES])
def test_racing_a_role_status_change_one_wins(wf, login, monkeypatch, before, after):
    role = _role_in(wf, before)
    clients, tokens = _clients(login, wf["lead"])
    responses = _post_all(monkeypatch, workforce_views, "_role_or_404", clients, tokens,
                          f"/workforce/roles/{role.id}/status", {"status": after, "reason": "Typed by hand"})
    assert outcome(responses, SOMEONE) == (1, N - 1), [r.status_code for r in responses]
    # The loser's reason is given back as typed, whether or not the form is still shown.
    assert all("Typed by hand" in r.get_data(as_text=True) for r in responses if SOMEONE in r.get_data(as_text=True))
    with db.connection_context():
        assert PeerRole.get_by_id(role.id).status == after
    assert _audits("peer_role", role.id, "status", f"role {after}") == 1


def test_racing_activation_makes_one_account_and_one_active_role(wf, login, monkeypatch):
    role = offer(wf)
    complete_checks(role, wf["lead"])
    with db.connection_context():
        for item in InductionItem.checklist():
            workforce.tick_induction(role, item, by=wf["lead"], done_on=dt.date(2026, 5, 1))
        workforce.sign_off_induction(PeerRole.get_by_id(role.id), by=wf["lead"], today=dt.date(2026, 5, 1))
        workforce.change_status(PeerRole.get_by_id(role.id), "onboarding", by=wf["lead"])
        accounts_before = User.select().count()
    clients, tokens = _clients(login, wf["lead"])
    responses = _post_all(monkeypatch, workforce_views, "_role_or_404", clients, tokens,
                          f"/workforce/roles/{role.id}/activate", {})
    assert outcome(responses, SOMEONE) == (1, N - 1), [r.status_code for r in responses]
    assert sum("one-time password" in r.get_data(as_text=True).lower() for r in responses) == 1
    with db.connection_context():
        assert PeerRole.get_by_id(role.id).status == "active"
        assert User.select().count() == accounts_before + 1
    assert _audits("peer_role", role.id, "status", "role active") == 1


def test_racing_induction_sign_off_one_wins(wf, login, monkeypatch):
    role = offer(wf)
    with db.connection_context():
        for item in InductionItem.checklist():
            workforce.tick_induction(role, item, by=wf["lead"], done_on=dt.date(2026, 5, 1))
    clients, tokens = _clients(login, wf["lead"])
    responses = _post_all(monkeypatch, workforce_views, "_role_or_404", clients, tokens,
                          f"/workforce/roles/{role.id}/induction/sign-off", {})
    assert outcome(responses, SOMEONE) == (1, N - 1), [r.status_code for r in responses]
    assert _audits("peer_role", role.id, "update", "induction signed off") == 1


def test_racing_team_meeting_confirmations_keep_the_arrangement_read(wf, login, monkeypatch):
    """A confirmation never lands on an arrangement rewritten since it was read."""
    role = offer(wf)
    with db.connection_context():
        workforce.set_meeting_arrangement(role, attends=True, arrangement="Fortnightly", by=wf["lead"])
        agreement = TeamMeetingAgreement.get(TeamMeetingAgreement.role == role.id)
        stale = TeamMeetingAgreement.get_by_id(agreement.id)
        workforce.set_meeting_arrangement(role, attends=False, arrangement="Monthly, by phone", by=wf["lead2"])
        # confirm_meeting reads the agreement itself; a stale read is what two tabs give.
        original = TeamMeetingAgreement.get_or_none
        try:
            TeamMeetingAgreement.get_or_none = classmethod(lambda cls, *a, **k: stale)
            with pytest.raises(Refusal, match=SOMEONE):
                workforce.confirm_meeting(PeerRole.get_by_id(role.id), by=wf["manager"], as_="manager")
        finally:
            TeamMeetingAgreement.get_or_none = original
        fresh = TeamMeetingAgreement.get_by_id(agreement.id)
        assert (fresh.arrangement, fresh.manager_on) == ("Monthly, by phone", None)


def test_the_database_refuses_a_second_pending_role(wf):
    """m0024's backstop: one offered-or-onboarding role per person per team."""
    role = offer(wf)
    with db.connection_context():
        with pytest.raises(peewee.IntegrityError), db.atomic():
            PeerRole.create(candidate=role.candidate_id, team=role.team_id, kind="paid", supervisor=wf["lead"],
                            start_date=dt.date(2026, 5, 1), status="offered")
        # Once the first is ended, another may be offered.
        workforce.change_status(PeerRole.get_by_id(role.id), "ended", by=wf["lead"], reason="declined")
    assert offer(wf, kind="paid").status == "offered"


def test_two_offers_at_once_leave_one_pending_role(wf, monkeypatch):
    """Both pass the 'already offered?' check; the index keeps one and the other is told."""
    other = make_candidate(wf["team"], wf["lead"], "Bo Candidate", "bo@example.org")
    first = offer(wf, candidate=other)
    with db.connection_context():
        # The second offer's check ran before the first committed: it sees nothing pending.
        monkeypatch.setattr(workforce, "pending_role", lambda candidate, team: None)
        with pytest.raises(Refusal, match=SOMEONE):
            workforce.offer_role(candidate=other, team=wf["team"], kind="paid", supervisor=wf["lead"],
                                 start_date=dt.date(2026, 5, 1), by=wf["lead2"])
        monkeypatch.undo()
        assert PeerRole.select().where(PeerRole.candidate == other.id).count() == 1
        assert PeerRole.get_by_id(first.id).status == "offered"


# --- training: places, the waiting list, withdrawals, the register ----------------------

def test_racing_a_withdrawal_one_wins_and_the_reason_is_kept(build, login, monkeypatch):
    cohort = build.cohort(places=2)
    enrolment = build.enrol(cohort, build.candidate())
    clients, tokens = _clients(login, build.people["facilitator"])
    responses = _post_all(monkeypatch, training_views, "_enrolment_or_404", clients, tokens,
                          f"/training/enrolments/{enrolment.id}/withdraw", {"reason": "Moved away, typed"})
    assert outcome(responses, SOMEONE) == (1, N - 1), [r.status_code for r in responses]
    assert all("Moved away, typed" in r.get_data(as_text=True)
               for r in responses if SOMEONE in r.get_data(as_text=True))
    with db.connection_context():
        assert Enrolment.get_by_id(enrolment.id).status == WITHDRAWN
    assert _audits("enrolment", enrolment.id, "withdraw") == 1


def test_racing_offer_of_the_freed_place_gives_it_once(build, login, monkeypatch):
    cohort = build.cohort(places=2)
    build.enrol(cohort, build.candidate())
    first = build.enrol(cohort, build.candidate(), status=WAITING)
    second = build.enrol(cohort, build.candidate(), status=WAITING)
    clients, tokens = _clients(login, build.people["facilitator"])
    responses = _post_all(monkeypatch, training_views, "_cohort_or_404", clients, tokens,
                          f"/training/cohorts/{cohort.id}/offer-next", {"first": str(first.id)})
    assert outcome(responses, SOMEONE) == (1, N - 1), [r.status_code for r in responses]
    with db.connection_context():
        assert Enrolment.get_by_id(first.id).status == PLACE
        assert Enrolment.get_by_id(second.id).status == WAITING  # not given a place nobody offered them
        assert Enrolment.select().where(Enrolment.cohort == cohort.id, Enrolment.status == PLACE).count() == 2
    assert _audits("enrolment", first.id, "enrol") == 1


def test_offering_to_someone_who_is_no_longer_first_is_refused(build, login):
    """The button names the person; if the list changed meanwhile nobody else is offered it."""
    cohort = build.cohort(places=2)
    first = build.enrol(cohort, build.candidate(), status=WAITING)
    with db.connection_context():
        training.withdraw(Enrolment.get_by_id(first.id), reason="left")
    second = build.enrol(cohort, build.candidate(), status=WAITING)
    client = login(build.people["facilitator"])
    response = client.post(f"/training/cohorts/{cohort.id}/offer-next", data={"first": str(first.id)},
                           follow_redirects=True)
    assert SOMEONE in response.get_data(as_text=True)
    with db.connection_context():
        assert Enrolment.get_by_id(second.id).status == WAITING


def test_racing_offers_never_fill_a_cohort_beyond_its_places(build, login, monkeypatch):
    """Two facilitators offer the last place to two people at once: one place, one waiting."""
    cohort = build.cohort(places=1)
    candidates = [build.candidate() for _ in range(N)]
    clients, tokens = _clients(login, build.people["facilitator"])
    responses = race(monkeypatch, training_views, "_cohort_or_404", [
        (lambda c=c, t=t, who=who: c.post(f"/training/cohorts/{cohort.id}/enrol",
                                          data={"candidate": str(who.id), "csrf_token": t}, follow_redirects=True))
        for c, t, who in zip(clients, tokens, candidates)])
    assert all(r.status_code == 200 for r in responses), [r.status_code for r in responses]
    with db.connection_context():
        statuses = [e.status for e in Enrolment.select().where(Enrolment.cohort == cohort.id)]
    assert sorted(statuses) == [PLACE] + [WAITING] * (N - 1)


def test_racing_the_same_enrolment_leaves_one_row(build, login, monkeypatch):
    cohort = build.cohort(places=3)
    who = build.candidate()
    clients, tokens = _clients(login, build.people["facilitator"])
    responses = _post_all(monkeypatch, training_views, "_cohort_or_404", clients, tokens,
                          f"/training/cohorts/{cohort.id}/enrol", {"candidate": str(who.id)})
    assert all(r.status_code < 500 for r in responses)
    with db.connection_context():
        assert Enrolment.select().where(Enrolment.cohort == cohort.id, Enrolment.candidate == who.id).count() == 1
        enrolment = Enrolment.get(Enrolment.cohort == cohort.id, Enrolment.candidate == who.id)
    assert _audits("enrolment", enrolment.id, "enrol") == 1


def test_racing_a_register_line_leaves_one_entry(build, login, monkeypatch):
    cohort = build.cohort(places=3)
    enrolment = build.enrol(cohort, build.candidate())
    with db.connection_context():
        session = CohortSession.get(CohortSession.cohort == cohort.id, CohortSession.number == 1)
    clients, tokens = _clients(login, build.people["facilitator"])
    responses = _post_all(monkeypatch, training_views, "_session_or_404", clients, tokens,
                          f"/training/sessions/{session.id}/register/{enrolment.id}", {"status": "present"})
    assert all(r.status_code < 500 for r in responses), [r.status_code for r in responses]
    with db.connection_context():
        assert Attendance.select().where(Attendance.session == session.id,
                                         Attendance.enrolment == enrolment.id).count() == 1
    with db.connection_context():
        entry = Attendance.get(Attendance.session == session.id, Attendance.enrolment == enrolment.id)
    assert _audits("attendance", entry.id, "create") == 1


def test_a_register_mark_for_someone_just_withdrawn_is_refused(build):
    cohort = build.cohort(places=3)
    enrolment = build.enrol(cohort, build.candidate())
    with db.connection_context():
        session = CohortSession.get(CohortSession.cohort == cohort.id, CohortSession.number == 1)
        stale = Enrolment.get_by_id(enrolment.id)
        training.withdraw(Enrolment.get_by_id(enrolment.id), reason="left")
        with pytest.raises(Refusal, match="just been withdrawn"):
            training.mark(session, stale, status="present", by=build.people["facilitator"])
        assert not Attendance.select().where(Attendance.enrolment == enrolment.id).exists()


# --- work-WRAP: sharing, revoking, confirming -------------------------------------------

def _plan_audits(plan_id: int, action: str) -> int:
    return _audits("wrap_plan", plan_id, action)


def test_racing_a_revoke_ends_the_share_once(wrap_world, login, monkeypatch):
    peer = wrap_world["peer"]
    assert share(login(peer), "early_warning_signs").status_code == 302
    with db.connection_context():
        plan = WrapPlan.of(peer)
        found = plan.active_shares().get()
    clients, tokens = _clients(login, peer)
    responses = _post_all(monkeypatch, wrap_views, "_my_share_or_404", clients, tokens,
                          f"/wrap/shares/{found.id}/revoke", {})
    assert outcome(responses, "You have just stopped sharing") == (1, N - 1), [r.status_code for r in responses]
    with db.connection_context():
        assert WrapShare.get_by_id(found.id).revoked_at is not None
    assert _plan_audits(plan.id, "revoke") == 1


def test_racing_stop_sharing_everything_once(wrap_world, login, monkeypatch):
    peer, lead = wrap_world["peer"], wrap_world["lead"]
    assert share(login(peer), "toolbox", "triggers").status_code == 302
    with db.connection_context():
        plan = WrapPlan.of(peer)
    clients, tokens = _clients(login, peer)
    responses = _post_all(monkeypatch, wrap_views, "_my_plan_or_404", clients, tokens,
                          f"/wrap/readers/{lead.id}/revoke", {})
    assert outcome(responses, "You have just stopped sharing") == (1, N - 1), [r.status_code for r in responses]
    assert _plan_audits(plan.id, "revoke") == 1


def test_racing_the_same_share_leaves_one_live_share(wrap_world, login, monkeypatch):
    """Two tabs share the same section at once: one live share (the index's rule), no 500."""
    peer = wrap_world["peer"]
    clients, tokens = _clients(login, peer)
    ids = [str(i) for i in section_ids("early_warning_signs")]
    responses = _post_all(monkeypatch, wrap_views, "_my_plan_or_404", clients, tokens, "/wrap/share",
                          {"password": TEST_PASSWORD, "sections": ids})
    assert all(r.status_code < 500 for r in responses), [r.status_code for r in responses]
    with db.connection_context():
        plan = WrapPlan.of(peer)
        assert plan.active_shares().count() == 1
        added = AuditEvent.select().where(AuditEvent.record_type == "wrap_plan", AuditEvent.record_id == str(plan.id),
                                          AuditEvent.action == "share",
                                          AuditEvent.summary.contains("(1 added")).count()
    assert added == 1


def test_the_database_refuses_a_second_live_share_of_a_section(wrap_world, login):
    peer, lead = wrap_world["peer"], wrap_world["lead"]
    assert share(login(peer), "toolbox").status_code == 302
    with db.connection_context():
        plan = WrapPlan.of(peer)
        section = plan.active_shares().get().section_id
        with pytest.raises(peewee.IntegrityError), db.atomic():
            WrapShare.create(plan=plan, viewer=lead, section=section)
        WrapShare.create(plan=plan, viewer=lead, section=None)  # the whole plan is another share
        with pytest.raises(peewee.IntegrityError), db.atomic():
            WrapShare.create(plan=plan, viewer=lead, section=None)  # NULL counts once too


def test_racing_a_confirmation_confirms_once(wrap_world, login, monkeypatch):
    peer, lead = wrap_world["peer"], wrap_world["lead"]
    assert share(login(peer), "working_arrangements").status_code == 302
    with db.connection_context():
        plan = WrapPlan.of(peer)
        arrangement = wrap.record_arrangement(plan, by=lead, supervisor=lead, agreed_on=dt.date(2026, 4, 1),
                                              text="Start at ten", review_on=None)
    clients, tokens = _clients(login, peer)
    responses = _post_all(monkeypatch, wrap_views, "_arrangement_or_404", clients, tokens,
                          f"/wrap/arrangements/{arrangement.id}/confirm", {})
    assert outcome(responses, "You have just confirmed") == (1, N - 1), [r.status_code for r in responses]
    with db.connection_context():
        assert WrapArrangement.get_by_id(arrangement.id).confirmed
    assert _audits("wrap_arrangement", arrangement.id, "confirm") == 1
