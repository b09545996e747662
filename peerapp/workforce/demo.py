"""Demo workforce: the two demo peer leads named (paid), active paid and volunteer
peers with a mix of check states (one DBS expiring in 20 days, one already lapsed
so the role reads as paused), someone onboarding and someone just offered a role,
supervision records, a debrief, a team-meeting agreement and a declared conflict.
Every name is invented; every date follows today.
"""
from __future__ import annotations

import datetime as dt

from .. import clock
from ..db import db
from ..training.models import Candidate, EquivalentTraining
from .models import (CheckType, Debrief, InductionItem, InductionTick, PeerLeadDesignation, PeerRole,
                     RecruitmentCheck, StaffConflict, Supervision, TeamMeetingAgreement)

# key, name, kind, max caseload, matching details; users made for the ones without a demo login.
PEERS = [
    ("peer", "Sam Rivers", "paid", 4, dict(
        hours_per_week=22.5, working_days="mon,tue,wed", gender="man", age_band="26-35",
        languages="English", interests="football, music, cooking", areas="Northfield, Eastgate",
        availability="mon-am,mon-pm,tue-pm,wed-am", backgrounds="hearing voices, university dropout",
        intervention_kinds="1:1 recovery conversations, accompanying to appointments, group peer support")),
    ("volunteer", "Chris Lee", "volunteer", 2, dict(
        hours_per_week=6, working_days="wed,thu", gender="non-binary", age_band="18-25",
        languages="English, Polish", interests="art, dogs, walking", areas="Northfield",
        availability="wed-pm,thu-am,thu-pm", backgrounds="LGBTQ+, student",
        intervention_kinds="accompanying to community activities, phone check-ins")),
    ("fatima", "Fatima Hussain", "paid", 3, dict(
        hours_per_week=18.5, working_days="mon,wed,thu", gender="woman", age_band="26-35",
        languages="English, Urdu, Punjabi", interests="cooking, art, walking", areas="Northfield, Eastgate",
        availability="mon-pm,wed-pm,thu-pm", backgrounds="British Pakistani, mother",
        intervention_kinds="1:1 recovery conversations, WRAP co-writing")),
    ("daniel", "Daniel Price", "paid", 3, dict(
        hours_per_week=15, working_days="tue,thu,sat", gender="man", age_band="26-35", languages="English",
        interests="football, gaming, cycling", areas="Eastgate, Westbrook", availability="tue-pm,thu-pm,sat-am",
        backgrounds="ex-forces", intervention_kinds="accompanying to community activities")),
    ("amara", "Amara Okonkwo", "volunteer", 2, dict(
        hours_per_week=4, working_days="mon,wed", gender="woman", age_band="36-45", languages="English, Yoruba",
        interests="singing, cooking, church", areas="Northfield, South Vale", availability="mon-pm,wed-am",
        backgrounds="faith community, carer", intervention_kinds="welcome to the team, phone check-ins")),
    ("ravi", "Ravi Kumar", "paid", 3, dict(
        hours_per_week=15, working_days="tue,thu", gender="man", age_band="36-45",
        languages="English, Punjabi, Welsh", interests="swimming, cricket", areas="Northfield",
        availability="tue-pm,thu-pm", intervention_kinds="1:1 recovery conversations")),
]
DBS_EXPIRING = "daniel"   # DBS lapses in 20 days: on the 30-day list
DBS_EXPIRED = "ravi"      # DBS lapsed 12 days ago: the role reads as paused


def _candidate(demo, name: str, user, today: dt.date) -> Candidate:
    """The training demo's record of this person (by account, then by name); made
    with recognised equivalent training if that demo has none, so this one stands alone."""
    found = None
    if user is not None:
        found = Candidate.select().where(Candidate.user == user).first()
    found = found or Candidate.select().where(Candidate.name == name, Candidate.team == demo.team).first()
    if found is None:
        found = Candidate.create(name=name, email=name.lower().replace(" ", ".") + "@example.org", team=demo.team,
                                 nominated_by=demo.users["lead"], nominated_on=today - dt.timedelta(days=200))
    if found.completed_training() is None:
        EquivalentTraining.create(candidate=found, provider="Northfield Recovery College",
                                  completed_on=today - dt.timedelta(days=150), evidence="Certificate seen",
                                  recognised_by=demo.users["lead"], recognised_on=today - dt.timedelta(days=140))
    if user is not None and found.user_id != user.id:
        Candidate.update(user=user).where(Candidate.id == found.id).execute()
    return found


def _checks(candidate, kind: str, completed: dt.date, by, dbs_expires: dt.date | None = None, only=None) -> None:
    for check_type in CheckType.required_for(kind):
        if only is not None and check_type.code not in only:
            continue
        expires = None
        if check_type.lapses:
            expires = completed + dt.timedelta(days=round((check_type.valid_months or 12) * 30.44))
            if check_type.is_dbs and dbs_expires is not None:
                expires = dbs_expires
        RecruitmentCheck.create(candidate=candidate, check_type=check_type, completed_on=completed,
                                expires_on=expires, dbs_level="enhanced" if check_type.is_dbs else "",
                                dbs_update_service=True if check_type.is_dbs else None,
                                dbs_outcome="clear" if check_type.is_dbs else "", recorded_by=by,
                                recorded_at=_at(completed))


def _induction(role, by, day: dt.date, sign_off: bool = True, items=None) -> None:
    for item in list(InductionItem.checklist())[:items]:
        InductionTick.create(role=role, item=item, done_on=day, ticked_by=by, ticked_at=_at(day))
    if sign_off:
        role.induction_signed_off_on = day
        role.induction_signed_off_by = by
        role.save()


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour))


def seed(demo) -> None:
    today = clock.today()
    team = demo.team
    lead, lead2, manager = demo.users["lead"], demo.users["lead2"], demo.users["manager"]
    ago = lambda days: today - dt.timedelta(days=days)  # noqa: E731
    with db.atomic():
        for person in (lead, lead2):
            PeerLeadDesignation.create(team=team, user=person, paid=True, designated_on=ago(180), designated_by=manager)

        roles = {}
        for key, name, kind, limit, details in PEERS:
            user = demo.users.get(key)
            if user is None:
                first = name.split()[0].lower()
                user = demo.add_user(key, f"{first}@demo.peerapp", name, ["peer"], "")
            candidate = _candidate(demo, name, user, today)
            supervisor = lead2 if key in ("daniel", "amara") else lead
            role = PeerRole.create(candidate=candidate, user=user, team=team, kind=kind, start_date=ago(35),
                                   supervisor=supervisor, max_caseload=limit, status="active", offered_by=lead,
                                   base_access_on=ago(36), base_access_by=lead,
                                   created_at=_at(ago(60)), updated_at=_at(ago(35)), **details)
            dbs_expires = {DBS_EXPIRING: today + dt.timedelta(days=20), DBS_EXPIRED: ago(12)}.get(key)
            completed = ago(3 * 365 - 8) if key == DBS_EXPIRED else ago(60)
            _checks(candidate, kind, completed, lead, dbs_expires=dbs_expires,
                    only={"dbs"} if key == DBS_EXPIRED else None)
            if key == DBS_EXPIRED:  # everything else renewed recently
                _checks(candidate, kind, ago(60), lead, only={t.code for t in CheckType.required_for(kind)} - {"dbs"})
            if key == DBS_EXPIRING:
                RecruitmentCheck.update(completed_on=ago(3 * 365 - 20)).where(
                    RecruitmentCheck.candidate == candidate,
                    RecruitmentCheck.check_type == CheckType.get(code="dbs").id).execute()
            _induction(role, supervisor, ago(38))
            roles[key] = role
        PeerRole.update(auto_paused_since=ago(12)).where(PeerRole.id == roles[DBS_EXPIRED].id).execute()

        # Onboarding: checks under way, induction half done.
        niamh = _candidate(demo, "Niamh O'Connor", None, today)
        onboarding = PeerRole.create(candidate=niamh, team=team, kind="volunteer", start_date=today + dt.timedelta(days=14),
                                     supervisor=lead, max_caseload=2, status="onboarding", offered_by=lead,
                                     hours_per_week=6, working_days="tue,fri", languages="English, Irish",
                                     interests="poetry, running", areas="Westbrook", availability="tue-am,fri-am",
                                     gender="woman", age_band="46-55", created_at=_at(ago(10)), updated_at=_at(ago(6)))
        _checks(niamh, "volunteer", ago(6), lead, only={"confidentiality_agreement", "safeguarding_training"})
        _induction(onboarding, lead, ago(5), sign_off=False, items=2)
        # Just offered.
        gareth = _candidate(demo, "Gareth Morgan", None, today)
        PeerRole.create(candidate=gareth, team=team, kind="volunteer", start_date=today + dt.timedelta(days=28),
                        supervisor=lead2, max_caseload=2, status="offered", offered_by=lead2, hours_per_week=4,
                        working_days="sat", languages="English, Welsh", interests="rugby, fishing",
                        areas="Eastgate", availability="sat-am", gender="man", age_band="56-65",
                        created_at=_at(ago(2)), updated_at=_at(ago(2)))

        # Supervision: Sam monthly, Chris by the second lead once, Daniel overdue.
        Supervision.create(role=roles["peer"], held_on=ago(33), duration_minutes=60, recorded_by=lead,
                           recorded_at=_at(ago(33), 15), how_they_are="Settling in well; a little anxious about "
                           "the first home visit.", actions="Shadow Priya on two visits before going alone.",
                           next_on=ago(5))
        Supervision.create(role=roles["peer"], held_on=ago(5), duration_minutes=50, recorded_by=lead,
                           recorded_at=_at(ago(5), 15), how_they_are="Confident; enjoying the group work. "
                           "Sleeping well.", actions="Bring the work-WRAP to the next session.",
                           next_on=today + dt.timedelta(days=23))
        Supervision.create(role=roles["volunteer"], held_on=ago(12), duration_minutes=45, recorded_by=lead2,
                           recorded_at=_at(ago(12), 14), how_they_are="Tired after exams but keen to carry on.",
                           actions="Keep to two afternoons a week until the end of term.",
                           next_on=today + dt.timedelta(days=16))
        Supervision.create(role=roles["daniel"], held_on=ago(45), duration_minutes=60, recorded_by=lead2,
                           recorded_at=_at(ago(45), 11), how_they_are="Well.", actions="Book the DBS renewal.",
                           next_on=ago(15))
        Supervision.create(role=roles["fatima"], held_on=ago(9), duration_minutes=60, recorded_by=lead,
                           recorded_at=_at(ago(9), 13), how_they_are="Well; Ramadan timings agreed for visits.",
                           actions="Swap Thursday visits to mornings for now.", next_on=today + dt.timedelta(days=20))
        Supervision.create(role=roles["amara"], held_on=ago(20), duration_minutes=40, recorded_by=lead2,
                           recorded_at=_at(ago(20), 12), how_they_are="Enjoying the welcome calls.",
                           actions="Try a group session with Tom.", next_on=today + dt.timedelta(days=8))
        Debrief.create(role=roles["volunteer"], held_on=ago(1), recorded_by=lead, recorded_at=_at(ago(1), 17),
                       summary="Went with a service user to the library craft group; they stayed the whole hour.",
                       wellbeing="Pleased, a bit drained; going for a walk with the dog tonight.")

        TeamMeetingAgreement.create(role=roles["peer"], attends=True, arrangement="Weekly business meeting, "
                                    "not the clinical review", manager=manager, manager_on=ago(30), lead=lead,
                                    lead_on=ago(30), peer_on=ago(29), updated_at=_at(ago(29)))
        TeamMeetingAgreement.create(role=roles["volunteer"], attends=True, arrangement="First Wednesday "
                                    "of the month", manager=manager, manager_on=ago(3), lead=lead, lead_on=ago(3),
                                    updated_at=_at(ago(3)))
        StaffConflict.create(staff=demo.users["clinician"], role=roles["amara"], declared_on=ago(20),
                             recorded_by=manager, recorded_at=_at(ago(20)))
