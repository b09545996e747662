"""Workforce: readiness and automatic pausing (frozen clock), the role routine,
bad input, and who may see what (a peer only their own record; supervision notes
only for the peer and their supervisors; viewers nothing)."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from peerapp.audit import AuditEvent
from peerapp.db import db
from peerapp.models import User
from peerapp.training.models import Candidate, EquivalentTraining
from peerapp.workforce import services
from peerapp.workforce.models import (CheckType, InductionItem, PeerLeadDesignation, PeerRole, RecruitmentCheck,
                                      Refusal, StaffConflict, Supervision, TeamMeetingAgreement, WorkforceSetting)
from peerapp.workforce.readiness import CheckFact, readiness_problems

TODAY = dt.date(2026, 5, 1)


def text(response) -> str:
    """The page without its CSRF tokens: random letters must not look like a name."""
    body = response.get_data(as_text=True)
    body = re.sub(r'name="csrf_token"( type="hidden")? value="[^"]*"', "", body)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", body)


@pytest.fixture
def login(app, login):
    """Sessions start at the frozen time, so moving the clock ahead (within the
    idle timeout of that) keeps the client signed in."""
    def sign_in(user):
        with app.app_context():
            return login(user)
    return sign_in


@pytest.fixture
def wf(app, clock, team, make_user, users):
    """A team with two named paid peer leads, a manager and a trained candidate."""
    clock.freeze(dt.datetime(2026, 5, 1, 9))
    lead, manager = users["peer_lead"], users["manager"]
    lead2 = make_user("peer_lead", name="Second Lead")
    with db.connection_context():
        for person in (lead, lead2):
            PeerLeadDesignation.create(team=team, user=person, paid=True, designated_on=TODAY)
    return {"team": team, "lead": lead, "lead2": lead2, "manager": manager,
            "candidate": make_candidate(team, lead, "Ada Candidate", "ada@example.org")}


def make_candidate(team, nominator, name, email="", trained=True) -> Candidate:
    with db.connection_context():
        candidate = Candidate.create(name=name, preferred_name=name.split()[0], email=email, team=team,
                                     nominated_by=nominator, nominated_on=dt.date(2026, 1, 5))
        if trained:  # training's public way of saying "completed elsewhere"
            EquivalentTraining.create(candidate=candidate, provider="Another Trust", completed_on=dt.date(2026, 3, 1),
                                      recognised_by=nominator, recognised_on=dt.date(2026, 3, 2))
    return candidate


def offer(wf, kind="volunteer", candidate=None, **extra) -> PeerRole:
    with db.connection_context():
        return services.offer_role(candidate=candidate or wf["candidate"], team=wf["team"], kind=kind,
                                   supervisor=wf["lead"], start_date=TODAY, by=wf["lead"],
                                   hours_per_week=8, max_caseload=3, **extra)


def complete_checks(role: PeerRole, by, completed=dt.date(2026, 4, 1), dbs_expires=dt.date(2027, 4, 1)):
    with db.connection_context():
        for check_type in CheckType.required_for(role.kind):
            expires = (dbs_expires if check_type.is_dbs else completed + dt.timedelta(days=365)) \
                if check_type.lapses else None
            services.record_check(role, check_type=check_type, completed_on=completed, expires_on=expires,
                                  by=by, today=TODAY, dbs_level="enhanced", dbs_update_service=True,
                                  dbs_outcome="clear")


def sign_off(role: PeerRole, lead):
    with db.connection_context():
        for item in InductionItem.checklist():
            services.tick_induction(role, item, by=lead, done_on=TODAY)
        services.sign_off_induction(role, by=lead, today=TODAY)


def ready_role(wf, kind="volunteer", candidate=None, **extra) -> PeerRole:
    role = offer(wf, kind, candidate, **extra)
    complete_checks(role, wf["lead"])
    sign_off(role, wf["lead"])
    with db.connection_context():
        services.change_status(PeerRole.get_by_id(role.id), "onboarding", by=wf["lead"])
        services.activate(PeerRole.get_by_id(role.id), by=wf["lead"], today=TODAY)
        role = PeerRole.get_by_id(role.id)
        _chose_own_password(role.user)
        return role


# -- the rule itself ----------------------------------------------------------------------
def test_readiness_rule_names_every_problem_in_plain_english():
    problems = readiness_problems(
        training_completed_on=None,
        required={"DBS check": CheckFact("DBS check", dt.date(2023, 5, 3), dt.date(2026, 5, 3)),
                  "Safeguarding training": None,
                  "Confidentiality training": CheckFact("Confidentiality training", dt.date(2026, 1, 1), None, True)},
        induction_signed_off_on=None, today=dt.date(2026, 5, 3))
    assert problems == ["training not completed", "DBS check expired on 3 May 2026",
                        "Safeguarding training not recorded", "Confidentiality training needs review",
                        "induction not signed off"]
    # The day before its expiry date a check still counts.
    assert readiness_problems(training_completed_on=dt.date(2026, 1, 1),
                              required={"DBS check": CheckFact("DBS check", dt.date(2023, 5, 3), dt.date(2026, 5, 3))},
                              induction_signed_off_on=dt.date(2026, 1, 1), today=dt.date(2026, 5, 2)) == []


def test_volunteer_and_paid_roles_need_different_checks(wf):
    with db.connection_context():
        volunteer = {t.code for t in CheckType.required_for("volunteer")}
        paid = {t.code for t in CheckType.required_for("paid")}
    assert {"dbs", "confidentiality_agreement", "ig_training", "confidentiality_training",
            "safeguarding_training"} <= volunteer
    assert paid - volunteer == {"occupational_health", "references", "right_to_work"}


# -- readiness and the automatic pause, with a frozen clock ----------------------------------
def test_a_role_becomes_ready_then_an_expired_check_pauses_it_until_renewed(app, wf, clock):
    role = offer(wf)
    with app.app_context(), db.connection_context():
        assert "training not completed" not in role.readiness_problems()
        assert "induction not signed off" in role.readiness_problems()
    complete_checks(role, wf["lead"], dbs_expires=dt.date(2026, 6, 1))
    sign_off(role, wf["lead"])
    with app.app_context(), db.connection_context():
        role = PeerRole.get_by_id(role.id)
        assert role.readiness_problems() == [] and role.ready_to_practise()
        services.change_status(role, "onboarding", by=wf["lead"])
        services.activate(role, by=wf["lead"])
        assert role.effective_status() == "active"
        assert [r.id for r in PeerRole.practising(wf["team"])] == [role.id]

        clock.freeze(dt.datetime(2026, 6, 1, 9))  # the DBS lapses today
        role = PeerRole.get_by_id(role.id)
        assert role.status == "active"  # nobody decided anything...
        assert role.effective_status() == "paused"  # ...but the dates say so
        assert role.effective_reason() == "Paused automatically: DBS check expired on 1 June 2026"
        assert list(PeerRole.practising()) == []
        paused, _ = services.sweep()
        assert [r.id for r in paused] == [role.id]
        assert PeerRole.get_by_id(role.id).auto_paused_since == dt.date(2026, 6, 1)
        assert AuditEvent.for_record("peer_role", role.id).where(AuditEvent.action == "auto_pause").exists()
        assert services.sweep() == ([], [])  # logged once

        dbs = CheckType.get(code="dbs")
        services.record_check(role, check_type=dbs, completed_on=dt.date(2026, 6, 1),
                              expires_on=dt.date(2029, 6, 1), by=wf["lead"], dbs_level="enhanced",
                              dbs_update_service=True, dbs_outcome="clear")
        role = PeerRole.get_by_id(role.id)
        assert role.effective_status() == "active"
        assert [r.id for r in PeerRole.practising()] == [role.id]
        _, resumed = services.sweep()
        assert [r.id for r in resumed] == [role.id]


def test_the_role_page_and_lead_home_show_the_automatic_pause(app, wf, clock, login):
    role = ready_role(wf)
    clock.freeze(dt.datetime(2027, 4, 2, 9))  # the checks made on 1 Apr 2026 lapse a year later
    lead = login(wf["lead"])  # signed in at the new time
    page = text(lead.get(f"/workforce/roles/{role.id}"))
    assert "workforce-status--paused" in page and "Paused automatically" in page, page[page.find("<main"):][:3000]
    assert "Paused automatically" in text(lead.get("/workforce/"))
    # The peer lead's home panel (rendered alone: other areas add their own panels to "/").
    from flask import render_template
    from flask_login import login_user
    with app.test_request_context("/"), db.connection_context():
        login_user(User.get_by_id(wf["lead"].id))
        panel = render_template("workforce/_home_panel.html")
    assert 'id="workforce-panel"' in panel and "Paused automatically" in panel
    assert "Hours" in panel and "of 3" in panel  # caseload against maximum


def test_dbs_needing_review_is_not_ready(app, wf):
    role = offer(wf)
    with app.app_context(), db.connection_context():
        services.record_check(role, check_type=CheckType.get(code="dbs"), completed_on=dt.date(2026, 4, 1),
                              expires_on=dt.date(2029, 4, 1), by=wf["lead"], dbs_level="enhanced",
                              dbs_update_service=False, dbs_outcome="needs_review", today=TODAY)
        assert "DBS check needs review" in role.readiness_problems()


def test_supervision_overdue_follows_the_frequency_setting(app, wf, clock):
    role = ready_role(wf)
    with app.app_context(), db.connection_context():
        services.record_supervision(role, by=wf["lead"], held_on=TODAY, duration_minutes=60,
                                    how_they_are="Well", actions="", next_on=None)
        assert role.next_supervision_due() == TODAY + dt.timedelta(days=30)
        clock.freeze(dt.datetime(2026, 6, 5, 9))
        assert role.supervision_overdue()
        WorkforceSetting.set_supervision_days(60)
        assert not role.supervision_overdue()


def test_expiring_lists(app, wf, clock):
    role = ready_role(wf)
    with app.app_context(), db.connection_context():
        dbs = CheckType.get(code="dbs")
        services.record_check(role, check_type=dbs, completed_on=dt.date(2026, 4, 20),
                              expires_on=dt.date(2026, 5, 21), by=wf["lead"], dbs_level="enhanced",
                              dbs_update_service=True, dbs_outcome="clear")
        buckets = PeerRole.expiring(wf["team"])
        assert [(r.id, rec.check_type.code, days) for r, rec, days in buckets["30"]] == [(role.id, "dbs", 20)]
        assert buckets["expired"] == [] and buckets["7"] == []
        clock.freeze(dt.datetime(2026, 5, 21, 9))
        assert [rec.check_type.code for _, rec, _ in PeerRole.expiring(wf["team"])["expired"]] == ["dbs"]


# -- the routine through the pages --------------------------------------------------------------
def test_activation_makes_the_peer_account_with_a_one_time_password(app, wf, login):
    role = offer(wf)
    complete_checks(role, wf["lead"])
    sign_off(role, wf["lead"])
    lead = login(wf["lead"])
    assert lead.post(f"/workforce/roles/{role.id}/status", data={"status": "onboarding"}).status_code == 302
    response = lead.post(f"/workforce/roles/{role.id}/activate")
    assert response.status_code == 200
    password = re.search(r'id="one-time-password">([^<]+)<', text(response)).group(1)
    with db.connection_context():
        user = User.by_email("ada@example.org")
        assert user.roles == {"peer"} and user.team_id == wf["team"].id and user.must_change_password
        assert Candidate.get_by_id(wf["candidate"].id).user_id == user.id
        assert PeerRole.current_for(user).id == role.id
        from peerapp.passwords import verify
        assert verify(user.password_hash, password)
    # Shown once: the role page does not show it again.
    assert password not in text(lead.get(f"/workforce/roles/{role.id}"))


def test_activation_never_grants_the_peer_role_to_an_existing_account(app, wf, make_user):
    """Issue 10, item 1: a peer lead set a candidate's email to the viewer's and
    activated the role; the viewer's account became a peer's and read a referral."""
    existing = make_user("viewer", email="ada@example.org", name="Ada Candidate")
    role = offer(wf)
    complete_checks(role, wf["lead"])
    sign_off(role, wf["lead"])
    with app.app_context(), db.connection_context():
        services.change_status(role, "onboarding", by=wf["lead"])
        with pytest.raises(Refusal, match="not a peer worker's account"):
            services.activate(PeerRole.get_by_id(role.id), by=wf["lead"])
        assert User.get_by_id(existing.id).roles == {"viewer"}
        assert PeerRole.get_by_id(role.id).user_id is None
        # Once the administrator has given that account the peer role, the role links to it.
        User.get_by_id(existing.id).set_roles({"viewer", "peer"})
        user, password = services.activate(PeerRole.get_by_id(role.id), by=wf["lead"])
        assert password is None and user.id == existing.id
        assert User.get_by_id(existing.id).roles == {"viewer", "peer"}


def test_offer_page_lists_trained_candidates_only(wf, login):
    make_candidate(wf["team"], wf["lead"], "Untrained Person", trained=False)
    page = text(login(wf["lead"]).get("/workforce/offer"))
    assert "Ada Candidate" in page and "Untrained Person" not in page


def test_offer_through_the_form(wf, login):
    lead = login(wf["lead"])
    response = lead.post("/workforce/offer", data={
        "candidate": wf["candidate"].id, "kind": "volunteer", "hours_per_week": "7.5",
        "working_days": ["mon", "wed"], "start_date": "2026-05-04", "supervisor": wf["lead"].id,
        "max_caseload": "3", "languages": "English, Urdu", "availability": ["mon-am", "wed-pm"],
        "interests": "music, walking", "age_band": "26-35"})
    assert response.status_code == 302, text(response)[:3000]
    with db.connection_context():
        role = PeerRole.get()
        assert role.status == "offered" and role.hours_per_week == 7.5 and role.working_days == "mon,wed"
        assert role.language_list() == {"English", "Urdu"} and role.availability_list() == {"mon-am", "wed-pm"}
        assert role.display_name == "Ada"


def test_volunteer_to_paid_keeps_the_history(app, wf):
    volunteer = ready_role(wf)
    with app.app_context(), db.connection_context():
        paid = services.offer_role(candidate=wf["candidate"], team=wf["team"], kind="paid", supervisor=wf["lead"],
                                   start_date=TODAY, by=wf["manager"], previous_role=volunteer,
                                   hours_per_week=22.5, max_caseload=6)
        assert paid.induction_signed_off_on == volunteer.induction_signed_off_on  # induction carried over
        assert "References not recorded" in paid.readiness_problems()
        for code in ("occupational_health", "references", "right_to_work"):
            services.record_check(paid, check_type=CheckType.get(code=code), completed_on=TODAY,
                                  expires_on=None, by=wf["lead"])
        services.change_status(paid, "onboarding", by=wf["lead"])
        services.activate(paid, by=wf["lead"])
        volunteer = PeerRole.get_by_id(volunteer.id)
        assert volunteer.status == "ended" and volunteer.status_reason == "moved to paid"
        assert PeerRole.current_for(volunteer.user).id == paid.id
        assert [r.kind for r in PeerRole.of_candidate(wf["candidate"])] == ["volunteer", "paid"]


def test_htmx_induction_tick_returns_the_checklist_fragment(wf, login):
    role = offer(wf)
    lead = login(wf["lead"])
    item = InductionItem.checklist().first() if not db.is_closed() else None
    with db.connection_context():
        item = InductionItem.checklist().first()
    response = lead.htmx("post", f"/workforce/roles/{role.id}/induction/{item.id}", data={"done": "1"})
    body = text(response)
    assert response.status_code == 200 and body.lstrip().startswith('<section id="induction"')
    assert "<html" not in body and "HX-Request" in response.headers.get("Vary", "")
    plain = lead.post(f"/workforce/roles/{role.id}/induction/{item.id}", data={"done": "0"})
    assert plain.status_code == 302
    with db.connection_context():
        assert not role.induction_ticks.exists()


def test_team_meeting_attendance_is_agreed_by_manager_lead_and_peer(app, wf, login):
    role = ready_role(wf)
    lead, manager = login(wf["lead"]), login(wf["manager"])
    assert lead.post(f"/workforce/roles/{role.id}/team-meetings",
                     data={"attends": "yes", "arrangement": "Weekly business meeting"}).status_code == 302
    for client, as_ in ((lead, "lead"), (manager, "manager")):
        assert client.post(f"/workforce/roles/{role.id}/team-meetings/confirm",
                           data={"confirm_as": as_}).status_code == 302
    with db.connection_context():
        assert not TeamMeetingAgreement.get(role=role).agreed
        peer_user = PeerRole.get_by_id(role.id).user
        _chose_own_password(peer_user)
    peer = login(peer_user)
    assert "I agree to this arrangement" in text(peer.get("/workforce/me"))
    # A lead cannot confirm on the peer's behalf.
    lead.post(f"/workforce/roles/{role.id}/team-meetings/confirm", data={"confirm_as": "peer"})
    with db.connection_context():
        assert TeamMeetingAgreement.get(role=role).peer_on is None
    assert peer.post(f"/workforce/roles/{role.id}/team-meetings/confirm", data={"confirm_as": "peer"}).status_code == 302
    with db.connection_context():
        assert TeamMeetingAgreement.get(role=role).agreed
    assert "Agreed jointly" in text(peer.get("/workforce/me"))


def test_one_person_cannot_agree_team_meetings_as_both_manager_and_peer_lead(app, wf, login):
    role = ready_role(wf)
    with db.connection_context():
        wf["lead2"].set_roles({"peer_lead", "manager"})
    both = login(wf["lead2"])
    both.post(f"/workforce/roles/{role.id}/team-meetings", data={"attends": "yes", "arrangement": ""})
    assert both.post(f"/workforce/roles/{role.id}/team-meetings/confirm",
                     data={"confirm_as": "manager"}).status_code == 302
    page = text(both.get(f"/workforce/roles/{role.id}"))
    assert "I agree to this arrangement" not in page
    response = both.post(f"/workforce/roles/{role.id}/team-meetings/confirm", data={"confirm_as": "lead"},
                         follow_redirects=True)
    assert "three people" in text(response)
    with db.connection_context():
        agreement = TeamMeetingAgreement.get(role=role)
        assert agreement.manager_id == wf["lead2"].id and agreement.lead_on is None
    assert login(wf["lead"]).post(f"/workforce/roles/{role.id}/team-meetings/confirm",
                                  data={"confirm_as": "lead"}).status_code == 302
    with db.connection_context():
        assert TeamMeetingAgreement.get(role=role).lead_id == wf["lead"].id


def test_peer_lead_warnings(app, wf, login, make_user):
    manager = login(wf["manager"])
    assert 'id="peer-lead-warnings"' not in text(manager.get("/workforce/"))
    with db.connection_context():
        PeerLeadDesignation.update(paid=False).where(PeerLeadDesignation.user == wf["lead2"]).execute()
    assert "is not paid staff" in text(manager.get("/workforce/"))
    with db.connection_context():
        PeerLeadDesignation.delete().where(PeerLeadDesignation.user == wf["lead2"]).execute()
    assert "1 named peer lead; the SOP asks for two" in text(manager.get("/workforce/"))
    # Managers name them; a person without the peer lead role cannot be named.
    clinician = make_user("clinician")
    response = manager.post("/workforce/peer-leads", data={"user": clinician.id, "paid": "y"})
    assert response.status_code == 422
    assert manager.post("/workforce/peer-leads", data={"user": wf["lead2"].id, "paid": "y"}).status_code == 302
    with db.connection_context():
        assert PeerLeadDesignation.is_lead(wf["lead2"], wf["team"])
    assert login(wf["lead"]).post("/workforce/peer-leads", data={"user": wf["lead2"].id}).status_code == 403


# -- bad input: a clear message, nothing saved lost, never a 500 ----------------------------------
def test_supervisor_must_be_a_named_peer_lead_of_the_team(wf, login, make_user):
    other = make_user("peer_lead", name="Unnamed Lead")  # has the role, not named for the team
    lead = login(wf["lead"])
    response = lead.post("/workforce/offer", data={
        "candidate": wf["candidate"].id, "kind": "volunteer", "hours_per_week": "8", "start_date": "2026-05-04",
        "supervisor": other.id, "max_caseload": "3", "interests": "gardening"})
    assert response.status_code == 422
    assert "not a valid choice" in text(response) or "not a named peer lead" in text(response)
    assert 'value="gardening"' in text(response)  # what was typed is still there
    with db.connection_context():
        assert PeerRole.select().count() == 0
        with pytest.raises(Refusal, match="not a named peer lead"):
            services.offer_role(candidate=wf["candidate"], team=wf["team"], kind="volunteer", supervisor=other,
                                start_date=TODAY, by=wf["lead"])


def test_untrained_candidate_cannot_be_offered_a_role(wf):
    untrained = make_candidate(wf["team"], wf["lead"], "Not Yet", trained=False)
    with db.connection_context(), pytest.raises(Refusal, match="has not completed training"):
        services.offer_role(candidate=untrained, team=wf["team"], kind="volunteer", supervisor=wf["lead"],
                            start_date=TODAY, by=wf["lead"])


def test_expiry_before_completion_is_refused(wf, login):
    role = offer(wf)
    with db.connection_context():
        ig = CheckType.get(code="ig_training")
    response = login(wf["lead"]).post(f"/workforce/roles/{role.id}/checks/new", data={
        "check_type": ig.id, "completed_on": "2026-04-01", "expires_on": "2026-03-01"})
    assert response.status_code == 422
    assert "The expiry date must be after the date completed" in text(response)
    with db.connection_context():
        assert RecruitmentCheck.select().count() == 0
        with pytest.raises(Refusal, match="must be after"):
            services.record_check(role, check_type=ig, completed_on=dt.date(2026, 4, 1),
                                  expires_on=dt.date(2026, 3, 1), by=wf["lead"], today=TODAY)
    # The database refuses it too, whatever the code path.
    with db.connection_context(), pytest.raises(Exception):
        RecruitmentCheck.create(candidate=role.candidate_id, check_type=ig, completed_on=dt.date(2026, 4, 1),
                                expires_on=dt.date(2026, 3, 1))


def test_dbs_needs_its_outcome_and_level(wf, login):
    role = offer(wf)
    with db.connection_context():
        dbs = CheckType.get(code="dbs")
    response = login(wf["lead"]).post(f"/workforce/roles/{role.id}/checks/new", data={
        "check_type": dbs.id, "completed_on": "2026-04-01", "expires_on": "2029-04-01"})
    assert response.status_code == 422 and "Choose the DBS outcome" in text(response), text(response)[text(response).find("<main"):][:2500]
    assert "Say whether the DBS is on the Update Service" in text(response)
    response = login(wf["lead"]).post(f"/workforce/roles/{role.id}/checks/new", data={
        "check_type": dbs.id, "completed_on": "2026-04-01", "expires_on": "2029-04-01", "dbs_update_service": "yes",
        "dbs_outcome": "clear"})
    assert response.status_code == 422 and "Choose the DBS level" in text(response)
    response = login(wf["lead"]).post(f"/workforce/roles/{role.id}/checks/new", data={
        "check_type": dbs.id, "completed_on": "2026-04-01", "expires_on": "2029-04-01", "dbs_level": "enhanced",
        "dbs_update_service": "no", "dbs_outcome": "clear"})
    assert response.status_code == 302
    with db.connection_context():
        assert RecruitmentCheck.get().dbs_update_service is False


def test_activating_someone_not_ready_is_refused_with_the_reasons(wf, login):
    role = offer(wf)
    lead = login(wf["lead"])
    lead.post(f"/workforce/roles/{role.id}/status", data={"status": "onboarding"})
    response = lead.post(f"/workforce/roles/{role.id}/activate", follow_redirects=True)
    assert response.status_code == 200
    assert "is not ready to practise" in text(response) and "induction not signed off" in text(response)
    with db.connection_context():
        assert PeerRole.get_by_id(role.id).status == "onboarding"
        assert User.by_email("ada@example.org") is None


def test_base_access_waits_for_checks(wf, login):
    role = offer(wf)
    lead = login(wf["lead"])
    response = lead.post(f"/workforce/roles/{role.id}/base-access", follow_redirects=True)
    assert "Base access can be given only when" in text(response)
    complete_checks(role, wf["lead"])
    lead.post(f"/workforce/roles/{role.id}/base-access")
    with db.connection_context():
        assert PeerRole.get_by_id(role.id).base_access_on == TODAY


def test_a_second_active_role_in_the_same_team_is_refused(app, wf):
    first = ready_role(wf)
    with app.app_context(), db.connection_context():
        with pytest.raises(Refusal, match="already has an active volunteer role"):
            services.offer_role(candidate=wf["candidate"], team=wf["team"], kind="volunteer",
                                supervisor=wf["lead"], start_date=TODAY, by=wf["lead"])
        # A second role forced in past the form is still refused at activation, and by the database.
        second = PeerRole.create(candidate=wf["candidate"], team=wf["team"], kind="paid", supervisor=wf["lead"],
                                 start_date=TODAY, status="onboarding", induction_signed_off_on=TODAY)
        with pytest.raises(Refusal, match="already has an active role"):
            services.activate(second, by=wf["lead"])
        with pytest.raises(Exception):
            PeerRole.update(status="active").where(PeerRole.id == second.id).execute()
        assert PeerRole.get_by_id(first.id).status == "active"


def test_status_needs_a_reason_and_a_sensible_move(wf, login):
    role = offer(wf)
    lead = login(wf["lead"])
    response = lead.post(f"/workforce/roles/{role.id}/status", data={"status": "ended", "reason": ""})
    assert response.status_code == 422 and "Give a reason the role is ended" in text(response)
    response = lead.post(f"/workforce/roles/{role.id}/status", data={"status": "paused", "reason": "x"})
    assert response.status_code == 422 and "cannot become paused" in text(response)
    response = lead.post(f"/workforce/roles/{role.id}/status", data={"status": "'; DROP TABLE", "reason": "x"})
    assert response.status_code == 422
    assert lead.post(f"/workforce/roles/{role.id}/status",
                     data={"status": "ended", "reason": "Withdrew"}).status_code == 302
    with db.connection_context():
        role = PeerRole.get_by_id(role.id)
        assert role.status == "ended" and role.ended_on == TODAY and role.status_reason == "Withdrew"


@pytest.mark.parametrize("field,value", [("hours_per_week", "nan"), ("hours_per_week", "inf"),
                                         ("hours_per_week", "-3"), ("max_caseload", "99999999999999999999999"),
                                         ("start_date", "20260-01-01"), ("supervisor", "abc"),
                                         ("candidate", "999999"), ("interests", "bad\x00text")])
def test_fuzzed_offer_input_is_refused_not_crashed(wf, login, field, value):
    data = {"candidate": wf["candidate"].id, "kind": "volunteer", "hours_per_week": "8",
            "start_date": "2026-05-04", "supervisor": wf["lead"].id, "max_caseload": "3"}
    data[field] = value
    response = login(wf["lead"]).post("/workforce/offer", data=data)
    assert response.status_code == 422
    with db.connection_context():
        assert PeerRole.select().count() == 0


def test_fuzzed_supervision_input(wf, login):
    role = ready_role(wf)
    lead = login(wf["lead"])
    for data in ({"held_on": "2026-05-01", "duration_minutes": "0", "how_they_are": "ok"},
                 {"held_on": "2026-05-01", "duration_minutes": "60", "how_they_are": ""},
                 {"held_on": "2026-05-01", "duration_minutes": "60", "how_they_are": "ok", "next_on": "2026-04-01"},
                 {"held_on": "2027-05-01", "duration_minutes": "60", "how_they_are": "ok"}):
        response = lead.post(f"/workforce/roles/{role.id}/supervision/new", data=data)
        assert response.status_code == 422, data
    with db.connection_context():
        assert Supervision.select().count() == 0


# -- conflicts -------------------------------------------------------------------------------------
def test_a_declared_conflict_stops_them_supervising_that_peer(app, wf, login):
    role = ready_role(wf)
    manager = login(wf["manager"])
    assert manager.post(f"/workforce/roles/{role.id}/conflicts", data={"staff": wf["lead2"].id}).status_code == 302
    with db.connection_context():
        assert StaffConflict.between(wf["lead2"], role)
        with pytest.raises(Refusal, match="prior care relationship"):
            services.update_details(PeerRole.get_by_id(role.id), by=wf["manager"], supervisor=wf["lead2"])
    response = manager.post(f"/workforce/roles/{role.id}/edit", data={
        "hours_per_week": "8", "start_date": "2026-05-01", "supervisor": wf["lead2"].id, "max_caseload": "3"})
    assert response.status_code == 422 and "prior care relationship" in text(response)
    with db.connection_context():
        assert PeerRole.get_by_id(role.id).supervisor_id == wf["lead"].id
        # Any later role of the same person too.
        with pytest.raises(Refusal, match="prior care relationship"):
            services.offer_role(candidate=wf["candidate"], team=wf["team"], kind="paid", supervisor=wf["lead2"],
                                start_date=TODAY, by=wf["lead"], previous_role=role)
    # Declared by the supervisor themselves: saving other details asks for another supervisor.
    assert manager.post(f"/workforce/roles/{role.id}/conflicts", data={"staff": wf["lead"].id}).status_code == 302
    response = manager.post(f"/workforce/roles/{role.id}/edit", data={
        "hours_per_week": "12", "start_date": "2026-05-01", "supervisor": wf["lead"].id, "max_caseload": "3"})
    assert response.status_code == 422 and "prior care relationship" in text(response)
    assert "Declared a prior care relationship: choose another supervisor" in text(manager.get(f"/workforce/roles/{role.id}"))
    with db.connection_context():
        assert PeerRole.get_by_id(role.id).hours_per_week == 8
    # Declared twice: a message, not a crash.
    response = manager.post(f"/workforce/roles/{role.id}/conflicts", data={"staff": wf["lead2"].id},
                            follow_redirects=True)
    assert "already declared" in text(response)


# -- who may see what ---------------------------------------------------------------------------------
def test_a_peer_sees_only_their_own_record(app, wf, login):
    mine = ready_role(wf)
    other_candidate = make_candidate(wf["team"], wf["lead"], "Bo Other", "bo@example.org")
    theirs = ready_role(wf, candidate=other_candidate)
    with db.connection_context():
        me_user = PeerRole.get_by_id(mine.id).user
    peer = login(me_user)
    page = text(peer.get("/workforce/me"))
    assert "Your role" in page and 'data-check="dbs"' in page and "Bo Other" not in page
    assert peer.get(f"/workforce/roles/{mine.id}").status_code == 200
    assert peer.get(f"/workforce/roles/{theirs.id}").status_code == 404
    assert peer.post(f"/workforce/roles/{theirs.id}/team-meetings/confirm",
                     data={"confirm_as": "peer"}).status_code == 404
    assert peer.get("/workforce/").status_code == 403
    assert peer.post(f"/workforce/roles/{mine.id}/activate").status_code == 403
    # Their own supervision and debrief they read; another peer's are not there for them.
    with app.app_context(), db.connection_context():
        own = services.record_supervision(mine, by=wf["lead"], held_on=TODAY, duration_minutes=30,
                                          how_they_are="Settling in", actions="", next_on=None)
        other = services.record_supervision(theirs, by=wf["lead"], held_on=TODAY, duration_minutes=30,
                                            how_they_are="Bo is struggling", actions="", next_on=None)
        other_debrief = services.record_debrief(theirs, by=wf["lead"], held_on=TODAY, summary="Bo's day",
                                                wellbeing="")
    assert "Settling in" in text(peer.get(f"/workforce/supervision/{own.id}"))
    assert peer.get(f"/workforce/supervision/{other.id}").status_code == 404
    assert peer.get(f"/workforce/debriefs/{other_debrief.id}").status_code == 404
    page = text(peer.get("/workforce/me"))
    assert f"/workforce/supervision/{own.id}" in page and f"/workforce/supervision/{other.id}" not in page
    assert "struggling" not in page and "Bo Other" not in page and "Bo's day" not in page


def test_staff_of_another_team_get_404(app, wf, make_user, login):
    from peerapp.models import Team
    role = ready_role(wf)
    with db.connection_context():
        elsewhere = Team.create(name="Elsewhere")
    stranger = make_user("peer_lead", "manager", team_=elsewhere)
    client = login(stranger)
    assert client.get(f"/workforce/roles/{role.id}").status_code == 404
    assert client.post(f"/workforce/roles/{role.id}/status", data={"status": "ended", "reason": "x"}).status_code == 404
    assert "Ada" not in text(client.get("/workforce/"))


def test_supervision_notes_only_for_the_peer_and_their_supervisors(app, wf, login, make_user):
    role = ready_role(wf)
    with app.app_context(), db.connection_context():
        record = services.record_supervision(role, by=wf["lead"], held_on=TODAY, duration_minutes=45,
                                             how_they_are="Tired but coping", actions="Shorter days",
                                             next_on=TODAY + dt.timedelta(days=28))
        peer_user = PeerRole.get_by_id(role.id).user
        _chose_own_password(peer_user)
    url = f"/workforce/supervision/{record.id}"
    for person in (wf["lead"], peer_user):
        response = login(person).get(url)
        assert response.status_code == 200 and "Tired but coping" in text(response)
    # "Who has read this" lists readings only: the lead's and the peer's, not the writing of it.
    readers = text(response).split("Who has read this")[1].split("</ul>")[0]
    assert readers.count("<li>") == 2, readers
    for person in (wf["lead2"], wf["manager"]):  # a peer lead who does not supervise, the manager
        client = login(person)
        assert client.get(url).status_code == 404
        role_page = text(client.get(f"/workforce/roles/{role.id}"))
        assert "Tired but coping" not in role_page and url not in role_page
        assert "Only the peer and their supervisors" in role_page
    for role_name in ("viewer", "clinician", "facilitator", "admin"):
        assert login(make_user(role_name)).get(url).status_code == 403
    with db.connection_context():
        views = AuditEvent.for_record("supervision", record.id).where(AuditEvent.action == "view")
        assert {e.user_id for e in views} == {wf["lead"].id, peer_user.id}
        assert all("Tired" not in e.summary for e in AuditEvent.select())
    # A manager who is also the supervisor may read it.
    with db.connection_context():
        wf["lead2"].set_roles({"peer_lead", "manager"})
        PeerRole.update(supervisor=wf["lead2"]).where(PeerRole.id == role.id).execute()
    assert login(wf["lead2"]).get(url).status_code == 200


def test_debrief_notes_follow_the_same_rule(app, wf, login):
    role = ready_role(wf)
    with app.app_context(), db.connection_context():
        record = services.record_debrief(role, by=wf["lead2"], held_on=TODAY, summary="Two visits",
                                         wellbeing="Good")
    url = f"/workforce/debriefs/{record.id}"
    assert login(wf["lead2"]).get(url).status_code == 200  # wrote it
    assert login(wf["lead"]).get(url).status_code == 200   # supervises
    assert login(wf["manager"]).get(url).status_code == 404


def test_viewer_and_clinician_see_no_person_records(app, wf, client_for):
    role = ready_role(wf)
    for role_name in ("viewer", "clinician", "facilitator"):
        client = client_for(role_name)
        for url in ("/workforce/", f"/workforce/roles/{role.id}", "/workforce/me", "/workforce/offer"):
            assert client.get(url).status_code == 403, (role_name, url)
        assert "Ada" not in text(client.get("/"))


def test_every_workforce_route_declares_its_roles(app):
    from peerapp.access import allowed_roles
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("workforce."):
            roles = allowed_roles(rule.endpoint, app)
            assert roles and "viewer" not in roles and "signed_in" not in roles, rule.endpoint


def test_sweep_command(app, wf, clock):
    ready_role(wf)
    clock.freeze(dt.datetime(2027, 6, 1, 9))
    result = app.test_cli_runner().invoke(args=["workforce-sweep"])
    assert result.exit_code == 0 and "1 role(s) paused" in result.output


def test_a_clinician_declares_their_own_prior_care_relationship(app, wf, login, make_user):
    role = ready_role(wf)
    clinician = login(make_user("clinician", name="Dr Declares"))
    page = text(clinician.get("/workforce/declare"))
    assert "Ada Candidate" in page
    assert clinician.post("/workforce/declare", data={"role": role.id}).status_code == 302
    with db.connection_context():
        assert StaffConflict.between(User.get(User.name == "Dr Declares"), role)
    assert clinician.post("/workforce/declare", data={"role": role.id}).status_code == 422  # once is enough
    assert clinician.post("/workforce/declare", data={"role": 999999}).status_code == 422
    assert clinician.get(f"/workforce/roles/{role.id}").status_code == 403


def test_settings_change_what_each_role_needs(app, wf, login):
    role = ready_role(wf)
    manager = login(wf["manager"])
    with db.connection_context():
        types = {t.code: t.id for t in CheckType.select()}
        items = [i.id for i in InductionItem.checklist()]
    volunteer = [types[c] for c in ("dbs", "confidentiality_agreement", "references")]
    response = manager.post("/workforce/settings", data={
        "supervision_days": "14", "volunteer_checks": volunteer, "paid_checks": list(types.values()),
        "induction_items": items[1:], "new_item": "Meeting the service user group"})
    assert response.status_code == 302
    with app.app_context(), db.connection_context():
        assert WorkforceSetting.supervision_days() == 14
        assert {t.code for t in CheckType.required_for("volunteer")} == {"dbs", "confidentiality_agreement",
                                                                          "references"}
        assert [i.title for i in InductionItem.checklist()][-1] == "Meeting the service user group"
        assert PeerRole.get_by_id(role.id).readiness_problems() == ["References not recorded"]
    assert manager.post("/workforce/settings", data={"supervision_days": "0"}).status_code == 422
    assert login(wf["lead"]).get("/workforce/settings").status_code == 403


def test_role_page_shows_its_changes_to_staff_only(app, wf, login):
    role = ready_role(wf)
    with db.connection_context():
        peer_user = PeerRole.get_by_id(role.id).user
        _chose_own_password(peer_user)
    assert 'id="changes"' in text(login(wf["manager"]).get(f"/workforce/roles/{role.id}"))
    assert 'id="changes"' not in text(login(peer_user).get("/workforce/me"))


def test_a_second_offer_of_the_same_kind_is_refused_on_the_page(app, wf, login):
    ready_role(wf)
    lead = login(wf["lead"])
    response = lead.post("/workforce/offer", data={
        "candidate": wf["candidate"].id, "kind": "volunteer", "hours_per_week": "8", "start_date": "2026-05-04",
        "supervisor": wf["lead"].id, "max_caseload": "3"})
    assert response.status_code == 422 and "already has an active volunteer role" in text(response)
    with db.connection_context():
        assert PeerRole.select().count() == 1


def test_reading_a_role_is_audited(app, wf, login):
    role = ready_role(wf)
    login(wf["manager"]).get(f"/workforce/roles/{role.id}")
    with db.connection_context():
        assert AuditEvent.for_record("peer_role", role.id).where(AuditEvent.action == "view",
                                                                 AuditEvent.user == wf["manager"].id).exists()
    # A form sent back with its errors shows the whole page again: that is a reading too.
    lead = login(wf["lead"])
    for url, data in ((f"/workforce/roles/{role.id}/status", {"status": "paused", "reason": ""}),
                      (f"/workforce/roles/{role.id}/team-meetings", {"attends": ""}),
                      (f"/workforce/roles/{role.id}/conflicts", {"staff": ""})):
        response = lead.post(url, data=data)
        assert response.status_code == 422 and 'id="checks-table"' in text(response), url
    with db.connection_context():
        assert AuditEvent.for_record("peer_role", role.id).where(AuditEvent.action == "view",
                                                                 AuditEvent.user == wf["lead"].id).count() == 3
    with db.connection_context():
        peer_user = PeerRole.get_by_id(role.id).user
        _chose_own_password(peer_user)
    login(peer_user).get("/workforce/me")
    with db.connection_context():
        assert AuditEvent.for_record("peer_role", role.id).where(
            AuditEvent.action == "view", AuditEvent.user == peer_user.id,
            AuditEvent.summary == "own peer role read").exists()


@pytest.mark.parametrize("value", ["-1", "99999", "999999999999999999999999"])
def test_forged_record_ids_get_a_message_not_a_500(app, wf, login, value):
    """Ids no list offered (a negative one, one of nobody, one too big for the database)."""
    role = ready_role(wf)
    manager = login(wf["manager"])
    edit = {"hours_per_week": "8", "start_date": "2026-05-01", "max_caseload": "3", "supervisor": value}
    offer_data = {"candidate": wf["candidate"].id, "kind": "paid", "hours_per_week": "8", "start_date": "2026-05-04",
                  "supervisor": wf["lead"].id, "max_caseload": "3"}
    for url, data in ((f"/workforce/roles/{role.id}/edit", edit),
                      (f"/workforce/roles/{role.id}/conflicts", {"staff": value}),
                      ("/workforce/peer-leads", {"user": value, "paid": "y"}),
                      ("/workforce/offer", {**offer_data, "candidate": value}),
                      ("/workforce/offer", {**offer_data, "supervisor": value}),
                      ("/workforce/declare", {"role": value})):
        response = manager.post(url, data=data)
        assert response.status_code in (404, 422), (url, data, response.status_code)
    with db.connection_context():
        assert PeerRole.select().count() == 1 and PeerRole.get_by_id(role.id).supervisor_id == wf["lead"].id
        assert not StaffConflict.select().exists()


def test_a_move_to_paid_carries_over_only_the_same_persons_induction(app, wf, login):
    """The offer form keeps the previous role in a hidden field while the candidate can
    still be changed: someone else must not inherit the induction (nor end that role)."""
    volunteer = ready_role(wf)
    other = make_candidate(wf["team"], wf["lead"], "Bo Other", "bo@example.org")
    lead = login(wf["lead"])
    response = lead.get(f"/workforce/offer?previous={volunteer.id}")
    assert response.status_code == 200, text(response)[text(response).find("<main"):][:3000]
    page = text(response)
    assert f'name="previous" value="{volunteer.id}"' in page
    response = lead.post("/workforce/offer", data={
        "previous": volunteer.id, "candidate": other.id, "kind": "paid", "hours_per_week": "20",
        "start_date": "2026-05-04", "supervisor": wf["lead"].id, "max_caseload": "3", "interests": "chess"})
    assert response.status_code == 422 and "must be Bo Other&#39;s own" in text(response)
    assert 'value="chess"' in text(response)
    with db.connection_context():
        assert not PeerRole.select().where(PeerRole.candidate == other.id).exists()
        with pytest.raises(Refusal, match="must be Bo Other's own"):
            services.offer_role(candidate=other, team=wf["team"], kind="paid", supervisor=wf["lead"],
                                start_date=TODAY, by=wf["lead"], previous_role=PeerRole.get_by_id(volunteer.id))
        assert PeerRole.get_by_id(volunteer.id).status == "active"
    # The same person: the paid role is offered and follows the volunteer one.
    response = lead.post("/workforce/offer", data={
        "previous": volunteer.id, "candidate": wf["candidate"].id, "kind": "paid", "hours_per_week": "20",
        "start_date": "2026-05-04", "supervisor": wf["lead"].id, "max_caseload": "3"})
    assert response.status_code == 302
    with db.connection_context():
        paid = PeerRole.get(PeerRole.kind == "paid")
        assert paid.previous_role_id == volunteer.id and paid.induction_signed_off_on == TODAY


def test_activation_needs_a_supervisor_who_may_supervise(app, wf):
    role = offer(wf)
    complete_checks(role, wf["lead"])
    sign_off(role, wf["lead"])
    with app.app_context(), db.connection_context():
        services.change_status(role, "onboarding", by=wf["lead"])
        services.declare_conflict(role, staff=wf["lead"], by=wf["lead"])
        with pytest.raises(Refusal, match="Choose another supervisor for Ada first"):
            services.activate(PeerRole.get_by_id(role.id), by=wf["manager"])
        assert PeerRole.get_by_id(role.id).status == "onboarding" and User.by_email("ada@example.org") is None
        services.update_details(PeerRole.get_by_id(role.id), by=wf["manager"], supervisor=wf["lead2"])
        services.activate(PeerRole.get_by_id(role.id), by=wf["manager"])
        assert PeerRole.get_by_id(role.id).status == "active"


def test_role_page_says_when_the_supervisor_is_no_longer_a_named_peer_lead(app, wf, login):
    role = ready_role(wf)
    manager = login(wf["manager"])
    assert 'id="supervisor-problem"' not in text(manager.get(f"/workforce/roles/{role.id}"))
    with db.connection_context():
        designation = PeerLeadDesignation.get(user=wf["lead"])
    assert manager.post(f"/workforce/peer-leads/{designation.id}/remove").status_code == 302
    page = text(manager.get(f"/workforce/roles/{role.id}"))
    assert 'id="supervisor-problem"' in page and "No longer a named peer lead" in page


def test_a_check_that_lapses_needs_its_expiry_date(wf, login):
    """Without one it would count as in date for ever, and never pause the role."""
    role = offer(wf)
    with db.connection_context():
        ig = CheckType.get(code="ig_training")
        agreement = CheckType.get(code="confidentiality_agreement")
    assert ig.lapses and not agreement.lapses
    lead = login(wf["lead"])
    response = lead.post(f"/workforce/roles/{role.id}/checks/new", data={
        "check_type": ig.id, "completed_on": "2026-04-01", "expires_on": ""})
    assert response.status_code == 422
    assert "Enter the expiry date (Information governance training lapses)" in text(response)
    with db.connection_context(), pytest.raises(Refusal, match="Enter the expiry date"):
        services.record_check(role, check_type=ig, completed_on=dt.date(2026, 4, 1), expires_on=None,
                              by=wf["lead"], today=TODAY)
    assert lead.post(f"/workforce/roles/{role.id}/checks/new", data={
        "check_type": agreement.id, "completed_on": "2026-04-01", "expires_on": ""}).status_code == 302
    with db.connection_context():
        assert [r.check_type.code for r in RecruitmentCheck.select()] == ["confidentiality_agreement"]


def _chose_own_password(user):
    """A newly activated peer signs in with a one-time password and must change it
    before any other page opens; these tests start after they have."""
    User.update(must_change_password=False).where(User.id == user.id).execute()
    user.must_change_password = False
