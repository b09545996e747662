"""Team readiness: one function per thing a person does.

Each opens ``db.atomic()``, changes rows with compare-and-set where a record
could have been changed by someone else since the page was shown, writes the
audit row, and raises ``Refusal`` with a message for the person. Views find the
record (404 when it is not the person's team's) and call one of these.
"""
from __future__ import annotations

import datetime as dt
import hashlib

import peewee as pw

from .. import clock, history
from ..audit import audit, audit_anonymous
from ..changes import STALE_EDIT, Refusal, StaleEdit, compare_and_set, unique_violation
from ..db import db
from ..models import User, UserRole
from .models import (Concern, ReadinessItem, ReadinessItemChange, ReadinessTemplateItem, ReflectiveAction,
                     ReflectiveAttendance, ReflectiveConcern, ReflectiveMeeting, ReflectiveRevisit, SopDocument,
                     SopSignature, SopVersion, SopVersionRole)
from .rules import ITEM_STATUSES, RAISERS, SIGNING_ROLES, THEMES

STALE = "Someone has just changed this. Check what is shown now and make your change again."


def _save_unless_stale(model, record_id, expected_version: int, **changes) -> None:
    """An edit form's save: compare-and-set on the version the page was made from.
    Someone else's save since then is the house's stale edit (``StaleEdit``: the
    view answers 409 with the typed text kept), never a silent overwrite."""
    try:
        compare_and_set(model, record_id, {"version": expected_version}, refused=STALE_EDIT,
                        version=expected_version + 1, **changes)
    except Refusal as refusal:
        raise StaleEdit(str(refusal)) from None


def team_staff(team_id, ids=None):
    """Active people of the team (with any role but viewer), optionally only these ids."""
    query = (User.select().where(User.team == team_id, User.active == True,  # noqa: E712
                                 User.id.in_(UserRole.select(UserRole.user).where(UserRole.role.in_(RAISERS))))
             .order_by(User.name))
    if ids is not None:
        query = query.where(User.id.in_(list(ids) or [0]))
    return query


def _staff_or_refuse(team_id, user_id, what: str):
    if user_id is None:
        return None
    person = team_staff(team_id, [user_id]).first()
    if person is None:
        raise Refusal(f"Choose {what} from the team's staff")
    return person


# -- the readiness checklist ---------------------------------------------------------
def start_checklist(team, *, by) -> int:
    """Copy the template's items the team does not have yet into its checklist."""
    with db.atomic():
        have = {i.template_item_id for i in ReadinessItem.select(ReadinessItem.template_item)
                .where(ReadinessItem.team == team, ReadinessItem.template_item.is_null(False))}
        titles = {i.title.lower() for i in ReadinessItem.select(ReadinessItem.title).where(ReadinessItem.team == team)}
        missing = [t for t in ReadinessTemplateItem.current() if t.id not in have and t.title.lower() not in titles]
        now = clock.now()
        try:
            with db.atomic():
                for t in missing:
                    ReadinessItem.create(team=team, template_item=t, title=t.title, guidance=t.guidance,
                                         order=t.order, updated_at=now)
        except pw.IntegrityError as error:
            if unique_violation(error):
                raise Refusal("Someone has just added these items; they are shown below.") from error
            raise
        if missing:
            audit("create", record_type="readiness_item", record_id="",
                  summary=f"{len(missing)} checklist item(s) added from the template for team #{team.id}", user=by)
    return len(missing)


def add_item(team, *, title: str, guidance: str, by) -> ReadinessItem:
    """A manager extends the team's checklist with an item of its own."""
    title = title.strip()
    if not title:
        raise Refusal("Give the item a title")
    with db.atomic():
        order = (ReadinessItem.select(pw.fn.MAX(ReadinessItem.order)).where(ReadinessItem.team == team).scalar() or 0) + 10
        try:
            with db.atomic():
                item = ReadinessItem.create(team=team, title=title, guidance=guidance.strip(), order=order,
                                            updated_at=clock.now())
        except pw.IntegrityError as error:
            if unique_violation(error):
                raise Refusal("The team's checklist already has an item with this title") from error
            raise
        ReadinessItemChange.create(item=item, changed_at=item.updated_at, changed_by=by, status=item.status,
                                   what="added to the team's checklist")
        audit("create", item, summary="checklist item added", user=by)
    return item


def update_item(item: ReadinessItem, *, status: str, evidence: str, owner_id, review_on, expected_version: int,
                by) -> None:
    """Status, evidence, owner and review date of one item; a stale page is refused."""
    if status not in ITEM_STATUSES:
        raise Refusal("Choose a status")
    owner = _staff_or_refuse(item.team_id, owner_id, "the owner")
    with db.atomic():
        now = clock.now()
        changes = dict(status=status, evidence=evidence.strip(), owner=owner, review_on=review_on, updated_at=now)
        _save_unless_stale(ReadinessItem, item.id, expected_version, **changes)
        history.record_update(item, changes, user=by)
        what = [f"status {ITEM_STATUSES[status].lower()}"] if status != item.status else []
        if evidence.strip() != item.evidence:
            what.append("evidence")
        if (owner.id if owner else None) != item.owner_id:
            what.append("owner")
        if review_on != item.review_on:
            what.append("review date")
        ReadinessItemChange.create(item=item, changed_at=now, changed_by=by, status=status,
                                   evidence=evidence.strip(), owner_name=owner.name if owner else "",
                                   review_on=review_on, what=", ".join(what) or "saved unchanged")
        audit("update", item, summary=("checklist item: " + (", ".join(what) or "saved unchanged"))[:255], user=by)


# -- concerns ---------------------------------------------------------------------------
def raise_concern(team_id, *, theme: str, text: str, anonymous: bool, by) -> Concern:
    """Any member of staff raises a concern. Anonymous: the row, the audit and the
    session keep nothing of who or when beyond the date (see rules.ANONYMITY_COVERS)."""
    if theme not in THEMES:
        raise Refusal("Choose what the concern is about")
    if not text.strip():
        raise Refusal("Write the concern")
    if not team_id:
        raise Refusal("You are not in a team yet, so there is nobody to send a concern to")
    today = clock.today()
    with db.atomic():
        concern = Concern.create(team=team_id, theme=theme, text=text.strip(), anonymous=bool(anonymous),
                                 raised_by=None if anonymous else by, raised_on=today)
        if anonymous:
            audit_anonymous("create", record_type="concern", record_id=concern.id,
                            summary="an anonymous concern was raised", day=today)
        else:
            audit("create", concern, summary="a named concern was raised", user=by)
    return concern


def reply_to_concern(concern: Concern, *, reply: str, expected_version: int, by) -> None:
    """Peer leads and the manager answer a named concern; the raiser reads it on their page."""
    if concern.anonymous:
        raise Refusal("An anonymous concern cannot be answered: nothing links it to the person who raised it")
    if not reply.strip():
        raise Refusal("Write the reply")
    with db.atomic():
        changes = dict(reply=reply.strip(), replied_on=clock.today(), replied_by=by, version=expected_version + 1)
        compare_and_set(Concern, concern.id, {"version": expected_version}, refused=STALE, **changes)
        history.record_update(concern, changes, user=by)
        audit("update", concern, summary="replied to the raiser", user=by)


def resolve_concern(concern: Concern, *, solution: str, expected_version: int, by) -> None:
    """The solution agreed; the concern is resolved."""
    if not solution.strip():
        raise Refusal("Write the solution the team agreed")
    with db.atomic():
        changes = dict(status="resolved", solution=solution.strip(), resolved_on=clock.today(),
                       version=expected_version + 1)
        compare_and_set(Concern, concern.id, {"version": expected_version, "status": concern.status}, refused=STALE,
                        **changes)
        history.record_update(concern, changes, user=by)
        audit("update", concern, summary="resolved with an agreed solution", user=by)


def reopen_concern(concern: Concern, *, expected_version: int, by) -> None:
    with db.atomic():
        changes = dict(status="discussed", resolved_on=None, version=expected_version + 1)
        compare_and_set(Concern, concern.id, {"version": expected_version, "status": "resolved"}, refused=STALE,
                        **changes)
        history.record_update(concern, changes, user=by)
        audit("update", concern, summary="reopened", user=by)


# -- reflective meetings ------------------------------------------------------------------
def _airable(team_id, concern_ids) -> list[Concern]:
    concerns = list(Concern.select().where(Concern.team == team_id, Concern.id.in_(list(concern_ids) or [0])))
    if len(concerns) != len(set(concern_ids)):
        raise Refusal("Choose concerns raised in your team")
    return concerns


def _set_people_and_concerns(meeting, attendee_ids, concern_ids) -> None:
    people = list(team_staff(meeting.team_id, attendee_ids))
    if len(people) != len(set(attendee_ids)):
        raise Refusal("Choose who attended from the team's staff")
    concerns = _airable(meeting.team_id, concern_ids)
    ReflectiveAttendance.delete().where(ReflectiveAttendance.meeting == meeting,
                                        ReflectiveAttendance.user.not_in([p.id for p in people] or [0])).execute()
    ReflectiveConcern.delete().where(ReflectiveConcern.meeting == meeting,
                                     ReflectiveConcern.concern.not_in([c.id for c in concerns] or [0])).execute()
    if people:
        (ReflectiveAttendance.insert_many([{"meeting": meeting.id, "user": p.id} for p in people])
         .on_conflict_ignore().execute())
    if concerns:
        (ReflectiveConcern.insert_many([{"meeting": meeting.id, "concern": c.id} for c in concerns])
         .on_conflict_ignore().execute())
        # Aired means discussed; a resolved concern stays resolved.
        (Concern.update(status="discussed", version=Concern.version + 1)
         .where(Concern.id.in_([c.id for c in concerns]), Concern.status == "open").execute())


def _attendance_text(meeting) -> dict[str, str]:
    """Who attended and which concerns were aired, as history compares them."""
    people = [n for (n,) in ReflectiveAttendance.select(User.name).join(User, on=(ReflectiveAttendance.user == User.id))
              .where(ReflectiveAttendance.meeting == meeting.id).order_by(User.name).tuples()]
    aired = [str(c) for (c,) in ReflectiveConcern.select(ReflectiveConcern.concern)
             .where(ReflectiveConcern.meeting == meeting.id).order_by(ReflectiveConcern.concern).tuples()]
    return {"attendees": ", ".join(people), "concerns_aired": ", ".join("#" + c for c in aired)}


def hold_meeting(team_id, *, held_on: dt.date, attendee_ids, concern_ids, summary: str, by) -> ReflectiveMeeting:
    """Record a reflective meeting: who came, the concerns aired, what was said.
    Actions still open from earlier meetings are revisited at this one."""
    with db.atomic():
        meeting = ReflectiveMeeting.create(team=team_id, held_on=held_on, summary=summary.strip(),
                                           recorded_by=by, created_at=clock.now())
        _set_people_and_concerns(meeting, attendee_ids, concern_ids)
        carried = [a.id for a in ReflectiveAction.select(ReflectiveAction.id)
                   .where(ReflectiveAction.team == team_id, ReflectiveAction.done_on.is_null())]
        if carried:
            ReflectiveRevisit.insert_many([{"meeting": meeting.id, "action": a} for a in carried]).execute()
        audit("create", meeting, summary=f"reflective meeting: {len(set(attendee_ids))} attended, "
                                         f"{len(set(concern_ids))} concern(s) aired, {len(carried)} action(s) revisited",
              user=by)
    return meeting


def update_meeting(meeting: ReflectiveMeeting, *, held_on: dt.date, attendee_ids, concern_ids, summary: str,
                   expected_version: int, by) -> None:
    with db.atomic():
        changes = dict(held_on=held_on, summary=summary.strip())
        _save_unless_stale(ReflectiveMeeting, meeting.id, expected_version, **changes)
        who_before = _attendance_text(meeting)
        _set_people_and_concerns(meeting, attendee_ids, concern_ids)
        history.record_update(meeting, changes, user=by)
        history.record_values("reflective_meeting", meeting.id, who_before, _attendance_text(meeting), user=by)
        audit("update", meeting, summary="reflective meeting record changed", user=by)


def agree_action(meeting: ReflectiveMeeting, *, text: str, owner_id, due_on: dt.date, concern_id, by) -> ReflectiveAction:
    """A practical solution agreed at the meeting, with an owner and a due date."""
    if not text.strip():
        raise Refusal("Write the action agreed")
    owner = _staff_or_refuse(meeting.team_id, owner_id, "who will do it")
    if owner is None:
        raise Refusal("Choose who will do it")
    concern = _airable(meeting.team_id, [concern_id])[0] if concern_id else None
    with db.atomic():
        action = ReflectiveAction.create(team=meeting.team_id, meeting=meeting, concern=concern, text=text.strip(),
                                         owner=owner, due_on=due_on)
        audit("create", action, summary=f"action agreed at meeting #{meeting.id}, due {due_on.isoformat()}", user=by)
    return action


def complete_action(action: ReflectiveAction, *, by) -> None:
    with db.atomic():
        changes = dict(done_on=clock.today(), done_by=by, version=ReflectiveAction.version + 1)
        compare_and_set(ReflectiveAction, action.id, {"done_on": None}, refused="This action has just been marked done.",
                        **changes)
        history.record_update(history.Part(action, ReflectiveMeeting(id=action.meeting_id), f"action {action.id}"), changes,
                              user=by)
        audit("update", action, summary="action done", user=by)


# -- SOP documents, versions and read-and-sign --------------------------------------------
MAX_PDF_BYTES = 10 * 1024 * 1024


def publish_version(team_id, *, document: SopDocument | None, title: str, effective_on: dt.date, changes: str,
                    body: str, pdf: bytes | None, pdf_name: str, roles, by, based_on: int | None = None) -> SopVersion:
    """A new SOP (version 1) or a new version of one: everyone asked signs it again.

    ``based_on`` is the newest version number the manager's page showed: when
    someone has published since, nothing is saved (their version would otherwise
    be superseded unread). The unique (document, number) index stands behind it."""
    roles = sorted(set(roles))
    if not roles or not set(roles) <= set(SIGNING_ROLES):
        raise Refusal("Choose who must read and sign it")
    if not body.strip() and not pdf:
        raise Refusal("Write the text or attach a PDF")
    if pdf is not None:
        if not pdf.startswith(b"%PDF-"):
            raise Refusal("That file is not a PDF")
        if len(pdf) > MAX_PDF_BYTES:
            raise Refusal("The PDF is larger than 10 MB")
    with db.atomic():
        if document is None:
            if not title.strip():
                raise Refusal("Give the SOP a title")
            try:
                with db.atomic():
                    document = SopDocument.create(team=team_id, title=title.strip(), created_at=clock.now())
            except pw.IntegrityError as error:
                if unique_violation(error):
                    raise Refusal("The team already has an SOP with this title: add a version to it") from error
                raise
        newest = SopVersion.select(pw.fn.MAX(SopVersion.number)).where(SopVersion.document == document).scalar() or 0
        if based_on is not None and newest != based_on:
            raise StaleEdit(f"Someone else has just published version {newest} of this SOP while you were writing. "
                            "Nothing was saved: your text is below. Read their version, then publish yours again.")
        number = newest + 1
        try:
            with db.atomic():
                version = SopVersion.create(
                    document=document, number=number, effective_on=effective_on, changes=changes.strip(),
                    body=body.strip(), pdf=pdf, pdf_name=pdf_name[:200] if pdf else "",
                    pdf_sha256=hashlib.sha256(pdf).hexdigest() if pdf else "", pdf_size=len(pdf) if pdf else 0,
                    created_by=by, created_at=clock.now())
        except pw.IntegrityError as error:
            if unique_violation(error):
                raise Refusal("Someone has just published a version of this SOP. Check it before adding another.") from error
            raise
        SopVersionRole.insert_many([{"version": version.id, "role": r} for r in roles]).execute()
        audit("create", version, summary=f"SOP version {number} published", user=by)
    return version


def sign(version: SopVersion, *, by) -> SopSignature:
    """Read and signed (the view has checked the password). Only the newest version
    is signed, by someone it asks."""
    with db.atomic():
        newest = SopVersion.select(pw.fn.MAX(SopVersion.number)).where(SopVersion.document == version.document_id).scalar()
        if newest != version.number:
            raise Refusal("A newer version of this SOP has been published: read and sign that one")
        if not set(version.role_list()) & by.roles:
            raise Refusal("This SOP does not ask your role to sign it")
        try:
            with db.atomic():
                signature = SopSignature.create(version=version, user=by, signed_at=clock.now())
        except pw.IntegrityError as error:
            if unique_violation(error):
                raise Refusal("You have already signed this version") from error
            raise
        audit("create", signature, summary=f"signed SOP version #{version.id}", user=by)
    return signature
