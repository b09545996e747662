"""Correcting a record that is otherwise only ever created (a contact, ...): through
its "Correct this record" page. Those who may record it may correct it, with a reason;
a save from a stale page is refused with 409 and the typed text kept; bad input is
shown on the form and nothing is saved; the viewer and other roles never reach it; the
History link sits beside the record for those who may read it. (Which fields reach
the history: tests/test_history.py.)"""
from __future__ import annotations

import re

from peerapp.audit import AuditEvent
from peerapp.db import db
from peerapp.demo import load_demo
from peerapp.history import FieldChange
from peerapp.models import LoginSession, User


def _client(app, key):
    client = app.test_client()
    with app.app_context():
        user = User.by_email(f"{key}@demo.peerapp")
        token = LoginSession.start(user)
        db.close()
    with client.session_transaction() as session:
        session["sid"], session["_user_id"] = token, str(user.id)
    return client


def _hidden(page: str, name: str) -> str:
    found = (re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
             or re.search(rf'value="([^"]*)"[^>]*name="{name}"', page))
    return found.group(1) if found else ""


def _form(page: str) -> dict:
    return {"csrf_token": _hidden(page, "csrf_token"), "version": _hidden(page, "version")}


# --- contacts -----------------------------------------------------------------------------
def _contact(app):
    """A contact the demo lead's team recorded for a paid peer (not entered at a debrief)."""
    from peerapp.referrals.models import Contact, Referral
    with app.app_context():
        lead = User.by_email("lead@demo.peerapp")
        contact = (Contact.select().join(Referral).where(Referral.team == lead.team_id, Contact.debrief_on.is_null())
                   .order_by(Contact.id).first())
        db.close()
    return contact


def _contact_post(page, contact, **overrides):
    data = {**_form(page), "contact_on": contact.contact_on.isoformat(), "minutes": str(contact.minutes or 30),
            "intervention": str(contact.intervention_id), "setting": contact.setting or "home",
            "attendance": "attended", "cancelled_by": "", "summary": contact.summary,
            "reason": "zq wrong duration"}
    data.update(overrides)
    return data


def _contact_url(contact):
    return f"/referrals/{contact.referral_id}/contacts/{contact.id}/correct"


def test_a_lead_corrects_a_contact_with_a_reason_and_it_shows_in_its_history(app):
    with app.app_context():
        load_demo()
        db.close()
    contact = _contact(app)
    lead = _client(app, "lead")
    show = lead.get(f"/referrals/{contact.referral_id}").get_data(as_text=True)
    assert _contact_url(contact) in show and f"/rights/history/contact/{contact.id}" in show
    page = lead.get(_contact_url(contact)).get_data(as_text=True)
    assert "Correct this contact" in page and "Reason for the correction" in page
    response = lead.post(_contact_url(contact), data=_contact_post(page, contact, minutes="77"))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        rows = {c.field: c for c in FieldChange.select().where(FieldChange.record_type == "contact",
                                                                 FieldChange.record_id == str(contact.id))}
        assert rows["minutes"].new_value == "77" and rows["minutes"].old_value == str(contact.minutes or "")
        assert rows["reason for the correction"].new_value == "zq wrong duration"
        event = AuditEvent.select().where(AuditEvent.action == "update", AuditEvent.record_type == "contact",
                                          AuditEvent.record_id == str(contact.id)).get()
        assert "minutes" in event.summary and "zq wrong duration" in event.summary
        db.close()
    history = lead.get(f"/rights/history/contact/{contact.id}").get_data(as_text=True)
    assert "77" in history and "zq wrong duration" in history


def test_a_stale_contact_correction_is_refused_with_409_and_the_typed_text_kept(app):
    from peerapp.referrals.models import Contact
    with app.app_context():
        load_demo()
        db.close()
    contact = _contact(app)
    lead = _client(app, "lead")
    page = lead.get(_contact_url(contact)).get_data(as_text=True)
    with app.app_context():  # someone else corrects it meanwhile
        Contact.update(minutes=(contact.minutes or 0) + 1).where(Contact.id == contact.id).execute()
        db.close()
    response = lead.post(_contact_url(contact), data=_contact_post(page, contact, summary="zq my typed words"))
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "zq my typed words" in body and "Someone else changed this" in body
    with app.app_context():
        assert Contact.get_by_id(contact.id).summary != "zq my typed words"
        assert not FieldChange.select().where(FieldChange.record_type == "contact",
                                              FieldChange.record_id == str(contact.id)).exists()
        db.close()


def test_a_contact_correction_without_a_reason_or_with_a_bad_date_is_shown_on_the_form(app):
    from peerapp.referrals.models import Contact
    with app.app_context():
        load_demo()
        db.close()
    contact = _contact(app)
    lead = _client(app, "lead")
    page = lead.get(_contact_url(contact)).get_data(as_text=True)
    response = lead.post(_contact_url(contact), data=_contact_post(page, contact, reason="", summary="zq kept words"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Say why you are correcting it" in body and "zq kept words" in body
    response = lead.post(_contact_url(contact), data=_contact_post(page, contact, contact_on="2001-01-01",
                                                                   summary="zq kept words"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "before the referral date" in body and "zq kept words" in body
    with app.app_context():
        assert Contact.get_by_id(contact.id).summary == contact.summary
        db.close()


def test_only_those_who_may_record_a_contact_may_correct_it_and_the_viewer_never_sees_it(app):
    with app.app_context():
        load_demo()
        db.close()
    contact = _contact(app)
    for key in ("viewer", "volunteer", "clinician", "manager", "facilitator", "admin"):
        client = _client(app, key)
        assert client.get(_contact_url(contact)).status_code in (403, 404), key
        show = client.get(f"/referrals/{contact.referral_id}").get_data(as_text=True)
        assert _contact_url(contact) not in show, key
    viewer = _client(app, "viewer")
    assert viewer.get(f"/rights/history/contact/{contact.id}").status_code == 404


# --- recruitment checks -------------------------------------------------------------------
def _expired_dbs(app):
    """The demo role whose DBS lapsed (it reads as paused automatically), its DBS record
    and the supervisor (the team's peer lead)."""
    from peerapp.workforce.models import CheckType, PeerRole, RecruitmentCheck
    with app.app_context():
        dbs = CheckType.get(CheckType.code == "dbs")
        role = next(r for r in PeerRole.with_people().where(PeerRole.status == "active").order_by(PeerRole.id)
                    if r.is_paused_automatically())
        record = RecruitmentCheck.newest_for(role.candidate_id)[dbs.id]
        lead_email = User.get_by_id(role.supervisor_id).email
        db.close()
    return role, record, lead_email.split("@")[0]


def _check_url(role, record):
    return f"/workforce/roles/{role.id}/checks/{record.id}/correct"


def _check_post(page, record, **overrides):
    data = {**_form(page), "check_type": str(record.check_type_id), "completed_on": record.completed_on.isoformat(),
            "expires_on": record.expires_on.isoformat() if record.expires_on else "", "dbs_level": record.dbs_level,
            "dbs_update_service": "yes" if record.dbs_update_service else "no", "dbs_outcome": record.dbs_outcome,
            "reason": "zq expiry mistyped"}
    data.update(overrides)
    return data


def test_correcting_a_lapsed_dbs_expiry_lifts_the_automatic_pause_as_recording_would(app):
    import datetime as dt
    from peerapp import clock
    from peerapp.workforce.models import PeerRole
    with app.app_context():
        load_demo()
        db.close()
    role, record, lead_key = _expired_dbs(app)
    lead = _client(app, lead_key)
    role_page = lead.get(f"/workforce/roles/{role.id}").get_data(as_text=True)
    assert _check_url(role, record) in role_page and f"/rights/history/recruitment_check/{record.id}" in role_page
    page = lead.get(_check_url(role, record)).get_data(as_text=True)
    later = (clock.today() + dt.timedelta(days=400)).isoformat()
    response = lead.post(_check_url(role, record), data=_check_post(page, record, expires_on=later))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        assert not PeerRole.get_by_id(role.id).is_paused_automatically()
        change = FieldChange.get(FieldChange.record_type == "recruitment_check",
                                 FieldChange.record_id == str(record.id), FieldChange.field == "expires_on")
        assert (change.old_value, change.new_value) == (record.expires_on.isoformat(), later)
        assert AuditEvent.select().where(AuditEvent.action == "update", AuditEvent.record_type == "recruitment_check",
                                         AuditEvent.record_id == str(record.id)).exists()
        db.close()
    # ...and back: a corrected expiry in the past pauses it again.
    page = lead.get(_check_url(role, record)).get_data(as_text=True)
    assert lead.post(_check_url(role, record), data=_check_post(
        page, record, expires_on=record.expires_on.isoformat(), reason="zq undo")).status_code == 302
    with app.app_context():
        assert PeerRole.get_by_id(role.id).is_paused_automatically()
        db.close()
    assert "zq undo" in lead.get(f"/rights/history/recruitment_check/{record.id}").get_data(as_text=True)


def test_a_check_correction_stale_or_wrong_is_refused_on_the_form_and_nothing_is_saved(app):
    from peerapp.workforce.models import RecruitmentCheck
    with app.app_context():
        load_demo()
        db.close()
    role, record, lead_key = _expired_dbs(app)
    lead = _client(app, lead_key)
    page = lead.get(_check_url(role, record)).get_data(as_text=True)
    bad = lead.post(_check_url(role, record), data=_check_post(
        page, record, expires_on=record.completed_on.isoformat(), reason="zq typed reason"))
    assert bad.status_code == 422 and "must be after the date completed" in bad.get_data(as_text=True)
    assert "zq typed reason" in bad.get_data(as_text=True)
    with app.app_context():
        RecruitmentCheck.update(dbs_level="basic").where(RecruitmentCheck.id == record.id).execute()
        db.close()
    stale = lead.post(_check_url(role, record), data=_check_post(page, record, reason="zq typed reason"))
    body = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "zq typed reason" in body and "Someone else changed this" in body
    with app.app_context():
        assert RecruitmentCheck.get_by_id(record.id).expires_on == record.expires_on
        assert not FieldChange.select().where(FieldChange.record_type == "recruitment_check",
                                              FieldChange.record_id == str(record.id)).exists()
        db.close()


def test_only_the_teams_staff_may_correct_a_check_and_the_viewer_never_sees_its_history(app):
    with app.app_context():
        load_demo()
        db.close()
    role, record, _ = _expired_dbs(app)
    for key in ("viewer", "volunteer", "peer", "clinician", "facilitator", "admin"):
        assert _client(app, key).get(_check_url(role, record)).status_code in (403, 404), key
    assert _client(app, "viewer").get(f"/rights/history/recruitment_check/{record.id}").status_code == 404


# --- supervision and debriefs --------------------------------------------------------------
def _note(app, model_name):
    from peerapp.workforce import models
    model = getattr(models, model_name)
    with app.app_context():
        record = next(r for r in model.select().order_by(model.id)
                      if models.PeerLeadDesignation.is_lead(r.recorded_by, r.role.team))
        key = record.recorded_by.email.split("@")[0]
        db.close()
    return record, key


def test_a_lead_corrects_supervision_and_a_debrief_and_stale_pages_are_refused(app):
    from peerapp.workforce.models import Debrief, Supervision
    with app.app_context():
        load_demo()
        db.close()
    supervision, key = _note(app, "Supervision")
    lead = _client(app, key)
    url = f"/workforce/supervision/{supervision.id}/correct"
    assert url in lead.get(f"/workforce/supervision/{supervision.id}").get_data(as_text=True)
    page = lead.get(url).get_data(as_text=True)
    data = {**_form(page), "held_on": supervision.held_on.isoformat(), "duration_minutes": "55",
            "how_they_are": "zq corrected words", "actions": supervision.actions,
            "next_on": supervision.next_on.isoformat() if supervision.next_on else "", "reason": "zq wrong length"}
    assert lead.post(url, data={**data, "duration_minutes": "0"}).status_code == 422
    assert lead.post(url, data=data).status_code == 302
    with app.app_context():
        assert Supervision.get_by_id(supervision.id).duration_minutes == 55
        db.close()
    stale = lead.post(url, data={**data, "how_they_are": "zq second try"})  # the page before the first save
    assert stale.status_code == 409 and "zq second try" in stale.get_data(as_text=True)
    assert "zq corrected words" in lead.get(f"/rights/history/supervision/{supervision.id}").get_data(as_text=True)

    debrief, key = _note(app, "Debrief")
    lead = _client(app, key)
    url = f"/workforce/debriefs/{debrief.id}/correct"
    assert url in lead.get(f"/workforce/debriefs/{debrief.id}").get_data(as_text=True)
    page = lead.get(url).get_data(as_text=True)
    data = {**_form(page), "held_on": debrief.held_on.isoformat(), "summary": "zq corrected day",
            "wellbeing": debrief.wellbeing, "reason": ""}
    missing = lead.post(url, data=data)
    assert missing.status_code == 422 and "Say why you are correcting it" in missing.get_data(as_text=True)
    assert lead.post(url, data={**data, "reason": "zq typo"}).status_code == 302
    with app.app_context():
        assert Debrief.get_by_id(debrief.id).summary == "zq corrected day"
        db.close()


def test_supervision_and_debriefs_are_corrected_only_by_a_named_lead_who_may_read_them(app):
    with app.app_context():
        load_demo()
        db.close()
    supervision, _ = _note(app, "Supervision")
    debrief, _ = _note(app, "Debrief")
    for key in ("viewer", "volunteer", "peer", "manager", "clinician", "facilitator", "admin"):
        client = _client(app, key)
        assert client.get(f"/workforce/supervision/{supervision.id}/correct").status_code in (403, 404), key
        assert client.get(f"/workforce/debriefs/{debrief.id}/correct").status_code in (403, 404), key
        page = client.get(f"/workforce/supervision/{supervision.id}").get_data(as_text=True)
        assert "/correct" not in page, key


# --- outcome measure responses -------------------------------------------------------------
def _measure_pair(app):
    """A service user's first scored measure, on a referral with two or more (a paired
    change), and a demo login of its team who may enter measures."""
    from peerapp.outcomes import change
    from peerapp.outcomes.models import MeasureResponse
    with app.app_context():
        rows = list(MeasureResponse.select().where(MeasureResponse.subject == "service user",
                                                   MeasureResponse.status == "completed"))
        pair = change.pairs(rows)[0]
        first = pair.first
        team = first.team_id
        key = next(k for k in ("lead", "lead2", "manager") if User.by_email(f"{k}@demo.peerapp").team_id == team)
        db.close()
    return first, key


def test_a_corrected_measure_is_scored_again_and_paired_change_follows(app):
    from peerapp.outcomes import change, scoring
    from peerapp.outcomes.models import MeasureResponse
    with app.app_context():
        load_demo()
        db.close()
    first, key = _measure_pair(app)
    client = _client(app, key)
    url = f"/outcomes/responses/{first.id}/correct"
    listing = client.get(f"/outcomes/referrals/{first.referral_id}").get_data(as_text=True)
    assert url in listing and f"/rights/history/measure_response/{first.id}" in listing
    page = client.get(url).get_data(as_text=True)
    with app.app_context():
        definition = MeasureResponse.get_by_id(first.id).version.definition
        highest = {i.key: (min if i.reverse else max)(o.value for o in i.options) for i in definition.items}
        lowest = {i.key: (max if i.reverse else min)(o.value for o in i.options) for i in definition.items}
        answers = highest if scoring.score(definition, highest).total != first.total else lowest
        expected_total = scoring.score(definition, answers).total
        db.close()
    data = {**_form(page), "occasion": first.occasion, "taken_on": first.taken_on.isoformat(), "status": "completed",
            "reason": "", "mode": "page", "step": "0", "correction_reason": "zq answers mis-clicked"}
    from peerapp.outcomes.forms import item_field_name
    data.update({item_field_name(k): str(v) for k, v in answers.items()})
    missing = client.post(url, data={**data, "correction_reason": ""})
    assert missing.status_code == 422 and "Say why you are correcting it" in missing.get_data(as_text=True)
    response = client.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        stored = MeasureResponse.get_by_id(first.id)
        assert stored.total == expected_total
        rows = list(MeasureResponse.select().where(MeasureResponse.referral == first.referral_id))
        pair = change.pairs(rows)[0]
        assert pair.first.id == first.id and pair.first.total == expected_total
        db.close()
    assert "zq answers mis-clicked" in client.get(f"/rights/history/measure_response/{first.id}").get_data(as_text=True)
    stale = client.post(url, data={**data, "correction_reason": "zq second try"})  # the page before the first save
    assert stale.status_code == 409 and "zq second try" in stale.get_data(as_text=True)


def test_only_those_who_may_enter_measures_may_correct_them_and_the_viewer_never_sees_them(app):
    with app.app_context():
        load_demo()
        db.close()
    first, key = _measure_pair(app)
    for other in ("viewer", "volunteer", "clinician", "facilitator", "admin"):
        client = _client(app, other)
        assert client.get(f"/outcomes/responses/{first.id}/correct").status_code in (403, 404), other
        assert client.get(f"/rights/history/measure_response/{first.id}").status_code == 404, other
