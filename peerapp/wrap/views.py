"""Work-WRAP: a peer's private wellness plan, shared only by their choice.

Every view finds the plan through the signed-in person: their own plan, or a
plan someone shared with them and has not revoked. Anything else is 404, so
ids cannot be probed. Views and changes are audited without the plan's text.
"""
from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from .. import clock, passwords
from ..access import allow, recent_login
from ..audit import audit
from ..db import compact, db
from ..forms import ActionForm
from ..models import LoginFailure
from ..navigation import home_panel, nav_item
from ..changes import Refusal, StaleEdit, check_version, record_version
from ..pages import is_fragment_request, render, render_form, render_stale
from . import services, sharing
from .forms import ArrangementForm, EraseWrapForm, SectionForm, ShareForm, field_name, plan_form
from .models import WrapArrangement, WrapPlan, WrapSection, WrapShare
from .services import StaleVersion

bp = Blueprint("wrap", __name__, url_prefix="/wrap")
nav_item("Work-WRAP", "wrap.index", order=30, hint="Your wellness plan for work, and plans shared with you")
home_panel("wrap/_home_panel.html", "wrap.index", order=30)
home_panel("wrap/_sections_panel.html", "wrap.sections", order=91)  # admins reach the template here

OWNERS = ("peer", "peer_lead")  # peer leads are peers too and may keep their own plan


def _me():
    return current_user._get_current_object()


def _my_plan_or_404() -> WrapPlan:
    return WrapPlan.of(_me()) or abort(404)


def _owner_context(plan: WrapPlan | None) -> dict:
    if plan is None:
        return {"plan": None, "latest": None}
    shares = list(plan.shares())
    # Who can read each section now: section id -> active shares covering it.
    coverage: dict = {}
    for found in shares:
        if found.active:
            coverage.setdefault(found.section_id, []).append(found)
    return {
        "plan": plan,
        "latest": plan.latest(),
        "shares": shares,
        "active_shares": [s for s in shares if s.active],
        "coverage": coverage,
        "views": list(plan.views_by_others()),
        "arrangements": list(plan.arrangements()),
        "supervisor": sharing.supervisor_of(plan.owner),
    }


# --- the owner -----------------------------------------------------------------

@bp.get("/")
@allow(*OWNERS)
def index():
    """Peers and peer leads: their own plan (who can see what, every view of it,
    agreed arrangements) and the plans others have shared with them."""
    me = _me()
    plan = WrapPlan.of(me)
    if plan is not None:
        with db.atomic():
            audit("view", plan, summary="owner opened their plan")
    shared = list(WrapPlan.shared_with(me))
    if shared:
        with db.atomic():  # the owners of plans shared with this person are named
            audit("view_list", record_type="wrap_plan", summary=f"plans shared with me listed: {len(shared)}")
    return render("wrap/index.html", **_owner_context(plan), shared=shared, erase_form=EraseWrapForm())


@bp.route("/write", methods=["GET", "POST"])
@allow(*OWNERS)
def write():
    """Peers and peer leads: write or edit their own plan. Every save is a new
    version; a save started from an older version is refused with the text kept."""
    me = _me()
    plan = WrapPlan.of(me)
    latest = plan.latest() if plan else None
    texts = latest.texts() if latest else {}
    sections = WrapSection.for_texts(texts)
    form = plan_form(sections)
    if request.method == "GET":
        form.base_version.data = str(latest.number if latest else 0)
        for section in sections:
            form[field_name(section)].data = texts.get(section.id, "")
        if latest is not None:
            with db.atomic():
                audit("view", plan, summary=f"owner opened version {latest.number} to edit")
    if form.validate_on_submit():
        try:
            version = services.save_version(me, form.base_number, form.texts(sections))
        except StaleVersion as stale:
            return _conflict(form, sections, stale.latest)
        flash(f"Your work-WRAP is saved (version {version.number}).", "success")
        return redirect(url_for("wrap.index"))
    return render_form("wrap/write.html", form, sections=sections, latest=latest, conflict=None)


def _conflict(form, sections, latest):
    """Show the person's text again beside what is saved now, and let them save
    on top of the newer version on purpose."""
    form.base_version.data = str(latest.number if latest else 0)
    saved = latest.texts() if latest else {}
    differs = {s.id: saved.get(s.id, "") for s in sections
               if saved.get(s.id, "") != (form[field_name(s)].data or "").replace("\r\n", "\n")}
    response = render("wrap/write.html", status=409, form=form, sections=sections, latest=latest,
                      conflict={"latest": latest, "differs": differs})
    return response


@bp.get("/versions")
@allow(*OWNERS)
def versions():
    """Peers and peer leads: the list of their own plan's versions."""
    plan = _my_plan_or_404()
    return render("wrap/versions.html", plan=plan, versions=list(plan.versions()))


@bp.get("/versions/<int:number>")
@allow(*OWNERS)
def version(number: int):
    """Peers and peer leads: one earlier version of their own plan, read only."""
    plan = _my_plan_or_404()
    found = plan.version(number) or abort(404)
    with db.atomic():
        audit("view", plan, summary=f"owner opened version {found.number}")
    return render("wrap/version.html", plan=plan, version=found, latest=plan.latest())


@bp.get("/print")
@allow(*OWNERS)
def print_plan():
    """Peers and peer leads: their own latest plan laid out for printing."""
    plan = _my_plan_or_404()
    latest = plan.latest() or abort(404)
    with db.atomic():
        audit("view", plan, summary=f"owner printed version {latest.number}")
    return render("wrap/print.html", plan=plan, version=latest)


# --- sharing -------------------------------------------------------------------

@bp.route("/share", methods=["GET", "POST"])
@allow(*OWNERS)
def share():
    """Peers and peer leads: choose which sections of their own plan their
    supervisor may read. Needs their password again (a recent login)."""
    me = _me()
    plan = _my_plan_or_404()
    latest = plan.latest()
    sections = WrapSection.for_texts(latest.texts() if latest else {})
    supervisor = sharing.supervisor_of(me)
    if not sharing.may_share_with(supervisor) or supervisor.id == me.id:
        return render("wrap/share.html", form=None, plan=plan, supervisor=None, sections=sections)
    current = list(plan.active_shares(supervisor))
    form = ShareForm(sections=sections)
    if request.method == "GET":
        form.whole_plan.data = any(s.section_id is None for s in current)
        form.sections.data = [s.section_id for s in current if s.section_id is not None]
    if form.validate_on_submit():
        refused = _password_again(me, form.password.data or "")
        if refused:
            with db.atomic():
                audit("reauth_failed", plan, summary="password refused when sharing")
            form.password.errors.append(refused)
        else:
            chosen = None if form.whole_plan.data else [s for s in sections if s.id in set(form.sections.data)]
            try:
                what = services.share(plan, supervisor, chosen)
            except Refusal as refusal:
                form.form_errors.append(str(refusal))  # the choices stay ticked as sent
            else:
                flash(f"{supervisor.name} can now read {what} of your work-WRAP.", "success")
                return redirect(url_for("wrap.index") + "#sharing")
    return render_form("wrap/share.html", form, plan=plan, supervisor=supervisor, sections=sections,
                       current=current)


@bp.post("/erase")
@allow(*OWNERS)
@recent_login
def erase():
    """Peers and peer leads: delete their own plan for good, with every version,
    share and agreed arrangement. The view log keeps only that a plan existed."""
    plan = _my_plan_or_404()
    form = EraseWrapForm()
    if not form.validate_on_submit():
        return render_form("wrap/index.html", form, **_owner_context(plan), shared=list(WrapPlan.shared_with(_me())),
                           erase_form=form)
    try:
        services.erase(plan)
    except Refusal as refusal:
        flash(str(refusal), "info")
        return redirect(url_for("wrap.index"))
    compact()
    flash("Your work-WRAP has been deleted, with every version and share.", "success")
    return redirect(url_for("wrap.index"))


def _password_again(user, password: str) -> str | None:
    """A recent login for sharing: the password again. None when accepted, else
    what to tell the person. Failures count with the login's own per-account
    throttle, so this form cannot be used to guess it. Unlike the login page the
    person is signed in, so saying which of the two happened gives nothing away."""
    cfg = current_app.config
    key = LoginFailure.key(user.email)
    since = clock.now() - dt.timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    with db.atomic():
        failures = LoginFailure.select().where(LoginFailure.email_hash == key, LoginFailure.at >= since).count()
        if failures >= cfg["LOGIN_MAX_FAILURES"]:
            LoginFailure.create(email_hash=key, at=clock.now())
            return (f"There have been too many wrong passwords for your account. Wait "
                    f"{cfg['LOGIN_WINDOW_MINUTES']} minutes and try again.")
        if passwords.verify(user.password_hash, password):
            return None
        LoginFailure.create(email_hash=key, at=clock.now())
    left = cfg["LOGIN_MAX_FAILURES"] - failures - 1
    if left == 0:
        return (f"Your password is not right. That was the last try: wait {cfg['LOGIN_WINDOW_MINUTES']} "
                f"minutes before trying again.")
    return f"Your password is not right. Check it and try again ({left} {'try' if left == 1 else 'tries'} left)."


def _after_sharing_change(plan: WrapPlan):
    # A whole page, not a fragment: the labels on every section must change too.
    return redirect(url_for("wrap.index") + "#sharing")


@bp.post("/shares/<int:share_id>/revoke")
@allow(*OWNERS)
def revoke(share_id: int):
    """Peers and peer leads: stop sharing one section (or the whole plan) of
    their own plan. The reader is refused from their very next request."""
    plan = _my_plan_or_404()
    found = _my_share_or_404(plan, share_id)
    if ActionForm().validate_on_submit() and found.active:
        try:
            services.revoke(plan, found)
        except Refusal as refusal:
            flash(str(refusal), "info")
        else:
            flash(f"{found.viewer.name} can no longer read \u201c{found.what()}\u201d.", "success")
    return _after_sharing_change(plan)


def _my_share_or_404(plan: WrapPlan, share_id: int) -> WrapShare:
    return WrapShare.get_or_none(WrapShare.id == share_id, WrapShare.plan == plan) or abort(404)


@bp.post("/readers/<int:user_id>/revoke")
@allow(*OWNERS)
def revoke_all(user_id: int):
    """Peers and peer leads: stop sharing anything of their own plan with this person."""
    plan = _my_plan_or_404()
    # 404 for someone never shared with; one whose shares have just ended is told so by the service.
    if not WrapShare.select().where(WrapShare.plan == plan, WrapShare.viewer == user_id).exists():
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            services.revoke_all(plan, user_id)
        except Refusal as refusal:
            flash(str(refusal), "info")
        else:
            flash("They can no longer read any of your work-WRAP.", "success")
    return _after_sharing_change(plan)


# --- the supervisor ------------------------------------------------------------

def _readable_or_404(plan_id: int):
    found = sharing.readable_plan(plan_id, _me())
    return found if found is not None else abort(404)


@bp.get("/shared/<int:plan_id>")
@allow("peer_lead")
def shared(plan_id: int):
    """Peer leads: read the sections a peer chose to share with them, while the
    share lasts. Each opening is audited and shown to the peer."""
    plan, sections = _readable_or_404(plan_id)
    latest = plan.latest()
    with db.atomic():
        audit("view", plan, summary=f"{len(sections)} shared section(s) read"
                                    f"{f' (version {latest.number})' if latest else ''}")
    texts = latest.texts() if latest else {}
    return render("wrap/shared.html", plan=plan, latest=latest, entries=[(s, texts.get(s.id, "")) for s in sections],
                  arrangements=[a for a in plan.arrangements() if a.supervisor_id == current_user.id])


# --- agreed working arrangements ---------------------------------------------

def _arrangement_parties(plan_id: int) -> tuple[WrapPlan, list]:
    """The plan and whom an arrangement may be agreed with; 404 unless the
    signed-in person owns the plan or holds an unrevoked share of it."""
    me = _me()
    plan = WrapPlan.get_or_none(WrapPlan.id == plan_id) or abort(404)
    if plan.owner_id == me.id:
        return plan, plan.readers()
    if plan.active_shares(me).exists():
        return plan, [me]
    abort(404)


@bp.route("/plans/<int:plan_id>/arrangements/new", methods=["GET", "POST"])
@allow(*OWNERS)
def arrangement_new(plan_id: int):
    """The peer, or a supervisor they share their plan with: record the working
    arrangements agreed together. The one who records it confirms it; the other
    confirms afterwards."""
    me = _me()
    plan, readers = _arrangement_parties(plan_id)
    owner = plan.owner_id == me.id
    back = url_for("wrap.index") if owner else url_for("wrap.shared", plan_id=plan.id)
    if request.method == "GET":
        with db.atomic():
            audit("view", plan, summary="plan's arrangements form opened")
    if not readers:
        flash("Share your work-WRAP with your supervisor first, then record what you agree.", "info")
        return redirect(back)
    form = ArrangementForm(readers=readers)
    if request.method == "GET":
        form.agreed_on.data = clock.today()
    if form.validate_on_submit():
        supervisor = next((u for u in readers if u.id == form.supervisor.data), None) or abort(400)
        # A double tap must not record the same agreement twice (None: already recorded).
        repeat = services.record_arrangement(plan, by=me, supervisor=supervisor, agreed_on=form.agreed_on.data,
                                             text=form.arrangements.data, review_on=form.review_on.data) is None
        flash("These arrangements were already recorded." if repeat else
              "The arrangements are recorded. They are agreed once you have both confirmed.", "success")
        return redirect(back + "#arrangements")
    return render_form("wrap/arrangement_form.html", form, plan=plan, owner=owner, back=back)


def _arrangement_or_404(arrangement_id: int) -> WrapArrangement:
    return WrapArrangement.get_or_none(WrapArrangement.id == arrangement_id) or abort(404)


@bp.post("/arrangements/<int:arrangement_id>/confirm")
@allow(*OWNERS)
def arrangement_confirm(arrangement_id: int):
    """The peer, or the supervisor named on it (while the plan is shared with
    them): confirm an arrangement recorded by the other."""
    me = _me()
    arrangement = _arrangement_or_404(arrangement_id)
    plan = arrangement.plan
    owner = plan.owner_id == me.id
    if not owner and not (arrangement.supervisor_id == me.id and plan.active_shares(me).exists()):
        abort(404)
    if ActionForm().validate_on_submit():
        refused = None
        try:
            services.confirm_arrangement(arrangement, me)
        except Refusal as refusal:
            refused = str(refusal)
        if is_fragment_request():
            # htmx swaps the list of arrangements in place; without JavaScript, the page reloads.
            shown = list(plan.arrangements())
            if not owner:
                shown = [a for a in shown if a.supervisor_id == me.id]
            return render("wrap/index.html", "wrap/_arrangements.html", arrangements=shown)
        if refused:
            flash(refused, "info")
        else:
            flash("Confirmed." + (" You have both agreed these arrangements." if arrangement.confirmed else ""),
                  "success")
    back = url_for("wrap.index") if owner else url_for("wrap.shared", plan_id=plan.id)
    return redirect(back + "#arrangements")


# --- the section template --------------------------------------------------------

KEY = re.compile(r"[^a-z0-9]+")


def _new_key(title: str) -> str:
    base = KEY.sub("_", title.lower()).strip("_")[:30] or "section"
    key, n = base, 1
    while WrapSection.select().where(WrapSection.key == key).exists():
        n += 1
        key = f"{base}_{n}"
    return key


@bp.get("/sections")
@allow("admin", "peer_lead")
def sections():
    """Admins and peer leads: the team's work-WRAP sections (titles and prompts
    only: nobody's plan is shown here)."""
    return render("wrap/sections.html", sections=list(WrapSection.in_order()))


@bp.route("/sections/new", methods=["GET", "POST"])
@allow("admin", "peer_lead")
def section_new():
    """Admins and peer leads: add a section to the template."""
    form = SectionForm()
    if request.method == "GET":
        last = WrapSection.in_order().order_by(WrapSection.order.desc()).first()
        form.order.data = (last.order if last else 0) + 10
    if form.validate_on_submit():
        section = services.add_section(key=_new_key(form.title.data), title=form.title.data,
                                       prompt=form.prompt.data or "", order=form.order.data, active=form.active.data)
        flash(f"Section \u201c{section.title}\u201d added.", "success")
        return redirect(url_for("wrap.sections"))
    return render_form("wrap/section_form.html", form, section=None)


@bp.route("/sections/<int:section_id>", methods=["GET", "POST"])
@allow("admin", "peer_lead")
def section_edit(section_id: int):
    """Admins and peer leads: rename, reorder or retire a section. Text peers
    already wrote is kept whatever happens to the section."""
    section = WrapSection.get_or_none(WrapSection.id == section_id) or abort(404)
    form = SectionForm(obj=section, section=section)
    if request.method == "GET":
        form.version.data = record_version(section)
    if form.validate_on_submit():
        try:
            with db.atomic():
                check_version(section, form.version.data)
                _save_section(section, form)
        except StaleEdit:
            section = WrapSection.get_by_id(section_id)
            form.version.data = record_version(section)
            return render_stale("wrap/section_form.html", form, section=section)
        flash("Section saved.", "success")
        return redirect(url_for("wrap.sections"))
    return render_form("wrap/section_form.html", form, section=section)


def _save_section(section, form) -> None:
    services.save_section(section, title=form.title.data, prompt=form.prompt.data or "", order=form.order.data,
                          active=form.active.data)
