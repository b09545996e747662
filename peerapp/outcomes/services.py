"""One function per thing a person does with outcome measures. No Flask here.

Each opens ``db.atomic()``, changes rows, writes the audit row (no answers, no
names in it) and raises ``Refusal`` with a message for the person.

Who may do what (one rule, one place):
- a service user's measure: entered and read by the referral team's peer leads
  and managers, and by the paid peer assigned to the referral now; a volunteer's
  is entered by their peer lead at debrief, attributed to the volunteer;
- a peer's own measure: the peer's alone. Their supervisor may enter one with
  them (e.g. a volunteer at supervision) but reads the scores only while the peer
  shares them (revocable, audited). Nobody else, not managers, not admins.
"""
from __future__ import annotations

import datetime as dt
import json

import peewee as pw

from .. import clock, history
from ..audit import audit
from ..changes import Refusal, check_version, record_version, unique_violation
from ..db import db
from ..models import User
from ..referrals import states
from ..referrals.models import Assignment, Referral
from ..workforce.models import PeerRole
from . import definition as definitions
from . import scoring
from .models import (BASELINE, COMPLETED, END, NOT_DONE, OCCASIONS, PEER, REVIEW, SERVICE_USER, STATUSES,
                     Measure, MeasureResponse, MeasureSchedule, MeasureVersion, ScoreShare)

LEADS = ("peer_lead", "manager")
OWN_MEASURE_ROLES = ("peer", "peer_lead")
OPEN_STATES = (states.MATCHED, states.FIRST_MEETING, states.ACTIVE)


# --- measures -----------------------------------------------------------------
def import_measure(text: str, filename: str, by: User | None = None) -> tuple[MeasureVersion, bool]:
    """Check a definition and store it: a new measure, a new version of a measure
    whose definition changed, or (returns created=False) the version already held."""
    parsed = definitions.parse(text, filename)
    data = definitions.load(text, filename)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
    digest = definitions.digest(canonical)
    with db.atomic():
        measure = Measure.get_or_none(Measure.key == parsed.key)
        if measure is None:
            measure = Measure.create(key=parsed.key, name=parsed.name, created_at=clock.now())
        else:
            same = MeasureVersion.get_or_none(MeasureVersion.measure == measure, MeasureVersion.digest == digest)
            if same is not None:
                return same, False
            Measure.update(name=parsed.name).where(Measure.id == measure.id).execute()
        latest = measure.current()
        version = MeasureVersion.create(measure=measure, number=(latest.number if latest else 0) + 1,
                                        label=parsed.version_label, definition_json=canonical, digest=digest,
                                        imported_at=clock.now(), imported_by=by)
        audit("create", version, summary=f"measure {parsed.key} version {version.number} imported", user=by)
    return version, True


def _schedules(measure: Measure) -> list:
    """What the measure page's schedule form was made from: every schedule of the measure."""
    return list(MeasureSchedule.select(MeasureSchedule.subject, MeasureSchedule.review_weeks, MeasureSchedule.active)
                .where(MeasureSchedule.measure == measure).order_by(MeasureSchedule.id).tuples())


def schedule_version(measure: Measure) -> str:
    """The version the schedule form carries: a save from a stale page is refused."""
    return record_version(measure, *_schedules(measure))


def set_schedule(measure_id: int, subject: str, review_weeks: int, active: bool, by: User,
                 expected_version: str | None = None) -> MeasureSchedule:
    """Start, change or stop a measure's schedule. ``expected_version`` (from the form):
    someone else's change since the page was opened refuses the save (``StaleEdit``)."""
    if subject not in (SERVICE_USER, PEER):
        raise Refusal("Choose who the measure is for.")
    if not 1 <= review_weeks <= 104:
        raise Refusal("Reviews are due every 1 to 104 weeks.")
    with db.atomic():
        measure = Measure.get_or_none(Measure.id == measure_id)
        if measure is None:
            raise Refusal("That measure no longer exists.")
        check_version(measure, expected_version, _schedules)
        schedule = MeasureSchedule.get_or_none(MeasureSchedule.measure == measure, MeasureSchedule.subject == subject)
        if schedule is None:
            schedule = MeasureSchedule.create(measure=measure, subject=subject, review_weeks=review_weeks,
                                              active=active)
        else:
            MeasureSchedule.update(review_weeks=review_weeks, active=active).where(
                MeasureSchedule.id == schedule.id).execute()
        audit("update", schedule, summary=f"schedule for {subject}s: every {review_weeks} weeks, "
                                          f"{'on' if active else 'off'}", user=by)
    return schedule


def scheduled(subject: str) -> list[MeasureSchedule]:
    return list(MeasureSchedule.select(MeasureSchedule, Measure).join(Measure)
                .where(MeasureSchedule.subject == subject, MeasureSchedule.active == True)  # noqa: E712
                .order_by(Measure.name))


# --- who may ------------------------------------------------------------------
def current_assignment_role(referral: Referral) -> PeerRole | None:
    found = (PeerRole.select().join(Assignment, on=(Assignment.peer_role == PeerRole.id))
             .where(Assignment.referral == referral, Assignment.ended_at.is_null()).first())
    return found


def may_work_with_referral(actor: User, referral: Referral) -> bool:
    if actor.has_role(*LEADS) and actor.team_id is not None and actor.team_id == referral.team_id:
        return True
    if actor.has_role("peer"):
        role = PeerRole.current_for(actor)
        assigned = current_assignment_role(referral)
        return bool(role and not role.is_volunteer and assigned and assigned.id == role.id)
    return False


def supervises(actor: User, peer: User) -> bool:
    role = PeerRole.current_for(peer)
    return bool(role and role.supervisor_id == actor.id and actor.has_role("peer_lead"))


def may_read_peer_scores(actor: User, peer: User) -> bool:
    if actor.id == peer.id:
        return True
    return supervises(actor, peer) and ScoreShare.active_between(peer, actor) is not None


def may_enter_for_peer(actor: User, peer: User) -> bool:
    if actor.id == peer.id:
        return actor.has_role(*OWN_MEASURE_ROLES)
    return supervises(actor, peer)


# --- responses ----------------------------------------------------------------
def _scored(version: MeasureVersion, status: str, answers: dict | None, taken_on: dt.date):
    """(total, subscales, answers kept) for a response as entered, or corrected; refuses
    a date in the future and a completed measure with a question unanswered."""
    if taken_on > clock.today():
        raise Refusal("The date is in the future: record a measure once it has been taken.")
    if status != COMPLETED:
        return None, {}, {}
    try:
        result = scoring.score(version.definition, answers or {})
    except scoring.Unanswered:
        raise Refusal("Answer every question, or record that the measure was declined or could not be completed.") from None
    return result.total, result.subscales, answers or {}


def correct_for_referral(response: MeasureResponse, *, by: User, correction_reason: str, seen: str | None,
                         status: str, answers: dict | None, taken_on: dt.date, reason: str = "") -> list:
    """Correct a service user's measure (a mis-clicked answer, the wrong date), by those
    who may enter it, under the rules of entering it. The score is worked out again by
    the measure's own scoring; paired and reliable change are computed from the stored
    scores (``change.pairs``), so they follow. Field history with the reason; audited."""
    referral = Referral.get_or_none(Referral.id == response.referral_id)
    if referral is None or not may_work_with_referral(by, referral):
        raise Refusal("You cannot correct measures for this referral.")
    if status not in STATUSES or (status == NOT_DONE and response.occasion != END):
        raise Refusal("Choose whether the measure was completed, declined or could not be completed.")
    if status == NOT_DONE and not (reason or "").strip():
        raise Refusal("Say why the end measure was not done.")
    if taken_on < referral.referred_on:
        raise Refusal(f"The date is before the referral ({referral.referred_on:%-d %b %Y}).")
    if not (correction_reason or "").strip():
        raise Refusal("Say why you are correcting it")
    total, subscales, answers = _scored(response.version, status, answers, taken_on)
    with db.atomic():
        changed = history.correct(response, dict(taken_on=taken_on, status=status, total=total,
                                                 subscales_json=json.dumps(subscales),
                                                 answers_json=json.dumps(answers),
                                                 reason=(reason or "").strip()[:2000]),
                                  reason=correction_reason, seen=seen, user=by)
        if changed:
            audit("update", response, user=by, summary=f"{response.occasion} measure corrected: "
                  f"{', '.join(c['field'] for c in changed)}; reason: {correction_reason.strip()}")
    return changed


def _store(version: MeasureVersion, fields: dict, status: str, answers: dict | None, reason: str,
           taken_on: dt.date, by: User) -> MeasureResponse:
    if status not in STATUSES:
        raise Refusal("Choose whether the measure was completed, declined or could not be completed.")
    total, subscales, answers = _scored(version, status, answers, taken_on)
    try:
        with db.atomic():
            response = MeasureResponse.create(
                version=version, measure=version.measure_id, taken_on=taken_on, status=status, total=total,
                subscales_json=json.dumps(subscales), answers_json=json.dumps(answers or {}),
                reason=(reason or "").strip()[:2000], entered_by=by, recorded_at=clock.now(), **fields)
            audit("create", response, summary=f"{fields['occasion']} measure recorded ({status})", user=by)
    except pw.IntegrityError as error:
        if unique_violation(error):
            raise Refusal(f"A {fields['occasion']} measure is already recorded for this person "
                          "(someone may have just saved it). Record a review instead.") from None
        raise
    return response


def record_for_referral(referral_id: int, version_id: int, occasion: str, status: str, answers: dict | None,
                        taken_on: dt.date, by: User, reason: str = "", reported_by_role_id: int | None = None,
                        debrief_on: dt.date | None = None) -> MeasureResponse:
    referral = Referral.get_or_none(Referral.id == referral_id)
    if referral is None or not may_work_with_referral(by, referral):
        raise Refusal("You cannot record measures for this referral.")
    if occasion not in OCCASIONS:
        raise Refusal("Choose baseline, review or end.")
    if occasion != END and referral.state not in OPEN_STATES:
        raise Refusal(f"This referral is {states.describe(referral.state)}: only an end measure can be recorded now.")
    version = MeasureVersion.get_or_none(MeasureVersion.id == version_id)
    if version is None:
        raise Refusal("That measure no longer exists.")
    if status == NOT_DONE and occasion != END:
        raise Refusal("'Not done' is for the end measure at closing.")
    if status == NOT_DONE and not (reason or "").strip():
        raise Refusal("Say why the end measure was not done.")
    if taken_on < referral.referred_on:
        raise Refusal(f"The date is before the referral ({referral.referred_on:%-d %b %Y}).")
    fields = {"subject": SERVICE_USER, "referral": referral, "service_user": referral.service_user_id,
              "team_id": referral.team_id, "occasion": occasion}
    if reported_by_role_id:
        role = PeerRole.get_or_none(PeerRole.id == reported_by_role_id)
        if role is None or not role.is_volunteer or not by.has_role("peer_lead"):
            raise Refusal("Only a peer lead enters a measure a volunteer reported at debrief.")
        if debrief_on is None:
            raise Refusal("Give the date of the debrief.")
        fields.update(reported_by_role=role, debrief_on=debrief_on)
    return _store(version, fields, status, answers, reason, taken_on, by)


def record_for_peer(peer_id: int, version_id: int, occasion: str, status: str, answers: dict | None,
                    taken_on: dt.date, by: User, reason: str = "") -> MeasureResponse:
    peer = User.get_or_none(User.id == peer_id)
    if peer is None or not may_enter_for_peer(by, peer):
        raise Refusal("You cannot record this person's own measures.")
    if occasion not in (BASELINE, REVIEW):
        raise Refusal("Choose baseline or review.")
    version = MeasureVersion.get_or_none(MeasureVersion.id == version_id)
    if version is None:
        raise Refusal("That measure no longer exists.")
    if status == NOT_DONE:
        raise Refusal("Choose completed, declined or could not complete.")
    fields = {"subject": PEER, "peer": peer, "team_id": peer.team_id or 0, "occasion": occasion}
    return _store(version, fields, status, answers, reason, taken_on, by)


# --- a peer's own scores, shared by choice --------------------------------------
def share_scores(owner: User, by: User) -> ScoreShare:
    if owner.id != by.id:
        raise Refusal("Only the peer can share their own scores.")
    role = PeerRole.current_for(owner)
    if role is None or role.supervisor_id is None:
        raise Refusal("You have no supervisor recorded, so there is nobody to share with.")
    supervisor = User.get_by_id(role.supervisor_id)
    try:
        with db.atomic():
            share = ScoreShare.create(owner=owner, viewer=supervisor, created_at=clock.now())
            audit("share", share, summary="own outcome scores shared with supervisor", user=by)
    except pw.IntegrityError as error:
        if unique_violation(error):
            raise Refusal("Your scores are already shared with your supervisor.") from None
        raise
    return share


def revoke_share(owner: User, share_id: int, by: User) -> None:
    if owner.id != by.id:
        raise Refusal("Only the peer can stop sharing their own scores.")
    with db.atomic():
        changed = (ScoreShare.update(revoked_at=clock.now())
                   .where(ScoreShare.id == share_id, ScoreShare.owner == owner, ScoreShare.revoked_at.is_null())
                   .execute())
        if changed != 1:
            raise Refusal("That share has already been stopped.")
        audit("revoke", record_type="score_share", record_id=share_id, summary="own outcome scores no longer shared",
              user=by)
