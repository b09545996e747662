"""Outcomes: measures, due lists, entering responses on a tablet, change charts
and the commissioner report.

Who sees what (404 for records that are not theirs):
- peer leads and managers: their team's referrals' measures, due lists, the team's
  paired change; measures and schedules (items' wording is read-only here: a
  measure changes only by importing a new version);
- paid peers: measures of referrals assigned to them now; their own measures;
- a peer's own measures: the peer's alone, and their supervisor's while shared;
- viewers (and managers, peer leads): the report, counts suppressed, nothing per person.
"""
from __future__ import annotations

import csv
import datetime as dt
import io

import click

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from .. import clock
from ..access import allow, recent_login
from ..audit import audit
from ..changes import Refusal, StaleEdit, record_version
from ..db import db
from ..disclosure import SUPPRESSED, disclose, disclose_line, disclose_rate
from ..forms import ActionForm
from ..models import Team, User
from ..navigation import home_panel, nav_item, page_section
from ..pages import render, render_form, render_stale, safe_next
from ..paging import paged_list
from ..referrals.models import Referral, ServiceUser
from ..workforce.models import PeerRole
from . import change, charts, schedules, scoring, services
from .definition import DefinitionErrors
from .forms import DebriefForm, ReportForm, ScheduleForm, item_field_name, response_form
from .models import (BASELINE, COMPLETED, END, NOT_DONE, PEER, REVIEW, SERVICE_USER, Measure, MeasureResponse,
                     MeasureSchedule, MeasureVersion, ScoreShare)

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes", cli_group=None)
nav_item("Outcomes", "outcomes.index", order=55, hint="Outcome measures due, scores over time and change")
home_panel("outcomes/_home_panel.html", "outcomes.index", order=55)
home_panel("outcomes/_report_panel.html", "outcomes.report", order=56)
# Closing a referral asks for the end measure: a section on referrals' close page,
# registered from here so referrals never imports outcomes.
page_section("referrals.close", "outcomes/_closing.html", "outcomes.record", order=10)

LEADS = ("peer_lead", "manager")
WORKERS = ("peer_lead", "manager", "peer")
OWNERS = ("peer", "peer_lead")
REPORT_READERS = ("viewer", "manager", "peer_lead")


def _me() -> User:
    return current_user._get_current_object()


# --- the command a team uses to load its licensed measure ------------------------
@bp.cli.command("import-measure")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_measure_command(path):
    """Import a measure definition (JSON or TOML); a changed definition becomes a new version."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        version, created = services.import_measure(text, path)
    except DefinitionErrors as errors:
        for problem in errors.problems:
            click.echo(problem, err=True)
        raise SystemExit(1)
    if created:
        click.echo(f"Imported {version.measure.name}: version {version.number} ({len(version.definition.items)} items).")
    else:
        click.echo(f"{version.measure.name} is already held as version {version.number}: nothing changed.")


# --- home and due lists ------------------------------------------------------------
def _my_role():
    return PeerRole.current_for(_me()) if _me().has_role("peer") else None


def _caseload_referrals():
    me = _me()
    if me.has_role(*LEADS) and me.team_id:
        # The whole team's open referrals: only what working out the due list reads
        # (when the referral started); the names of the page's rows are read after.
        return list(Referral.select(Referral.id, Referral.state_changed_at)
                    .where(Referral.team == me.team_id, Referral.state.in_(services.OPEN_STATES))
                    .order_by(Referral.id))
    role = _my_role()
    if role is None or role.is_volunteer:
        return []
    return list(Referral.assigned_to(role))


def _due_id(due) -> int:
    """A due row's id for the pager's cursor: its referral's and schedule's ids (no personal data)."""
    return due.referral.id * 100_000 + due.schedule.id


@bp.get("/")
@allow(*WORKERS)
def index():
    """Peer leads and managers: the team's due and overdue measures (service users and
    peers). Peers: their caseload's. Everyone with a measure of their own: a link to it."""
    me = _me()
    su_schedules = services.scheduled(SERVICE_USER)
    # Every due measure of the caseload is worked out (the order needs them all);
    # 50 are shown a page, and only their referrals' names are read.
    page = paged_list(schedules.due_for_referrals(_caseload_referrals(), su_schedules), _due_id)
    due = page.rows
    shown = {r.id: r for r in Referral.select(Referral.id, Referral.service_user, ServiceUser.id, ServiceUser.name)
             .join(ServiceUser).where(Referral.id.in_(sorted({d.referral.id for d in due})))}
    for d in due:
        d.referral = shown[d.referral.id]
    peer_due = []
    if me.has_role(*LEADS) and me.team_id:
        roles = list(PeerRole.with_people().where(PeerRole.team == me.team_id, PeerRole.status == "active"))
        peer_due = schedules.due_for_peers(roles, services.scheduled(PEER))
    versions = {v.measure_id: v for v in _current_versions()}
    if due or peer_due:  # names service users and peers with measures due: a view
        with db.atomic():
            audit("view_list", record_type="measure_due", summary=f"measures due: {len(due)} of {page.total} referral(s), "
                                                                   f"{len(peer_due)} peer(s)")
    return render("outcomes/index.html", due=due, page=page, peer_due=peer_due, own=me.has_role(*OWNERS), versions=versions)


# --- measures (read-only wording) and schedules ------------------------------------
@bp.get("/measures")
@allow("peer_lead", "manager", "admin")
def measures():
    """Measures imported, their versions and schedules. Wording is read-only."""
    rows = list(Measure.select().order_by(Measure.name))
    plans = {(s.measure_id, s.subject): s for s in MeasureSchedule.select()}
    return render("outcomes/measures.html", measures=rows, plans=plans)


@bp.route("/measures/<int:measure_id>", methods=["GET", "POST"])
@allow("peer_lead", "manager", "admin")
def measure(measure_id):
    """A measure's items as imported (read-only) and its schedules (POST changes one)."""
    found = Measure.get_or_none(Measure.id == measure_id) or abort(404)
    form = ScheduleForm()
    if request.method == "GET":
        form.version.data = services.schedule_version(found)
    stale = False
    if form.validate_on_submit():
        try:
            services.set_schedule(found.id, form.subject.data, form.review_weeks.data, form.active.data == "yes", _me(),
                                  expected_version=form.version.data)
        except StaleEdit:
            stale = True
            form.version.data = services.schedule_version(found)
        except Refusal as refusal:
            form.subject.errors.append(str(refusal))
        else:
            flash("Schedule saved.")
            return redirect(url_for("outcomes.measure", measure_id=found.id))
    versions = list(MeasureVersion.select().where(MeasureVersion.measure == found).order_by(MeasureVersion.number.desc()))
    plans = list(MeasureSchedule.select().where(MeasureSchedule.measure == found))
    if stale:
        return render_stale("outcomes/measure.html", form, measure=found, versions=versions, plans=plans)
    if request.method == "POST":
        return render_form("outcomes/measure.html", form, measure=found, versions=versions, plans=plans)
    return render("outcomes/measure.html", form=form, measure=found, versions=versions, plans=plans)


# --- a service user's measures -------------------------------------------------------
def _referral_or_404(referral_id) -> Referral:
    referral = (Referral.select(Referral, ServiceUser).join(ServiceUser)
                .where(Referral.id == referral_id).first())
    if referral is None or not services.may_work_with_referral(_me(), referral):
        abort(404)
    return referral


def _history(responses):
    """Per measure: (version definition, scored responses, all responses, pair or None)."""
    by_measure: dict = {}
    for r in responses:
        by_measure.setdefault(r.measure_id, []).append(r)
    out = []
    for rows in by_measure.values():
        rows.sort(key=lambda r: (r.taken_on, r.id))
        scored = [r for r in rows if r.scored]
        definition = rows[-1].version.definition
        found = change.pairs(rows)
        out.append({"measure": rows[-1].version.measure, "definition": definition, "rows": rows, "scored": scored,
                    "pair": found[0] if found else None,
                    "chart": charts.over_time(definition, scored) if scored else None})
    return out


def _responses_query():
    return (MeasureResponse.select(MeasureResponse, MeasureVersion, Measure, User)
            .join(MeasureVersion).join(Measure).switch(MeasureResponse)
            .join(User, on=(MeasureResponse.entered_by == User.id)))


@bp.get("/referrals/<int:referral_id>")
@allow(*WORKERS)
def referral(referral_id):
    """The referral team's peer leads and managers, and the assigned paid peer: the
    service user's scores over time with the reliable-change band, and what to record next."""
    found = _referral_or_404(referral_id)
    rows = list(_responses_query().where(MeasureResponse.referral == found.id))
    with db.atomic():
        audit("view", found, summary="outcome measures viewed")
    # Those who may enter a service user's measures (and so read this page) may correct them.
    return render("outcomes/referral.html", referral=found, history=_history(rows), corrects=True,
                  schedules=services.scheduled(SERVICE_USER), measures=_current_versions())


def _current_versions() -> list[MeasureVersion]:
    latest = {}
    for v in MeasureVersion.select(MeasureVersion, Measure).join(Measure):
        if v.measure_id not in latest or v.number > latest[v.measure_id].number:
            latest[v.measure_id] = v
    return sorted(latest.values(), key=lambda v: v.measure.name)


def _answers(form, definition) -> dict:
    answers = {}
    for item in definition.items:
        value = getattr(form, item_field_name(item.key)).data
        if value is not None:
            answers[item.key] = value
    return answers


def _entry(version, occasions, save, back_url, title, subject_label, end_not_done=False, debrief=None):
    """One page or one item per screen (the person chooses with ?mode=step); JS off works:
    each step is a POST carrying the earlier answers as hidden fields."""
    definition = version.definition
    form = response_form(definition, occasions, end_not_done)
    if request.method == "GET":
        form.mode.data = "step" if request.args.get("mode") == "step" else "page"
        form.taken_on.data = clock.today()
        if request.args.get("occasion") in dict(occasions):
            form.occasion.data = request.args["occasion"]
        if request.args.get("status") in dict(form.status.choices):
            form.status.data = request.args["status"]
    step_mode = form.mode.data == "step"
    step = 0
    context = dict(version=version, definition=definition, back_url=back_url, title=title,
                   subject_label=subject_label, debrief=debrief, item_field_name=item_field_name)
    if request.method == "POST":
        step = min(max(int(form.step.data) if (form.step.data or "").isdigit() else 0, 0), len(definition.items))
        if form.validate_on_submit():
            answers = _answers(form, definition)
            completed = form.status.data == COMPLETED
            if step_mode and completed and step < len(definition.items):
                # One item per screen: check this screen's item, then show the next.
                if step > 0:
                    item = definition.items[step - 1]
                    if item.key not in answers:
                        getattr(form, item_field_name(item.key)).errors.append("Choose an answer.")
                        return render_form("outcomes/record.html", form, step=step, step_mode=True, **context)
                form.step.data = str(step + 1)
                return render("outcomes/record.html", form=form, step=step + 1, step_mode=True, **context)
            if step_mode and completed and definition.items[-1].key not in answers:
                getattr(form, item_field_name(definition.items[-1].key)).errors.append("Choose an answer.")
                return render_form("outcomes/record.html", form, step=step, step_mode=True, **context)
            try:
                save(form, answers)
            except Refusal as refusal:
                form.status.errors.append(str(refusal))
            else:
                flash("Measure saved.")
                return redirect(back_url)
        return render_form("outcomes/record.html", form, step=step, step_mode=step_mode, **context)
    return render("outcomes/record.html", form=form, step=0, step_mode=step_mode, **context)


@bp.route("/referrals/<int:referral_id>/record/<int:version_id>", methods=["GET", "POST"])
@allow(*WORKERS)
def record(referral_id, version_id):
    """Peer leads, managers and the assigned paid peer: enter a service user's measure.
    A peer lead may enter one a volunteer reported at debrief (attributed to them)."""
    found = _referral_or_404(referral_id)
    version = MeasureVersion.get_or_none(MeasureVersion.id == version_id) or abort(404)
    if request.method == "GET":
        # The page names the referral and, for a peer lead, the team's volunteers: a view.
        with db.atomic():
            audit("view", found, summary="referral viewed to record a measure")
    occasions = [(BASELINE, "Baseline"), (REVIEW, "Review"), (END, "End (at closing)")]
    debrief = None
    if _me().has_role("peer_lead"):
        debrief = DebriefForm()
        volunteers = list(PeerRole.with_people().where(PeerRole.team == found.team_id, PeerRole.kind == "volunteer",
                                                       PeerRole.status.in_(("active", "paused"))))
        debrief.reported_by_role.choices = [(0, "Not reported at a debrief")] + [(v.id, v.display_name) for v in volunteers]
        if request.method == "GET":
            assigned = services.current_assignment_role(found)
            debrief.reported_by_role.data = assigned.id if assigned and assigned.is_volunteer else 0

    def save(form, answers):
        role_id = debrief.reported_by_role.data if debrief is not None and debrief.reported_by_role.data else None
        services.record_for_referral(found.id, version.id, form.occasion.data, form.status.data, answers,
                                     form.taken_on.data, _me(), reason=form.reason.data or "",
                                     reported_by_role_id=role_id,
                                     debrief_on=debrief.debrief_on.data if role_id else None)

    back = url_for("outcomes.referral", referral_id=found.id)
    if request.args.get("next") == "close":
        back = url_for("referrals.close", referral_id=found.id)
    return _entry(version, occasions, save, back,
                  f"{version.measure.name}", f"Referral {found.label}", end_not_done=True, debrief=debrief)


@bp.route("/responses/<int:response_id>/correct", methods=["GET", "POST"])
@allow(*WORKERS)
def correct_response(response_id):
    """Those who may enter a service user's measures (the referral team's peer leads and
    managers, the assigned paid peer): correct one. The score is worked out again."""
    response = MeasureResponse.get_or_none((MeasureResponse.id == response_id)
                                           & (MeasureResponse.subject == SERVICE_USER)) or abort(404)
    found = _referral_or_404(response.referral_id)
    version = response.version
    definition = version.definition
    form = response_form(definition, [(response.occasion, response.occasion.capitalize())],
                         end_not_done=response.occasion == END, correcting=True,
                         obj=response if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = record_version(response)
        for key, value in response.answers.items():
            if hasattr(form, item_field_name(key)):
                getattr(form, item_field_name(key)).data = value
        with db.atomic():
            audit("view", response, summary="measure viewed to correct it")
    back = url_for("outcomes.referral", referral_id=found.id)
    context = dict(version=version, definition=definition, back_url=back, title=f"Correct this record: {version.measure.name}",
                   subject_label=f"Referral {found.label}", debrief=None, item_field_name=item_field_name,
                   step=0, step_mode=False, correcting=True)
    if form.validate_on_submit():
        try:
            changed = services.correct_for_referral(
                response, by=_me(), correction_reason=form.correction_reason.data or "", seen=form.version.data,
                status=form.status.data, answers=_answers(form, definition), taken_on=form.taken_on.data,
                reason=form.reason.data or "")
        except StaleEdit:
            form.version.data = record_version(MeasureResponse.get_by_id(response.id))
            return render_stale("outcomes/record.html", form, **context)
        except Refusal as refusal:
            form.status.errors.append(str(refusal))
        else:
            flash("Measure corrected." if changed else "Nothing was changed.")
            return redirect(back)
    return render_form("outcomes/record.html", form, **context)


@bp.app_template_global("end_measures")
def end_measures(referral) -> list[dict]:
    """For referrals' close page: each measure scheduled for service users, with the end
    measure recorded for this referral (or None)."""
    versions = {v.measure_id: v for v in _current_versions()}
    wanted = [s.measure_id for s in services.scheduled(SERVICE_USER)] or list(versions)
    recorded = {r.measure_id: r for r in MeasureResponse.select().where(
        MeasureResponse.referral == referral.id, MeasureResponse.occasion == END)}
    return [{"version": versions[m], "end": recorded.get(m)} for m in wanted if m in versions]


# --- a peer's own measures -------------------------------------------------------------
@bp.get("/me")
@allow(*OWNERS)
def mine():
    """A peer's own scores over time, private to them, and whether their supervisor may see them."""
    me = _me()
    rows = list(_responses_query().where(MeasureResponse.peer == me.id))
    shares = list(ScoreShare.select(ScoreShare, User).join(User, on=(ScoreShare.viewer == User.id))
                  .where(ScoreShare.owner == me.id).order_by(ScoreShare.created_at.desc()))
    role = PeerRole.current_for(me)
    supervisor = User.get_or_none(User.id == role.supervisor_id) if role else None
    views = []
    from ..audit import AuditEvent
    share_ids = [s.id for s in shares]
    if share_ids:
        views = list(AuditEvent.select().where(AuditEvent.record_type == "score_share",
                                               AuditEvent.record_id.in_([str(i) for i in share_ids]))
                     .order_by(AuditEvent.at.desc()).limit(50))
    return render("outcomes/mine.html", history=_history(rows), shares=shares, supervisor=supervisor,
                  measures=_current_versions(), action=ActionForm(), views=views,
                  active_share=next((s for s in shares if s.revoked_at is None), None))


@bp.route("/me/record/<int:version_id>", methods=["GET", "POST"])
@allow(*OWNERS)
def record_own(version_id):
    """A peer records their own measure."""
    version = MeasureVersion.get_or_none(MeasureVersion.id == version_id) or abort(404)

    def save(form, answers):
        services.record_for_peer(_me().id, version.id, form.occasion.data, form.status.data, answers,
                                 form.taken_on.data, _me(), reason=form.reason.data or "")

    return _entry(version, [(BASELINE, "Baseline"), (REVIEW, "Review")], save, url_for("outcomes.mine"),
                  version.measure.name, "Your own measure")


@bp.post("/me/share")
@allow(*OWNERS)
@recent_login
def share():
    """The peer shares their own scores with their supervisor (password asked again)."""
    if ActionForm().validate_on_submit():
        try:
            services.share_scores(_me(), _me())
            flash("Your supervisor can now see your scores (not your answers to each question).")
        except Refusal as refusal:
            flash(str(refusal))
    return redirect(url_for("outcomes.mine"))


@bp.post("/me/shares/<int:share_id>/revoke")
@allow(*OWNERS)
def revoke(share_id):
    """The peer stops sharing their scores."""
    if ActionForm().validate_on_submit():
        try:
            services.revoke_share(_me(), share_id, _me())
            flash("Your supervisor can no longer see your scores.")
        except Refusal as refusal:
            flash(str(refusal))
    return redirect(url_for("outcomes.mine"))


@bp.get("/peers/<int:user_id>")
@allow("peer_lead")
def peer(user_id):
    """A supervisor reads a supervisee's scores while the supervisee shares them; 404 otherwise."""
    person = User.get_or_none(User.id == user_id) or abort(404)
    me = _me()
    if person.id == me.id or not services.may_read_peer_scores(me, person):
        abort(404)
    share_row = ScoreShare.active_between(person, me)
    rows = list(_responses_query().where(MeasureResponse.peer == person.id))
    with db.atomic():
        audit("view", share_row, summary="shared outcome scores read by supervisor")
    return render("outcomes/peer.html", person=person, history=_history(rows))


@bp.route("/peers/<int:user_id>/record/<int:version_id>", methods=["GET", "POST"])
@allow("peer_lead")
def record_peer(user_id, version_id):
    """A supervisor enters a supervisee's own measure with them (e.g. a volunteer at
    supervision). Reading the scores afterwards still needs the peer to share them."""
    person = User.get_or_none(User.id == user_id) or abort(404)
    if person.id == _me().id or not services.supervises(_me(), person):
        abort(404)
    version = MeasureVersion.get_or_none(MeasureVersion.id == version_id) or abort(404)

    def save(form, answers):
        services.record_for_peer(person.id, version.id, form.occasion.data, form.status.data, answers,
                                 form.taken_on.data, _me(), reason=form.reason.data or "")

    return _entry(version, [(BASELINE, "Baseline"), (REVIEW, "Review")], save, url_for("outcomes.index"),
                  version.measure.name, f"{person.name}'s own measure (entered with them)")


# --- team change ----------------------------------------------------------------------
@bp.get("/team")
@allow(*LEADS)
def team():
    """Peer leads and managers: the team's paired first-vs-latest scores for service users
    (slope chart, numbered, no names) and the distribution of change."""
    me = _me()
    if not me.team_id:
        abort(404)
    blocks = []
    for measure in change.measures_in_use(SERVICE_USER):
        rows = list(MeasureResponse.select(MeasureResponse, MeasureVersion).join(MeasureVersion)
                    .where(MeasureResponse.measure == measure, MeasureResponse.subject == SERVICE_USER,
                           MeasureResponse.team_id == me.team_id))
        found = change.pairs(rows)
        if not found:
            continue
        definition = found[0].latest.version.definition
        counts = {c: sum(1 for p in found if p.category == c) for c in scoring.CATEGORIES}
        blocks.append({"measure": measure, "pairs": found, "chart": charts.slopes(definition, found),
                       "counts": counts, "definition": definition})
    with db.atomic():
        audit("view", record_type="team", record_id=me.team_id, summary="team outcome change viewed")
    return render("outcomes/team.html", blocks=blocks)


# --- the report for managers and commissioners --------------------------------------------
def _period():
    form = ReportForm(request.args)
    today = clock.today()
    start = today.replace(month=1, day=1) if today.month > 3 else today.replace(year=today.year - 1, month=1, day=1)
    start, end = dt.date(today.year - 1, today.month, 1), today
    if form.validate():
        start = form.start.data or start
        end = form.end.data or end
    if start > end:
        start, end = end, start
    return form, start, end


def _report_teams() -> tuple[list[Team], list[int] | None]:
    me = _me()
    teams = list(Team.select().order_by(Team.name))
    if me.has_role("viewer"):
        chosen = [int(t) for t in request.args.getlist("team") if t.isdigit()]
        ids = [t.id for t in teams if t.id in chosen] or None
        return teams, ids
    return [t for t in teams if t.id == me.team_id], [me.team_id or 0]


def _report_tables(start, end, team_ids):
    limit = current_app.config["SMALL_NUMBER_LIMIT"]
    tables = []
    for measure in change.measures_in_use():
        for subject, who in ((SERVICE_USER, "Service users"), (PEER, "Peer workers")):
            f = change.period_figures(measure, subject, start, end, team_ids)
            if not f.recorded and not f.paired:
                continue
            measured, _ = disclose_line([f.baseline, f.review, f.end, f.not_completed])
            cats, paired = disclose_line([f.categories[c] for c in scoring.CATEGORIES])
            dist, dist_total = disclose_line([n for _, n in f.distribution])
            mean = None
            if f.mean_ci and f.paired > limit:
                mean = tuple(round(x, 1) for x in f.mean_ci)
            tables.append({
                "key": f"{measure.key}-{'su' if subject == SERVICE_USER else 'peer'}", "who": who,
                "measure": measure, "figures": f,
                "measured": list(zip(["Baseline", "Review", "End", "Declined, could not complete or not done"], measured)),
                "completion": disclose_rate(f.completed, f.recorded),
                "categories": list(zip([c[:1].upper() + c[1:] for c in scoring.CATEGORIES], cats)),
                "proportions": [disclose_rate(f.categories[c], f.paired) for c in scoring.CATEGORIES],
                "category_rows": [(c[:1].upper() + c[1:], shown, disclose_rate(f.categories[c], f.paired))
                                  for c, shown in zip(scoring.CATEGORIES, cats)],
                "paired": paired, "mean": mean,
                "distribution": [(label, shown) for (label, _), shown in zip(f.distribution, dist)],
                "bars": [(label, None if shown == SUPPRESSED else float(shown), str(shown))
                         for (label, _), shown in zip(f.distribution, dist)],
            })
    return tables


@bp.get("/report")
@allow(*REPORT_READERS)
def report():
    """Viewers (every team, or those chosen), managers and peer leads (their team): counts
    at baseline and end, completion, mean change with 95% CI, proportions reliably improved
    and deteriorated, the distribution of change. Counts suppressed; nothing per person."""
    form, start, end = _period()
    teams, team_ids = _report_teams()
    tables = _report_tables(start, end, team_ids)
    with db.atomic():
        audit("view", record_type="outcomes_report", record_id="", summary=f"outcomes report {start} to {end}")
    return render("outcomes/report.html", form=form, start=start, end=end, tables=tables, teams=teams,
                  chosen=team_ids or [], limit=current_app.config["SMALL_NUMBER_LIMIT"])


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/report.csv")
@allow(*REPORT_READERS)
@recent_login(also_get=True)
def report_csv():
    """The report's tables as CSV (UTF-8 with BOM; formula-like cells escaped); audited."""
    _, start, end = _period()
    _, team_ids = _report_teams()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["table", "row", "value"])
    for t in _report_tables(start, end, team_ids):
        title = f"{t['who']}: {t['measure'].name}"
        for label, shown in t["measured"]:
            writer.writerow([_csv_cell(title), _csv_cell(f"Measures taken: {label}"), _csv_cell(shown)])
        writer.writerow([_csv_cell(title), "Completion rate (%)", _csv_cell(t["completion"] if t["completion"] is not None else SUPPRESSED)])
        for (label, shown), rate in zip(t["categories"], t["proportions"]):
            writer.writerow([_csv_cell(title), _csv_cell(label), _csv_cell(shown)])
            writer.writerow([_csv_cell(title), _csv_cell(f"{label} (%)"), _csv_cell(rate if rate is not None else SUPPRESSED)])
        writer.writerow([_csv_cell(title), "People with a first and a latest score", _csv_cell(t["paired"])])
        if t["mean"]:
            writer.writerow([_csv_cell(title), "Mean change (95% CI)", _csv_cell(f"{t['mean'][0]} ({t['mean'][1]} to {t['mean'][2]})")])
        for label, shown in t["distribution"]:
            writer.writerow([_csv_cell(title), _csv_cell(f"Change {label}"), _csv_cell(shown)])
    with db.atomic():
        audit("export", record_type="outcomes_report", record_id="", summary=f"outcomes report CSV {start} to {end}")
    body = "\ufeff" + out.getvalue()
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="outcomes-{start}-{end}.csv"'})
