"""What people do to a referral (and to the service users and catalogue behind it),
each a rule-checked, audited write.

Views parse a form and call one of these; a ``Refusal`` (``ReferralError``,
``AssignmentRefused``, ``states.TransitionRefused``) carries the message to show.
Every change is made, put in the referral's history and audited in one
``db.atomic()``. A change of state goes through :func:`move_to`, a compare-and-set
on the state the person saw (``peerapp.changes.compare_and_set``), so of two people
pressing the same button only the first wins and the other is told someone else has
just changed the referral; nothing else of the loser's transaction is kept. The
partial unique index ``assignment_one_open_per_referral`` (m0044: one open
assignment per referral) stands behind :func:`assign`, and the peer's role row is held
(``peerapp.changes.hold``) while their caseload is counted.

Who may take a referral is ``Referral.assignment_problems`` (``eligibility.py``);
matching's approval calls :func:`assign` inside its own transaction and audits the
proposal instead.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import peewee as pw

from .. import clock, history
from ..audit import audit
from ..changes import Refusal, StaleEdit, check_version, compare_and_set, hold, unique_violation
from ..db import InsertOnce, db
from ..models import User
from ..workforce.models import PeerRole
from . import states
from .models import (ASSIGNMENT_HOW, DOUBLE_TAP, NOT_A_GOOD_FIT, Assignment, Contact, DeclaredConflict,
                     FirstMeeting, InformationRequest, Intervention, PeerPreference, Referral, ReferralEvent,
                     ReferralIntervention, ServiceUser)


class ReferralError(Refusal):
    """A domain rule said no; the message is plain English for the person."""


class AssignmentRefused(ReferralError):
    pass


class Duplicate(ReferralError):
    """An "only one" rule the database kept (a unique index); ``field`` is the form field it concerns."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


OPEN_REFERRAL = ("This service user already has an open referral to this team: add to that one "
                 "(it may have been sent a moment ago)")
INTERVENTION_NAME_TAKEN = "There is already an intervention with this name"
SERVICE_USER_CHANGED = ("Someone else changed these details while you were editing. Nothing was saved: your "
                        "changes are below. Open the record in a new tab to see theirs, then save again.")


def stale_message(seen_state: str) -> str:
    """What a person is told when someone else changed the referral after they read it."""
    return (f"Someone else has just changed this referral: it is no longer {states.describe(seen_state)}. "
            "Nothing was saved. Open the referral again to see what they did.")


# --- lists kept in other tables ----------------------------------------------------

def set_interventions(referral: Referral, interventions, at_screening: bool = False) -> None:
    """The interventions the referrer asks for (or, ``at_screening``, those screening found suitable)."""
    with db.atomic():
        ReferralIntervention.delete().where(
            ReferralIntervention.referral == referral,
            ReferralIntervention.chosen_at_screening == at_screening).execute()
        for item in interventions:
            ReferralIntervention.create(referral=referral, intervention=item, chosen_at_screening=at_screening)


def set_preferences(service_user: ServiceUser, rows: list[tuple[str, str, bool]]) -> None:
    """What the service user would like in their peer: (kind, value, must) rows replace those kept."""
    with db.atomic():
        PeerPreference.delete().where(PeerPreference.service_user == service_user).execute()
        for kind, value, must in rows:
            if value.strip():
                PeerPreference.create(service_user=service_user, kind=kind, value=value.strip(), must=must)


# --- service users and referring them ------------------------------------------------

@dataclass(frozen=True)
class Consent:
    """Consent as the form gives it: the date, and which of the two it covers."""
    on: dt.date | None
    referral: bool
    sharing: bool


def _apply_person(su: ServiceUser, person: dict, consent: Consent, by: User) -> None:
    """Set a service user's details (``person``: field -> value) and consent. Consent
    records who recorded it only when a date actually changes."""
    for name, value in person.items():
        setattr(su, name, value)
    if consent.on and (consent.referral or consent.sharing):
        changed = False
        if consent.referral and su.consent_referral_on != consent.on:
            su.consent_referral_on, changed = consent.on, True
        if consent.sharing and su.consent_sharing_on != consent.on:
            su.consent_sharing_on, changed = consent.on, True
        if changed:
            su.consent_recorded_by = by.id
    if not consent.referral:
        su.consent_referral_on = None
    if not consent.sharing:
        su.consent_sharing_on = None


def _duplicate_service_user(error: Exception) -> Duplicate:
    """Which "only one" rule the database kept, as a message on the field concerned."""
    text = str(error).lower()
    if "nhs_number" in text:
        return Duplicate("nhs_number", "A service user with this NHS number is already recorded: "
                                       "search for them and refer them from their record")
    if "referral" in text:
        return Duplicate("own_words", OPEN_REFERRAL)
    return Duplicate("name", "A service user with this name and date of birth is already recorded in "
                             "this team: search for them and refer them from their record")


def _new_referral(su: ServiceUser, referral: dict, interventions, by: User) -> Referral:
    now = clock.now()
    made = Referral.create(service_user=su, team=su.team_id, referrer=by.id, referred_on=clock.today(),
                           state_changed_at=now, created_at=now, **referral)
    set_interventions(made, interventions)
    return made


def _just_referred(by: User, service_user_match, own_words: str) -> Referral | None:
    """The same referral sent twice by a double tap: same person, same referrer, moments apart."""
    return (Referral.select(Referral, ServiceUser).join(ServiceUser)
            .where(Referral.referrer == by.id, service_user_match, Referral.own_words == own_words,
                   Referral.created_at >= clock.now() - DOUBLE_TAP).first())


def refer_new_service_user(*, by: User, person: dict, consent: Consent, preferences, referral: dict,
                           interventions) -> tuple[Referral, bool]:
    """Record a new service user and refer them: (the referral, True), or (the referral sent
    a moment ago, False) when a double tap sent the same one twice. ``Duplicate`` when the
    database already holds them (NHS number, name and date of birth) or an open referral."""
    twin = _just_referred(by, (ServiceUser.name == person["name"]) &
                          (ServiceUser.date_of_birth == person["date_of_birth"]), referral["own_words"])
    if twin is not None:
        return twin, False
    try:
        with db.atomic():
            su = ServiceUser(team=person["team"], created_by=by.id, created_at=clock.now())
            _apply_person(su, person, consent, by)
            su.save()
            set_preferences(su, preferences)
            made = _new_referral(su, referral, interventions, by)
            audit("create", su, user=by, summary="service user recorded")
            audit("create", made, user=by, summary="referral submitted"
                  + (" without recorded consent (reason given)" if made.consent_override_reason else ""))
    except pw.IntegrityError as error:
        if not unique_violation(error):
            raise
        raise _duplicate_service_user(error) from None  # someone recorded them a moment ago
    return made, True


def refer(su: ServiceUser, *, by: User, referral: dict, interventions) -> tuple[Referral, bool]:
    """A new referral for a service user already recorded: (the referral, True), or (the one
    sent a moment ago, False). ``Duplicate`` when they have an open referral to the team."""
    twin = _just_referred(by, ServiceUser.id == su.id, referral["own_words"])
    if twin is not None:
        return twin, False
    try:
        with db.atomic():
            made = _new_referral(su, referral, interventions, by)
            audit("create", made, user=by, summary="referral submitted")
    except pw.IntegrityError as error:
        if not unique_violation(error):
            raise
        raise Duplicate("own_words", OPEN_REFERRAL) from None
    return made, True


def update_service_user(su: ServiceUser, *, by: User, person: dict, consent: Consent, preferences,
                        seen: str | None) -> None:
    """Correct a service user's details, preferences and consent, each changed field in
    their history. ``StaleEdit`` when the record changed since the form was made from
    ``seen`` (``su.version()``); ``Duplicate`` as for recording them."""
    try:
        with db.atomic():
            if seen != su.version():
                raise StaleEdit(SERVICE_USER_CHANGED)
            before = history.snapshot(su)
            preferences_before = "; ".join(str(p) for p in su.preferences)
            _apply_person(su, person, consent, by)
            su.save()
            set_preferences(su, preferences)
            history.record_changes(before, su)
            history.record_values("service_user", su.id, {"preferences": preferences_before},
                                  {"preferences": "; ".join(str(p) for p in su.preferences)})
            audit("update", su, user=by, summary="service user details changed")
    except pw.IntegrityError as error:
        if not unique_violation(error):
            raise
        raise _duplicate_service_user(error) from None


def record_conflict(su: ServiceUser, role: PeerRole, *, by: User, side: str, note: str) -> DeclaredConflict | None:
    """A conflict declared by a peer or by the service user: the pair is never assigned or
    proposed. None when that side's conflict is already recorded."""
    if DeclaredConflict.get_or_none(service_user=su, peer_role=role, declared_by_side=side):
        return None
    with db.atomic():
        conflict = DeclaredConflict.create(service_user=su, peer_role=role, declared_by_side=side,
                                           note=note.strip(), recorded_by=by.id, recorded_on=clock.today())
        audit("create", conflict, user=by, summary=f"conflict declared by the {conflict.declared_by_side}")
    return conflict


# --- the intervention catalogue ---------------------------------------------------------

def save_intervention(item: Intervention | None, *, by: User, fields: dict, seen: str | None = None) -> Intervention:
    """Add an intervention (``item`` None) or change or retire one; retired items stay in
    history. ``StaleEdit`` when it changed since ``seen``; ``Duplicate`` for a name taken."""
    try:
        with db.atomic():
            if item is None:
                item = Intervention(created_at=clock.now(), **fields)
                item.save()
                audit("create", item, user=by, summary="intervention added to the catalogue")
            else:
                check_version(item, seen)
                for name, value in fields.items():
                    setattr(item, name, value)
                item.save()
                audit("update", item, user=by, summary="intervention changed" + (" (retired)" if item.retired else ""))
    except pw.IntegrityError as error:
        if not unique_violation(error):
            raise
        raise Duplicate("name", INTERVENTION_NAME_TAKEN) from None  # someone added it a moment ago
    return item


# --- the state machine ---------------------------------------------------------------

def move_to(referral: Referral, target: str, *, by: User, reason: str = "", roles=None) -> ReferralEvent:
    """Change state through the state machine, recording who, when and why.

    Compare-and-set: the row moves only if it is still in the state ``referral`` was
    read in, so of two people acting on one referral only the first wins and the
    other is refused (nothing else in their transaction is kept). The object's state
    is set by hand afterwards, for the page and the history.
    """
    states.check(referral.state, target, roles if roles is not None else by.roles, reason)
    with db.atomic():
        now = clock.now()
        compare_and_set(Referral, referral.id, {"state": referral.state}, state=target, state_changed_at=now,
                        refused=stale_message(referral.state))
        event = ReferralEvent.create(referral=referral, from_state=referral.state, to_state=target,
                                     by_user=by, at=now, reason=(reason or "").strip())
        referral.state = target
        referral.state_changed_at = now
    return event


# --- screening -----------------------------------------------------------------------

def screen(referral: Referral, decision: str, *, by: User, reasons: str = "", risk_considerations: str = "",
           interventions=(), volunteer_allowed: bool = False, questions: str = "",
           risk_level: str | None = None, safety_note: str = "") -> None:
    """A peer lead's screening decision: accepted (then straight on to awaiting match),
    declined with reasons, or questions back to the referrer. ``safety_note`` is
    written for the peer who takes it (volunteers see it instead of the risk summary)."""
    before = referral.state
    with db.atomic(), history.tracked(referral, user=by):
        if referral.state == states.SUBMITTED:
            move_to(referral, states.SCREENING, by=by)
        if referral.state != states.SCREENING:
            raise states.TransitionRefused(
                f"This referral is {states.describe(referral.state)}, so it cannot be screened now.")
        referral.screening_reasons = reasons.strip()
        referral.risk_considerations = risk_considerations.strip()
        referral.safety_note = safety_note.strip()
        referral.screened_by = by
        referral.screened_on = clock.today()
        if risk_level:
            referral.risk_level = risk_level
        if decision == states.ACCEPTED:
            if not list(interventions):
                raise ReferralError("Choose at least one suitable intervention before accepting.")
            move_to(referral, states.ACCEPTED, by=by, reason=reasons)
            referral.volunteer_allowed = bool(volunteer_allowed)
            set_interventions(referral, interventions, at_screening=True)
            referral.save()
            move_to(referral, states.AWAITING_MATCH, by=by)
        elif decision == states.DECLINED:
            move_to(referral, states.DECLINED, by=by, reason=reasons)
            referral.decline_reason = reasons.strip()
            referral.save()
        elif decision == states.MORE_INFO:
            if not questions.strip():
                raise ReferralError("Write the questions for the referrer.")
            move_to(referral, states.MORE_INFO, by=by, reason=questions)
            InformationRequest.create(referral=referral, questions=questions.strip(), asked_by=by,
                                      asked_at=clock.now())
        else:
            raise ReferralError("Choose a screening decision.")
        audit("screen", referral, user=by, summary=f"{before} -> {referral.state}")


def answer_questions(referral: Referral, answer: str, *, by: User) -> None:
    """The referrer's answer to screening's questions: the referral returns to screening."""
    if referral.state != states.MORE_INFO:
        # Without this a peer lead's stale answer page would move a submitted referral
        # on to screening (a move peer leads may make), with the "answer" as its reason.
        raise states.TransitionRefused(f"This referral is {states.describe(referral.state)}: "
                                       "there are no questions waiting for an answer.")
    with db.atomic():
        request = referral.open_questions()
        with history.tracked(referral, history.Part(request, referral, "questions"), user=by):
            move_to(referral, states.SCREENING, by=by, reason=answer)
            if request is not None:
                request.answer = answer.strip()
                request.answered_by = by
                request.answered_at = clock.now()
                request.save()
        audit("answer", referral, user=by, summary="questions answered; back to screening")


# --- matching a peer -------------------------------------------------------------------

def assign(referral: Referral, peer_role: PeerRole, *, by: User, how: str = "by hand",
           overriding: PeerRole | None = None, override_reason: str = "") -> Assignment:
    """Assign a peer: awaiting match -> matched. Raises AssignmentRefused (plain English)
    with every reason the peer may not take it (``Referral.assignment_problems``).
    ``overriding``: the peer a matching run proposed, when the lead chose another (with a
    reason). By hand it is audited here; a matching run's approval is audited on its proposal
    by ``matching.services``, which calls this inside its own transaction."""
    if how not in ASSIGNMENT_HOW:
        raise AssignmentRefused(f"Unknown way of assigning: {how}")
    if referral.state != states.AWAITING_MATCH:
        raise AssignmentRefused(f"This referral is {states.describe(referral.state)}, "
                                "so a peer cannot be assigned now.")
    with db.atomic():
        # Capacity is a rule across rows: hold the peer's role row until commit, so two
        # referrals cannot both take a peer's last place.
        hold(PeerRole, peer_role.id)
        problems = referral.assignment_problems(peer_role)
        if problems:
            raise AssignmentRefused(f"{peer_role.display_name} cannot be assigned: " + "; ".join(problems) + ".")
        if overriding is not None:
            said = (f"{peer_role.display_name} assigned by overriding the matching run's proposal of "
                    f"{overriding.display_name}. Reason: {override_reason.strip()}")
        else:
            said = f"{peer_role.display_name} assigned {how}"
        move_to(referral, states.MATCHED, by=by, reason=said)
        assignment = Assignment.create(referral=referral, peer_role=peer_role, assigned_by=by,
                                       assigned_at=clock.now(), how=how,
                                       overrode_peer=overriding.display_name if overriding else "",
                                       override_reason=override_reason.strip() if overriding else "")
        if how == "by hand":
            audit("assign", referral, user=by, summary=f"peer role #{peer_role.id} assigned by hand")
    return assignment


def _end(assignment: Assignment | None, reason: str, by: User) -> None:
    """Close the open assignment (a row read with the referral, tracked by the caller)."""
    if assignment is not None:
        assignment.ended_at = clock.now()
        assignment.ended_reason = reason
        assignment.ended_by = by
        assignment.save()


def end_assignment(referral: Referral, reason: str, *, by: User, target: str = states.AWAITING_MATCH) -> None:
    """End a match before the first meeting is arranged (once it is, its outcome says
    how the match ends: record_first_meeting)."""
    if referral.state != states.MATCHED:
        raise states.TransitionRefused(f"This referral is {states.describe(referral.state)}: only a match "
                                       "waiting for its first meeting can be ended here.")
    with db.atomic():
        current = referral.current_assignment()
        with history.tracked(referral, history.Part(current, referral, "assignment"), user=by):
            move_to(referral, target, by=by, reason=reason)
            _end(current, reason.strip()[:200], by)
        audit("unassign", referral, user=by, summary="assignment ended before the first meeting")


# --- the first meeting ---------------------------------------------------------------

def arrange_first_meeting(referral: Referral, *, by: User, meeting_on: dt.date, place: str,
                          attendees: str) -> FirstMeeting:
    """Matched -> first meeting, with its date, place and who attends."""
    if meeting_on < referral.referred_on:
        raise ReferralError(f"The first meeting cannot be before the referral date "
                            f"({referral.referred_on:%-d %b %Y}).")
    with db.atomic():
        with history.tracked(referral, user=by):
            move_to(referral, states.FIRST_MEETING, by=by, reason=f"first meeting arranged for {meeting_on:%-d %b %Y}")
            meeting = FirstMeeting.create(referral=referral, assignment=referral.current_assignment(),
                                          meeting_on=meeting_on, place=place.strip(), attendees=attendees.strip(),
                                          facilitated_by=by, recorded_at=clock.now())
        audit("first_meeting", referral, user=by, summary="first meeting arranged")
    return meeting


def record_first_meeting(referral: Referral, go_ahead: bool, reason: str = "", *, by: User,
                         meeting_on: dt.date | None = None, place: str | None = None,
                         attendees: str | None = None) -> FirstMeeting:
    """The outcome: go ahead (active), or not a good fit (back to awaiting match;
    the assignment ends with "not a good fit" and the pair is not proposed again)."""
    if referral.state != states.FIRST_MEETING:
        raise states.TransitionRefused(f"This referral is {states.describe(referral.state)}: "
                                       "there is no first meeting waiting for an outcome.")
    with db.atomic():
        current = referral.current_assignment()
        meeting = referral.first_meetings().first() or FirstMeeting(
            referral=referral, assignment=current, facilitated_by=by)
        with history.tracked(referral, history.Part(meeting, referral, "first meeting"),
                             history.Part(current, referral, "assignment"), user=by):
            if meeting_on:
                meeting.meeting_on = meeting_on
            if place is not None:
                meeting.place = place.strip()
            if attendees is not None:
                meeting.attendees = attendees.strip()
            meeting.outcome = "go ahead" if go_ahead else NOT_A_GOOD_FIT
            meeting.outcome_reason = (reason or "").strip()
            meeting.recorded_at = clock.now()
            if go_ahead:
                move_to(referral, states.ACTIVE, by=by, reason=reason or "go ahead after the first meeting")
            else:
                states.check(referral.state, states.AWAITING_MATCH, by.roles, reason)
                move_to(referral, states.AWAITING_MATCH, by=by, reason=reason)
                _end(current, NOT_A_GOOD_FIT, by)
            meeting.save()
        audit("first_meeting", referral, user=by,
              summary="first meeting: go ahead" if go_ahead else "first meeting: not a good fit")
    return meeting


# --- closing ---------------------------------------------------------------------------

def close(referral: Referral, outcome: str, summary: str, *, by: User) -> None:
    """Close with an outcome and a summary; the open assignment ends with it."""
    if outcome not in states.CLOSING_OUTCOMES:
        raise ReferralError("Choose an outcome.")
    with db.atomic():
        current = referral.current_assignment()
        with history.tracked(referral, history.Part(current, referral, "assignment"), user=by):
            move_to(referral, states.CLOSED, by=by, reason=f"{outcome}: {summary}".strip())
            referral.outcome = outcome
            referral.closing_summary = summary.strip()
            referral.closed_on = clock.today()
            referral.save()
            _end(current, NOT_A_GOOD_FIT if outcome == NOT_A_GOOD_FIT else "referral closed", by)
        audit("close", referral, user=by, summary=f"closed: {outcome}")


# --- contacts --------------------------------------------------------------------------

def _contact_dates(referral: Referral, contact_on: dt.date) -> None:
    if contact_on < referral.referred_on:
        raise ReferralError(f"The contact date is before the referral date ({referral.referred_on:%-d %b %Y}).")
    if contact_on > clock.today():
        raise ReferralError("The contact date is in the future: record contacts once they have happened.")


def record_contact(referral: Referral, *, by: User, **fields) -> Contact:
    """A contact with the service user (``debrief_on`` set: entered by the peer lead at a
    volunteer's debrief). Refused before the referral date, in the future, or when no
    peer is working with the referral. The same contact sent twice moments apart (a
    double tap on a slow tablet) is kept once."""
    _contact_dates(referral, fields["contact_on"])
    with db.atomic():
        # The state as it is now, held until commit: a referral closed a moment ago
        # by someone else takes no more contacts. Its open assignment's peer comes
        # with it (the contact is theirs).
        now_state, peer_role_id = referral.state_and_peer_role_id()
        if now_state not in (states.FIRST_MEETING, states.ACTIVE):
            raise ReferralError(f"Contacts are recorded once the first meeting is arranged; "
                                f"this referral is {states.describe(now_state)}.")
        now = clock.now()
        contact = _same_contact_just_sent(referral, by, now, fields)
        if contact is None:
            contact = _NEW_CONTACT(referral=referral.id, peer_role=peer_role_id, recorded_by=by,
                                   recorded_at=now, **fields)
        audit("create", contact, user=by, summary=f"contact on {referral.label}"
              + (" entered at debrief" if fields.get("debrief_on") is not None else ""))
    return contact


_NEW_CONTACT = InsertOnce(Contact)  # the commonest write: its INSERT is built once


def _same_contact_just_sent(referral: Referral, by: User, now: dt.datetime, fields: dict) -> Contact | None:
    """The contact this person recorded last on this referral, if that was in the last
    ``DOUBLE_TAP`` and every one of these fields is the same (a double tap), or None. A
    repeat of an earlier contact, with another recorded since, is a new contact: a
    second tap arrives before anything else can be sent from that page."""
    latest = Contact.latest_recorded(referral.id, by.id, now - DOUBLE_TAP)
    if latest is None:
        return None
    wanted = {name: value.id if isinstance(value, pw.Model) else value for name, value in fields.items()}
    return latest if all(latest.__data__.get(name) == value for name, value in wanted.items()) else None


def correct_contact(contact: Contact, *, by: User, reason: str, seen: str | None, **fields) -> list:
    """Correct a recorded contact (a wrong date, duration, setting, attendance or summary),
    in any state of its referral: the same date rules as recording it, field history
    with the reason, one guarded UPDATE (``StaleEdit`` when it changed since ``seen``).
    Returns the changes (none: nothing was changed, nothing audited)."""
    referral = Referral.get_by_id(contact.referral_id)
    contact_on = fields["contact_on"]
    _contact_dates(referral, contact_on)
    if fields.get("debrief_on") is not None and fields["debrief_on"] < contact_on:
        raise ReferralError("The debrief cannot be before the contact.")
    if not reason.strip():
        raise ReferralError("Say why the record is corrected.")
    with db.atomic():
        changed = history.correct(contact, fields, reason=reason, seen=seen, user=by)
        if changed:
            audit("update", contact, user=by, summary=f"contact on {referral.label} corrected: "
                                                      f"{', '.join(c['field'] for c in changed)}; "
                                                      f"reason: {reason.strip()}")
    return changed
