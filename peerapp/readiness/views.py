"""Team readiness and the SOP: the checklist, concerns, reflective meetings and
read-and-sign.

- Peer leads and the manager of a team see its checklist, its concerns and its
  meetings; other teams' records answer 404. The manager starts and extends the
  checklist and publishes SOP versions.
- Any member of staff with a team raises a concern (anonymously if they wish),
  sees the replies to their own named concerns, and reads and signs the SOPs
  that ask their role. Viewers see nothing here.
"""
from __future__ import annotations

import datetime as dt
import hashlib

import peewee as pw
from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, session, url_for
from flask_login import current_user, logout_user

from .. import clock, passwords
from ..access import accepts_upload, allow, leaves_no_trace
from ..audit import audit
from ..changes import Refusal, StaleEdit
from ..db import db
from ..forms import ActionForm, int_arg
from ..models import LoginFailure, LoginSession, User, UserRole
from ..navigation import home_panel, nav_item
from ..pages import is_fragment_request, render, render_form, render_stale
from ..paging import paged
from . import services
from .forms import (AgreeActionForm, ConcernForm, ItemForm, MeetingForm, NewItemForm, ReplyForm, ResolveForm,
                    SignForm, SopForm)
from .models import (Concern, ReadinessItem, ReadinessItemChange, ReadinessTemplateItem, ReflectiveAction,
                     ReflectiveAttendance, ReflectiveConcern, ReflectiveMeeting, ReflectiveRevisit, SopDocument,
                     SopSignature, SopVersion)
from .rules import (ANONYMITY_CANNOT, ANONYMITY_COVERS, ITEM_STATUSES, LEADS, RAISERS, SIGNING_ROLES, THEMES,
                    action_overdue, glance, review_overdue)
from .sop_text import to_html

bp = Blueprint("readiness", __name__, url_prefix="/readiness")
nav_item("Team readiness", "readiness.index", order=70, hint="Checklist, concerns, reflective meetings and the SOP")
nav_item("Raise a concern", "readiness.concern_new", order=86,
         hint="About duty of care, confidentiality, boundaries, workload or team culture; anonymously if you wish")
nav_item("SOP", "readiness.sop_list", order=87, hint="The team's standard operating procedure: read and sign")
home_panel("readiness/_home_panel.html", "readiness.index", order=15)
home_panel("readiness/_sop_panel.html", "readiness.sop_list", order=16)

PAGE_SIZE = 50
ROLE_LABELS = {"manager": "Team manager", "peer_lead": "Peer lead", "clinician": "Clinician",
               "facilitator": "Training facilitator", "peer": "Peer worker", "admin": "Administrator"}


# -- finding the person's team's records ---------------------------------------------------
def _team_id():
    return current_user.team_id


def _mine(model, record_id):
    """A record of the person's own team, else 404 (never 403: ids cannot be probed)."""
    team_id = _team_id()
    record = model.get_or_none((model.id == record_id) & (model.team == team_id)) if team_id else None
    return record or abort(404)


def _version_of_my_team(version_id: int) -> SopVersion:
    version = (SopVersion.light().select_extend(SopDocument).join(SopDocument, on=(SopVersion.document == SopDocument.id))
               .where(SopVersion.id == version_id, SopDocument.team == _team_id()).first()) if _team_id() else None
    return version or abort(404)


def _staff_choices():
    return [(p.id, p.name) for p in services.team_staff(_team_id())]


@bp.app_context_processor
def panel_helpers():
    return {"readiness_lead_panel": _lead_panel, "readiness_staff_panel": _staff_panel,
            "readiness_role_names": lambda roles: ", ".join(ROLE_LABELS.get(r, r) for r in roles)}


def _lead_panel():
    """Peer leads' and the manager's home panel: readiness at a glance, open
    concerns, overdue actions and SOP sign-off. Five queries."""
    team_id = _team_id()
    if not team_id:
        return None
    today = clock.today()
    items = list(ReadinessItem.select(ReadinessItem.status, ReadinessItem.review_on).where(ReadinessItem.team == team_id))
    open_concerns = Concern.select().where(Concern.team == team_id, Concern.status == "open").count()
    overdue = list(ReflectiveAction.overdue_for(team_id, today).limit(10))
    return {"glance": glance(items, today), "open_concerns": open_concerns, "overdue": overdue,
            "sop": _sign_off(team_id)}


def _staff_panel():
    return {"to_sign": SopVersion.to_sign_for(current_user)} if current_user.is_authenticated else None


def _sign_off(team_id):
    """For each SOP's newest version: how many of those asked have signed. Three queries."""
    latest, asked = SopVersion.latest_with_roles(team_id)
    if not latest:
        return []
    ids = [v.id for v in latest]
    staff: dict[int, set[str]] = {}
    for row in (UserRole.select(UserRole.user, UserRole.role).join(User, on=(UserRole.user == User.id))
                .where(User.team == team_id, User.active == True)):  # noqa: E712
        staff.setdefault(row.user_id, set()).add(row.role)
    signed: dict[int, set[int]] = {}
    for row in SopSignature.select(SopSignature.version, SopSignature.user).where(SopSignature.version.in_(ids)):
        signed.setdefault(row.version_id, set()).add(row.user_id)
    rows = []
    for version in latest:
        due = {uid for uid, roles in staff.items() if roles & asked.get(version.id, set())}
        rows.append({"version": version, "due": len(due), "signed": len(due & signed.get(version.id, set()))})
    return rows


# -- the team's readiness at a glance ----------------------------------------------------
@bp.get("/")
@allow(*LEADS)
def index():
    """Peer leads and the manager: the checklist at a glance, concerns, meetings,
    overdue actions and SOP sign-off. Reading changes nothing."""
    if not _team_id():
        return render("readiness/no_team.html")
    today = clock.today()
    items = list(ReadinessItem.for_team(_team_id()))
    concerns = {key: 0 for key in ("open", "discussed", "resolved")}
    for row in (Concern.select(Concern.status, pw.fn.COUNT(Concern.id).alias("n"))
                .where(Concern.team == _team_id()).group_by(Concern.status)):
        concerns[row.status] = row.n
    open_actions = list(ReflectiveAction.open_for(_team_id()))
    last_meeting = ReflectiveMeeting.for_team(_team_id()).first()
    return render("readiness/index.html", glance=glance(items, today), today=today,
                  concerns=concerns, open_actions=open_actions, last_meeting=last_meeting,
                  sop=_sign_off(_team_id()), action_overdue=action_overdue, review_overdue=review_overdue)


# -- the checklist ----------------------------------------------------------------------------
@bp.get("/checklist")
@allow(*LEADS)
def checklist():
    """Peer leads and the manager: every item of the team's checklist."""
    if not _team_id():
        return render("readiness/no_team.html")
    today = clock.today()
    items = list(ReadinessItem.for_team(_team_id()))
    have = {i.template_item_id for i in items}
    missing = [t for t in ReadinessTemplateItem.current() if t.id not in have]
    return render("readiness/checklist.html", checklist_items=items, glance=glance(items, today), today=today,
                  missing=missing, review_overdue=review_overdue)


@bp.post("/checklist/start")
@allow("manager")
def checklist_start():
    """Manager: copy the install's template items the team does not have yet."""
    if not _team_id():
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            added = services.start_checklist(current_user.team, by=current_user._get_current_object())
            flash(f"{added} item{'' if added == 1 else 's'} added from the template.", "success")
        except Refusal as refusal:
            flash(str(refusal), "error")
    return redirect(url_for("readiness.checklist"))


@bp.route("/checklist/new", methods=["GET", "POST"])
@allow("manager")
def item_new():
    """Manager: add an item of the team's own to its checklist."""
    if not _team_id():
        abort(404)
    form = NewItemForm()
    if form.validate_on_submit():
        try:
            item = services.add_item(current_user.team, title=form.title.data, guidance=form.guidance.data or "",
                                     by=current_user._get_current_object())
            flash(f"'{item.title}' added to the checklist.", "success")
            return redirect(url_for("readiness.item", item_id=item.id))
        except Refusal as refusal:
            form.title.errors.append(str(refusal))
    return render_form("readiness/item_new.html", form)


def _fresh_version(form, version: int) -> None:
    """After a stale save: the re-shown form carries the version stored now (an
    integer field shows what was posted unless told otherwise)."""
    form.version.data = version
    form.version.raw_data = [str(version)]


@bp.route("/checklist/<int:item_id>", methods=["GET", "POST"])
@allow(*LEADS)
def item(item_id: int):
    """Peer leads and the manager: status, evidence, owner and review date of one
    item, and its history. A save from a stale page is refused with the text kept."""
    record = _mine(ReadinessItem, item_id)
    form = ItemForm(obj=record if request.method == "GET" else None)
    if request.method == "GET":
        form.owner.data = record.owner_id
    form.owner.choices = [("", "Nobody yet")] + _staff_choices()
    if form.validate_on_submit():
        try:
            services.update_item(record, status=form.status.data, evidence=form.evidence.data or "",
                                 owner_id=form.owner.data, review_on=form.review_on.data,
                                 expected_version=form.version.data, by=current_user._get_current_object())
            flash(f"'{record.title}' saved.", "success")
            return redirect(url_for("readiness.checklist") + f"#item-{record.id}")
        except StaleEdit:
            record = _mine(ReadinessItem, item_id)
            _fresh_version(form, record.version)
            page = paged(ReadinessItemChange.for_item(record), ReadinessItemChange.changed_at.desc(),
                         ReadinessItemChange.id.desc())
            return render_stale("readiness/item.html", form, record=record, history=page.rows, page=page)
        except Refusal as refusal:
            form.status.errors.append(str(refusal))
    page = paged(ReadinessItemChange.for_item(record), ReadinessItemChange.changed_at.desc(), ReadinessItemChange.id.desc())
    return render_form("readiness/item.html", form, record=record, history=page.rows, page=page)


# -- concerns -------------------------------------------------------------------------------
@bp.route("/concerns/new", methods=["GET", "POST"])
@allow(*RAISERS)
@leaves_no_trace
def concern_new():
    """Any member of staff: raise a concern, anonymously if they wish. An anonymous
    concern stores no user, no time (the date only) and no address, and this
    request does not touch the session's last-seen time."""
    form = ConcernForm()
    if form.validate_on_submit():
        try:
            concern = services.raise_concern(_team_id(), theme=form.theme.data, text=form.text.data,
                                             anonymous=form.anonymous.data, by=current_user._get_current_object())
        except Refusal as refusal:
            form.text.errors.append(str(refusal))
        else:
            if concern.anonymous:
                return redirect(url_for("readiness.concern_sent"))
            flash("Your concern has been sent to the peer leads and the manager.", "success")
            return redirect(url_for("readiness.concerns_mine"))
    return render_form("readiness/concern_new.html", form, covers=ANONYMITY_COVERS, cannot=ANONYMITY_CANNOT,
                       has_team=bool(_team_id()))


@bp.get("/concerns/sent")
@allow(*RAISERS)
@leaves_no_trace
def concern_sent():
    """Any member of staff: the page after an anonymous concern (it names no concern)."""
    return render("readiness/concern_sent.html", cannot=ANONYMITY_CANNOT)


@bp.get("/concerns/mine")
@allow(*RAISERS)
def concerns_mine():
    """Any member of staff: their own named concerns and the replies to them."""
    page = paged(Concern.select().where(Concern.raised_by == current_user.id),
                 Concern.raised_on.desc(), Concern.id.desc())
    return render("readiness/concerns_mine.html", concerns=page.rows, page=page)


@bp.get("/concerns")
@allow(*LEADS)
def concerns():
    """Peer leads and the manager: the team's concerns, open ones first. Audited."""
    if not _team_id():
        return render("readiness/no_team.html")
    page = paged(Concern.for_team(_team_id()), Concern.open_first(), Concern.raised_on.desc(), Concern.id.desc())
    with db.atomic():
        audit("view", record_type="concern", record_id="", summary=f"team concerns list, {len(page.rows)} shown")
    return render("readiness/concerns.html", concerns=page.rows, page=page)


def _concern_page(concern: Concern, reply_form=None, resolve_form=None):
    airings = list(ReflectiveMeeting.select().join(ReflectiveConcern, on=(ReflectiveConcern.meeting == ReflectiveMeeting.id))
                   .where(ReflectiveConcern.concern == concern).order_by(ReflectiveMeeting.held_on))
    actions = list(ReflectiveAction.with_owner().where(ReflectiveAction.concern == concern).order_by(ReflectiveAction.due_on))
    raiser = User.get_by_id(concern.raised_by_id) if concern.raised_by_id else None
    reply_form = reply_form or ReplyForm(formdata=None, data={"version": concern.version})
    resolve_form = resolve_form or ResolveForm(formdata=None, data={"version": concern.version, "solution": concern.solution})
    form = reply_form if reply_form.errors else resolve_form
    return render_form("readiness/concern.html", form, concern=concern, airings=airings, actions=actions,
                       raiser=raiser, reply_form=reply_form, resolve_form=resolve_form, today=clock.today(),
                       action_overdue=action_overdue)


@bp.get("/concerns/<int:concern_id>")
@allow(*LEADS)
def concern(concern_id: int):
    """Peer leads and the manager: one concern, where it was aired, the actions
    agreed and the reply. Every reading is audited."""
    record = _mine(Concern, concern_id)
    with db.atomic():
        audit("view", record, summary="concern read")
    return _concern_page(record)


@bp.post("/concerns/<int:concern_id>/reply")
@allow(*LEADS)
def concern_reply(concern_id: int):
    """Peer leads and the manager: reply to the person who raised a named concern."""
    record = _mine(Concern, concern_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            services.reply_to_concern(record, reply=form.reply.data, expected_version=form.version.data,
                                      by=current_user._get_current_object())
            flash("Your reply has been saved; the person sees it on their concerns page.", "success")
            return redirect(url_for("readiness.concern", concern_id=record.id))
        except Refusal as refusal:
            form.reply.errors.append(str(refusal))
    return _concern_page(record, reply_form=form)


@bp.post("/concerns/<int:concern_id>/resolve")
@allow(*LEADS)
def concern_resolve(concern_id: int):
    """Peer leads and the manager: record the solution agreed and mark it resolved."""
    record = _mine(Concern, concern_id)
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            services.resolve_concern(record, solution=form.solution.data, expected_version=form.version.data,
                                     by=current_user._get_current_object())
            flash("The concern is resolved.", "success")
            return redirect(url_for("readiness.concern", concern_id=record.id))
        except Refusal as refusal:
            form.solution.errors.append(str(refusal))
    return _concern_page(record, resolve_form=form)


@bp.post("/concerns/<int:concern_id>/reopen")
@allow(*LEADS)
def concern_reopen(concern_id: int):
    """Peer leads and the manager: a resolved concern comes back for discussion."""
    record = _mine(Concern, concern_id)
    if ActionForm().validate_on_submit():
        try:
            services.reopen_concern(record, expected_version=int_arg("version", 0, source=request.form),
                                    by=current_user._get_current_object())
            flash("The concern is open for discussion again.", "success")
        except Refusal as refusal:
            flash(str(refusal), "error")
    return redirect(url_for("readiness.concern", concern_id=record.id))


# -- reflective meetings ------------------------------------------------------------------
def _airable_choices():
    rows = (Concern.select(Concern.id, Concern.theme, Concern.raised_on, Concern.status, Concern.text)
            .where(Concern.team == _team_id(), Concern.status != "resolved")
            .order_by(Concern.raised_on, Concern.id).limit(PAGE_SIZE))
    return [(c.id, f"{c.theme_label} ({c.raised_on:%-d %b}): {c.text[:80]}{'…' if len(c.text) > 80 else ''}")
            for c in rows]


@bp.get("/meetings")
@allow(*LEADS)
def meetings():
    """Peer leads and the manager: the team's reflective meetings, newest first."""
    if not _team_id():
        return render("readiness/no_team.html")
    page = paged(ReflectiveMeeting.select().where(ReflectiveMeeting.team == _team_id()),
                 ReflectiveMeeting.held_on.desc(), ReflectiveMeeting.id.desc())
    counts = dict(ReflectiveAction.select(ReflectiveAction.meeting, pw.fn.COUNT(ReflectiveAction.id))
                  .where(ReflectiveAction.meeting.in_([m.id for m in page.rows] or [0]))
                  .group_by(ReflectiveAction.meeting).tuples())
    return render("readiness/meetings.html", meetings=page.rows, page=page, counts=counts,
                  open_actions=list(ReflectiveAction.open_for(_team_id()).limit(PAGE_SIZE)), today=clock.today(),
                  action_overdue=action_overdue)


@bp.route("/meetings/new", methods=["GET", "POST"])
@allow(*LEADS)
def meeting_new():
    """Peer leads and the manager: record a reflective meeting as it happens."""
    if not _team_id():
        abort(404)
    form = MeetingForm()
    form.attendees.choices = _staff_choices()
    form.concerns.choices = _airable_choices()
    if request.method == "GET":
        form.held_on.data = clock.today()
        form.attendees.data = [current_user.id]
    if form.validate_on_submit():
        try:
            meeting = services.hold_meeting(_team_id(), held_on=form.held_on.data, attendee_ids=form.attendees.data,
                                            concern_ids=form.concerns.data, summary=form.summary.data or "",
                                            by=current_user._get_current_object())
            flash("Meeting recorded. Agree the actions below.", "success")
            return redirect(url_for("readiness.meeting", meeting_id=meeting.id) + "#agree")
        except Refusal as refusal:
            form.attendees.errors.append(str(refusal))
    open_actions = list(ReflectiveAction.open_for(_team_id()).limit(PAGE_SIZE))
    return render_form("readiness/meeting_form.html", form, meeting=None, open_actions=open_actions,
                       today=clock.today(), action_overdue=action_overdue)


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@allow(*LEADS)
def meeting_edit(meeting_id: int):
    """Peer leads and the manager: change who came, what was aired and the summary.
    A save from a stale page is refused with the text kept."""
    meeting = _mine(ReflectiveMeeting, meeting_id)
    form = MeetingForm(obj=meeting if request.method == "GET" else None)
    form.attendees.choices = _staff_choices()
    aired = list(ReflectiveConcern.select(ReflectiveConcern.concern).where(ReflectiveConcern.meeting == meeting))
    choices = _airable_choices()
    known = {c for c, _ in choices}
    extra = [c.concern_id for c in aired if c.concern_id not in known]
    if extra:  # a concern aired here and resolved since stays choosable
        choices += [(c.id, f"{c.theme_label} ({c.raised_on:%-d %b}), resolved") for c in Concern.select()
                    .where(Concern.id.in_(extra))]
    form.concerns.choices = choices
    if request.method == "GET":
        form.attendees.data = [a.user_id for a in ReflectiveAttendance.select().where(ReflectiveAttendance.meeting == meeting)]
        form.concerns.data = [c.concern_id for c in aired]
    if form.validate_on_submit():
        try:
            services.update_meeting(meeting, held_on=form.held_on.data, attendee_ids=form.attendees.data,
                                    concern_ids=form.concerns.data, summary=form.summary.data or "",
                                    expected_version=form.version.data or 0, by=current_user._get_current_object())
            flash("Meeting record saved.", "success")
            return redirect(url_for("readiness.meeting", meeting_id=meeting.id))
        except StaleEdit:
            _fresh_version(form, _mine(ReflectiveMeeting, meeting_id).version)
            return render_stale("readiness/meeting_form.html", form, meeting=meeting, open_actions=[],
                                today=clock.today(), action_overdue=action_overdue)
        except Refusal as refusal:
            form.summary.errors.append(str(refusal))
    return render_form("readiness/meeting_form.html", form, meeting=meeting, open_actions=[], today=clock.today(),
                       action_overdue=action_overdue)


def _meeting_page(meeting, form=None):
    attendees = list(User.select(User.id, User.name).join(ReflectiveAttendance, on=(ReflectiveAttendance.user == User.id))
                     .where(ReflectiveAttendance.meeting == meeting).order_by(User.name))
    aired = list(Concern.select().join(ReflectiveConcern, on=(ReflectiveConcern.concern == Concern.id))
                 .where(ReflectiveConcern.meeting == meeting).order_by(Concern.raised_on, Concern.id))
    agreed = list(ReflectiveAction.with_owner().where(ReflectiveAction.meeting == meeting).order_by(ReflectiveAction.id))
    revisited = list(ReflectiveAction.with_owner().join(ReflectiveRevisit, on=(ReflectiveRevisit.action == ReflectiveAction.id))
                     .where(ReflectiveRevisit.meeting == meeting).order_by(ReflectiveAction.due_on))
    if form is None:
        form = AgreeActionForm(formdata=None)
    form.owner.choices = [("", "Choose a person")] + _staff_choices()
    form.concern.choices = [(0, "None in particular")] + [(c.id, f"{c.theme_label} ({c.raised_on:%-d %b})") for c in aired]
    if form.due_on.data is None and not form.errors:
        form.due_on.data = clock.today() + dt.timedelta(days=28)
    return render_form("readiness/meeting.html", form, meeting=meeting, attendees=attendees, aired=aired,
                       agreed=agreed, revisited=revisited, today=clock.today(), action_overdue=action_overdue)


@bp.get("/meetings/<int:meeting_id>")
@allow(*LEADS)
def meeting(meeting_id: int):
    """Peer leads and the manager: the meeting's record, its actions and the open
    actions from earlier meetings revisited here."""
    record = _mine(ReflectiveMeeting, meeting_id)
    with db.atomic():
        audit("view", record, summary="reflective meeting read")
    return _meeting_page(record)


@bp.post("/meetings/<int:meeting_id>/actions")
@allow(*LEADS)
def action_new(meeting_id: int):
    """Peer leads and the manager: agree a practical solution as an action."""
    record = _mine(ReflectiveMeeting, meeting_id)
    form = AgreeActionForm()
    form.owner.choices = _staff_choices()
    if form.validate_on_submit():
        try:
            services.agree_action(record, text=form.text.data, owner_id=form.owner.data, due_on=form.due_on.data,
                                  concern_id=form.concern.data or None, by=current_user._get_current_object())
            flash("Action agreed.", "success")
            return redirect(url_for("readiness.meeting", meeting_id=record.id) + "#actions")
        except Refusal as refusal:
            form.text.errors.append(str(refusal))
    return _meeting_page(record, form)


@bp.post("/actions/<int:action_id>/done")
@allow(*LEADS)
def action_done(action_id: int):
    """Peer leads and the manager: mark an agreed action done (htmx swaps the row)."""
    action = ReflectiveAction.with_owner().where(ReflectiveAction.id == action_id,
                                                 ReflectiveAction.team == _team_id()).first() or abort(404)
    message = None
    if ActionForm().validate_on_submit():
        try:
            services.complete_action(action, by=current_user._get_current_object())
        except Refusal as refusal:
            message = str(refusal)
        action = ReflectiveAction.with_owner().where(ReflectiveAction.id == action_id).first()
    back = request.form.get("back", "")
    if not message:
        flash("Action marked done.", "success")
    else:
        flash(message, "error")
    target = (back if back.startswith(request.script_root + "/readiness/") and "//" not in back
              else url_for("readiness.index"))
    if is_fragment_request():
        return render("readiness/_action_row.html", "readiness/_action_row.html", action=action, today=clock.today(),
                      action_overdue=action_overdue, back=back, message=message)
    return redirect(target)


# -- SOP: documents, versions, read-and-sign --------------------------------------------------
@bp.get("/sop")
@allow(*RAISERS)
def sop_list():
    """Staff: the team's SOPs, newest versions, and what they still have to sign.
    Peer leads and the manager also see sign-off at a glance."""
    if not _team_id():
        return render("readiness/no_team.html")
    to_sign = {v.id for v in SopVersion.to_sign_for(current_user)}
    signed = {s.version_id: s for s in SopSignature.select().where(SopSignature.user == current_user.id)}
    sign_off = _sign_off(_team_id())
    return render("readiness/sop_list.html", sign_off=sign_off, to_sign=to_sign, signed=signed,
                  lead=current_user.has_role(*LEADS))


def _sop_form_page(form, document=None, latest=None):
    return render_form("readiness/sop_form.html", form, document=document, latest=latest)


def _publish(form, document):
    based_on = int(form.based_on.data) if document is not None and (form.based_on.data or "").isdigit() else None
    pdf, pdf_name = None, ""
    upload = form.pdf.data
    if upload and getattr(upload, "filename", ""):
        pdf = upload.read(services.MAX_PDF_BYTES + 1)
        pdf_name = upload.filename
    return services.publish_version(_team_id(), document=document, title=form.title.data or "",
                                    effective_on=form.effective_on.data, changes=form.changes.data or "",
                                    body=form.body.data or "", pdf=pdf, pdf_name=pdf_name, roles=form.roles.data,
                                    by=current_user._get_current_object(), based_on=based_on)


UPLOAD_LIMIT = services.MAX_PDF_BYTES + 1024 * 1024  # the PDF and the form around it


@bp.route("/sop/new", methods=["GET", "POST"])
@allow("manager")
@accepts_upload(UPLOAD_LIMIT)
def sop_new():
    """Manager: a new SOP document at version 1 (Markdown text or a PDF)."""
    if not _team_id():
        abort(404)
    form = SopForm()
    form.roles.choices = [(r, ROLE_LABELS[r]) for r in SIGNING_ROLES]
    if request.method == "GET":
        form.effective_on.data = clock.today()
        form.roles.data = ["manager", "peer_lead", "clinician", "peer"]
    if form.validate_on_submit():
        if not (form.title.data or "").strip():
            form.title.errors.append("Give the SOP a title")
        else:
            try:
                version = _publish(form, None)
                flash("SOP published. Staff asked to sign it see it on their home page.", "success")
                return redirect(url_for("readiness.sop_version", version_id=version.id))
            except Refusal as refusal:
                form.body.errors.append(str(refusal))
    return _sop_form_page(form)


@bp.route("/sop/<int:document_id>/versions/new", methods=["GET", "POST"])
@allow("manager")
@accepts_upload(UPLOAD_LIMIT)
def sop_version_new(document_id: int):
    """Manager: a new version of an SOP; everyone asked must read and sign it again."""
    document = _mine(SopDocument, document_id)
    latest = (SopVersion.select().where(SopVersion.document == document).order_by(SopVersion.number.desc()).first())
    form = SopForm()
    form.roles.choices = [(r, ROLE_LABELS[r]) for r in SIGNING_ROLES]
    if request.method == "GET":
        form.title.data = document.title
        form.effective_on.data = clock.today()
        form.based_on.data = str(latest.number if latest else 0)
        if latest:
            form.body.data = latest.body
            form.roles.data = latest.role_list()
    if form.validate_on_submit():
        try:
            version = _publish(form, document)
            flash(f"Version {version.number} published. Everyone asked must read and sign it again.", "success")
            return redirect(url_for("readiness.sop_version", version_id=version.id))
        except StaleEdit:
            latest = (SopVersion.select().where(SopVersion.document == document)
                      .order_by(SopVersion.number.desc()).first())
            form.based_on.data = str(latest.number)  # publishing again, having read it, goes ahead
            return render_stale("readiness/sop_form.html", form, document=document, latest=latest)
        except Refusal as refusal:
            form.body.errors.append(str(refusal))
    return _sop_form_page(form, document, latest)


def _sop_version_page(version, form=None):
    roles = version.role_list()
    newest = SopVersion.select(pw.fn.MAX(SopVersion.number)).where(SopVersion.document == version.document_id).scalar()
    signature = SopSignature.get_or_none(SopSignature.version == version, SopSignature.user == current_user.id)
    may_sign = newest == version.number and bool(set(roles) & current_user.roles) and signature is None
    others = list(SopVersion.light().where(SopVersion.document == version.document_id).order_by(SopVersion.number.desc()))
    return render_form("readiness/sop_version.html", form or SignForm(formdata=None), version=version,
                       document=version.document, roles=roles, newest=newest, signature=signature,
                       may_sign=may_sign, html=to_html(version.body) if version.body else "", others=others)


@bp.get("/sop/versions/<int:version_id>")
@allow(*RAISERS)
def sop_version(version_id: int):
    """Staff of the team: read a version (text in the page, or its PDF) and sign it."""
    return _sop_version_page(_version_of_my_team(version_id))


@bp.get("/sop/versions/<int:version_id>/pdf")
@allow(*RAISERS)
def sop_pdf(version_id: int):
    """Staff of the team: the version's PDF as uploaded, checked against its sha256."""
    version = _version_of_my_team(version_id)
    if not version.pdf_sha256:
        abort(404)
    data = bytes(SopVersion.select(SopVersion.pdf).where(SopVersion.id == version.id).scalar() or b"")
    if hashlib.sha256(data).hexdigest() != version.pdf_sha256:
        current_app.logger.error("SOP version %s: stored PDF does not match its sha256", version.id)
        abort(500)
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    safe_name = "".join(ch for ch in version.pdf_name if ch.isalnum() or ch in "-_. ")[:100] or "sop.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    return response


def _password_again(user, password: str) -> bool:
    """Signing needs the password again. A wrong one counts with the login's own
    per-account failures (so this form cannot be used to guess it); at the limit
    the session ends, as someone may be guessing at an open tablet."""
    cfg = current_app.config
    key = LoginFailure.key(user.email)
    since = clock.now() - dt.timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    with db.atomic():
        failures = LoginFailure.select().where(LoginFailure.email_hash == key, LoginFailure.at >= since).count()
        ok = failures < cfg["LOGIN_MAX_FAILURES"] and passwords.verify(user.password_hash, password)
        if not ok:
            LoginFailure.create(email_hash=key, at=clock.now())
            audit("password_confirm_failed", user, summary="wrong password when signing an SOP", user=user)
            if failures + 1 >= cfg["LOGIN_MAX_FAILURES"]:
                LoginSession.end(session.get("sid"))
                audit("logout", user, summary="session ended after too many wrong passwords", user=user)
                return None
    return ok


@bp.post("/sop/versions/<int:version_id>/sign")
@allow(*RAISERS)
def sop_sign(version_id: int):
    """Staff asked by this version: read and sign it with their password."""
    version = _version_of_my_team(version_id)
    form = SignForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        ok = _password_again(user, form.password.data or "")
        if ok is None:
            logout_user()
            session.clear()
            flash("Too many wrong passwords: you have been signed out. Sign in again to go on.", "error")
            return redirect(url_for("auth.login"))
        if not ok:
            form.password.errors.append("That password is not right")
        else:
            try:
                services.sign(version, by=user)
                flash(f"You have signed {version.document.title}, version {version.number}.", "success")
                return redirect(url_for("readiness.sop_list"))
            except Refusal as refusal:
                form.read.errors.append(str(refusal))
    return _sop_version_page(version, form)


@bp.get("/sop/versions/<int:version_id>/signatures")
@allow(*LEADS)
def sop_signatures(version_id: int):
    """Peer leads and the manager: who has and has not signed this version; prints."""
    version = _version_of_my_team(version_id)
    people, _ = version.signers_due()
    roles = version.role_list()
    return render("readiness/sop_signatures.html", version=version, document=version.document, people=people,
                  roles=roles, signed=sum(1 for _, s in people if s))
