"""Presence and lone working: the base board, planned visits, the overdue board.

Who sees what (404 for records that are not theirs):
- peers (paid and volunteer): the day's board (names and in / out / finished, never
  a place), their own visits with their places; paid peers plan and start their own
  visits, volunteers' visits are planned and started by their peer lead;
- peer leads and managers: their team's visits with places, the overdue board, the
  escalation ladder, the team's thresholds;
- clinicians, facilitators, admins and viewers: nothing here.
Every view of a visit (with its place) and every change writes one audit row; the
overdue board audits its page load, not each 20-second poll.
"""
from __future__ import annotations

import click
import peewee as pw
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from .. import clock
from ..access import allow
from ..audit import audit
from ..changes import Refusal, StaleEdit, record_version
from ..cli import run_repeatedly
from ..forms import int_arg
from ..models import User
from ..navigation import home_panel, nav_item, page_banner
from ..pages import render, render_form, render_stale
from . import services, status
from .forms import AckForm, ExtendForm, OutcomeForm, PlanVisitForm, SettingsForm, SignForm, VersionForm
from .models import Notification, PresenceSettings, Visit, VisitEvent

# cli_group=None: the sweep is `flask --app peerapp presence-sweep`.
bp = Blueprint("presence", __name__, url_prefix="/presence", cli_group=None)
nav_item("Presence", "presence.today", order=60, hint="Who is in the base, who is out on a visit, who is late back")
home_panel("presence/_home_panel.html", "presence.today", order=60)
page_banner("presence/_banner.html", "presence.board", order=10)

PEOPLE = ("peer", "peer_lead", "manager")
LEADS = services.LEADS
BOARD_SECONDS = 20  # the tablet's refresh; PRESENCE_BOARD_SECONDS changes it (the browser tests use 1)


@bp.app_context_processor
def presence_context():
    def late() -> tuple[int, int]:
        if not current_user.is_authenticated:
            return 0, 0
        return services.late_visits(current_user)
    def hm(moment) -> str:
        """A time of day in London: the board and the day are about today."""
        return clock.local(moment).strftime("%H:%M") if moment else ""
    return {"presence_late": late, "hm": hm}


def _visit_or_404(visit_id: int) -> Visit:
    return services.visible_visits(current_user).where(Visit.id == visit_id).first() or abort(404)


def _back(default: str):
    target = request.form.get("back", "")
    allowed = {"board": url_for("presence.board"), "today": url_for("presence.today")}
    return redirect(allowed.get(target, default), 303)


# --- today: the base board and my visits ---------------------------------------------

@bp.get("/")
@allow(*PEOPLE)
def today():
    """The day's board: who is in the base, out on a visit, finished. No places here."""
    now = clock.now()
    team_id = current_user.team_id
    rows = services.day_board(team_id, now) if team_id else []
    mine = list(services.visible_visits(current_user)
                .where(Visit.worker == current_user.id, Visit.state.in_(("planned", "started")))
                .order_by(Visit.starts_at))
    return render("presence/today.html", rows=rows, mine=mine, now=now, st=status,
                  leads=services.leads_team(current_user, team_id), form=SignForm(),
                  may_plan=services.may_act(current_user, current_user, "plan"))


@bp.post("/sign")
@allow(*PEOPLE)
def sign():
    """Sign in or out of the base: yourself, or (peer leads) someone who phoned in."""
    form = SignForm()
    action = request.form.get("action")
    # str.isdigit() let "²" through to int(), a 500: the house's one number reader instead.
    person_id = int_arg("person", source=request.form)
    if request.form.get("person") and person_id is None:
        abort(400)
    person = User.get_or_none(User.id == person_id) if person_id else current_user._get_current_object()
    if not form.validate() or action not in ("in", "out"):
        abort(400)
    if person is None:
        abort(404)
    try:
        (services.sign_in if action == "in" else services.sign_out)(person, by=current_user._get_current_object())
        flash(f"{person.name} signed {action}{'' if person.id == current_user.id else ' (phoned in, recorded by you)'}.",
              "success")
    except Refusal as refusal:
        flash(str(refusal), "error")
    return redirect(url_for("presence.today"), 303)


# --- visits ----------------------------------------------------------------------------

def _plan_form(formdata=None):
    me = current_user._get_current_object()
    team_id = me.team_id
    workers = list(services.workers(team_id)) if team_id else []
    allowed = [w for w in workers if services.may_act(me, w, "plan")]
    return PlanVisitForm(formdata=formdata, workers=allowed, buddies=workers,
                         referrals=services.referral_choices(me, team_id) if team_id else [])


@bp.route("/visits/new", methods=["GET", "POST"])
@allow(*PEOPLE)
def plan():
    """Plan a visit: who, when, where, the contact plan. Peer leads plan for anyone in
    the team (a volunteer's visit always); paid peers for themselves."""
    form = _plan_form(request.form if request.method == "POST" else None)
    if request.method == "GET":
        now = clock.local(clock.now())
        form.day.data = now.date()
        form.start_time.data = now.strftime("%H:%M")
        form.worker.data = current_user.id
    if not form.worker.choices:
        return render("presence/plan.html", form=form, refusal="Only a peer lead can plan your visits: phone them.")
    if request.method == "POST" and form.validate():
        start, back = form.times()
        try:
            visit = services.plan_visit(
                User.get_by_id(form.worker.data), by=current_user._get_current_object(), starts_at=start,
                expected_return_at=back, place=form.place.data, referral_id=form.referral.data or None,
                buddy=User.get_or_none(User.id == form.buddy.data) if form.buddy.data else None,
                contact_phone=form.contact_phone.data or "")
        except Refusal as refusal:
            return render("presence/plan.html", status=409, form=form, refusal=str(refusal))
        flash("Visit planned. Start it when they leave.", "success")
        return redirect(url_for("presence.visit", visit_id=visit.id), 303)
    return render_form("presence/plan.html", form)


def _timeline(visit: Visit, now) -> list[dict]:
    """Recorded steps, and the thresholds the clock has passed, in time order."""
    By = User.alias()
    items = [{"at": e.at, "kind": e.kind, "by": e.by.name if e.by_id else "", "note": e.note}
             for e in VisitEvent.select(VisitEvent, By).join(By, pw.JOIN.LEFT_OUTER, on=(VisitEvent.by == By.id))
             .where(VisitEvent.visit == visit.id)]
    if visit.state in ("started", "ended"):
        until = visit.ended_at or now
        for kind, moment in (("became_due_soon", visit.due_soon_at), ("became_overdue", visit.overdue_at),
                             ("became_escalated", visit.escalate_at)):
            if moment is not None and moment <= until and moment <= now:
                items.append({"at": moment, "kind": kind, "by": "", "note": ""})
    for note in Notification.select().where(Notification.visit == visit.id, Notification.sent_at.is_null(False)):
        items.append({"at": note.sent_at, "kind": "emailed_" + note.step, "by": "", "note": ""})
    return sorted(items, key=lambda i: i["at"])


@bp.get("/visits/<int:visit_id>")
@allow(*PEOPLE)
def visit(visit_id: int):
    """One visit with its timeline: the worker and the team's peer leads and managers."""
    record = _visit_or_404(visit_id)
    audit("view", record, summary="visit viewed")
    return _visit_page(record)


def _visit_page(record: Visit, *, refusal: str | None = None, extend_form=None, outcome_form=None, status_code=200):
    now = clock.now()
    me = current_user._get_current_object()
    current = status.of(record, now)
    return render("presence/visit.html", status=status_code, visit=record, now=now, current=current, st=status,
                  timeline=_timeline(record, now), refusal=refusal,
                  show_place=services.may_see_place(me, record),
                  may_start=record.state == "planned" and services.may_act(me, record.worker, "start"),
                  may_extend=status.may_extend(record, now) and services.may_act(me, record.worker, "extend"),
                  may_check_out=record.state == "started" and services.may_act(me, record.worker, "check_out"),
                  leads=services.leads_team(me, record.team_id),
                  waiting=status.waiting_for(record, now),
                  extend_form=extend_form or ExtendForm(formdata=None, version=record.version),
                  outcome_form=outcome_form or OutcomeForm(formdata=None),
                  version_form=VersionForm(formdata=None, version=record.version),
                  supervisor=_supervisor(record.worker))


def _supervisor(worker) -> User | None:
    from ..workforce.models import PeerRole
    role = PeerRole.current_for(worker)
    return role.supervisor if role is not None else None


def _change(visit_id: int, action, done: str, form=None):
    record = _visit_or_404(visit_id)
    form = form or VersionForm()
    if not form.validate():
        return _visit_page(record, refusal="Check what you entered.", status_code=422,
                           **({"extend_form": form} if isinstance(form, ExtendForm) else {}))
    try:
        action(record, form)
    except Refusal as refusal:
        if request.form.get("back") == "board":
            flash(str(refusal), "error")
            return redirect(url_for("presence.board"), 303)
        return _visit_page(Visit.get_by_id(record.id), refusal=str(refusal), status_code=409,
                           **({"extend_form": form} if isinstance(form, ExtendForm) else {}))
    flash(done, "success")
    return _back(url_for("presence.visit", visit_id=visit_id))


@bp.post("/visits/<int:visit_id>/start")
@allow(*PEOPLE)
def start(visit_id: int):
    """Start a planned visit: the clock starts counting to the expected return."""
    return _change(visit_id, lambda v, f: services.start_visit(v.id, by=current_user._get_current_object(),
                                                               version=f.seen_version()),
                   "Visit started. Check out safe when you are back.")


@bp.post("/visits/<int:visit_id>/extend")
@allow(*PEOPLE)
def extend(visit_id: int):
    """+15, +30 or another time with a reason, before the visit is overdue."""
    form = ExtendForm()
    return _change(visit_id, lambda v, f: services.extend_visit(
        v.id, by=current_user._get_current_object(), version=f.seen_version(), minutes=f.chosen_minutes() or 0,
        reason=f.reason.data or ""), "Visit extended.", form)


@bp.post("/visits/<int:visit_id>/check-out")
@allow(*PEOPLE)
def check_out(visit_id: int):
    """Back safe: ends the visit (a peer lead may record it for someone who phoned)."""
    return _change(visit_id, lambda v, f: services.check_out(v.id, by=current_user._get_current_object(),
                                                             version=f.seen_version()),
                   "Checked out safe.")


@bp.post("/visits/<int:visit_id>/cancel")
@allow(*PEOPLE)
def cancel(visit_id: int):
    """Cancel a visit that has not started."""
    return _change(visit_id, lambda v, f: services.cancel_visit(v.id, by=current_user._get_current_object(),
                                                                version=f.seen_version()),
                   "Planned visit cancelled.")


@bp.post("/visits/<int:visit_id>/acknowledge")
@allow(*LEADS)
def acknowledge(visit_id: int):
    """The ladder: a peer lead "I am calling them"; a manager has seen the escalation."""
    form = AckForm()
    done = "Acknowledged, with the time. Record what happened when you know."
    if request.form.get("back") == "board" and request.headers.get("HX-Request") == "true":
        # The tablet's board: answer with the board itself, the message inside it.
        _visit_or_404(visit_id)
        try:
            if not form.validate():
                raise Refusal("That was not sent: reload the board and try again.")
            services.acknowledge(visit_id, by=current_user._get_current_object(), step=form.step.data)
        except Refusal as refusal:
            return render("presence/_board.html", **_board_context(), problem=str(refusal))
        return render("presence/_board.html", **_board_context(), done=done)
    return _change(visit_id, lambda v, f: services.acknowledge(v.id, by=current_user._get_current_object(),
                                                               step=f.step.data), done, form)


@bp.post("/visits/<int:visit_id>/outcome")
@allow(*LEADS)
def outcome(visit_id: int):
    """Resolve a late visit: reached and safe, or could not reach (emergency procedure)."""
    form = OutcomeForm()
    record = _visit_or_404(visit_id)
    if not form.validate():
        return _visit_page(record, outcome_form=form, status_code=422)
    try:
        services.record_outcome(record.id, by=current_user._get_current_object(), outcome=form.outcome.data,
                                notes=form.notes.data or "", emergency_followed=bool(form.emergency_followed.data))
    except Refusal as refusal:
        return _visit_page(Visit.get_by_id(record.id), refusal=str(refusal), outcome_form=form, status_code=409)
    flash("Outcome recorded: the visit is resolved.", "success")
    return redirect(url_for("presence.visit", visit_id=visit_id), 303)


# --- the overdue board -------------------------------------------------------------------

def _board_context() -> dict:
    now = clock.now()
    team_id = current_user.team_id
    visits = services.board_visits(team_id, now) if team_id else []
    notes = {}
    if visits:
        for note in Notification.select().where(Notification.visit.in_([v.id for v in visits])):
            notes.setdefault(note.visit_id, []).append(note)
    rows = services.day_board(team_id, now) if team_id else []
    seconds = int(current_app.config.get("PRESENCE_BOARD_SECONDS") or BOARD_SECONDS)
    # Without JavaScript the whole page reloads, a little less often than htmx polls.
    reload_seconds = int(current_app.config.get("PRESENCE_BOARD_RELOAD_SECONDS") or seconds + 10)
    return {"seconds": seconds, "reload_seconds": reload_seconds, "visits": visits, "now": now, "st": status, "refreshed_at": clock.local(now).strftime("%H:%M:%S"), "notes": notes,
            "in_base": [r for r in rows if r["where"] == "in"],
            "mail_on": bool(current_app.config.get("MAIL_SERVER")), "ack_form": AckForm(formdata=None),
            "is_manager": current_user.has_role("manager")}


@bp.get("/board")
@allow(*LEADS)
def board():
    """The overdue board for the base's tablet: most urgent first, refreshed every 20 s
    by htmx (and by a meta refresh when JavaScript is off)."""
    if request.headers.get("HX-Request") != "true":
        audit("view", record_type="presence_board", record_id=current_user.team_id or "",
              summary="overdue board opened")
    return render("presence/board.html", "presence/_board.html", **_board_context())


# --- settings -----------------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
@allow(*LEADS)
def settings():
    """The team's thresholds and how long places are kept; apply to visits started from now."""
    row = PresenceSettings.for_team(current_user.team_id) if current_user.team_id else None
    if row is None:
        abort(404)
    form = SettingsForm(obj=row if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = record_version(row)
    if request.method == "POST" and form.validate():
        try:
            services.save_settings(current_user.team_id, by=current_user._get_current_object(),
                                   expected_version=form.version.data,
                                   **{name: form[name].data for name in PresenceSettings.DEFAULTS})
        except StaleEdit:
            row = PresenceSettings.for_team(current_user.team_id)
            form.version.data = record_version(row)
            return render_stale("presence/settings.html", form, row=row)
        flash("Settings saved. They apply to visits started from now.", "success")
        return redirect(url_for("presence.settings"), 303)
    return render_form("presence/settings.html", form, row=row)


# --- the sweep -----------------------------------------------------------------------------

@bp.cli.command("presence-sweep")
@click.option("--every", type=click.IntRange(0, 3600), default=0,
              help="Repeat every this many seconds until stopped (make run uses 60). 0: run once.")
def sweep_command(every: int):
    """Write down forgotten sign-outs, blank old visit places, send the e-mails the
    escalation ladder owes (when MAIL_SERVER is set). Run it every minute (cron or a
    systemd timer); two at once send each e-mail once."""
    from . import sweep

    def once() -> str:
        found = sweep.run(current_app.config)
        return (f"{found['closed']} sign-out(s) closed, {found['blanked']} place(s) blanked, "
                f"{found['queued']} e-mail(s) queued, {found['sent']} sent, {found['failed']} failed (will retry).")
    run_repeatedly(every, "presence sweep", once)
