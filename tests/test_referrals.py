"""Referrals: the service rules (screening, assignment, first meetings, contacts) and the
pages, per role: who sees what, bad input, audit, and the htmx contract."""
from __future__ import annotations

import contextlib
import datetime as dt
import re
from types import SimpleNamespace

import pytest

from peerapp.audit import AuditEvent
from peerapp.db import db
from peerapp.models import Team
from peerapp.referrals import services, states
from peerapp.referrals.demo import ready_peer, seed_catalogue
from peerapp.referrals.models import (Contact, DeclaredConflict, Referral, ReferralEvent, ServiceUser, caseload,
                                      not_a_good_fit_pairs)
from peerapp.referrals.services import AssignmentRefused, ReferralError
from peerapp.training.models import Candidate, EquivalentTraining
from peerapp.workforce.models import RecruitmentCheck

TODAY = dt.date(2026, 5, 1)
_APP: dict = {}


@contextlib.contextmanager
def inside():
    """Model calls outside a request: an app context (so the frozen clock applies) and a
    connection. Never held across client requests, which push their own contexts."""
    with _APP["app"].app_context(), db.connection_context():
        yield
PLANTED = "Zebedee Quintrell-Planted"


def trained_candidate(user, team, by) -> Candidate:
    candidate = Candidate.create(name=user.name, team=team, nominated_by=by, nominated_on=TODAY - dt.timedelta(days=200),
                                 user=user)
    EquivalentTraining.create(candidate=candidate, provider="Recovery College", completed_on=TODAY - dt.timedelta(days=150),
                              recognised_by=by, recognised_on=TODAY - dt.timedelta(days=140))
    return candidate


@pytest.fixture
def world(app, clock, team, users, make_user):
    """A team with a catalogue, a clinician, a peer lead, a paid and a volunteer peer
    (both ready to practise), and a planted service user with a referral."""
    clock.freeze(dt.datetime(2026, 5, 1, 9))
    _APP["app"] = app
    volunteer_user = make_user("peer", name="Val Volunteer")
    other_clinician = make_user("clinician", name="Other Clinician")
    with inside():
        items = seed_catalogue()
        lead = users["peer_lead"]
        paid = ready_peer(candidate=trained_candidate(users["peer"], team, lead), team=team, user=users["peer"],
                          kind="paid", supervisor=lead, max_caseload=2, today=TODAY)
        volunteer = ready_peer(candidate=trained_candidate(volunteer_user, team, lead), team=team,
                               user=volunteer_user, kind="volunteer", supervisor=lead, max_caseload=2, today=TODAY)
    w = SimpleNamespace(team=team, items=items, lead=lead, clinician=users["clinician"], paid=paid,
                        volunteer=volunteer, volunteer_user=volunteer_user, other_clinician=other_clinician,
                        users=users)
    w.referral = make_referral(w, name=PLANTED)
    return w


def make_referral(w, name="Test Person", risk="low", wanted=("1:1 recovery conversations",),
                  referred_on=TODAY - dt.timedelta(days=10)) -> Referral:
    with inside():
        su = ServiceUser.create(name=name, team=w.team, care_coordinator=w.clinician,
                                consent_referral_on=referred_on, consent_sharing_on=referred_on,
                                contact_preference="Text first please", languages=["English", "Polish"])
        referral = Referral.create(service_user=su, team=w.team, referrer=w.clinician, referred_on=referred_on,
                                   own_words="OWN-WORDS-SECRET I want someone who gets it.", goals="Go out more",
                                   risk_summary="RISK-SUMMARY no current concerns", risk_level=risk,
                                   last_risk_review_on=referred_on)
        services.set_interventions(referral, [w.items[n] for n in wanted])
    return referral


def advance(w, referral, to, peer=None, volunteer_allowed=True):
    """Move a referral along the happy path through the services."""
    with inside():
        referral = Referral.get_by_id(referral.id)
        lead = w.lead
        order = [states.AWAITING_MATCH, states.MATCHED, states.FIRST_MEETING, states.ACTIVE]
        if referral.state in (states.SUBMITTED, states.SCREENING):
            services.screen(referral, states.ACCEPTED, by=lead, interventions=referral.requested_interventions(),
                            volunteer_allowed=volunteer_allowed, reasons="fits")
        if to == states.AWAITING_MATCH:
            return referral
        services.assign(referral, peer or w.paid, by=lead)
        if to == states.MATCHED:
            return referral
        services.arrange_first_meeting(referral, by=lead, meeting_on=TODAY, place="Team base",
                                       attendees="everyone")
        if to == states.FIRST_MEETING:
            return referral
        services.record_first_meeting(referral, True, by=lead)
        assert to in order
        return referral


# --- service rules ----------------------------------------------------------------

def test_accepting_goes_straight_on_to_awaiting_match_with_history(world):
    with inside():
        referral = advance(world, world.referral, states.AWAITING_MATCH)
        assert referral.state == states.AWAITING_MATCH
        moves = [(e.from_state, e.to_state, e.by_user_id) for e in referral.history()]
        assert moves == [("submitted", "screening", world.lead.id), ("screening", "accepted", world.lead.id),
                         ("accepted", "awaiting match", world.lead.id)]
        assert list(Referral.awaiting_match(world.team)) == [referral]
        assert [i.name for i in referral.requested_interventions()] == ["1:1 recovery conversations"]
        assert referral.volunteer_allowed is True


def test_questions_go_back_to_the_referrer_and_return_to_screening(world):
    with inside():
        referral = Referral.get_by_id(world.referral.id)
        services.screen(referral, states.MORE_INFO, by=world.lead, questions="Is there a dog at home?")
        assert referral.state == states.MORE_INFO
        assert referral.open_questions().questions == "Is there a dog at home?"
        services.answer_questions(referral, "No dog.", by=world.clinician)
        assert referral.state == states.SCREENING
        assert referral.open_questions() is None
        services.screen(referral, states.DECLINED, by=world.lead, reasons="Not wanted now")
        assert referral.state == states.DECLINED and referral.decline_reason == "Not wanted now"


def test_screening_refuses_a_referral_already_decided(world):
    with inside():
        referral = advance(world, world.referral, states.AWAITING_MATCH)
        with pytest.raises(states.TransitionRefused):
            services.screen(referral, states.DECLINED, by=world.lead, reasons="late")
        assert Referral.get_by_id(referral.id).state == states.AWAITING_MATCH


def test_assign_checks_readiness_capacity_and_volunteer_rules(world):
    with inside():
        referral = advance(world, world.referral, states.AWAITING_MATCH, volunteer_allowed=False)
        with pytest.raises(AssignmentRefused, match="screening decided a volunteer may not"):
            services.assign(referral, world.volunteer, by=world.lead)
        # Not ready: the DBS check lapsed.
        dbs = RecruitmentCheck.select().where(RecruitmentCheck.candidate == world.paid.candidate_id).first()
        old_expiry = dbs.expires_on
        RecruitmentCheck.update(expires_on=TODAY - dt.timedelta(days=1), completed_on=TODAY - dt.timedelta(days=800)
                                ).where(RecruitmentCheck.candidate == world.paid.candidate_id).execute()
        with pytest.raises(AssignmentRefused, match="not ready to practise"):
            services.assign(referral, world.paid, by=world.lead)
        RecruitmentCheck.update(expires_on=old_expiry, completed_on=TODAY - dt.timedelta(days=90)).where(
            RecruitmentCheck.candidate == world.paid.candidate_id).execute()
        assert referral.state == states.AWAITING_MATCH
        services.assign(referral, world.paid, by=world.lead)
        assert referral.state == states.MATCHED and caseload(world.paid) == 1
        # Capacity: two places, both taken -> refused with the numbers.
        advance(world, make_referral(world, "Second"), states.MATCHED)
        third = advance(world, make_referral(world, "Third"), states.AWAITING_MATCH)
        with pytest.raises(AssignmentRefused, match=r"no capacity left \(2 of 2"):
            services.assign(third, world.paid, by=world.lead)
        assert Referral.get_by_id(third.id).state == states.AWAITING_MATCH


@pytest.mark.parametrize(("risk", "wanted", "words"), [
    ("medium", ("1:1 recovery conversations",), "volunteers may not take medium-risk"),
    ("low", ("WRAP co-writing",), "volunteers may not deliver WRAP co-writing"),
    ("high", ("1:1 recovery conversations",), "is not suited to high risk"),
])
def test_volunteers_only_for_allowed_interventions_and_risk(world, risk, wanted, words):
    referral = advance(world, make_referral(world, "Risky", risk=risk, wanted=wanted), states.AWAITING_MATCH)
    with inside():
        with pytest.raises(AssignmentRefused, match=words):
            services.assign(referral, world.volunteer, by=world.lead)


def test_declared_conflict_blocks_the_pair(world):
    referral = advance(world, world.referral, states.AWAITING_MATCH)
    with inside():
        DeclaredConflict.create(service_user=referral.service_user_id, peer_role=world.paid, declared_by_side="peer",
                                recorded_by=world.lead)
        with pytest.raises(AssignmentRefused, match="declared conflict"):
            services.assign(referral, world.paid, by=world.lead)


def test_not_a_good_fit_ends_the_assignment_and_is_remembered(world):
    referral = advance(world, world.referral, states.FIRST_MEETING)
    with inside():
        services.record_first_meeting(referral, False, "They knew each other", by=world.lead)
        assert referral.state == states.AWAITING_MATCH
        ended = referral.assignments.get()
        assert ended.ended_reason == "not a good fit" and ended.ended_at is not None
        assert [r.id for r in referral.not_a_good_fit_peers()] == [world.paid.id]
        assert (referral.service_user_id, world.paid.id) in not_a_good_fit_pairs()
        assert caseload(world.paid) == 0
        with pytest.raises(AssignmentRefused, match="ended as not a good fit"):
            services.assign(referral, world.paid, by=world.lead)
        services.assign(referral, world.volunteer, by=world.lead)
        assert referral.peer_role.id == world.volunteer.id


def test_contacts_need_a_date_within_the_referral(world):
    referral = advance(world, world.referral, states.ACTIVE)
    with inside():
        with pytest.raises(ReferralError, match="before the referral date"):
            services.record_contact(referral, by=world.paid.user, contact_on=referral.referred_on - dt.timedelta(days=1),
                                    attendance="attended")
        with pytest.raises(ReferralError, match="future"):
            services.record_contact(referral, by=world.paid.user, contact_on=TODAY + dt.timedelta(days=1),
                                    attendance="attended")
        contact = services.record_contact(referral, by=world.paid.user, contact_on=TODAY, attendance="attended",
                                          summary="ok")
        assert contact.peer_role_id == world.paid.id
        services.close(referral, "goals met", "Done", by=world.lead)
        assert referral.state == states.CLOSED and referral.current_assignment() is None
        assert caseload(world.paid) == 0


def test_a_contact_from_a_page_opened_before_the_referral_closed_is_refused(world):
    """The peer's page (and the referral it read) still says active; the lead has just
    closed it. The state is read inside the transaction, so no contact is stored."""
    referral = advance(world, world.referral, states.ACTIVE)
    with inside():
        seen_by_peer = Referral.get_by_id(referral.id)
        services.close(Referral.get_by_id(referral.id), "goals met", "Done", by=world.lead)
        with pytest.raises(ReferralError, match="this referral is closed"):
            services.record_contact(seen_by_peer, by=world.paid.user, contact_on=TODAY, attendance="attended",
                                    summary="Typed after it closed")
        assert Contact.select().where(Contact.referral == referral.id).count() == 0


def test_workforce_sees_our_caseload(world):
    advance(world, world.referral, states.ACTIVE)
    with inside():
        assert world.paid.active_caseload() == 1


# --- pages: access ------------------------------------------------------------------

def referral_urls(referral_id, su_id):
    return [f"/referrals/{referral_id}", f"/referrals/{referral_id}/screen", f"/referrals/{referral_id}/answer",
            f"/referrals/{referral_id}/assign", f"/referrals/{referral_id}/first-meeting/arrange",
            f"/referrals/{referral_id}/first-meeting/outcome",
            f"/referrals/{referral_id}/contacts/new", f"/referrals/{referral_id}/close",
            f"/referrals/service-users/{su_id}", f"/referrals/service-users/{su_id}/edit",
            f"/referrals/service-users/{su_id}/refer", f"/referrals/service-users/{su_id}/conflicts"]


def test_volunteer_is_refused_every_notes_url_even_for_their_own_referral(world, login):
    referral = advance(world, world.referral, states.ACTIVE, peer=world.volunteer)
    client = login(world.volunteer_user)
    for url in referral_urls(referral.id, referral.service_user_id):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert PLANTED not in response.get_data(as_text=True)
        response = client.post(url, data={"summary": "x", "contact_on": "2026-05-01", "attendance": "attended"})
        assert response.status_code in (403, 404, 405), url
    # The caseload card: first name, how to contact, agreed intervention, the risk level and the
    # peer lead's safety note; no notes, and not the clinician's risk summary (a record).
    with inside():
        services.record_contact(referral, by=world.lead, contact_on=TODAY, attendance="attended",
                                summary="CONTACT-NOTE-SECRET", debrief_on=TODAY)
    page = client.get("/referrals/caseload").get_data(as_text=True)
    assert "Zebedee" in page and "Text first please" in page and "1:1 recovery conversations" in page
    assert "RISK-SUMMARY" not in page and "Staying safe" in page
    assert "OWN-WORDS-SECRET" not in page and "CONTACT-NOTE-SECRET" not in page and "Quintrell" not in page
    assert f"/referrals/{referral.id}\"" not in page


def test_viewer_sees_no_planted_service_user_anywhere(world, client_for, app):
    advance(world, world.referral, states.ACTIVE)
    client = client_for("viewer")
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(r"<(?:[^:<>]+:)?" + name + r">", str(world.referral.id) if "id" in name else "x", url)
        response = client.get(url)
        assert PLANTED not in response.get_data(as_text=True), url
        if rule.endpoint.startswith("referrals."):
            assert response.status_code == 403, url


def test_admin_manages_the_catalogue_but_sees_no_records(world, client_for):
    admin = client_for("admin")
    assert admin.get(f"/referrals/{world.referral.id}").status_code == 403
    assert admin.get(f"/referrals/service-users/{world.referral.service_user_id}").status_code == 403
    assert "1:1 recovery conversations" in admin.get("/referrals/interventions").get_data(as_text=True)
    response = admin.post("/referrals/interventions/new", data={
        "name": "Allotment group", "duties": "Gardening together", "delivery": "group", "settings": ["community"],
        "typical_sessions": "8", "session_minutes": "90", "frequency": "weekly", "volunteers_allowed": "y",
        "risk_levels": ["low"]})
    assert response.status_code == 302
    with inside():
        from peerapp.referrals.models import Intervention
        item = Intervention.get(Intervention.name == "Allotment group")
        assert item.settings == ["community"] and item.volunteers_allowed and item.delivery == "group"


def test_clinician_sees_only_their_referrals(world, login):
    own = login(world.clinician)
    assert PLANTED in own.get(f"/referrals/{world.referral.id}").get_data(as_text=True)
    assert PLANTED in own.get("/referrals/mine").get_data(as_text=True)
    other = login(world.other_clinician)
    for url in referral_urls(world.referral.id, world.referral.service_user_id):
        response = other.get(url)
        assert response.status_code in (403, 404), url
    assert PLANTED not in other.get("/referrals/mine").get_data(as_text=True)
    found = other.post("/referrals/service-users", data={"q": "Zebedee"}).get_data(as_text=True)
    assert PLANTED not in found


def test_peer_lead_of_another_team_gets_404(world, make_user, login):
    with inside():
        elsewhere = Team.create(name="Elsewhere")
    lead = make_user("peer_lead", team_=elsewhere)
    client = login(lead)
    assert client.get(f"/referrals/{world.referral.id}").status_code == 404
    assert client.get(f"/referrals/{world.referral.id}/screen").status_code == 404
    assert PLANTED not in client.get("/referrals/screening").get_data(as_text=True)


def test_paid_peer_sees_only_assigned_referrals_and_records_contacts(world, login):
    other = make_referral(world, "Not Theirs")
    referral = advance(world, world.referral, states.ACTIVE)
    client = login(world.paid.user)
    assert client.get(f"/referrals/{other.id}").status_code == 404
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "OWN-WORDS-SECRET" in page
    response = client.post(f"/referrals/{referral.id}/contacts/new", data={
        "contact_on": "2026-04-30", "minutes": "45", "intervention": str(world.items["1:1 recovery conversations"].id),
        "setting": "community", "attendance": "attended", "summary": "Walked and talked"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with inside():
        contact = Contact.get()
        assert contact.peer_role_id == world.paid.id and contact.recorded_by_id == world.paid.user_id
        assert contact.debrief_on is None


def test_every_view_is_audited_once(world, login):
    client = login(world.lead)
    with inside():
        before = AuditEvent.select().count()
    client.get(f"/referrals/{world.referral.id}")
    with inside():
        rows = list(AuditEvent.select().order_by(AuditEvent.id.desc()).limit(AuditEvent.select().count() - before))
    assert [(r.action, r.record_type, r.record_id) for r in rows] == [("view", "referral", str(world.referral.id))]
    assert PLANTED not in rows[0].summary
    client.get(f"/referrals/service-users/{world.referral.service_user_id}")
    with inside():
        last = AuditEvent.select().order_by(AuditEvent.id.desc()).get()
    assert (last.action, last.record_type) == ("view", "service_user")


# --- pages: the journey and bad input ----------------------------------------------------

def referral_form(world, **changes):
    data = {"name": "Nadia Brook", "preferred_name": "Nad", "nhs_number": "943 476 5919",
            "date_of_birth": "2000-02-03", "gender": "woman", "pronouns": "she/her",
            "contact_preference": "Text", "team": str(world.team.id), "care_coordinator": str(world.clinician.id),
            "languages": "English, Urdu", "interests": "art, walking", "availability": ["mon-am", "wed-pm"],
            "area": "Northfield", "pref_gender": "woman", "pref_gender_strength": "must",
            "pref_age_band": "", "pref_age_band_strength": "would like", "pref_background": "",
            "pref_background_strength": "would like", "pref_language": "Urdu",
            "pref_language_strength": "would like", "consent_referral": "y", "consent_sharing": "y",
            "consent_on": "2026-04-28", "own_words": "I'd like to talk to someone who has been there.",
            "goals": "Go to the art class", "interventions": [str(world.items["1:1 recovery conversations"].id)],
            "risk_summary": "No current concerns", "risk_level": "low", "last_risk_review_on": "2026-04-20",
            "consent_override_reason": ""}
    data.update(changes)
    return data


def test_clinician_refers_a_new_service_user(world, login):
    client = login(world.clinician)
    response = client.post("/referrals/new", data=referral_form(world))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert "Nadia" not in response.headers["Location"] and "9434765919" not in response.headers["Location"]
    with inside():
        su = ServiceUser.get(ServiceUser.name == "Nadia Brook")
        assert su.nhs_number == "9434765919" and su.languages == ["English", "Urdu"]
        assert su.availability == ["mon-am", "wed-pm"] and su.consent_recorded_by_id == world.clinician.id
        assert [(p.kind, p.value, p.must) for p in su.preferences] == [("gender", "woman", True),
                                                                      ("language", "Urdu", False)]
        referral = su.referrals.get()
        assert referral.state == states.SUBMITTED and referral.referrer_id == world.clinician.id
        assert referral.referred_on == TODAY
        assert AuditEvent.select().where(AuditEvent.action == "create", AuditEvent.record_type == "referral").exists()
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Recorded on 28 Apr 2026 by {world.clinician.name}" in shown  # consent: when and who


@pytest.mark.parametrize(("changes", "message"), [
    ({"nhs_number": "9434765918"}, "check digit is wrong"),
    ({"nhs_number": "94347659"}, "has 10 digits"),
    ({"date_of_birth": "2030-01-01"}, "This date cannot be in the future"),
    ({"consent_referral": "", "consent_override_reason": ""}, "give a reason to refer without them"),
    ({"interventions": []}, "Choose at least one intervention"),
    ({"risk_level": "extreme"}, "Not a valid choice"),
    ({"own_words": "x" * 6000}, "Field cannot be longer"),
    ({"name": "Bad\x00Name"}, "control characters"),
])
def test_bad_referral_input_gets_a_clear_message_and_keeps_what_was_typed(world, login, changes, message):
    client = login(world.clinician)
    response = client.post("/referrals/new", data=referral_form(world, **changes))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert "Go to the art class" in body
    with inside():
        assert not ServiceUser.select().where(ServiceUser.name == "Nadia Brook").exists()


def test_duplicate_nhs_number_is_refused_kindly(world, login):
    client = login(world.clinician)
    assert client.post("/referrals/new", data=referral_form(world)).status_code == 302
    response = client.post("/referrals/new", data=referral_form(world, name="Someone Else"))
    assert response.status_code == 422 and "search for them and refer them" in response.get_data(as_text=True)
    # A clinician who may not see that record cannot find it by searching: they are told who can help,
    # and nothing about the person is shown.
    other = login(world.other_clinician)
    response = other.post("/referrals/new", data=referral_form(world, name="Someone Else",
                                                               care_coordinator=str(world.other_clinician.id)))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "ask the peer leads of their team" in body
    assert "Nadia" not in body


def test_consent_override_with_a_reason_is_recorded(world, login):
    client = login(world.clinician)
    response = client.post("/referrals/new", data=referral_form(
        world, consent_referral="", consent_sharing="", consent_on="",
        consent_override_reason="Will be sought at the first contact; interpreter needed"))
    assert response.status_code == 302
    with inside():
        referral = ServiceUser.get(ServiceUser.name == "Nadia Brook").referrals.get()
        assert referral.consent_override_reason.startswith("Will be sought")


def test_lead_screens_assigns_meets_and_enters_a_debrief_contact(world, login):
    lead = login(world.lead)
    rid = world.referral.id
    assert PLANTED in lead.get("/referrals/screening").get_data(as_text=True)
    decision = {"decision": "accepted", "reasons": "Good fit", "risk_level": "low", "risk_considerations": "None",
                "interventions": [str(world.items["Phone check-ins"].id)], "volunteer_allowed": "y"}
    refused = lead.post(f"/referrals/{rid}/screen", data=decision)
    assert refused.status_code == 422 and "Write a safety note for the volunteer who takes it" in refused.get_data(
        as_text=True)
    response = lead.post(f"/referrals/{rid}/screen", data={
        **decision, "safety_note": "SAFETY-NOTE: meet in public places; end the call if they mention a knife."})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = lead.get(f"/referrals/{rid}/assign").get_data(as_text=True)
    assert world.volunteer.display_name in page and world.paid.display_name in page
    response = lead.post(f"/referrals/{rid}/assign", data={"peer_role": str(world.volunteer.id)})
    assert response.status_code == 302
    assert lead.post(f"/referrals/{rid}/first-meeting/arrange", data={
        "meeting_on": "2026-05-01", "place": "Team base", "attendees": "Zeb, Val, lead"}).status_code == 302
    assert lead.post(f"/referrals/{rid}/first-meeting/outcome", data={
        "outcome": "go ahead", "attendees": "Zeb, Val, lead", "reason": "Got on well"}).status_code == 302
    assert world.volunteer.display_name in lead.get("/referrals/debrief").get_data(as_text=True)
    # The volunteer's card: the risk level and the lead's note for them, not the clinician's summary.
    card = login(world.volunteer_user).get("/referrals/caseload").get_data(as_text=True)
    assert "SAFETY-NOTE: meet in public places" in card
    with inside():
        assert Referral.get_by_id(rid).risk_summary not in card
    response = lead.post(f"/referrals/{rid}/contacts/new", data={
        "contact_on": "2026-04-30", "debrief_on": "2026-05-01", "minutes": "20",
        "intervention": str(world.items["Phone check-ins"].id), "setting": "phone", "attendance": "attended",
        "summary": "A good chat"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = lead.get(f"/referrals/{rid}").get_data(as_text=True)
    assert (f"Reported by {world.volunteer.display_name} at debrief on 1 May 2026, entered by {world.lead.name}"
            in page)
    with inside():
        referral = Referral.get_by_id(rid)
        assert referral.state == states.ACTIVE
        assert [e.to_state for e in ReferralEvent.select().where(ReferralEvent.referral == rid)] == [
            "screening", "accepted", "awaiting match", "matched", "first meeting", "active"]


def test_refused_moves_get_a_message_not_a_500(world, login):
    lead = login(world.lead)
    referral = advance(world, world.referral, states.ACTIVE)
    # Screening an active referral (a stale page): refused, nothing changes.
    response = lead.post(f"/referrals/{referral.id}/screen", data={
        "decision": "declined", "reasons": "stale", "risk_level": "low"})
    assert response.status_code == 200 and "cannot be screened now" in response.get_data(as_text=True)
    # Assigning while active: refused.
    response = lead.post(f"/referrals/{referral.id}/assign", data={"peer_role": str(world.volunteer.id)})
    assert response.status_code in (200, 422) and "cannot be assigned" in response.get_data(as_text=True)
    # A contact before the referral date.
    response = lead.post(f"/referrals/{referral.id}/contacts/new", data={
        "contact_on": "2026-01-01", "intervention": str(world.items["1:1 recovery conversations"].id),
        "setting": "phone", "attendance": "attended", "summary": "KEEP-EARLY-SUMMARY"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#contact_on">The contact date is before the referral date (21 Apr 2026)' in body
    assert "KEEP-EARLY-SUMMARY" in body
    # A fuzzed duration.
    response = lead.post(f"/referrals/{referral.id}/contacts/new", data={
        "contact_on": "2026-04-30", "minutes": str(2 ** 63), "setting": "phone", "attendance": "attended",
        "intervention": str(world.items["1:1 recovery conversations"].id)})
    assert response.status_code == 422
    with inside():
        assert Referral.get_by_id(referral.id).state == states.ACTIVE
        assert Contact.select().count() == 0


def test_a_first_meeting_before_the_referral_date_is_refused(world, login):
    referral = advance(world, world.referral, states.MATCHED)
    lead = login(world.lead)
    response = lead.post(f"/referrals/{referral.id}/first-meeting/arrange", data={
        "meeting_on": "2026-04-20", "place": "Team base", "attendees": "KEEP-THESE-ATTENDEES"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "cannot be before the referral date (21 Apr 2026)" in body and "KEEP-THESE-ATTENDEES" in body
    with inside():
        assert Referral.get_by_id(referral.id).state == states.MATCHED
        with pytest.raises(ReferralError, match="before the referral date"):
            services.arrange_first_meeting(Referral.get_by_id(referral.id), by=world.lead,
                                           meeting_on=dt.date(2026, 4, 1), place="x", attendees="y")
        assert Referral.get_by_id(referral.id).state == states.MATCHED


def test_assigning_a_peer_who_is_not_offered_is_refused(world, login):
    referral = advance(world, world.referral, states.AWAITING_MATCH, volunteer_allowed=False)
    lead = login(world.lead)
    page = lead.get(f"/referrals/{referral.id}/assign").get_data(as_text=True)
    assert "screening decided a volunteer may not take this referral" in page
    response = lead.post(f"/referrals/{referral.id}/assign", data={"peer_role": str(world.volunteer.id)})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f"{world.volunteer.display_name} cannot be assigned: screening decided a volunteer may not" in body
    assert "Not a valid choice" not in body
    with inside():
        assert Referral.get_by_id(referral.id).state == states.AWAITING_MATCH


def test_a_peer_who_filled_up_since_the_page_was_shown_is_refused_with_the_reason(world, login):
    referral = advance(world, world.referral, states.AWAITING_MATCH)
    lead = login(world.lead)
    assert world.paid.display_name in lead.get(f"/referrals/{referral.id}/assign").get_data(as_text=True)
    # Meanwhile a colleague fills the paid peer's two places.
    advance(world, make_referral(world, "Second"), states.MATCHED)
    advance(world, make_referral(world, "Third"), states.MATCHED)
    response = lead.post(f"/referrals/{referral.id}/assign", data={"peer_role": str(world.paid.id)})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"{world.paid.display_name} cannot be assigned: no capacity left (2 of 2" in body
    with inside():
        assert Referral.get_by_id(referral.id).state == states.AWAITING_MATCH
        assert referral.current_assignment() is None


def test_clinician_answers_questions(world, login):
    with inside():
        services.screen(Referral.get_by_id(world.referral.id), states.MORE_INFO, by=world.lead,
                            questions="Any pets?")
    client = login(world.clinician)
    assert "Any pets?" in client.get(f"/referrals/{world.referral.id}/answer").get_data(as_text=True)
    assert client.post(f"/referrals/{world.referral.id}/answer", data={"answer": "A cat"}).status_code == 302
    with inside():
        assert Referral.get_by_id(world.referral.id).state == states.SCREENING


def test_the_screening_page_shows_the_whole_conversation_with_the_referrer(world, login):
    """The lead decides where they read: every question asked, each answer, and who said it."""
    with inside():
        referral = Referral.get_by_id(world.referral.id)
        services.screen(referral, states.MORE_INFO, by=world.lead, questions="Any pets at home?")
        services.answer_questions(referral, "A cat, friendly.", by=world.clinician)
        services.screen(referral, states.MORE_INFO, by=world.lead, questions="Who else lives there?")
        services.answer_questions(referral, "Their brother.", by=world.clinician)
    page = login(world.lead).get(f"/referrals/{world.referral.id}/screen").get_data(as_text=True)
    conversation = page[page.index('id="questions"'):page.index('id="screening-form"')]
    said = ["Any pets at home?", "A cat, friendly.", "Who else lives there?", "Their brother."]
    assert [conversation.index(text) for text in said] == sorted(conversation.index(text) for text in said)
    assert f"{world.lead.name} asked on" in conversation and f"{world.clinician.name} answered on" in conversation


def test_search_is_a_post_and_finds_by_nhs_number(world, login):
    with inside():
        ServiceUser.update(nhs_number="9434765919").where(ServiceUser.id == world.referral.service_user_id).execute()
    client = login(world.lead)
    page = client.get("/referrals/service-users").get_data(as_text=True)
    assert 'method="post"' in page
    found = client.post("/referrals/service-users", data={"q": "943 476 5919"}).get_data(as_text=True)
    assert PLANTED in found
    fragment = client.htmx("post", "/referrals/service-users", data={"q": "Zebedee"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="search-results"') and PLANTED in fragment


def test_lists_answer_htmx_with_a_fragment(world, login):
    client = login(world.clinician)
    full = client.get("/referrals/mine")
    assert "<html" in full.get_data(as_text=True) and "HX-Request" in full.headers.get("Vary", "")
    fragment = client.get("/referrals/mine?state=submitted", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="referral-list"') and PLANTED in fragment
    none = client.get("/referrals/mine?state=closed", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert PLANTED not in none


def test_home_panels_per_role(world, login):
    advance(world, world.referral, states.ACTIVE, peer=world.volunteer)
    assert "panel-my-referrals" in login(world.clinician).get("/").get_data(as_text=True)
    lead_home = login(world.lead).get("/").get_data(as_text=True)
    assert "panel-referrals-lead" in lead_home and "Screening queue" in lead_home
    volunteer_home = login(world.volunteer_user).get("/").get_data(as_text=True)
    assert "You support 1 person" in volunteer_home


def test_demo_data_has_every_state(app):
    _APP["app"] = app
    from peerapp.demo import load_demo
    with inside():
        load_demo()
        found = {r.state for r in Referral.select()}
        assert set(states.STATES) - found <= {states.ACCEPTED}  # accepted moves straight on
        waiting = list(Referral.awaiting_match())
        assert len(waiting) >= 5
        languages = {lang for r in waiting for lang in r.service_user.languages}
        assert {"Urdu", "Polish"} <= languages
        assert any(p.must for r in waiting for p in r.service_user.preferences)
        assert any(r.risk_level == "high" for r in waiting)
        assert DeclaredConflict.select().exists()
        assert Contact.select().where(Contact.debrief_on.is_null(False)).exists()


# --- role by record, double taps, fuzzing, the migration ----------------------------------

# What each role gets on the planted referral's own pages (it is active with the paid peer).
EXPECTED = {
    "admin": 403, "viewer": 403, "facilitator": 403,
    "clinician": 200,        # the referrer and care co-ordinator
    "peer_lead": 200, "manager": 200,
    "peer": 200,             # the paid peer it is assigned to
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_role_by_record(world, client_for, role):
    referral = advance(world, world.referral, states.ACTIVE)
    response = client_for(role).get(f"/referrals/{referral.id}")
    assert response.status_code == EXPECTED[role]
    assert (PLANTED in response.get_data(as_text=True)) == (EXPECTED[role] == 200)
    listing = {"clinician": "/referrals/mine", "peer_lead": "/referrals/", "manager": "/referrals/",
               "peer": "/referrals/caseload"}.get(role)
    if listing:
        assert "Zebedee" in client_for(role).get(listing).get_data(as_text=True)


def test_double_taps_make_one_row(world, login):
    client = login(world.clinician)
    data = referral_form(world, nhs_number="")
    assert client.post("/referrals/new", data=data).status_code == 302
    assert client.post("/referrals/new", data=data).status_code == 302
    referral = advance(world, world.referral, states.ACTIVE)
    paid = login(world.paid.user)
    contact = {"contact_on": "2026-04-30", "minutes": "45", "setting": "community", "attendance": "attended",
               "intervention": str(world.items["1:1 recovery conversations"].id), "summary": "Walked"}
    assert paid.post(f"/referrals/{referral.id}/contacts/new", data=contact).status_code == 302
    assert paid.post(f"/referrals/{referral.id}/contacts/new", data=contact).status_code == 302
    lead = login(world.lead)
    matched = advance(world, make_referral(world, "Tapped Twice"), states.MATCHED)
    arrange = {"meeting_on": "2026-05-01", "place": "Team base", "attendees": "all"}
    assert lead.post(f"/referrals/{matched.id}/first-meeting/arrange", data=arrange).status_code == 302
    response = lead.post(f"/referrals/{matched.id}/first-meeting/arrange", data=arrange)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/referrals/{matched.id}")
    with inside():
        assert Referral.get_by_id(matched.id).first_meetings().count() == 1
    # Referring again needs the earlier referral closed: one open referral per person per team.
    with inside():
        services.close(Referral.get_by_id(referral.id), states.CLOSING_OUTCOMES[0], "Goals met", by=world.lead)
    again = {"own_words": "Again please", "goals": "g", "risk_summary": "r", "risk_level": "low",
             "last_risk_review_on": "2026-04-30", "interventions": [str(world.items["Phone check-ins"].id)]}
    url = f"/referrals/service-users/{referral.service_user_id}/refer"
    assert client.post(url, data=again).status_code == 302
    assert client.post(url, data=again).status_code == 302
    with inside():
        assert ServiceUser.select().where(ServiceUser.name == "Nadia Brook").count() == 1
        assert Contact.select().count() == 1
        assert Referral.select().where(Referral.own_words == "Again please").count() == 1


def test_a_contact_that_differs_in_one_field_is_a_second_contact_not_a_double_tap(world, login):
    """The double-tap check keeps a repeat only when every field is the same: the same day
    and summary with another duration, setting or intervention is a second contact."""
    referral = advance(world, world.referral, states.ACTIVE)
    paid = login(world.paid.user)
    contact = {"contact_on": "2026-04-30", "minutes": "45", "setting": "community", "attendance": "attended",
               "intervention": str(world.items["1:1 recovery conversations"].id), "summary": "Walked"}
    url = f"/referrals/{referral.id}/contacts/new"
    assert paid.post(url, data=contact).status_code == 302
    assert paid.post(url, data={**contact, "minutes": "30"}).status_code == 302
    assert paid.post(url, data={**contact, "minutes": "30"}).status_code == 302  # a double tap of that one
    assert paid.post(url, data={**contact, "intervention": str(world.items["Phone check-ins"].id)}).status_code == 302
    assert paid.post(url, data={**contact, "summary": "Walked far"}).status_code == 302
    with inside():
        kept = Contact.select().where(Contact.referral == referral.id).order_by(Contact.id)
        assert [(c.minutes, c.intervention.name, c.summary) for c in kept] == [
            (45, "1:1 recovery conversations", "Walked"), (30, "1:1 recovery conversations", "Walked"),
            (45, "Phone check-ins", "Walked"), (45, "1:1 recovery conversations", "Walked far")]
        assert AuditEvent.select().where(AuditEvent.record_type == "contact").count() == 5  # each POST audited


def test_only_the_latest_contact_a_person_recorded_on_the_referral_is_double_tapped(world, login):
    """A double tap is one form sent twice before anything else is sent: the check reads
    only the person's latest contact on the referral (one seek in m0114's index, however
    many that day), so repeating an earlier contact after another is a new contact, and
    so is the same contact entered by someone else."""
    from peerapp.db import is_sqlite
    from peerapp.referrals.models import _LATEST_RECORDED
    referral = advance(world, world.referral, states.ACTIVE)
    paid, lead = login(world.paid.user), login(world.lead)
    walked = {"contact_on": "2026-04-30", "minutes": "45", "setting": "community", "attendance": "attended",
              "intervention": str(world.items["1:1 recovery conversations"].id), "summary": "Walked"}
    phoned = {**walked, "setting": "phone", "summary": "Phoned"}
    url = f"/referrals/{referral.id}/contacts/new"
    for client, contact in ((paid, walked), (paid, phoned), (paid, phoned), (paid, walked), (lead, walked)):
        assert client.post(url, data=contact).status_code == 302
    with inside():
        kept = Contact.select().where(Contact.referral == referral.id).order_by(Contact.id)
        assert [(c.summary, c.recorded_by_id) for c in kept] == [
            ("Walked", world.paid.user.id), ("Phoned", world.paid.user.id), ("Walked", world.paid.user.id),
            ("Walked", world.lead.id)]
        sql, params = _LATEST_RECORDED.build(world.lead.id, referral.id, dt.datetime(2026, 4, 30)).sql()
        if is_sqlite():
            plan = " ".join(row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
            assert "USING INDEX contact_recorded_by_referral_at" in plan and "TEMP B-TREE" not in plan, plan
        else:
            made = db.execute_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'contact_recorded_by_referral_at'")
            assert "(recorded_by_id, referral_id, recorded_at)" in made.fetchone()[0]


def test_the_contact_form_lists_what_the_referral_asks_for_first(world):
    """Screening's choice (else the referrer's) heads the contact form's list, then the rest
    of the current catalogue; a retired intervention only when this referral asked for it."""
    from peerapp.referrals.forms import ContactForm
    from peerapp.referrals.models import Intervention

    def old_way(referral):  # what the form listed before it asked in one query
        requested = referral.requested_interventions()
        return [(i.id, i.name) for i in requested] + [
            (i.id, i.name) for i in Intervention.current() if i.id not in {r.id for r in requested}]

    items = world.items
    with inside():
        referral = Referral.get_by_id(world.referral.id)
        services.set_interventions(referral, [items["Phone check-ins"], items["Drop-in café"]])
        referral = Referral.get_by_id(referral.id)
        assert referral.intervention_choices() == old_way(referral)
        assert [n for _, n in referral.intervention_choices()][:2] == ["Drop-in café", "Phone check-ins"]
        assert sum(n == "Drop-in café" for _, n in referral.intervention_choices()) == 1
        services.set_interventions(referral, [items["WRAP co-writing"]], at_screening=True)
        referral = Referral.get_by_id(referral.id)
        choices = referral.intervention_choices()
        assert choices == old_way(referral)
        assert choices[0][1] == "WRAP co-writing" and "Drop-in café" not in [n for _, n in choices]
        other = Referral.get_by_id(make_referral(world, "Other Person", wanted=()).id)
        assert other.intervention_choices() == old_way(other)
        assert "Drop-in café" not in [n for _, n in other.intervention_choices()]
        with _APP["app"].test_request_context():
            form = ContactForm(referral=referral, meta={"csrf": False})
        assert form.intervention.choices == [(0, "Choose"), *choices]


def test_the_contact_post_sends_few_statements(world, login):
    """The contact POST is the commonest write: the session, the referral, its open
    assignment with the peer, the form's interventions, then in the transaction the
    state (held), the double-tap check, the contact and its audit row. No more."""
    from peerapp.db import counting_queries
    referral = advance(world, world.referral, states.ACTIVE)
    paid = login(world.paid.user)
    contact = {"contact_on": "2026-04-30", "minutes": "45", "setting": "community", "attendance": "attended",
               "intervention": str(world.items["1:1 recovery conversations"].id), "summary": "Walked",
               "csrf_token": paid.csrf_token()}  # (the first asks a page for it)
    with counting_queries() as counted:
        assert paid.post(f"/referrals/{referral.id}/contacts/new", data=contact).status_code == 302
    sent = [sql.split()[0] for sql in counted.sql if not sql.startswith("PRAGMA")]  # a new connection's
    # A paid peer's role is read once more than a lead's (whose POST sends 8).
    assert sent == ["SELECT"] * 7 + ["INSERT"] * 2, "\n".join(s[:150] for s in counted.sql)


def test_queue_cards_and_list_rows_show_everything_they_read(world, login):
    """The queues and lists read only the columns their rows show: each row still shows
    all of it (name, referrer, dates, state, risk, languages, who may take it, team)."""
    waiting = advance(world, make_referral(world, "Wanda Waiting"), states.AWAITING_MATCH, volunteer_allowed=True)
    lead = login(world.lead)
    card = lead.get("/referrals/screening").get_data(as_text=True)
    assert f"{world.referral.label}: {PLANTED}" in card
    assert f"Referred 21 Apr 2026 by {world.clinician.name}" in card
    assert "Low risk" in card and ">Submitted<" in card and f"Screen {world.referral.label}" in card
    card = lead.get("/referrals/awaiting-match").get_data(as_text=True)
    assert f"{waiting.label}: Wanda Waiting" in card and "Waiting since 1 May 2026." in card
    assert "Speaks English, Polish." in card and "A volunteer may take it." in card
    assert f"Assign a peer to {waiting.label}" in card
    listing = lead.get("/referrals/").get_data(as_text=True)
    row = listing[listing.index(f'data-referral-id="{waiting.id}"'):]
    row = row[:row.index("</tr>")]
    assert all(text in row for text in (waiting.label, "Wanda Waiting", "21 Apr 2026", ">Awaiting match<",
                                         "Low risk", world.team.name)), row


def test_mass_assignment_is_ignored(world, login):
    referral = advance(world, world.referral, states.ACTIVE)
    paid = login(world.paid.user)
    response = paid.post(f"/referrals/{referral.id}/contacts/new", data={
        "contact_on": "2026-04-30", "setting": "phone", "attendance": "attended", "summary": "x",
        "intervention": str(world.items["Phone check-ins"].id), "recorded_by": str(world.lead.id),
        "peer_role": str(world.volunteer.id), "debrief_on": "2026-04-30", "referral": "999"})
    assert response.status_code == 302
    with inside():
        contact = Contact.get()
        assert (contact.recorded_by_id, contact.peer_role_id, contact.debrief_on, contact.referral_id) == (
            world.paid.user_id, world.paid.id, None, referral.id)


def test_fuzzed_forms_never_give_a_500(world, login):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    referral = advance(world, world.referral, states.ACTIVE)
    lead = login(world.lead)
    nasty = st.one_of(st.text(max_size=300), st.just("9" * 40), st.just(str(2 ** 63)), st.just("NaN"),
                      st.just("\u202e\u0000"), st.just("x" * 10_000), st.just("-1"), st.just("2026-02-30"))

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({k: nasty for k in ("contact_on", "minutes", "intervention", "setting",
                                                     "attendance", "cancelled_by", "summary", "debrief_on")}))
    def contact(data):
        assert lead.post(f"/referrals/{referral.id}/contacts/new", data=data).status_code < 500

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({k: nasty for k in ("name", "nhs_number", "date_of_birth", "team",
                                                     "care_coordinator", "risk_level", "interventions",
                                                     "own_words", "consent_on", "availability")}))
    def new_referral(data):
        assert lead.post("/referrals/new", data=data).status_code < 500

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({k: nasty for k in ("decision", "reasons", "questions", "risk_level",
                                                     "interventions", "volunteer_allowed")}))
    def screen(data):
        fresh = make_referral(world, "Fuzz Target")
        assert lead.post(f"/referrals/{fresh.id}/screen", data=data).status_code < 500

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({k: nasty for k in ("name", "duties", "delivery", "settings", "typical_sessions",
                                                     "session_minutes", "risk_levels", "retired")}))
    def intervention(data):
        assert lead.post("/referrals/interventions/new", data=data).status_code < 500
        assert lead.post(f"/referrals/interventions/{world.items['Phone check-ins'].id}", data=data).status_code < 500

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({k: nasty for k in ("name", "languages", "availability", "pref_gender_strength",
                                                     "consent_on", "version", "team")}))
    def edit(data):
        url = f"/referrals/service-users/{referral.service_user_id}/edit"
        assert lead.post(url, data=data).status_code < 500

    waiting = advance(world, make_referral(world, "Fuzz Waiting"), states.AWAITING_MATCH)
    meeting = advance(world, make_referral(world, "Fuzz Meeting"), states.FIRST_MEETING, peer=world.volunteer)
    small = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))

    @small
    @given(st.fixed_dictionaries({k: nasty for k in ("peer_role", "outcome", "summary", "reason", "meeting_on",
                                                     "place", "attendees", "answer", "declared_by_side", "note",
                                                     "own_words", "goals", "interventions", "risk_level",
                                                     "last_risk_review_on", "q", "state", "team")}))
    def other_forms(data):
        for url in (f"/referrals/{waiting.id}/assign", f"/referrals/{meeting.id}/first-meeting/arrange",
                    f"/referrals/{meeting.id}/first-meeting/outcome",
                    f"/referrals/{waiting.id}/close", f"/referrals/{waiting.id}/end-assignment",
                    f"/referrals/{waiting.id}/answer",
                    f"/referrals/service-users/{waiting.service_user_id}/conflicts",
                    f"/referrals/service-users/{waiting.service_user_id}/refer", "/referrals/service-users"):
            assert lead.post(url, data=data).status_code < 500, url
        assert lead.get("/referrals/", query_string={"state": data["state"], "team": data["team"]}).status_code < 500

    contact()
    new_referral()
    screen()
    intervention()
    edit()
    other_forms()


@pytest.mark.sqlite_only(reason="upgrades a database built with raw SQL in SQLite's dialect; on PostgreSQL every migration runs from empty for the template")
def test_migration_upgrades_a_database_made_by_the_previous_schema(tmp_path):
    import peewee as pw

    from peerapp import migrations
    database = pw.SqliteDatabase(str(tmp_path / "old.sqlite3"), pragmas={"foreign_keys": 1})
    before = migrations.upgrade(database, target="m0039")
    assert "m0040_referrals" not in before
    database.execute_sql("INSERT INTO team (name, base_address, active, created_at) "
                         "VALUES ('Kept Team', '', 1, '2026-01-01 00:00:00')")
    ran = migrations.upgrade(database)
    assert "m0040_referrals" in ran
    assert database.execute_sql("SELECT name FROM team").fetchall() == [("Kept Team",)]
    tables = {t for (t,) in database.execute_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"service_user", "referral", "referral_event", "intervention", "assignment", "contact",
            "declared_conflict", "peer_preference", "first_meeting"} <= tables
    database.execute_sql("PRAGMA foreign_keys = 0")  # only the CHECK is under test here
    columns = ("service_user_id, team_id, referrer_id, referred_on, state_changed_at, created_at, risk_level, "
               "own_words, goals, risk_summary, consent_override_reason, volunteer_allowed, screening_reasons, "
               "risk_considerations, decline_reason, outcome, closing_summary, state")
    values = "1, 1, 1, '2026-01-01', '2026-01-01', '2026-01-01', 'low', '', '', '', '', 0, '', '', '', '', ''"
    database.execute_sql(f"INSERT INTO referral ({columns}) VALUES ({values}, 'submitted')")
    with pytest.raises(pw.IntegrityError, match="CHECK"):
        database.execute_sql(f"INSERT INTO referral ({columns}) VALUES ({values}, 'limbo')")


def test_screening_will_not_offer_a_medium_risk_referral_to_volunteers(world, login):
    lead = login(world.lead)
    response = lead.post(f"/referrals/{world.referral.id}/screen", data={
        "decision": "accepted", "reasons": "ok", "risk_level": "medium", "volunteer_allowed": "y",
        "interventions": [str(world.items["WRAP co-writing"].id)]})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "volunteers do not take medium risk referrals" in body and "volunteers do not deliver WRAP co-writing" in body
    with inside():
        assert Referral.get_by_id(world.referral.id).state == states.SUBMITTED


def test_a_stale_edit_of_a_service_user_is_a_conflict_not_an_overwrite(world, login):
    sid = world.referral.service_user_id
    client = login(world.clinician)
    page = client.get(f"/referrals/service-users/{sid}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="([0-9a-f]+)"', page).group(1)
    data = {"name": PLANTED, "team": str(world.team.id), "care_coordinator": str(world.clinician.id),
            "contact_preference": "Call only", "version": version,
            **{f"pref_{k}_strength": "would like" for k in ("gender", "age_band", "background", "language")}}
    with inside():
        ServiceUser.update(contact_preference="Changed by a colleague").where(ServiceUser.id == sid).execute()
    response = client.post(f"/referrals/service-users/{sid}/edit", data=data)
    assert response.status_code == 409 and "Someone else changed these details" in response.get_data(as_text=True)
    assert "Call only" in response.get_data(as_text=True)
    with inside():
        assert ServiceUser.get_by_id(sid).contact_preference == "Changed by a colleague"
    fresh = re.search(r'name="version" type="hidden" value="([0-9a-f]+)"', response.get_data(as_text=True)).group(1)
    assert client.post(f"/referrals/service-users/{sid}/edit", data={**data, "version": fresh}).status_code == 302
    with inside():
        assert ServiceUser.get_by_id(sid).contact_preference == "Call only"


def _new_audit_rows(before: int):
    with inside():
        return list(AuditEvent.select().where(AuditEvent.id > before).order_by(AuditEvent.id))


def _last_audit_id() -> int:
    with inside():
        last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
        return last.id if last else 0


# (who, state the referral is in, url pattern, the record type whose view is audited)
AUDITED_PAGES = [
    ("lead", states.SUBMITTED, "/referrals/{rid}", "referral"),
    ("lead", states.SUBMITTED, "/referrals/{rid}/screen", "referral"),
    ("lead", states.AWAITING_MATCH, "/referrals/{rid}/assign", "referral"),
    ("lead", states.MATCHED, "/referrals/{rid}/first-meeting/arrange", "referral"),
    ("lead", states.FIRST_MEETING, "/referrals/{rid}/first-meeting/outcome", "referral"),
    ("lead", states.ACTIVE, "/referrals/{rid}/contacts/new", "referral"),
    ("lead", states.ACTIVE, "/referrals/{rid}/close", "referral"),
    ("lead", states.MORE_INFO, "/referrals/{rid}/answer", "referral"),
    ("clinician", states.MORE_INFO, "/referrals/{rid}/answer", "referral"),
    ("paid", states.ACTIVE, "/referrals/{rid}", "referral"),
    ("paid", states.ACTIVE, "/referrals/{rid}/contacts/new", "referral"),
    ("lead", states.SUBMITTED, "/referrals/service-users/{sid}", "service_user"),
    ("clinician", states.SUBMITTED, "/referrals/service-users/{sid}/edit", "service_user"),
    ("clinician", states.SUBMITTED, "/referrals/service-users/{sid}/refer", "service_user"),
    ("lead", states.SUBMITTED, "/referrals/service-users/{sid}/conflicts", "service_user"),
]


@pytest.mark.parametrize(("who", "state", "pattern", "record_type"), AUDITED_PAGES,
                         ids=[f"{w}:{s}:{p}" for w, s, p, _ in AUDITED_PAGES])
def test_every_page_showing_a_record_audits_the_view(world, login, who, state, pattern, record_type):
    if state == states.MORE_INFO:
        with inside():
            services.screen(Referral.get_by_id(world.referral.id), states.MORE_INFO, by=world.lead,
                            questions="Any pets?")
        referral = world.referral
    else:
        referral = advance(world, world.referral, state) if state != states.SUBMITTED else world.referral
    with inside():
        assert Referral.get_by_id(referral.id).state == state
    user = {"lead": world.lead, "clinician": world.clinician, "paid": world.paid.user}[who]
    client = login(user)
    before = _last_audit_id()
    url = pattern.format(rid=referral.id, sid=referral.service_user_id)
    response = client.get(url)
    assert response.status_code == 200, url
    views = [(r.action, r.record_type, r.record_id) for r in _new_audit_rows(before)]
    wanted = referral.id if record_type == "referral" else referral.service_user_id
    assert ("view", record_type, str(wanted)) in views, (url, views)
    assert all("Zebedee" not in r.summary and "Quintrell" not in r.summary for r in _new_audit_rows(before))


@pytest.mark.parametrize(("who", "url"), [
    ("lead", "/referrals/"), ("lead", "/referrals/screening"), ("lead", "/referrals/awaiting-match"),
    ("lead", "/referrals/debrief"), ("clinician", "/referrals/mine"), ("clinician", "/referrals/closed"),
    ("volunteer", "/referrals/caseload")])
def test_every_list_of_referrals_is_audited(world, login, who, url):
    make_referral(world, "Queued Person")
    advance(world, make_referral(world, "Waiting Person"), states.AWAITING_MATCH)
    advance(world, world.referral, states.ACTIVE, peer=world.volunteer)
    with inside():
        closed = advance(world, make_referral(world, "Closed Person"), states.AWAITING_MATCH)
        services.close(Referral.get_by_id(closed.id), "moved", "Moved away", by=world.lead)
    user = {"lead": world.lead, "clinician": world.clinician, "volunteer": world.volunteer_user}[who]
    client = login(user)
    before = _last_audit_id()
    assert client.get(url).status_code == 200
    rows = [r for r in _new_audit_rows(before) if r.action == "view_list" and r.record_type == "referral"]
    assert len(rows) == 1, url
    assert re.search(r"R-\d{4}", rows[0].summary), rows[0].summary
    assert "Person" not in rows[0].summary and "Zebedee" not in rows[0].summary


def test_a_clinician_sees_referrals_they_made_or_care_coordinate_and_no_others(world, make_user, login):
    referrer = make_user("clinician", name="Rita Referrer")
    coordinator = make_user("clinician", name="Cora Coordinator")
    stranger = world.other_clinician
    with inside():
        su = ServiceUser.create(name="Yannick Splitcare", team=world.team, care_coordinator=coordinator)
        referral = Referral.create(service_user=su, team=world.team, referrer=referrer, referred_on=TODAY,
                                   own_words="SPLIT-OWN-WORDS", goals="g", risk_summary="r", risk_level="low")
        services.set_interventions(referral, [world.items["1:1 recovery conversations"]])
    for user in (referrer, coordinator):
        client = login(user)
        assert "SPLIT-OWN-WORDS" in client.get(f"/referrals/{referral.id}").get_data(as_text=True), user.name
        assert "Yannick" in client.get("/referrals/mine").get_data(as_text=True), user.name
        assert client.get(f"/referrals/service-users/{su.id}").status_code == 200, user.name
        assert "Yannick" in client.post("/referrals/service-users", data={"q": "Yannick"}).get_data(as_text=True)
    client = login(stranger)
    for url in referral_urls(referral.id, su.id):
        response = client.get(url)
        assert response.status_code in (403, 404), url  # 403: a page clinicians never open
        assert "Yannick" not in response.get_data(as_text=True), url
    assert client.get(f"/referrals/{referral.id}").status_code == 404
    for url in ("/referrals/mine", "/referrals/closed"):
        assert "Yannick" not in client.get(url).get_data(as_text=True), url
    found = client.post("/referrals/service-users", data={"q": "Yannick"}).get_data(as_text=True)
    assert "Splitcare" not in found and "0 found" in found  # the typed query is echoed in the box, nothing else


def test_a_volunteer_opens_only_the_caseload_and_catalogue_of_every_referrals_url(world, login, app):
    """Walks the blueprint, so a notes page added later is covered too."""
    referral = advance(world, world.referral, states.ACTIVE, peer=world.volunteer)
    with inside():
        services.record_contact(referral, by=world.lead, contact_on=TODAY, attendance="attended",
                                summary="CONTACT-NOTE-SECRET", debrief_on=TODAY)
        contact = Contact.get(Contact.referral == referral.id)
    client = login(world.volunteer_user)
    ids = {"referral_id": referral.id, "service_user_id": referral.service_user_id,
           "intervention_id": world.items["Phone check-ins"].id, "contact_id": contact.id}
    opened = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("referrals."):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(r"<(?:[^:<>]+:)?" + name + r">", str(ids[name]), url)
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(url, method=method, data={"summary": "x", "q": "Zebedee"})
            body = response.get_data(as_text=True)
            for secret in ("OWN-WORDS-SECRET", "CONTACT-NOTE-SECRET", "Go out more", "Quintrell"):
                assert secret not in body, (method, url, secret)
            if response.status_code == 200:
                opened.add(rule.endpoint)
            else:
                assert response.status_code in (400, 403, 404, 405), (method, url, response.status_code)
    assert opened == {"referrals.caseload", "referrals.catalogue"}


def test_closed_referrals_filter_by_state_and_team(world, login):
    with inside():
        declined = make_referral(world, "Declined Dora")
        services.screen(Referral.get_by_id(declined.id), states.DECLINED, by=world.lead, reasons="Not now")
        closed = advance(world, make_referral(world, "Closed Clara"), states.AWAITING_MATCH)
        services.close(Referral.get_by_id(closed.id), "moved", "Moved away", by=world.lead)
        other = Team.create(name="Another Team")
    lead = login(world.lead)
    page = lead.get("/referrals/closed").get_data(as_text=True)
    assert "Declined Dora" in page and "Closed Clara" in page and 'id="referral-filter"' in page
    only = lead.get("/referrals/closed", query_string={"state": "declined"}).get_data(as_text=True)
    assert "Declined Dora" in only and "Closed Clara" not in only
    assert '<option value="active">' not in only  # only finished states are offered
    elsewhere = lead.get("/referrals/closed", query_string={"team": str(other.id)}).get_data(as_text=True)
    assert "Declined Dora" not in elsewhere and "Closed Clara" not in elsewhere


def test_a_peer_lead_takes_referrals_for_their_own_team_only(world, login):
    with inside():
        other = Team.create(name="Another Team")
    lead = login(world.lead)
    page = lead.get("/referrals/new").get_data(as_text=True)
    assert "Another Team" not in page
    response = lead.post("/referrals/new", data=referral_form(world, team=str(other.id), care_coordinator="0"))
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)
    assert lead.post("/referrals/new", data=referral_form(world, care_coordinator="0")).status_code == 302
    # Clinicians refer to any team.
    assert "Another Team" in login(world.clinician).get("/referrals/new").get_data(as_text=True)


def _coordinator_options(page: str) -> set[int]:
    select = re.search(r'<select[^>]*name="care_coordinator".*?</select>', page, re.S).group(0)
    return {int(v) for v in re.findall(r'<option[^>]*value="(\d+)"', select)}


def test_the_care_coordinator_is_a_clinician_of_the_team_and_nobody_else_is_accepted(world, make_user, login):
    """The list names the team's clinicians only (the Trust has ~400); a posted id from
    another team is refused with a message and the typed record kept."""
    with inside():
        other = Team.create(name="Another Team")
    colleague = make_user("clinician", name="Cara Colleague")
    elsewhere = make_user("clinician", name="Zed Elsewhere", team_=other)
    make_user("peer_lead", name="Lee Notaclinician")
    client = login(world.clinician)
    offered = _coordinator_options(client.get("/referrals/new").get_data(as_text=True))
    assert offered == {0, world.clinician.id, colleague.id, world.other_clinician.id}
    response = client.post("/referrals/new", data=referral_form(world, care_coordinator=str(elsewhere.id)))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Choose a care co-ordinator from the list" in body
    assert 'value="Nadia Brook"' in body  # the typed record is kept
    with inside():
        assert not ServiceUser.select().where(ServiceUser.name == "Nadia Brook").exists()
    assert client.post("/referrals/new", data=referral_form(world, care_coordinator=str(colleague.id))).status_code == 302
    with inside():
        assert ServiceUser.get(ServiceUser.name == "Nadia Brook").care_coordinator_id == colleague.id
    # A peer lead taking a referral by phone is offered their team's clinicians too.
    assert _coordinator_options(login(world.lead).get("/referrals/new").get_data(as_text=True)) == offered


def test_a_clinician_in_no_team_may_name_themselves_or_nobody_as_care_coordinator(world, make_user, login):
    loner = make_user("clinician", name="Lone Clinician", team_=None)
    client = login(loner)
    assert _coordinator_options(client.get("/referrals/new").get_data(as_text=True)) == {0, loner.id}
    refused = client.post("/referrals/new", data=referral_form(world, care_coordinator=str(world.clinician.id)))
    assert refused.status_code == 422
    assert client.post("/referrals/new", data=referral_form(world, care_coordinator=str(loner.id))).status_code == 302


def test_editing_keeps_a_care_coordinator_from_another_team_and_offers_the_records_team(world, make_user, login):
    with inside():
        other = Team.create(name="Another Team")
    moved = make_user("clinician", name="Moved Clinician", team_=other)
    with inside():
        su = world.referral.service_user
        ServiceUser.update(care_coordinator=moved.id).where(ServiceUser.id == su.id).execute()
    page = login(world.lead).get(f"/referrals/service-users/{su.id}/edit").get_data(as_text=True)
    assert _coordinator_options(page) == {0, world.clinician.id, world.other_clinician.id, moved.id}


# An action posted from a stale page, when the referral is no longer in a state that allows it.
STALE_POSTS = [
    (states.ACTIVE, "screen", {"decision": "declined", "reasons": "late", "risk_level": "low"}),
    (states.ACTIVE, "assign", {"peer_role": "{volunteer}"}),
    (states.SUBMITTED, "first-meeting/arrange", {"meeting_on": "2026-05-01", "place": "x", "attendees": "y"}),
    (states.ACTIVE, "first-meeting/outcome", {"outcome": "not a good fit", "reason": "late"}),
    (states.SUBMITTED, "close", {"outcome": "moved", "summary": "Moved"}),
    (states.ACTIVE, "end-assignment", {"reason": "late"}),
    (states.FIRST_MEETING, "end-assignment", {"reason": "late"}),
    (states.SUBMITTED, "answer", {"answer": "late"}),
    (states.AWAITING_MATCH, "contacts/new", {"contact_on": "2026-04-30", "setting": "phone", "attendance": "attended",
                                             "intervention": "{item}"}),
]


@pytest.mark.parametrize(("state", "action", "data"), STALE_POSTS, ids=[f"{s}:{a}" for s, a, _ in STALE_POSTS])
def test_an_action_from_a_stale_page_is_refused_with_a_message(world, login, state, action, data):
    referral = world.referral if state == states.SUBMITTED else advance(world, world.referral, state)
    lead = login(world.lead)
    data = {k: v.format(volunteer=world.volunteer.id, item=world.items["Phone check-ins"].id)
            for k, v in data.items()}
    response = lead.post(f"/referrals/{referral.id}/{action}", data=data, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code < 500
    assert 'peerapp-flash--error' in body or 'peerapp-flash--info' in body or "nhsuk-error-summary" in body, body[:300]
    with inside():
        assert Referral.get_by_id(referral.id).state == state
        assert ReferralEvent.select().where(ReferralEvent.referral == referral.id).count() == \
            len(list(Referral.get_by_id(referral.id).history()))
        assert Contact.select().count() == 0


def test_a_peer_lead_ends_a_match_before_the_first_meeting(world, login):
    referral = advance(world, world.referral, states.MATCHED)
    lead = login(world.lead)
    assert "End the assignment" in lead.get(f"/referrals/{referral.id}").get_data(as_text=True)
    # No reason: refused, nothing changes.
    lead.post(f"/referrals/{referral.id}/end-assignment", data={"reason": "  "})
    with inside():
        assert Referral.get_by_id(referral.id).state == states.MATCHED
    response = lead.post(f"/referrals/{referral.id}/end-assignment", data={"reason": "Peer off sick for a month"})
    assert response.status_code == 302
    with inside():
        referral = Referral.get_by_id(referral.id)
        assert referral.state == states.AWAITING_MATCH and referral.current_assignment() is None
        ended = referral.assignments.get()
        assert ended.ended_reason == "Peer off sick for a month" and ended.ended_by_id == world.lead.id
        assert caseload(world.paid) == 0 and (referral.service_user_id, world.paid.id) not in not_a_good_fit_pairs()
        last = list(referral.history())[-1]
        assert (last.from_state, last.to_state, last.reason) == ("matched", "awaiting match", "Peer off sick for a month")
    # A clinician cannot end it.
    assert login(world.clinician).post(f"/referrals/{referral.id}/end-assignment",
                                       data={"reason": "x"}).status_code == 403


def test_row_links_are_the_urls_flask_builds(app):
    """Lists build each row's link from a shape made once per endpoint (templating.row_url):
    the same URL url_for gives, for every id, under any mount point; an id that is not a
    whole number is refused, and an endpoint with more than one id is not served by it."""
    from flask import url_for

    from peerapp.templating import row_url
    for root in ("", "/peer"):
        with app.test_request_context(base_url=f"http://localhost{root}"):
            for referral_id in (1, 42, 2**63 - 1):
                for endpoint in ("referrals.show", "referrals.screen", "referrals.assign"):
                    assert row_url(referral_id, endpoint) == url_for(endpoint, referral_id=referral_id)
            with pytest.raises(ValueError):
                row_url("1/../../admin", "referrals.show")
            with pytest.raises(ValueError):
                row_url(3, "referrals.contact_correct")
    # Through a template, as the lists use it.
    with app.test_request_context(base_url="http://localhost/peer"):
        html = app.jinja_env.from_string("{{ 7|row_url('referrals.show') }}").render()
        assert html == url_for("referrals.show", referral_id=7) == "/peer/referrals/7"


def test_each_row_names_its_state_and_risk_in_words_beside_the_colour(world, login):
    """The list's state and risk tags say what they mean: colour is never the only signal."""
    from tests.dom import parse
    high = make_referral(world, name="Hi Risk Person", risk="high")
    advance(world, high, states.AWAITING_MATCH)
    lead = login(world.lead)
    page = parse(lead.get("/referrals/"))
    rows = {row.attrs["data-referral-id"]: row for row in page.select("tr[data-referral-id]")}
    state, risk = rows[str(high.id)].select("td strong.nhsuk-tag")
    assert (state.text, state.attrs["class"]) == ("Awaiting match", "nhsuk-tag nhsuk-tag--orange")
    assert (risk.text, risk.attrs["class"]) == ("High risk", "nhsuk-tag referrals-risk referrals-risk--high")
    state, risk = rows[str(world.referral.id)].select("td strong.nhsuk-tag")
    assert (state.text, state.attrs["class"]) == ("Submitted", "nhsuk-tag nhsuk-tag--blue")
    assert risk.text == "Low risk"


def test_a_referrals_contacts_come_50_a_page_newest_first_in_the_same_queries(world, login):
    """A year of weekly contacts and more: the referral page shows the newest 50, each with
    its intervention and who recorded it, and links to the older ones; the page sends
    the same number of queries for 2 contacts as for 55 (nothing is looked up per row)."""
    from peerapp.db import counting_queries
    from tests.dom import parse
    referral = advance(world, world.referral, states.ACTIVE)

    def record(n, start):
        with inside():
            for i in range(start, start + n):
                services.record_contact(
                    referral, by=world.paid.user, contact_on=referral.referred_on + dt.timedelta(days=i % 10),
                    attendance="attended", summary=f"Contact number {i:02d}",
                    intervention=None if i % 2 else world.items["1:1 recovery conversations"])

    lead = login(world.lead)
    url = f"/referrals/{referral.id}"
    record(2, 0)
    with counting_queries() as few:
        assert lead.get(url).status_code == 200
    record(53, 2)
    with counting_queries() as many:
        page = parse(lead.get(url))
    assert many.n == few.n, "\n".join(many.sql)
    rows = page.select("#contacts tr[data-contact-id]")
    assert len(rows) == 50
    newest = Contact.select().where(Contact.referral == referral.id).order_by(
        Contact.contact_on.desc(), Contact.id.desc())
    assert [int(r.attrs["data-contact-id"]) for r in rows] == [c.id for c in newest[:50]]
    texts = [r.text for r in rows]
    assert all(f"Recorded by {world.paid.user.name}" in t for t in texts)
    assert any("1:1 recovery conversations" in t for t in texts) and not any("None" in t for t in texts)
    assert "50 shown of 55 contacts" in page.text
    older = [a for a in page.select("nav a[rel=next]")]
    assert len(older) == 1 and older[0].attrs["href"].startswith(url + "?after=")
    rest = parse(lead.get(older[0].attrs["href"]))
    assert [int(r.attrs["data-contact-id"]) for r in rest.select("#contacts tr[data-contact-id]")] == [
        c.id for c in newest[50:]]
