"""A save from a stale edit page never overwrites someone else's change (issue 10,
item 8, for the areas built after it): outcomes' measure schedules, presence's team
settings, readiness's checklist items and reflective meeting records.

Two people open the same edit page; one saves; the other's save is refused with
409 and the house's message, everything they typed is back in the form, the
stored record keeps the first person's change, and the re-shown form carries the
fresh version, so saving again from it goes through."""
from __future__ import annotations

import datetime as dt

import pytest

from peerapp.db import db
from peerapp.outcomes import services as outcomes
from peerapp.outcomes.models import MeasureSchedule
from peerapp.presence.models import PresenceSettings
from peerapp.readiness.models import ReadinessItem, ReflectiveMeeting
from tests.dom import forms, parse

STALE = "Someone else changed this while you were editing"
DEMO_MEASURE = open("docs/measures/demo-measure.json", encoding="utf-8").read()


def edit_form(response):
    """The values of the page's edit form (the POST form carrying a version), as sent untouched."""
    found = [f for f in forms(parse(response)) if "version" in f.names()]
    assert len(found) == 1, found
    return dict(found[0].values())


def refused_as_stale(response, typed: dict) -> dict:
    """The 409 page: the house's message, and the form holding every value typed."""
    assert response.status_code == 409, response.status_code
    page = parse(response)
    assert STALE in page.text
    shown = edit_form(response)
    for name, value in typed.items():
        assert shown.get(name) == str(value), (name, shown.get(name), value)
    return shown


@pytest.fixture
def leads(make_user):
    return make_user("peer_lead", name="Lee Lead"), make_user("manager", name="Morgan Manager")


def test_presence_settings(leads, login):
    lee, morgan = (login(u) for u in leads)
    url = "/presence/settings"
    assert lee.post(url, data=edit_form(lee.get(url))).status_code == 303  # the team's row exists
    lee_form, morgan_form = edit_form(lee.get(url)), edit_form(morgan.get(url))
    assert morgan.post(url, data={**morgan_form, "reminder_minutes": "20"}).status_code == 303
    typed = {"reminder_minutes": "35", "keep_place_days": "9"}
    shown = refused_as_stale(lee.post(url, data={**lee_form, **typed}), typed)
    with db.connection_context():
        row = PresenceSettings.for_team(leads[0].team_id)
        assert (row.reminder_minutes, row.keep_place_days) == (20, PresenceSettings.DEFAULTS["keep_place_days"])
    assert lee.post(url, data=shown).status_code == 303  # the form from the 409 page saves
    with db.connection_context():
        row = PresenceSettings.for_team(leads[0].team_id)
        assert (row.reminder_minutes, row.keep_place_days) == (35, 9)


def test_outcomes_measure_schedule(leads, login):
    with db.connection_context():
        version, _ = outcomes.import_measure(DEMO_MEASURE, "demo-measure.json")
    lee, morgan = (login(u) for u in leads)
    url = f"/outcomes/measures/{version.measure_id}"
    lee_form, morgan_form = edit_form(lee.get(url)), edit_form(morgan.get(url))
    assert morgan.post(url, data={**morgan_form, "subject": "peer", "review_weeks": "12",
                                  "active": "yes"}).status_code == 302
    typed = {"subject": "peer", "review_weeks": "30", "active": "no"}
    shown = refused_as_stale(lee.post(url, data={**lee_form, **typed}), typed)
    with db.connection_context():
        schedule = MeasureSchedule.get(MeasureSchedule.measure == version.measure_id)
        assert (schedule.review_weeks, schedule.active) == (12, True)
    assert lee.post(url, data=shown).status_code == 302
    with db.connection_context():
        schedule = MeasureSchedule.get(MeasureSchedule.measure == version.measure_id)
        assert (schedule.review_weeks, schedule.active) == (30, False)


def test_readiness_checklist_item(leads, login):
    lee, morgan = (login(u) for u in leads)
    assert morgan.post("/readiness/checklist/start").status_code == 302
    with db.connection_context():
        item = ReadinessItem.select().order_by(ReadinessItem.order).first()
    url = f"/readiness/checklist/{item.id}"
    lee_form, morgan_form = edit_form(lee.get(url)), edit_form(morgan.get(url))
    assert morgan.post(url, data={**morgan_form, "status": "met", "evidence": "Morgan's evidence"}).status_code == 302
    typed = {"status": "in_progress", "evidence": "Lee's evidence, typed at length"}
    shown = refused_as_stale(lee.post(url, data={**lee_form, **typed}), typed)
    with db.connection_context():
        assert ReadinessItem.get_by_id(item.id).evidence == "Morgan's evidence"
    assert lee.post(url, data=shown).status_code == 302
    with db.connection_context():
        assert ReadinessItem.get_by_id(item.id).evidence == "Lee's evidence, typed at length"


def test_readiness_meeting_record(leads, login, clock):
    clock.freeze(dt.datetime(2026, 11, 30, 10, 0))
    lee, morgan = (login(u) for u in leads)
    created = morgan.post("/readiness/meetings/new", data={
        "held_on": "2026-11-30", "attendees": [str(u.id) for u in leads], "summary": "First words."})
    assert created.status_code == 302
    with db.connection_context():
        meeting = ReflectiveMeeting.get()
    url = f"/readiness/meetings/{meeting.id}/edit"
    lee_page, morgan_page = lee.get(url), morgan.get(url)
    lee_form, morgan_form = edit_form(lee_page), edit_form(morgan_page)
    attendees = [str(u.id) for u in leads]
    assert morgan.post(url, data={**morgan_form, "attendees": attendees,
                                  "summary": "Morgan's summary"}).status_code == 302
    typed = {"summary": "Lee's summary, a long paragraph", "held_on": "2026-11-29"}
    shown = refused_as_stale(lee.post(url, data={**lee_form, "attendees": attendees, **typed}), typed)
    with db.connection_context():
        assert ReflectiveMeeting.get_by_id(meeting.id).summary == "Morgan's summary"
    assert lee.post(url, data={**shown, "attendees": attendees}).status_code == 302
    with db.connection_context():
        saved = ReflectiveMeeting.get_by_id(meeting.id)
        assert (saved.summary, saved.held_on) == ("Lee's summary, a long paragraph", dt.date(2026, 11, 29))
