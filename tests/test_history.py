"""Field-level change history of every edit of a sensitive record, table-driven: each
row is one thing a person does to a record (a service call, as every view makes it),
and the fields it must leave in the record's history with who, when, old and new.
(The service user, role details and candidate edits are walked through their forms
in test_rights.py.) Then: free text is hidden from those who may not read it, the
History link and page are for those who may read the record only, never the viewer."""
from __future__ import annotations

import datetime as dt

import pytest

from peerapp.db import db
from peerapp.demo import load_demo
from peerapp.history import FieldChange
from peerapp.models import LoginSession, User
from peerapp.referrals import services as referrals


def _user(key: str) -> User:
    return User.by_email(f"{key}@demo.peerapp")


def _referral(state: str):
    from peerapp.referrals.models import Referral
    return Referral.select().where(Referral.state == state).order_by(Referral.id).first()


# --- each edit: (name, do(clock) -> (record_type, record_id, who), fields and expected new values) ----
def screen(clock):
    from peerapp.referrals.models import Intervention
    referral, lead = _referral("screening"), _user("lead")
    referrals.screen(referral, "accepted", by=lead, reasons="zq reasons", risk_considerations="zq risks",
                    interventions=list(Intervention.select().limit(1)), volunteer_allowed=not referral.volunteer_allowed,
                    risk_level="high" if referral.risk_level != "high" else "low", safety_note="zq safety")
    return "referral", referral.id, lead, {"screening_reasons": "zq reasons", "risk_considerations": "zq risks",
                                          "safety_note": "zq safety", "state": "awaiting match",
                                          "volunteer_allowed": None, "risk_level": None, "screened_by": str(lead.id)}


def answer(clock):
    referral, clinician = _referral("more information requested"), _user("clinician")
    referrals.answer_questions(referral, "zq the answer", by=clinician)
    return "referral", referral.id, clinician, {"questions: answer": "zq the answer",
                                               "questions: answered_by": str(clinician.id), "state": "screening"}


def end_assignment(clock):
    referral, lead = _referral("matched"), _user("lead")
    referrals.end_assignment(referral, "zq peer off sick", by=lead)
    return "referral", referral.id, lead, {"assignment: ended_reason": "zq peer off sick",
                                          "assignment: ended_by": str(lead.id), "state": "awaiting match"}


def first_meeting(clock):
    referral, lead = _referral("first meeting"), _user("lead")
    referrals.record_first_meeting(referral, True, "zq went well", by=lead,
                                  meeting_on=referral.referred_on + dt.timedelta(days=3),
                                  place="zq library", attendees="zq both")
    return "referral", referral.id, lead, {
        "first meeting: outcome": "go ahead", "first meeting: outcome_reason": "zq went well",
        "first meeting: place": "zq library", "first meeting: attendees": "zq both",
        "first meeting: meeting_on": (referral.referred_on + dt.timedelta(days=3)).isoformat(), "state": "active"}


def close(clock):
    referral, lead = _referral("active"), _user("lead")
    referrals.close(referral, "goals met", "zq closing summary", by=lead)
    return "referral", referral.id, lead, {"outcome": "goals met", "closing_summary": "zq closing summary",
                                          "closed_on": None, "state": "closed",
                                          "assignment: ended_reason": "referral closed"}


def _role(status: str):
    from peerapp.workforce.models import PeerRole
    return PeerRole.with_people().where(PeerRole.status == status).order_by(PeerRole.id).first()


def induction_and_base_access(clock):
    from peerapp.workforce import services as workforce
    from peerapp.workforce.models import InductionTick, PeerRole
    role = _role("onboarding")
    lead = User.get_by_id(role.supervisor_id)
    PeerRole.update(induction_signed_off_on=None, induction_signed_off_by=None, base_access_on=None,
                    base_access_by=None).where(PeerRole.id == role.id).execute()
    role = PeerRole.get_by_id(role.id)
    for item in workforce.induction_missing(role):
        InductionTick.create(role=role, item=item, done_on=clock().date(), ticked_by=lead, ticked_at=clock())
    workforce.sign_off_induction(role, by=lead)
    fields = {"induction_signed_off_on": None, "induction_signed_off_by": str(lead.id)}
    if not role.checks_problems(clock().date()):
        workforce.give_base_access(PeerRole.get_by_id(role.id), by=lead)
        fields.update(base_access_on=None, base_access_by=str(lead.id))
    return "peer_role", role.id, lead, fields


def team_meetings(clock):
    from peerapp.workforce import services as workforce
    from peerapp.workforce.models import TeamMeetingAgreement
    agreement = TeamMeetingAgreement.select().order_by(TeamMeetingAgreement.id).first()
    role = agreement.role
    lead = User.get_by_id(role.supervisor_id)
    workforce.set_meeting_arrangement(role, attends=not agreement.attends, arrangement="zq monthly, online", by=lead)
    workforce.confirm_meeting(role, by=lead, as_="lead")
    return "peer_role", role.id, lead, {"team meetings: arrangement": "zq monthly, online",
                                       "team meetings: attends": None, "team meetings: lead": str(lead.id),
                                       "team meetings: lead_on": None}


def _visit(state: str):
    from peerapp.presence.models import Visit
    return Visit.select().where(Visit.state == state).order_by(Visit.id).first()


def visit_start_and_extend(clock):
    from peerapp.presence import services
    visit = _visit("planned")
    lead = _user("lead") if services.leads_team(_user("lead"), visit.team_id) else _user("manager")
    services.start_visit(visit.id, by=lead, version=visit.version)
    fresh = services._visit(visit.id)
    services.extend_visit(visit.id, by=lead, version=fresh.version, minutes=30)
    return "visit", visit.id, lead, {"state": "started", "started_by": str(lead.id), "started_at": None,
                                    "expected_return_at": None}


def visit_late_and_resolved(clock):
    from peerapp.presence import services
    from peerapp.presence.models import Visit
    visit = Visit.select().where(Visit.state == "started").order_by(Visit.id).first()
    lead = _user("lead") if services.leads_team(_user("lead"), visit.team_id) else _user("manager")
    clock.freeze(visit.escalate_at + dt.timedelta(minutes=5))
    services.acknowledge(visit.id, by=lead, step="peer_lead")
    services.record_outcome(visit.id, by=lead, outcome="not_reached", notes="zq police called",
                            emergency_followed=True)
    return "visit", visit.id, lead, {"lead_ack_by": str(lead.id), "lead_ack_at": None, "state": "ended",
                                    "outcome": "not_reached", "outcome_notes": "zq police called",
                                    "ended_by": str(lead.id)}


def visit_check_out(clock):
    from peerapp.presence import services
    from peerapp.presence.models import Visit
    visit = Visit.select().where(Visit.state == "started").order_by(Visit.id.desc()).first()
    worker = User.get_by_id(visit.worker_id)
    services.check_out(visit.id, by=worker, version=visit.version)
    return "visit", visit.id, worker, {"state": "ended", "outcome": "checked_out", "ended_by": str(worker.id)}


def readiness_item(clock):
    from peerapp.readiness import services
    from peerapp.readiness.models import ReadinessItem
    item = ReadinessItem.select().order_by(ReadinessItem.id).first()
    manager = User.select().where(User.team == item.team_id, User.email == "manager@demo.peerapp").first() \
        or _user("manager")
    status = "met" if item.status != "met" else "in_progress"
    review = dt.date(2027, 3, 4)
    services.update_item(item, status=status, evidence="zq evidence", owner_id=manager.id, review_on=review,
                         expected_version=item.version, by=manager)
    return "readiness_item", item.id, manager, {"status": status, "evidence": "zq evidence",
                                               "review_on": review.isoformat()}


def concern(clock):
    from peerapp.readiness import services
    from peerapp.readiness.models import Concern
    row = Concern.select().where(Concern.anonymous == False).first()  # noqa: E712
    lead = _user("lead")
    services.reply_to_concern(row, reply="zq we hear you", expected_version=row.version, by=lead)
    row = Concern.get_by_id(row.id)
    services.resolve_concern(row, solution="zq rota changed", expected_version=row.version, by=lead)
    return "concern", row.id, lead, {"reply": "zq we hear you", "replied_by": str(lead.id),
                                    "solution": "zq rota changed", "status": "resolved", "resolved_on": None}


def reflective_meeting(clock):
    from peerapp.readiness import services
    from peerapp.readiness.models import ReflectiveAction, ReflectiveAttendance, ReflectiveMeeting
    meeting = ReflectiveMeeting.select().order_by(ReflectiveMeeting.id).first()
    lead = _user("lead")
    attendees = [a for (a,) in ReflectiveAttendance.select(ReflectiveAttendance.user)
                 .where(ReflectiveAttendance.meeting == meeting).tuples()]
    services.update_meeting(meeting, held_on=meeting.held_on - dt.timedelta(days=1), attendee_ids=attendees[:1],
                            concern_ids=[], summary="zq what we said", expected_version=meeting.version, by=lead)
    action = ReflectiveAction.select().where(ReflectiveAction.meeting == meeting,
                                             ReflectiveAction.done_on.is_null()).first()
    services.complete_action(action, by=lead)
    return "reflective_meeting", meeting.id, lead, {
        "summary": "zq what we said", "held_on": (meeting.held_on - dt.timedelta(days=1)).isoformat(),
        "attendees": None, f"action {action.id}: done_on": None, f"action {action.id}: done_by": str(lead.id)}



# --- corrections of records that are otherwise only created: every editable field ---------
def correct_contact(clock):
    from peerapp.changes import record_version
    from peerapp.referrals.models import Contact, Intervention
    contact = (Contact.select().where(Contact.debrief_on.is_null(False)).order_by(Contact.id).first()
               or Contact.select().order_by(Contact.id).first())
    lead = _user("lead")
    other = Intervention.select().where(Intervention.id != contact.intervention_id).first()
    day = contact.contact_on - dt.timedelta(days=1)
    fields = dict(contact_on=day, minutes=(contact.minutes or 0) + 7, intervention=other.id,
                  setting="phone" if contact.setting != "phone" else "home", attendance="cancelled",
                  cancelled_by="team" if contact.cancelled_by != "team" else "peer", summary="zq corrected summary")
    if contact.debrief_on:
        fields["debrief_on"] = contact.debrief_on + dt.timedelta(days=1)
    referrals.correct_contact(contact, by=lead, reason="zq wrong day entered", seen=record_version(contact), **fields)
    expected = {"contact_on": day.isoformat(), "minutes": str(fields["minutes"]), "intervention": str(other.id),
                "setting": fields["setting"], "attendance": "cancelled", "cancelled_by": fields["cancelled_by"],
                "summary": "zq corrected summary", "reason for the correction": "zq wrong day entered"}
    if contact.debrief_on:
        expected["debrief_on"] = fields["debrief_on"].isoformat()
    return "contact", contact.id, lead, expected



def _dbs_role_and_check():
    from peerapp.workforce.models import CheckType, PeerRole, RecruitmentCheck
    dbs = CheckType.get(CheckType.code == "dbs")
    record = (RecruitmentCheck.select().join(PeerRole, on=(PeerRole.candidate == RecruitmentCheck.candidate))
              .where(RecruitmentCheck.check_type == dbs, PeerRole.status == "active")
              .order_by(RecruitmentCheck.id).first())
    role = PeerRole.select().where(PeerRole.candidate == record.candidate_id, PeerRole.status == "active").first()
    return role, record


def correct_check(clock):
    from peerapp.changes import record_version
    from peerapp.workforce import services as workforce
    role, record = _dbs_role_and_check()
    lead = User.get_by_id(role.supervisor_id)
    completed = record.completed_on - dt.timedelta(days=2)
    expires = completed + dt.timedelta(days=3 * 365 + 5)
    level = "enhanced" if record.dbs_level != "enhanced" else "enhanced_barred"
    outcome = "needs_review" if record.dbs_outcome != "needs_review" else "clear"
    workforce.correct_check(role, record, reason="zq typed the wrong year", seen=record_version(record), by=lead,
                            check_type=record.check_type, completed_on=completed, expires_on=expires, dbs_level=level,
                            dbs_update_service=not record.dbs_update_service, dbs_outcome=outcome)
    return "recruitment_check", record.id, lead, {
        "completed_on": completed.isoformat(), "expires_on": expires.isoformat(), "dbs_level": level,
        "dbs_update_service": None, "dbs_outcome": outcome, "reason for the correction": "zq typed the wrong year"}


def correct_supervision(clock):
    from peerapp.changes import record_version
    from peerapp.workforce import services as workforce
    from peerapp.workforce.models import PeerLeadDesignation, Supervision
    record = next(r for r in Supervision.select().order_by(Supervision.id)
                  if PeerLeadDesignation.is_lead(r.recorded_by, r.role.team))
    lead = record.recorded_by
    held = record.held_on - dt.timedelta(days=1)
    workforce.correct_supervision(record, by=lead, reason="zq wrong day", seen=record_version(record), held_on=held,
                                  duration_minutes=record.duration_minutes + 5, how_they_are="zq corrected how",
                                  actions="zq corrected actions", next_on=held + dt.timedelta(days=40))
    return "supervision", record.id, lead, {
        "held_on": held.isoformat(), "duration_minutes": str(record.duration_minutes + 5),
        "how_they_are": "zq corrected how", "actions": "zq corrected actions",
        "next_on": (held + dt.timedelta(days=40)).isoformat(), "reason for the correction": "zq wrong day"}


def correct_debrief(clock):
    from peerapp.changes import record_version
    from peerapp.workforce import services as workforce
    from peerapp.workforce.models import Debrief, PeerLeadDesignation
    record = next(r for r in Debrief.select().order_by(Debrief.id)
                  if PeerLeadDesignation.is_lead(r.recorded_by, r.role.team))
    lead = record.recorded_by
    held = record.held_on - dt.timedelta(days=1)
    workforce.correct_debrief(record, by=lead, reason="zq wrong day", seen=record_version(record), held_on=held,
                              summary="zq corrected summary", wellbeing="zq corrected wellbeing")
    return "debrief", record.id, lead, {"held_on": held.isoformat(), "summary": "zq corrected summary",
                                       "wellbeing": "zq corrected wellbeing", "reason for the correction": "zq wrong day"}



def correct_measure(clock):
    from peerapp.changes import record_version
    from peerapp.outcomes import services as outcomes
    from peerapp.outcomes.models import MeasureResponse
    response = (MeasureResponse.select().where(MeasureResponse.subject == "service user",
                                               MeasureResponse.status == "completed")
                .order_by(MeasureResponse.id).first())
    referral = response.referral
    manager = User.select().where(User.email == "manager@demo.peerapp").first()
    lead = next(u for u in (_user("lead"), _user("lead2"), manager) if u.team_id == referral.team_id)
    from peerapp.outcomes import scoring
    definition = response.version.definition
    highest = {i.key: (min if i.reverse else max)(o.value for o in i.options) for i in definition.items}
    lowest = {i.key: (max if i.reverse else min)(o.value for o in i.options) for i in definition.items}
    answers = highest if scoring.score(definition, highest).total != response.total else lowest
    day = response.taken_on - dt.timedelta(days=1)
    outcomes.correct_for_referral(response, by=lead, correction_reason="zq answers mis-clicked",
                                  seen=record_version(response), status="completed", answers=answers, taken_on=day,
                                  reason="zq note")
    return "measure_response", response.id, lead, {
        "taken_on": day.isoformat(), "answers_json": None, "total": None, "reason": "zq note",
        "reason for the correction": "zq answers mis-clicked"}


EDITS = [screen, answer, end_assignment, first_meeting, close, induction_and_base_access, team_meetings,
         visit_start_and_extend, visit_late_and_resolved, visit_check_out, readiness_item, concern, reflective_meeting,
         correct_contact, correct_check, correct_supervision, correct_debrief,
         correct_measure]


@pytest.mark.parametrize("edit", EDITS, ids=[e.__name__ for e in EDITS])
def test_every_edit_writes_who_when_field_old_and_new(app, clock, edit):
    with app.app_context():
        load_demo()
        clock.freeze(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0))
        started = clock()
        record_type, record_id, who, expected = edit(clock)
        # Oldest first, so a field changed twice (cleared, then set) is read at its last value.
        rows = {c.field: c for c in FieldChange.select().where(FieldChange.record_type == record_type,
                                                                 FieldChange.record_id == str(record_id))
                .order_by(FieldChange.at, FieldChange.id)}
        missing = set(expected) - set(rows)
        assert not missing, (missing, sorted(rows))
        for name, new in expected.items():
            row = rows[name]
            assert row.user_id == who.id and row.at >= started, name
            assert row.old_value != row.new_value, name
            if new is not None:
                assert row.new_value == new, (name, row.new_value)
        assert not any(name in ("version", "updated_at", "password_hash") or name.endswith(": version")
                       for name in rows), sorted(rows)


def test_an_administrators_edit_of_an_account_keeps_each_field_and_the_roles(app, login):
    with app.app_context():
        load_demo()
        admin, peer = _user("admin"), _user("volunteer")
        token = LoginSession.start(admin)
    client = app.test_client()
    with client.session_transaction() as session:
        session["sid"], session["_user_id"] = token, str(admin.id)
    page = client.get(f"/admin/users/{peer.id}").get_data(as_text=True)
    import re
    version = re.search(r'name="version"[^>]*value="([^"]*)"', page) or re.search(r'value="([^"]*)"[^>]*name="version"', page)
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    response = client.post(f"/admin/users/{peer.id}", data={
        "csrf_token": csrf, "version": version.group(1), "name": "Zq Renamed", "email": "zq.renamed@demo.peerapp",
        "team": str(peer.team_id or 0), "roles": ["peer", "viewer"]})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        rows = {c.field: c for c in FieldChange.select().where(FieldChange.record_type == "user",
                                                                 FieldChange.record_id == str(peer.id))}
        assert {"name", "email", "roles"} <= set(rows), sorted(rows)
        assert (rows["name"].old_value, rows["name"].new_value, rows["name"].user_id) == (peer.name, "Zq Renamed", admin.id)
        assert rows["roles"].new_value == "peer, viewer"
        assert "password_hash" not in rows
    assert "History of changes" in client.get(f"/admin/users/{peer.id}").get_data(as_text=True)
    assert "Zq Renamed" in client.get(f"/rights/history/user/{peer.id}").get_data(as_text=True)


def _client(app, key):
    client = app.test_client()
    with app.app_context():
        user = _user(key)
        token = LoginSession.start(user)
    with client.session_transaction() as session:
        session["sid"], session["_user_id"] = token, str(user.id)
    return client


def test_history_pages_are_for_those_who_may_read_the_record_and_hide_notes_from_others(app, clock):
    from peerapp.workforce.models import Supervision
    with app.app_context():
        load_demo()
        referral = _referral("active")
        referrals.close(referral, "goals met", "zq private closing words", by=_user("lead"))
        visit = _visit("planned")
        supervision = Supervision.select().order_by(Supervision.id).first()
        FieldChange.create(record_type="supervision", record_id=str(supervision.id), field="how_they_are",
                           old_value="zq was low", new_value="zq is better", free_text=True, user=_user("lead"))
        db.close()
    lead, viewer, volunteer = _client(app, "lead"), _client(app, "viewer"), _client(app, "volunteer")
    page = lead.get(f"/rights/history/referral/{referral.id}").get_data(as_text=True)
    assert "zq private closing words" in page and "closing summary" in page
    assert "History of changes" in lead.get(f"/referrals/{referral.id}").get_data(as_text=True)
    for url in (f"/rights/history/referral/{referral.id}", f"/rights/history/visit/{visit.id}",
                f"/rights/history/supervision/{supervision.id}", f"/rights/history/user/1",
                f"/rights/history/concern/1", f"/rights/history/readiness_item/1"):
        assert viewer.get(url).status_code == 404, url
    assert volunteer.get(f"/rights/history/referral/{referral.id}").status_code == 404
    # The supervision's own readers see the note; the History link is not offered to others.
    assert "zq was low" in lead.get(f"/rights/history/supervision/{supervision.id}").get_data(as_text=True) \
        or lead.get(f"/rights/history/supervision/{supervision.id}").status_code == 404


def test_history_rows_are_gathered_for_subject_access_and_blanked_by_erasure(app):
    """A canary written through real edits (a closing summary, a visit's outcome notes)
    sits in the field history; subject access gathers it, and after erasure the history
    rows remain (who changed what when) with the values gone from the file and its log."""
    from peerapp.presence import services
    from tests.test_rights import _file_bytes
    from peerapp.presence.models import Visit
    from peerapp.rights import registry
    from peerapp.rights.models import ErasureRequest
    canary, visit_canary = "zq-history-canary-closing", "zq-history-canary-visit"
    with app.app_context():
        load_demo()
        referral = _referral("active")
        referrals.close(referral, "goals met", canary, by=_user("lead"))
        Visit.update(referral=referral.id).where(Visit.id == _visit("planned").id).execute()
        visit = _visit("planned")
        lead = _user("lead") if services.leads_team(_user("lead"), visit.team_id) else _user("manager")
        services.cancel_visit(visit.id, by=lead, version=visit.version)
        FieldChange.update(new_value=visit_canary).where(FieldChange.record_type == "visit",
                                                         FieldChange.record_id == str(visit.id),
                                                         FieldChange.field == "state").execute()
        service_user = referral.service_user_id
        data = registry.gather(registry.Person("service_user", service_user))
        gathered = " ".join(f"{h['old']} {h['new']}" for h in data["history"])
        assert canary in gathered and visit_canary in gathered
        rows = FieldChange.select().where(FieldChange.record_type == "referral",
                                          FieldChange.record_id == str(referral.id)).count()
        second = User.create(email="second.admin@test.nhs.uk", name="Second Admin", password_hash="x")
        second.set_roles(["admin"])
        request = ErasureRequest.create(person_kind="service_user", person_id=service_user, reason="SAR-2",
                                        requested_by=_user("admin"))
        db.close()
    other = _client(app, "admin")
    with app.app_context():
        token = LoginSession.start(User.by_email("second.admin@test.nhs.uk"))
    with other.session_transaction() as session:
        session["sid"], session["_user_id"] = token, str(second.id)
    page = other.get("/rights/erasures").get_data(as_text=True)
    import re
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    assert other.post(f"/rights/erasures/{request.id}/confirm", data={"csrf_token": csrf}).status_code == 302
    with app.app_context():
        kept = FieldChange.select().where(FieldChange.record_type == "referral", FieldChange.record_id == str(referral.id))
        assert kept.count() == rows and {c.new_value for c in kept} == {"Erased"}
        db.close()
    raw = _file_bytes(app)  # the SQLite file and its log; on PostgreSQL every row
    assert canary.encode() not in raw and visit_canary.encode() not in raw


def test_a_staff_members_named_concerns_are_gathered_and_erased_but_anonymous_ones_never_found(app):
    from peerapp.readiness import services
    from peerapp.readiness.models import Concern
    from peerapp.rights import registry
    from tests.test_rights import _file_bytes
    named, anonymous = "zq-canary-named-concern", "zq-canary-anonymous-concern"
    with app.app_context():
        load_demo()
        clinician = _user("clinician")
        concern = services.raise_concern(clinician.team_id, theme="workload", text=named, anonymous=False, by=clinician)
        services.raise_concern(clinician.team_id, theme="workload", text=anonymous, anonymous=True, by=clinician)
        lead = _user("lead")
        services.reply_to_concern(Concern.get_by_id(concern.id), reply="zq we will change the rota", expected_version=1,
                                  by=lead)
        person = registry.Person("staff", clinician.id)
        data = registry.gather(person)
        text = str(data)
        assert named in text and anonymous not in text
        assert any(h["field"] == "reply" and h["new"] == "zq we will change the rota" for h in data["history"])
        with db.atomic():
            registry.erase(person)
        assert Concern.get_by_id(concern.id).text == ""
        assert Concern.select().where(Concern.text == anonymous).exists()  # not theirs, as far as anyone knows
        registry.compact()
        db.close()
    assert named.encode() not in _file_bytes(app)
