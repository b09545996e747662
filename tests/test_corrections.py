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
