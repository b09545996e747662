"""Peer workforce: from trained candidate to active peer, and their support.

Peer leads and managers of a team work with that team's roles only (404 for
others). A peer sees only their own role. Supervision and debrief notes are
read only by the peer and their supervisors (the role's supervisor, and the
peer lead who wrote the note); every reading is audited. Viewers see nothing here.
"""
from __future__ import annotations

import click
import peewee as pw
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import clock
from ..access import allow, require_role
from ..audit import AuditEvent, audit
from ..db import db
from ..forms import ActionForm, int_arg
from ..models import Team, User, UserRole
from ..navigation import home_panel, nav_item
from ..changes import StaleEdit, record_version
from ..pages import render, render_form, render_stale
from ..training.models import Candidate
from ..wrap.sharing import shared_early_warning_signs
from . import services
from .forms import (CheckCorrectionForm, CheckForm, ConfirmForm, ConflictForm, DebriefCorrectionForm, DebriefForm,
                    DeclareForm, LeadForm, MeetingForm, OfferForm, RoleDetailsForm, SettingsForm, StatusForm,
                    SupervisionCorrectionForm, SupervisionForm)
from .models import (DBS_LEVELS, DBS_OUTCOMES, STATUSES, CheckType, Debrief, InductionItem, InductionTick,
                     PeerLeadDesignation, PeerRole, RecruitmentCheck, Refusal, StaffConflict, Supervision,
                     TeamMeetingAgreement,
                     WorkforceSetting)

# cli_group=None: the sweep is `flask --app peerapp workforce-sweep`.
bp = Blueprint("workforce", __name__, url_prefix="/workforce", cli_group=None)
nav_item("Workforce", "workforce.index", order=30, hint="Peer roles, checks, induction and supervision")
nav_item("My role", "workforce.me", order=30, hint="Your role, checks, induction and agreements")
nav_item("Declare a prior care relationship", "workforce.declare", order=85,
         hint="If you have cared for one of the team's peer workers before")
home_panel("workforce/_home_panel.html", "workforce.index", order=30)
home_panel("workforce/_peer_panel.html", "workforce.me", order=30)

STAFF = ("peer_lead", "manager")


@bp.app_context_processor
def panel_helpers():
    return {"workforce_team_summary": _audited_team_summary, "workforce_my_role": _my_role}


def _audited_team_summary():
    """The home page's workforce panel names peers with their readiness: a view."""
    summary = _team_summary()
    if summary and summary["rows"]:
        with db.atomic():
            audit("view_list", record_type="peer_role", summary=f"home panel: {len(summary['rows'])} role(s)")
    return summary


# -- finding records the person may see ------------------------------------------
def _my_team():
    return current_user.team if current_user.team_id else None


def _staff_of(team_id) -> bool:
    return current_user.has_role(*STAFF) and current_user.team_id == team_id


def _role_or_404(role_id: int, staff_only: bool = False) -> PeerRole:
    """Staff of the role's team, or (unless staff_only) the peer themselves."""
    role = PeerRole.with_people().where(PeerRole.id == role_id).first() or abort(404)
    if _staff_of(role.team_id):
        return role
    if not staff_only and current_user.has_role("peer") and role.is_peer(current_user):
        return role
    abort(404)


def _lead_of(role: PeerRole) -> bool:
    return PeerLeadDesignation.is_lead(current_user, role.team)


def _my_role() -> PeerRole | None:
    if not current_user.is_authenticated:
        return None
    return PeerRole.current_for(current_user) or (
        PeerRole.with_people().where(PeerRole.user == current_user, PeerRole.status != "ended")
        .order_by(PeerRole.id.desc()).first())


def _row(role: PeerRole, today):
    # Each readiness answer costs several queries: work it out once per row.
    problems = role.readiness_problems(today)
    auto_paused = role.status == "active" and bool(problems)
    overdue = role.supervision_overdue(today)
    last = role.last_supervision()
    return {"role": role, "status": "paused" if auto_paused else role.status,
            "reason": "Paused automatically: " + "; ".join(problems) if auto_paused else role.status_reason,
            "problems": problems, "last": last.held_on if last else None,
            "next": role.next_supervision_due(), "overdue": overdue,
            "caseload": role.active_caseload(),
            # Peer leads see first who needs something: not ready, supervision overdue, a check lapsing.
            "attention_order": (0 if (role.status in ("active", "paused", "onboarding") and problems) or overdue else 1,
                                role.display_name.lower()),
            "expiring": [(r, d) for _, r, _s in role.checks(today) if r and r.expires_on
                         for d in [(r.expires_on - today).days] if d <= 60]}


def _team_summary():
    team = _my_team()
    if team is None:
        return None
    today = clock.today()
    rows = [_row(role, today) for role in PeerRole.gather(PeerRole.for_team(team))]
    return {"team": team, "rows": rows, "warnings": PeerLeadDesignation.warnings(team), "today": today}


# -- the team's workforce ------------------------------------------------------------
@bp.get("/")
@allow(*STAFF)
def index():
    """Peer leads and managers: their team's peers, readiness, expiring checks,
    supervision due, and the peer-lead warnings. Reading changes nothing."""
    summary = _team_summary()
    if summary is None:
        return render_template("workforce/no_team.html")
    ended = list(PeerRole.for_team(summary["team"], include_ended=True).where(PeerRole.status == "ended"))
    with db.atomic():  # names with sensitive status (paused automatically: DBS ...): a view
        audit("view_list", record_type="peer_role",
              summary=f"team workforce page: {len(summary['rows'])} current, {len(ended)} ended role(s)")
    return render_template("workforce/index.html", **summary, ended=ended,
                           expiring=PeerRole.expiring(summary["team"], summary["today"],
                                                      roles=[row["role"] for row in summary["rows"]]))


def _details_form_choices(team):
    return PeerLeadDesignation.leads(team)


def _offerable_candidates(team):
    """Trained candidates of the team without an offer already in progress there."""
    pending = PeerRole.select(PeerRole.candidate).where(PeerRole.team == team,
                                                        PeerRole.status.in_(("offered", "onboarding")))
    return list(Candidate.trained(team).where(Candidate.id.not_in(pending)))


@bp.route("/offer", methods=["GET", "POST"])
@allow(*STAFF)
def offer():
    """Peer leads and managers: offer a role to a candidate of their team who has
    completed training. ``?candidate=&previous=`` prefills a move to paid."""
    team = _my_team() or abort(404)
    previous = None
    previous_id = int_arg("previous")
    if previous_id:
        previous = PeerRole.get_or_none(PeerRole.id == previous_id, PeerRole.team == team)
    form = OfferForm(supervisors=_details_form_choices(team), candidates=_offerable_candidates(team))
    if request.method == "GET":
        form.candidate.data = int_arg("candidate", 0, source=request.args)
        if previous is not None:
            form.candidate.data = previous.candidate_id
            form.kind.data = "paid"
            form.fill_from(previous)
            form.start_date.data = clock.today()
    if form.validate_on_submit():
        candidate = Candidate.get_or_none(Candidate.id == form.candidate.data, Candidate.team == team)
        if candidate is None:
            form.candidate.errors.append("Choose a candidate of your team")
        else:
            supervisor = User.get_or_none(User.id == form.supervisor.data)
            try:
                role = services.offer_role(candidate=candidate, team=team, kind=form.kind.data,
                                           supervisor=supervisor, start_date=form.start_date.data,
                                           by=current_user, previous_role=previous, **form.details())
            except Refusal as refusal:
                form.form_errors.append(str(refusal))
            else:
                flash(f"Role offered to {role.display_name}.", "success")
                return redirect(url_for("workforce.role", role_id=role.id))
    return render_form("workforce/offer.html", form, team=team, previous=previous,
                       no_leads=not form.supervisor.choices[1:], no_candidates=not form.candidate.choices[1:])


@bp.get("/me")
@allow("peer")
def me():
    """Peers: their own role, checks and expiry dates, induction and agreements."""
    role = _my_role()
    if role is None:
        return render_template("workforce/no_role.html")
    return _role_page(role, audit_summary="own peer role read")


@bp.get("/roles/<int:role_id>")
@allow("peer_lead", "manager", "peer")
def role(role_id: int):
    """Staff of the role's team, or the peer themselves: the whole role. Audited:
    it holds the person's checks (DBS outcome) and arrangements."""
    return _role_page(_role_or_404(role_id))


def _role_page(role: PeerRole, fragment: str | None = None, audit_summary: str = "peer role read", **extra):
    """The whole role page (audited as a reading, whichever route shows it: a form
    sent back with errors shows the same checks and arrangements), or a fragment."""
    today = clock.today()
    if fragment is None:
        with db.atomic():
            audit("view", role, summary=audit_summary)
    staff = _staff_of(role.team_id)
    # Readiness, checks, supervision due and caseload are asked several times below:
    # their facts are fetched once (the lists' way), and each list brings the people it names.
    PeerRole.gather([role])
    ticks = {t.item_id: t for t in _with_user(InductionTick.select().where(InductionTick.role == role),
                                               InductionTick.ticked_by)}
    supervisions = list(_with_user(Supervision.select().where(Supervision.role == role), Supervision.recorded_by)
                        .order_by(Supervision.held_on.desc(), Supervision.id.desc()))
    debriefs = list(_with_user(Debrief.select().where(Debrief.role == role), Debrief.recorded_by)
                    .order_by(Debrief.held_on.desc(), Debrief.id.desc()))
    for row in supervisions + debriefs:
        row.role = role
    conflicts = list(_with_user(StaffConflict.select().where(StaffConflict.role == role), StaffConflict.staff)) \
        if staff else []
    history = list(PeerRole.of_candidate(role.candidate_id).select_extend(Team).join(Team)) if staff else [role]
    changes = list(AuditEvent.for_record("peer_role", role.id).where(AuditEvent.action != "view").limit(30)) \
        if staff else []
    agreement = TeamMeetingAgreement.get_or_none(TeamMeetingAgreement.role == role)
    context = dict(
        role=role, today=today, staff=staff, is_lead=_lead_of(role), is_peer=role.is_peer(current_user),
        role_status=role.effective_status(today), reason=role.effective_reason(today),
        problems=role.readiness_problems(today), checks=role.checks(today),
        checks_problems=role.checks_problems(today),
        induction_items=list(InductionItem.checklist()), ticks=ticks, supervisions=supervisions, debriefs=debriefs,
        agreement=agreement,
        conflicts=conflicts, history=history, changes=changes, statuses=STATUSES, dbs_levels=DBS_LEVELS,
        dbs_outcomes=DBS_OUTCOMES, next_due=role.next_supervision_due(),
        overdue=role.supervision_overdue(today), caseload=role.active_caseload(),
        conflict_with_supervisor=StaffConflict.between(role.supervisor, role),
        # Staff see why the supervisor cannot stay (un-named as peer lead, a declared conflict).
        supervisor_problem=services.supervisor_problem(role.supervisor, role.team, role=role)
        if staff and role.is_open else None,
        status_form=extra.pop("status_form", None) or StatusForm(formdata=None),
        meeting_form=extra.pop("meeting_form", None) or _meeting_form(agreement),
        conflict_form=extra.pop("conflict_form", None) or ConflictForm(formdata=None, staff=_team_staff(role)),
    )
    context.update(extra)
    return render("workforce/role.html", fragment, **context)


def _with_user(query, field):
    """``query`` with the user ``field`` names joined in (a page shows their names)."""
    return query.select_extend(User).join(User, pw.JOIN.LEFT_OUTER, on=(field == User.id), attr=field.name)


def _meeting_form(agreement: TeamMeetingAgreement | None):
    form = MeetingForm(formdata=None)
    if agreement:
        form.attends.data = "yes" if agreement.attends else "no"
        form.arrangement.data = agreement.arrangement
    return form


def _team_staff(role):
    staff_ids = UserRole.select(UserRole.user).where(UserRole.role.in_(services.STAFF_ROLES))
    return list(User.select().where(User.team == role.team_id, User.active == True,  # noqa: E712
                                    User.id.in_(staff_ids)).order_by(User.name))


def _refused(role: PeerRole, refusal: Refusal):
    """Show the role page again with the refusal at the top: nothing saved is lost."""
    flash(str(refusal), "error")
    return redirect(url_for("workforce.role", role_id=role.id))


@bp.route("/roles/<int:role_id>/edit", methods=["GET", "POST"])
@allow(*STAFF)
def role_edit(role_id: int):
    """Peer leads and managers of the team: change hours, days, supervisor,
    caseload and the details matching uses."""
    role = _role_or_404(role_id, staff_only=True)
    supervisors = _details_form_choices(role.team)
    if role.supervisor_id not in {u.id for u in supervisors}:
        # Still shown, so the form can be read; saving asks for a named peer lead.
        supervisors.append(role.supervisor)
    form = RoleDetailsForm(supervisors=supervisors)
    if request.method == "GET":
        form.fill_from(role)
        with db.atomic():
            audit("view", role, summary="peer role viewed to edit")
    if form.validate_on_submit():
        try:
            services.update_details(role, by=current_user, supervisor=User.get_or_none(User.id == form.supervisor.data),
                                    start_date=form.start_date.data, **form.details())
        except Refusal as refusal:
            form.form_errors.append(str(refusal))
        else:
            flash("Role details saved.", "success")
            return redirect(url_for("workforce.role", role_id=role.id))
    return render_form("workforce/role_edit.html", form, role=role)


@bp.post("/roles/<int:role_id>/status")
@allow(*STAFF)
def role_status(role_id: int):
    """Peer leads and managers of the team: start onboarding, pause or end (with a reason)."""
    role = _role_or_404(role_id, staff_only=True)
    form = StatusForm()
    if not form.validate_on_submit():
        return _role_page(role, status_form=form), 422
    try:
        services.change_status(role, form.status.data or "", by=current_user, reason=form.reason.data or "")
    except Refusal as refusal:
        form.reason.errors = list(form.reason.errors) + [str(refusal)]
        # The page shows the role as it is now (someone may just have changed it), the reason as typed.
        role = PeerRole.with_people().where(PeerRole.id == role.id).first() or abort(404)
        response = _role_page(role, status_form=form)
        response.status_code = 422
        return response
    flash(f"{role.display_name}'s role is now {STATUSES[role.status].lower()}.", "success")
    return redirect(url_for("workforce.role", role_id=role.id))


@bp.post("/roles/<int:role_id>/activate")
@allow(*STAFF)
def role_activate(role_id: int):
    """Peer leads and managers of the team: make the role active when the peer is
    ready to practise; makes their account (one-time password shown once) or links one."""
    role = _role_or_404(role_id, staff_only=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        user, password = services.activate(role, by=current_user)
    except Refusal as refusal:
        return _refused(role, refusal)
    if password:
        return render_template("workforce/one_time_password.html", role=role, user=user, password=password)
    flash(f"{role.display_name}'s role is active; they sign in as {user.email}.", "success")
    return redirect(url_for("workforce.role", role_id=role.id))


@bp.route("/roles/<int:role_id>/checks/new", methods=["GET", "POST"])
@allow(*STAFF)
def check_new(role_id: int):
    """Peer leads and managers of the team: record a completed (or renewed) check."""
    role = _role_or_404(role_id, staff_only=True)
    types = list(CheckType.select().where(CheckType.active == True).order_by(CheckType.position))  # noqa: E712
    form = CheckForm(check_types=types)
    if request.method == "GET":
        form.check_type.data = int_arg("type", 0, source=request.args)
        with db.atomic():
            audit("view", role, summary="peer role viewed to record a check")
    if form.validate_on_submit():
        update_service = {"yes": True, "no": False}.get(form.dbs_update_service.data or "")
        try:
            services.record_check(role, check_type=form.types[form.check_type.data],
                                  completed_on=form.completed_on.data, expires_on=form.expires_on.data,
                                  by=current_user, dbs_level=form.dbs_level.data or "",
                                  dbs_update_service=update_service, dbs_outcome=form.dbs_outcome.data or "")
        except Refusal as refusal:
            form.form_errors.append(str(refusal))
        else:
            flash(f"{form.types[form.check_type.data].name} recorded.", "success")
            return redirect(url_for("workforce.role", role_id=role.id) + "#checks")
    return render_form("workforce/check_form.html", form, role=role)



def _correct(form, record, page: str, save, done: str, back: str, **context):
    """The one shape of every "Correct this record" page here: the form made from the
    record with its version on GET; on POST ``save()`` (a service's correct_...), a
    stale page refused with 409 and the typed text kept, a refusal on the form."""
    if request.method == "GET":
        form.version.data = record_version(record)
    if form.validate_on_submit():
        try:
            changed = save()
        except StaleEdit:
            form.version.data = record_version(type(record).get_by_id(record.id))
            return render_stale(page, form, record=record, correcting=True, **context)
        except Refusal as refusal:
            form.form_errors.append(str(refusal))
        else:
            flash(done if changed else "Nothing was changed.", "success")
            return redirect(back)
    return render_form(page, form, record=record, correcting=True, **context)


@bp.route("/roles/<int:role_id>/checks/<int:check_id>/correct", methods=["GET", "POST"])
@allow(*STAFF)
def check_correct(role_id: int, check_id: int):
    """Peer leads and managers of the team (who record checks): correct a recorded check.
    Whether the role is paused automatically follows from its checks as corrected."""
    role = _role_or_404(role_id, staff_only=True)
    record = RecruitmentCheck.get_or_none((RecruitmentCheck.id == check_id)
                                          & (RecruitmentCheck.candidate == role.candidate_id)) or abort(404)
    types = list(CheckType.select().where((CheckType.active == True) | (CheckType.id == record.check_type_id))  # noqa: E712
                 .order_by(CheckType.position))
    form = CheckCorrectionForm(obj=record if request.method == "GET" else None, check_types=types,
                               lapses=record.check_type.lapses)
    if request.method == "GET":
        form.check_type.data = record.check_type_id
        form.dbs_update_service.data = {True: "yes", False: "no"}.get(record.dbs_update_service, "")
        with db.atomic():
            audit("view", record, summary=f"check viewed to correct it, peer role {role.id}")

    def save():
        return services.correct_check(
            role, record, reason=form.reason.data or "", seen=form.version.data, by=current_user._get_current_object(),
            check_type=form.types[form.check_type.data], completed_on=form.completed_on.data,
            expires_on=form.expires_on.data, dbs_level=form.dbs_level.data or "",
            dbs_update_service={"yes": True, "no": False}.get(form.dbs_update_service.data or ""),
            dbs_outcome=form.dbs_outcome.data or "")
    return _correct(form, record, "workforce/check_form.html", save, "Check corrected.",
                    url_for("workforce.role", role_id=role.id) + "#checks", role=role)

@bp.post("/roles/<int:role_id>/induction/<int:item_id>")
@allow(*STAFF)
def induction_tick(role_id: int, item_id: int):
    """Peer leads and managers of the team: tick (or untick) an induction item.
    htmx swaps the checklist; without JavaScript the role page comes back."""
    role = _role_or_404(role_id, staff_only=True)
    item = InductionItem.get_or_none(InductionItem.id == item_id, InductionItem.active == True) or abort(404)  # noqa: E712
    if not ActionForm().validate_on_submit():
        abort(400)
    error = None
    try:
        services.tick_induction(role, item, by=current_user, done=request.form.get("done", "1") != "0")
    except Refusal as refusal:
        error = str(refusal)
    if error and not request.headers.get("HX-Request"):
        flash(error, "error")
    if not request.headers.get("HX-Request"):
        return redirect(url_for("workforce.role", role_id=role.id) + "#induction")
    return _role_page(role, fragment="workforce/_induction.html", induction_error=error)


@bp.post("/roles/<int:role_id>/induction/sign-off")
@allow("peer_lead")
def induction_sign_off(role_id: int):
    """Named peer leads of the team: sign off the induction once every item is ticked."""
    role = _role_or_404(role_id, staff_only=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.sign_off_induction(role, by=current_user)
    except Refusal as refusal:
        return _refused(role, refusal)
    flash("Induction signed off.", "success")
    return redirect(url_for("workforce.role", role_id=role.id) + "#induction")


@bp.post("/roles/<int:role_id>/base-access")
@allow(*STAFF)
def base_access(role_id: int):
    """Peer leads and managers of the team: record that base access was given
    (only once training and every required check are complete and in date)."""
    role = _role_or_404(role_id, staff_only=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.give_base_access(role, by=current_user)
    except Refusal as refusal:
        return _refused(role, refusal)
    flash("Base access recorded.", "success")
    return redirect(url_for("workforce.role", role_id=role.id))


@bp.post("/roles/<int:role_id>/team-meetings")
@allow(*STAFF)
def meetings(role_id: int):
    """Peer leads and managers of the team: write down whether the peer attends
    team meetings; the three confirmations start again."""
    role = _role_or_404(role_id, staff_only=True)
    form = MeetingForm()
    if not form.validate_on_submit():
        response = _role_page(role, meeting_form=form)
        response.status_code = 422
        return response
    try:
        services.set_meeting_arrangement(role, attends=form.attends.data == "yes",
                                         arrangement=form.arrangement.data or "", by=current_user)
    except Refusal as refusal:
        form.arrangement.errors = list(form.arrangement.errors) + [str(refusal)]  # the text typed is kept
        response = _role_page(role, meeting_form=form)
        response.status_code = 409
        return response
    flash("Team meeting arrangement saved; the manager, a peer lead and the peer each confirm it.", "success")
    return redirect(url_for("workforce.role", role_id=role.id) + "#meetings")


@bp.post("/roles/<int:role_id>/team-meetings/confirm")
@allow("peer_lead", "manager", "peer")
def meetings_confirm(role_id: int):
    """The manager, a peer lead, or the peer (from their own page): confirm the arrangement."""
    role = _role_or_404(role_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.confirm_meeting(role, by=current_user, as_=form.confirm_as.data or "")
    except Refusal as refusal:
        return _refused(role, refusal)
    flash("Thank you: your agreement is recorded.", "success")
    return redirect(url_for("workforce.me" if role.is_peer(current_user) else "workforce.role",
                            **({} if role.is_peer(current_user) else {"role_id": role.id})) + "#meetings")


@bp.route("/roles/<int:role_id>/supervision/new", methods=["GET", "POST"])
@allow("peer_lead")
def supervision_new(role_id: int):
    """Named peer leads of the team: record a supervision session."""
    role = _role_or_404(role_id, staff_only=True)
    form = SupervisionForm()
    if request.method == "GET":
        form.held_on.data = clock.today()
        with db.atomic():
            audit("view", role, summary="peer role viewed to record supervision")
    if form.validate_on_submit():
        try:
            record = services.record_supervision(role, by=current_user, held_on=form.held_on.data,
                                                 duration_minutes=form.duration_minutes.data,
                                                 how_they_are=form.how_they_are.data,
                                                 actions=form.actions.data or "", next_on=form.next_on.data)
        except Refusal as refusal:
            form.form_errors.append(str(refusal))
        else:
            flash("Supervision recorded.", "success")
            return redirect(url_for("workforce.supervision", record_id=record.id))
    return render_form("workforce/supervision_form.html", form, role=role,
                       warning_signs=_shared_warning_signs(role))



def _note_to_correct(model, record_id: int):
    """A supervision or debrief record the signed-in named peer lead of its team may
    read (and so correct), else 404."""
    record = model.get_or_none(model.id == record_id) or abort(404)
    if not (record.visible_to(current_user) and PeerLeadDesignation.is_lead(current_user, record.role.team)):
        abort(404)
    return record


@bp.route("/supervision/<int:record_id>/correct", methods=["GET", "POST"])
@allow("peer_lead")
def supervision_correct(record_id: int):
    """Named peer leads of the team who may read the record (those who record supervision):
    correct it. The changed notes go in its history, shown only to its readers."""
    record = _note_to_correct(Supervision, record_id)
    form = SupervisionCorrectionForm(obj=record if request.method == "GET" else None)
    if request.method == "GET":
        with db.atomic():
            audit("view", record, summary=f"supervision of peer role {record.role_id} read to correct it")

    def save():
        return services.correct_supervision(
            record, by=current_user._get_current_object(), reason=form.reason.data or "", seen=form.version.data,
            held_on=form.held_on.data, duration_minutes=form.duration_minutes.data,
            how_they_are=form.how_they_are.data, actions=form.actions.data or "", next_on=form.next_on.data)
    return _correct(form, record, "workforce/supervision_form.html", save, "Supervision corrected.",
                    url_for("workforce.supervision", record_id=record.id), role=record.role, warning_signs=None)


def _shared_warning_signs(role: PeerRole) -> str | None:
    """The early warning signs the peer chose to share with this supervisor (their
    work-WRAP decides, and audits the reading), so supervision can note them."""
    if role.user is None:
        return None
    return shared_early_warning_signs(role.user, current_user._get_current_object())


@bp.get("/supervision/<int:record_id>")
@allow("peer_lead", "manager", "peer")
def supervision(record_id: int):
    """The peer, the role's supervisor, or the peer lead who wrote it: read one
    supervision record. Every reading is audited; anyone else gets 404."""
    record = Supervision.get_or_none(Supervision.id == record_id) or abort(404)
    if not record.visible_to(current_user):
        abort(404)
    with db.atomic():
        audit("view", record, summary=f"supervision of peer role {record.role_id} read")
    return render_template("workforce/supervision.html", record=record, role=record.role,
                           may_correct=PeerLeadDesignation.is_lead(current_user, record.role.team),
                           readers=AuditEvent.for_record("supervision", record.id)
                           .where(AuditEvent.action == "view").limit(20))


@bp.route("/roles/<int:role_id>/debriefs/new", methods=["GET", "POST"])
@allow("peer_lead")
def debrief_new(role_id: int):
    """Named peer leads of the team: record an end-of-day debrief."""
    role = _role_or_404(role_id, staff_only=True)
    form = DebriefForm()
    if request.method == "GET":
        form.held_on.data = clock.today()
        with db.atomic():
            audit("view", role, summary="peer role viewed to record a debrief")
    if form.validate_on_submit():
        try:
            record = services.record_debrief(role, by=current_user, held_on=form.held_on.data,
                                             summary=form.summary.data, wellbeing=form.wellbeing.data or "")
        except Refusal as refusal:
            form.form_errors.append(str(refusal))
        else:
            flash("Debrief recorded.", "success")
            return redirect(url_for("workforce.debrief", record_id=record.id))
    return render_form("workforce/debrief_form.html", form, role=role)


@bp.get("/debriefs/<int:record_id>")
@allow("peer_lead", "manager", "peer")
def debrief(record_id: int):
    """The peer, the role's supervisor, or the peer lead who wrote it: read one
    debrief. Every reading is audited; anyone else gets 404."""
    record = Debrief.get_or_none(Debrief.id == record_id) or abort(404)
    if not record.visible_to(current_user):
        abort(404)
    with db.atomic():
        audit("view", record, summary=f"debrief of peer role {record.role_id} read")
    return render_template("workforce/debrief.html", record=record, role=record.role,
                           may_correct=PeerLeadDesignation.is_lead(current_user, record.role.team))


@bp.route("/debriefs/<int:record_id>/correct", methods=["GET", "POST"])
@allow("peer_lead")
def debrief_correct(record_id: int):
    """Named peer leads of the team who may read the debrief (those who record them): correct it."""
    record = _note_to_correct(Debrief, record_id)
    form = DebriefCorrectionForm(obj=record if request.method == "GET" else None)
    if request.method == "GET":
        with db.atomic():
            audit("view", record, summary=f"debrief of peer role {record.role_id} read to correct it")

    def save():
        return services.correct_debrief(
            record, by=current_user._get_current_object(), reason=form.reason.data or "", seen=form.version.data,
            held_on=form.held_on.data, summary=form.summary.data, wellbeing=form.wellbeing.data or "")
    return _correct(form, record, "workforce/debrief_form.html", save, "Debrief corrected.",
                    url_for("workforce.debrief", record_id=record.id), role=record.role)

@bp.post("/roles/<int:role_id>/conflicts")
@allow(*STAFF)
def conflict_new(role_id: int):
    """Peer leads and managers of the team: record that a staff member has a prior
    care relationship with this peer (the fact only). That person can then never
    be this peer's supervisor."""
    role = _role_or_404(role_id, staff_only=True)
    form = ConflictForm(staff=_team_staff(role))
    if not form.validate_on_submit():
        response = _role_page(role, conflict_form=form)
        response.status_code = 422
        return response
    staff = User.get_or_none(User.id == form.staff.data) or abort(404)
    try:
        services.declare_conflict(role, staff=staff, by=current_user)
    except Refusal as refusal:
        return _refused(role, refusal)
    message = f"Recorded: {staff.name} has a prior care relationship with this peer."
    if role.supervisor_id == staff.id:
        message += " They are this peer's supervisor now: choose another supervisor."
    flash(message, "success")
    return redirect(url_for("workforce.role", role_id=role.id) + "#conflicts")


@bp.route("/declare", methods=["GET", "POST"])
@allow("clinician", "manager", "peer_lead")
def declare():
    """Staff of a team: declare, for yourself, that you have cared for one of the
    team's peer workers before (the fact only, no detail). You will then never
    be made their supervisor."""
    team = _my_team()
    roles = list(PeerRole.for_team(team)) if team else []
    form = DeclareForm(roles=roles)
    if form.validate_on_submit():
        role = next((r for r in roles if r.id == form.role.data), None)
        if role is None:
            form.role.errors.append("Choose a peer worker of your team")
        else:
            try:
                services.declare_conflict(role, staff=current_user._get_current_object(), by=current_user)
            except Refusal as refusal:
                form.role.errors.append(str(refusal))
            else:
                flash(f"Recorded. You will not be made {role.display_name}'s supervisor.", "success")
                return redirect(url_for("workforce.declare"))
    mine = list(StaffConflict.select().where(StaffConflict.staff == current_user.id))
    return render_form("workforce/declare.html", form, team=team, mine=mine)


# -- peer leads and settings -------------------------------------------------------------
@bp.route("/peer-leads", methods=["GET", "POST"])
@allow(*STAFF)
def peer_leads():
    """Peer leads and managers: who the team's named peer leads are. Managers name them."""
    team = _my_team()
    if team is None:
        return render_template("workforce/no_team.html")
    leads_ids = UserRole.select(UserRole.user).where(UserRole.role == "peer_lead")
    possible = list(User.select().where(User.team == team, User.active == True,  # noqa: E712
                                        User.id.in_(leads_ids)).order_by(User.name))
    form = LeadForm(candidates=possible)
    if request.method == "POST":
        require_role("manager")
        if form.validate_on_submit():
            user = User.get_or_none(User.id == form.user.data)
            try:
                services.designate_lead(team, user, paid=form.paid.data, by=current_user)
            except Refusal as refusal:
                form.user.errors.append(str(refusal))
            else:
                flash(f"{user.name} is a named peer lead of {team.name}.", "success")
                return redirect(url_for("workforce.peer_leads"))
    return render_form("workforce/peer_leads.html", form, team=team,
                       designations=list(PeerLeadDesignation.for_team(team)),
                       warnings=PeerLeadDesignation.warnings(team))


@bp.post("/peer-leads/<int:designation_id>/remove")
@allow("manager")
def peer_lead_remove(designation_id: int):
    """Managers: a person is no longer one of the team's named peer leads."""
    row = PeerLeadDesignation.get_or_none(PeerLeadDesignation.id == designation_id) or abort(404)
    if row.team_id != current_user.team_id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.remove_lead(row, by=current_user)
    except Refusal as refusal:
        flash(str(refusal), "info")
    else:
        flash("No longer a named peer lead.", "success")
    return redirect(url_for("workforce.peer_leads"))


@bp.route("/settings", methods=["GET", "POST"])
@allow("manager")
def settings():
    """Managers: how often supervision is due, which checks each kind of role
    needs, and the induction checklist. Kept in the database."""
    types = list(CheckType.listed().where(CheckType.active == True))  # noqa: E712
    items = list(InductionItem.checklist())
    form = SettingsForm(check_types=types, items=items)
    if request.method == "GET":
        form.supervision_days.data = WorkforceSetting.supervision_days()
        form.volunteer_checks.data = [t.id for t in types if t.for_volunteer]
        form.paid_checks.data = [t.id for t in types if t.for_paid]
        form.induction_items.data = [i.id for i in items]
    if form.validate_on_submit():
        with db.atomic():
            WorkforceSetting.set_supervision_days(form.supervision_days.data)
            for check_type in types:
                check_type.for_volunteer = check_type.id in (form.volunteer_checks.data or [])
                check_type.for_paid = check_type.id in (form.paid_checks.data or [])
                check_type.save()
            keep = set(form.induction_items.data or [])
            for item in items:
                if item.id not in keep:
                    item.active = False
                    item.save()
            if (form.new_item.data or "").strip():
                InductionItem.create(title=form.new_item.data.strip(), position=len(items) + 1)
            audit("update", record_type="workforce_setting", record_id="", summary="workforce settings changed")
        flash("Workforce settings saved.", "success")
        return redirect(url_for("workforce.settings"))
    return render_form("workforce/settings.html", form)


# -- the sweep ---------------------------------------------------------------------------------
@bp.cli.command("workforce-sweep")
def sweep_command():
    """Log which active roles a lapsed check has paused, and which are ready again.
    Pages work it out themselves; run this daily (cron) so the audit log shows when."""
    with db.connection_context():
        paused, resumed = services.sweep()
    click.echo(f"{len(paused)} role(s) paused by a lapsed check; {len(resumed)} ready again.")
