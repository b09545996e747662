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


def test_two_saves_of_one_edit_page_at_the_same_moment_one_wins(make_user, login, monkeypatch):
    """The version is compared with the row held inside the saving transaction
    (``SELECT ... FOR UPDATE`` on PostgreSQL), not read and then compared: two
    admins who press Save on the same page at the same moment cannot both win.
    Each save pauses after its check until the other has checked too (or 1 s)."""
    import threading

    from peerapp.admin import views as admin_views
    from peerapp.models import Team

    admins = [make_user("admin", name=f"Admin {n}") for n in (1, 2)]
    clients = [login(a) for a in admins]
    team_id = admins[0].team_id
    url = f"/admin/teams/{team_id}"
    forms_seen = [edit_form(c.get(url)) for c in clients]
    barrier = threading.Barrier(2, timeout=1)
    original = admin_views.check_version

    def check_then_wait(*args, **kwargs):
        original(*args, **kwargs)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:  # the other save is held until this one commits
            pass

    monkeypatch.setattr(admin_views, "check_version", check_then_wait)
    responses = [None, None]

    def save(i):
        responses[i] = clients[i].post(url, data={**forms_seen[i], "name": f"Renamed by admin {i + 1}"})

    threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    codes = sorted(r.status_code for r in responses)
    assert codes == [302, 409], codes
    winner = [i for i, r in enumerate(responses) if r.status_code == 302][0]
    with db.connection_context():
        assert Team.get_by_id(team_id).name == f"Renamed by admin {winner + 1}"


def test_readiness_sop_new_version(make_user, login):
    """Two managers write version 2 of the same SOP: the second to publish is refused
    (their text kept) instead of silently superseding the first's version unread."""
    from peerapp.readiness.models import SopVersion
    first, second = login(make_user("manager", name="Morgan")), login(make_user("manager", name="Mo"))
    sop = {"title": "Peer support SOP", "effective_on": "2026-12-01", "changes": "First", "body": "# SOP\n\nV1.",
           "roles": ["peer", "manager"]}
    assert first.post("/readiness/sop/new", data=sop, content_type="multipart/form-data").status_code == 302
    with db.connection_context():
        document_id = SopVersion.get().document_id
    url = f"/readiness/sop/{document_id}/versions/new"
    first_form, second_form = edit_sop_form(first.get(url)), edit_sop_form(second.get(url))
    assert first_form["based_on"] == second_form["based_on"] == "1"
    assert first.post(url, data={**first_form, "roles": ["peer", "manager"], "body": "# SOP\n\nFirst's V2."},
                      content_type="multipart/form-data").status_code == 302
    typed = {"body": "# SOP\n\nSecond's long rewrite.", "changes": "Rewrote the lone-working part"}
    refused = second.post(url, data={**second_form, "roles": ["peer", "manager"], **typed},
                          content_type="multipart/form-data")
    assert refused.status_code == 409 and STALE in parse(refused).text
    shown = edit_sop_form(refused)
    assert (shown["body"], shown["changes"], shown["based_on"]) == (typed["body"], typed["changes"], "2")
    with db.connection_context():
        assert [(v.number, v.body) for v in SopVersion.select().order_by(SopVersion.number)] == [
            (1, "# SOP\n\nV1."), (2, "# SOP\n\nFirst's V2.")]
    # Having read version 2, publishing again from the re-shown form makes version 3.
    assert second.post(url, data={**shown, "roles": ["peer", "manager"]},
                       content_type="multipart/form-data").status_code == 302
    with db.connection_context():
        assert SopVersion.select(SopVersion.number, SopVersion.body).order_by(SopVersion.number.desc()).first().body \
            == typed["body"]


def edit_sop_form(response):
    found = [f for f in forms(parse(response)) if "based_on" in f.names()]
    assert len(found) == 1, found
    return {name: value for name, value in found[0].values() if name not in ("roles", "pdf")}
