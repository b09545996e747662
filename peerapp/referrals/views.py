"""Referrals: clinicians refer, peer leads screen, assign and introduce, peers work.

Who sees what (404 for records that are not theirs):
- clinicians: referrals they made or whose service user they care-co-ordinate;
- peer leads and managers: their team's referrals and service users;
- paid peers: referrals assigned to them now, with notes; they record their contacts;
- volunteer peers: their caseload cards only; every notes page answers 404;
- admins: the intervention catalogue only; viewers: nothing here.
Every view of a service user, referral or contact writes one audit row.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from .. import clock
from ..access import allow
from ..audit import audit
from ..db import db
from ..forms import ActionForm
from ..navigation import home_panel, nav_item
from ..pages import render, render_form
from ..workforce.models import PeerRole
from . import states
from .forms import (AnswerForm, ArrangeMeetingForm, AssignForm, CloseForm, ConflictForm, ContactForm,
                    ExistingReferralForm, InterventionForm, ListFilterForm, MeetingOutcomeForm, ReferralForm,
                    ScreeningForm, ServiceUserForm, ServiceUserSearchForm)
from .models import (DOUBLE_TAP, DeclaredConflict, Intervention, Referral, ReferralError, ServiceUser,
                     caseload)
from .nhs_number import normalise

bp = Blueprint("referrals", __name__, url_prefix="/referrals")
nav_item("Referrals", "referrals.index", order=40, hint="Screening queue, awaiting match and your team's referrals")
nav_item("My referrals", "referrals.mine", order=41, hint="Refer a service user for peer support and follow progress")
nav_item("My caseload", "referrals.caseload", order=42, hint="The people you support and how to contact them")
# The catalogue is reached from the referral pages' tabs (one menu entry per area keeps the
# menu's "current" highlight right); admins, who have no referral pages, get a home panel.
home_panel("referrals/_home_panel_clinician.html", "referrals.mine", order=40)
home_panel("referrals/_home_panel_lead.html", "referrals.screening_queue", order=41)
home_panel("referrals/_home_panel_peer.html", "referrals.caseload", order=42)
home_panel("referrals/_home_panel_catalogue.html", "referrals.intervention_new", order=46)

STAFF = ("peer_lead", "manager", "clinician")
REFUSED = (ReferralError, states.TransitionRefused)


# --- who may see what -----------------------------------------------------------

def _peer_role():
    """The signed-in peer's current role (None for staff without one)."""
    if not current_user.has_role("peer"):
        return None
    cached = getattr(request, "_peer_role", False)
    if cached is False:
        cached = PeerRole.current_for(current_user)
        request._peer_role = cached
    return cached


def _may_read_notes() -> bool:
    """Staff, and paid peers. A volunteer has no access to electronic records."""
    if current_user.has_role(*STAFF):
        return True
    role = _peer_role()
    return role is not None and not role.is_volunteer


def _visible() -> "Referral":
    role = _peer_role()
    return Referral.visible_to(current_user, role if role and not role.is_volunteer else None)


def _referral_or_404(referral_id: int, purpose: str | None = None) -> Referral:
    """A referral this person may see, else 404. ``purpose`` audits the view (GET only)."""
    if not _may_read_notes():
        abort(404)
    referral = _visible().where(Referral.id == referral_id).first() or abort(404)
    if purpose and request.method == "GET":
        audit("view", referral, summary=purpose)
    return referral


def _lead_referral_or_404(referral_id: int, purpose: str | None = None) -> Referral:
    """Peer leads act only on their own team's referrals."""
    referral = _referral_or_404(referral_id, purpose)
    if not (current_user.has_role("peer_lead") and referral.team_id == current_user.team_id):
        abort(404)
    return referral


def _service_user_or_404(service_user_id: int) -> ServiceUser:
    return ServiceUser.visible_to(current_user).where(ServiceUser.id == service_user_id).first() or abort(404)


def _is_lead_of(referral: Referral) -> bool:
    return current_user.has_role("peer_lead") and referral.team_id == current_user.team_id


def _audit_list(name: str, rows) -> None:
    labels = ", ".join(r.label for r in rows[:30])
    audit("view_list", record_type="referral", summary=f"{name}: {len(rows)} referral(s) {labels}"[:255])


@bp.app_context_processor
def referral_panels():
    """Counts for the home panels, computed only when a panel asks for them."""
    def counts() -> dict:
        if not current_user.is_authenticated:
            return {}
        found = {}
        if current_user.has_role("clinician"):
            mine = Referral.made_or_coordinated_by(current_user)
            found["mine_open"] = mine.where(Referral.state.not_in(states.FINISHED_STATES)).count()
            found["mine_questions"] = mine.where(Referral.state == states.MORE_INFO).count()
        if current_user.has_role("peer_lead", "manager") and current_user.team_id:
            found["screening"] = Referral.screening_queue(current_user.team_id).count()
            found["awaiting"] = Referral.awaiting_match(current_user.team_id).count()
        role = _peer_role()
        if role is not None:
            found["caseload"] = caseload(role)
            found["max_caseload"] = role.max_caseload
        return found
    return {"referral_counts": counts}


# --- lists ----------------------------------------------------------------------

def _filtered(query, form: ListFilterForm):
    if form.state.data:
        query = query.where(Referral.state == form.state.data)
    if form.team.data:
        query = query.where(Referral.team == form.team.data)
    return query


def _list_page(title: str, query, list_name: str, intro: str = "", show_filter: bool = True,
               state_choices=None):
    form = ListFilterForm(request.args)
    if state_choices is not None:
        form.state.choices = [("", "Any state")] + [(s, s.capitalize()) for s in state_choices]
    rows = list(_filtered(query, form).order_by(Referral.referred_on.desc(), Referral.id.desc()).limit(300)) \
        if form.validate() else []
    _audit_list(list_name, rows)
    return render("referrals/list.html", "referrals/_referral_list.html", title=title, intro=intro,
                  form=form, referrals=rows, show_filter=show_filter)


@bp.get("/")
@allow("peer_lead", "manager")
def index():
    """Peer leads and managers: every referral of their team, filtered by state."""
    return _list_page("Team referrals", _visible(), "team referrals")


@bp.get("/mine")
@allow("clinician")
def mine():
    """Clinicians: the referrals they made or whose service user they care-co-ordinate."""
    return _list_page("My referrals", Referral.made_or_coordinated_by(current_user), "my referrals",
                      intro="Referrals you made, and referrals of people you care-co-ordinate.")


@bp.get("/screening")
@allow("peer_lead", "manager")
def screening_queue():
    """Peer leads and managers: referrals of their team waiting for a screening decision."""
    rows = list(Referral.screening_queue(current_user.team_id or -1))
    _audit_list("screening queue", rows)
    return render("referrals/queue.html", title="Screening queue", referrals=rows, queue="screening")


@bp.get("/awaiting-match")
@allow("peer_lead", "manager")
def awaiting():
    """Peer leads and managers: accepted referrals of their team waiting for a peer."""
    rows = list(Referral.awaiting_match(current_user.team_id or -1))
    _audit_list("awaiting match", rows)
    return render("referrals/queue.html", title="Awaiting match", referrals=rows, queue="awaiting")


@bp.get("/closed")
@allow("clinician", "peer_lead", "manager")
def closed():
    """Clinicians, peer leads and managers: closed and declined referrals they may see."""
    return _list_page("Closed referrals", _visible().where(Referral.state.in_(states.FINISHED_STATES)),
                      "closed referrals", state_choices=states.FINISHED_STATES)


@bp.get("/caseload", endpoint="caseload")
@allow("peer")
def caseload_page():
    """Peers: the people they support now. Volunteers see cards only (first name, how to
    contact, agreed intervention, current risk summary); paid peers can open each referral."""
    role = _peer_role()
    rows = list(Referral.assigned_to(role)) if role else []
    _audit_list("caseload", rows)
    return render("referrals/caseload.html", role=role, referrals=rows,
                  notes_allowed=bool(role and not role.is_volunteer))



@bp.get("/debrief")
@allow("peer_lead")
def debrief():
    """Peer leads: volunteers of their team and the referrals whose contacts they report
    at the end-of-day debrief, each with a link to enter a contact."""
    team = current_user.team_id or -1
    volunteers = [r for r in PeerRole.for_team(team) if r.is_volunteer and r.status in ("active", "paused")]
    rows = [(role, list(Referral.assigned_to(role))) for role in volunteers]
    _audit_list("debrief", [ref for _, refs in rows for ref in refs])
    return render("referrals/debrief.html", rows=rows)


# --- service users and new referrals ---------------------------------------------

@bp.route("/service-users", methods=["GET", "POST"])
@allow("clinician", "peer_lead", "manager")
def search():
    """Clinicians, peer leads, managers: find a service user by name or NHS number.
    A POST, so names and NHS numbers never travel in a URL."""
    form = ServiceUserSearchForm(formdata=request.form if request.method == "POST" else None)
    results = []
    searched = False
    if request.method == "POST" and form.validate():
        searched = True
        needle = (form.q.data or "").strip()
        if needle:
            digits = normalise(needle)
            query = ServiceUser.visible_to(current_user)
            if digits.isdigit():
                query = query.where(ServiceUser.nhs_number.contains(digits))
            else:
                query = query.where(ServiceUser.name.contains(needle) | ServiceUser.preferred_name.contains(needle))
            results = list(query.order_by(ServiceUser.name).limit(50))
            audit("search", record_type="service_user", summary=f"service user search: {len(results)} found")
    elif request.method == "POST":
        return render_form("referrals/search.html", form, fragment="referrals/_search_results.html",
                           results=[], searched=False)
    return render("referrals/search.html", "referrals/_search_results.html", form=form, results=results,
                  searched=searched)


def _save_service_user(su: ServiceUser, form) -> None:
    su.name = form.name.data.strip()
    su.preferred_name = (form.preferred_name.data or "").strip()
    su.nhs_number = normalise(form.nhs_number.data) or None
    su.date_of_birth = form.date_of_birth.data
    su.gender = (form.gender.data or "").strip()
    su.pronouns = (form.pronouns.data or "").strip()
    su.contact_preference = (form.contact_preference.data or "").strip()
    su.team = form.team.data
    su.care_coordinator = form.care_coordinator.data or None
    su.languages = form.languages.data or ""
    su.interests = form.interests.data or ""
    su.availability = form.availability.data or []
    su.area = (form.area.data or "").strip()
    if form.consent_on.data and (form.consent_referral.data or form.consent_sharing.data):
        changed = False
        if form.consent_referral.data and su.consent_referral_on != form.consent_on.data:
            su.consent_referral_on, changed = form.consent_on.data, True
        if form.consent_sharing.data and su.consent_sharing_on != form.consent_on.data:
            su.consent_sharing_on, changed = form.consent_on.data, True
        if changed:
            su.consent_recorded_by = current_user.id
    if not form.consent_referral.data:
        su.consent_referral_on = None
    if not form.consent_sharing.data:
        su.consent_sharing_on = None
    su.save()
    su.set_preferences(form.preference_rows())


def _save_referral(referral: Referral, form) -> None:
    referral.own_words = form.own_words.data.strip()
    referral.goals = form.goals.data.strip()
    referral.risk_summary = form.risk_summary.data.strip()
    referral.risk_level = form.risk_level.data
    referral.last_risk_review_on = form.last_risk_review_on.data
    referral.consent_override_reason = (form.consent_override_reason.data or "").strip()
    referral.save()
    referral.set_interventions(Intervention.select().where(Intervention.id.in_(form.interventions.data)))


def _new_referral_form_defaults(form) -> None:
    if not current_user.has_role("clinician") and current_user.team_id:
        # A peer lead taking a referral by phone takes it for their own team: a referral
        # filed under another team would vanish from their sight the moment it was saved.
        form.team.choices = [(t, name) for t, name in form.team.choices if t == current_user.team_id]
    if request.method == "GET":
        if current_user.team_id:
            form.team.data = current_user.team_id
        if current_user.has_role("clinician"):
            form.care_coordinator.data = current_user.id


def _just_submitted(form) -> Referral | None:
    """The same referral sent twice by a double tap: same person, same referrer, moments apart."""
    return (Referral.select(Referral, ServiceUser).join(ServiceUser)
            .where(Referral.referrer == current_user.id, ServiceUser.name == form.name.data.strip(),
                   ServiceUser.date_of_birth == form.date_of_birth.data,
                   Referral.own_words == form.own_words.data.strip(),
                   Referral.created_at >= clock.now() - DOUBLE_TAP).first())


@bp.route("/new", methods=["GET", "POST"])
@allow("clinician", "peer_lead")
def new():
    """Clinicians (and peer leads taking a referral by phone): record a new service user
    and refer them. Needs consent to the referral and to sharing, or a reason."""
    form = ReferralForm()
    _new_referral_form_defaults(form)
    if form.validate_on_submit():
        twin = _just_submitted(form)
        if twin is not None:
            flash(f"Referral {twin.label} was already submitted a moment ago; it was not sent twice.", "info")
            return redirect(url_for("referrals.show", referral_id=twin.id))
        with db.atomic():
            su = ServiceUser(team=form.team.data, created_by=current_user.id, created_at=clock.now())
            _save_service_user(su, form)
            referral = Referral(service_user=su, team=su.team_id, referrer=current_user.id,
                                referred_on=clock.today(), state_changed_at=clock.now(), created_at=clock.now())
            _save_referral(referral, form)
            audit("create", su, summary="service user recorded")
            audit("create", referral, summary="referral submitted"
                  + (" without recorded consent (reason given)" if referral.consent_override_reason else ""))
        flash(f"Referral {referral.label} submitted. The peer leads will screen it.", "success")
        return redirect(url_for("referrals.show", referral_id=referral.id))
    return render_form("referrals/new.html", form, service_user=None)


@bp.route("/service-users/<int:service_user_id>/refer", methods=["GET", "POST"])
@allow("clinician", "peer_lead")
def refer_existing(service_user_id: int):
    """Clinicians and peer leads: a new referral for a service user already recorded."""
    su = _service_user_or_404(service_user_id)
    if request.method == "GET":
        audit("view", su, summary="viewed to refer")
    form = ExistingReferralForm(service_user=su)
    if form.validate_on_submit():
        twin = (Referral.select().where(Referral.service_user == su, Referral.referrer == current_user.id,
                                        Referral.own_words == form.own_words.data.strip(),
                                        Referral.created_at >= clock.now() - DOUBLE_TAP).first())
        if twin is not None:
            flash(f"Referral {twin.label} was already submitted a moment ago; it was not sent twice.", "info")
            return redirect(url_for("referrals.show", referral_id=twin.id))
        with db.atomic():
            referral = Referral(service_user=su, team=su.team_id, referrer=current_user.id,
                                referred_on=clock.today(), state_changed_at=clock.now(), created_at=clock.now())
            _save_referral(referral, form)
            audit("create", referral, summary="referral submitted")
        flash(f"Referral {referral.label} submitted.", "success")
        return redirect(url_for("referrals.show", referral_id=referral.id))
    return render_form("referrals/refer_existing.html", form, service_user=su)


@bp.get("/service-users/<int:service_user_id>")
@allow("clinician", "peer_lead", "manager")
def service_user(service_user_id: int):
    """Clinicians, peer leads, managers: a service user's record, preferences, consent,
    declared conflicts and referrals (only those they may see)."""
    su = _service_user_or_404(service_user_id)
    audit("view", su, summary="service user record viewed")
    referrals = list(_visible().where(Referral.service_user == su).order_by(Referral.referred_on.desc()))
    conflicts = list(DeclaredConflict.for_service_user(su).order_by(DeclaredConflict.recorded_on.desc()))
    return render("referrals/service_user.html", su=su, referrals=referrals, conflicts=conflicts)


@bp.route("/service-users/<int:service_user_id>/edit", methods=["GET", "POST"])
@allow("clinician", "peer_lead")
def service_user_edit(service_user_id: int):
    """Clinicians and peer leads: correct a service user's details, preferences and consent."""
    su = _service_user_or_404(service_user_id)
    # No obj=su: list fields (languages, ...) are filled as text below, never as lists.
    form = ServiceUserForm(service_user=su)
    if request.method == "GET":
        audit("view", su, summary="viewed to edit")
        for name in ("name", "preferred_name", "date_of_birth", "gender", "pronouns", "contact_preference", "area"):
            getattr(form, name).data = getattr(su, name)
        form.team.data = su.team_id
        form.care_coordinator.data = su.care_coordinator_id or 0
        form.nhs_number.data = su.nhs_number_formatted
        form.languages.data = ", ".join(su.languages)
        form.interests.data = ", ".join(su.interests)
        form.availability.data = su.availability
        form.consent_referral.data = bool(su.consent_referral_on)
        form.consent_sharing.data = bool(su.consent_sharing_on)
        form.consent_on.data = su.consent_referral_on or su.consent_sharing_on
        form.fill_preferences(su)
        form.version.data = su.version()
    if form.validate_on_submit():
        if form.version.data != su.version():
            flash("Someone else changed these details while you were editing. Nothing was saved: your "
                  "changes are below. Open the record in a new tab to see theirs, then save again.", "error")
            form.version.data = su.version()
            return render_form("referrals/service_user_form.html", form, su=su), 409
        with db.atomic():
            _save_service_user(su, form)
            audit("update", su, summary="service user details changed")
        flash("Details saved.", "success")
        return redirect(url_for("referrals.service_user", service_user_id=su.id))
    return render_form("referrals/service_user_form.html", form, su=su)


@bp.route("/service-users/<int:service_user_id>/conflicts", methods=["GET", "POST"])
@allow("peer_lead")
def conflict_new(service_user_id: int):
    """Peer leads: record a conflict declared by a peer or by the service user (they know
    each other, ...). Such a pair is never assigned or proposed."""
    su = _service_user_or_404(service_user_id)
    if su.team_id != current_user.team_id:
        abort(404)
    form = ConflictForm()
    form.peer_role.choices = [(r.id, f"{r.display_name} ({r.kind_label.lower()})")
                              for r in PeerRole.for_team(su.team_id)]
    if request.method == "GET":
        audit("view", su, summary="viewed to record a conflict")
    if form.validate_on_submit():
        role = PeerRole.get_or_none(PeerRole.id == form.peer_role.data, PeerRole.team == su.team_id) or abort(404)
        exists = DeclaredConflict.get_or_none(service_user=su, peer_role=role,
                                              declared_by_side=form.declared_by_side.data)
        if exists:
            flash("This conflict is already recorded.", "info")
        else:
            with db.atomic():
                conflict = DeclaredConflict.create(service_user=su, peer_role=role,
                                                   declared_by_side=form.declared_by_side.data,
                                                   note=(form.note.data or "").strip(),
                                                   recorded_by=current_user.id, recorded_on=clock.today())
                audit("create", conflict, summary=f"conflict declared by the {conflict.declared_by_side}")
            flash("Conflict recorded: they will not be matched.", "success")
        return redirect(url_for("referrals.service_user", service_user_id=su.id))
    return render_form("referrals/conflict_form.html", form, su=su)


# --- one referral -------------------------------------------------------------------

@bp.get("/<int:referral_id>")
@allow("clinician", "peer_lead", "manager", "peer")
def show(referral_id: int):
    """Clinicians (their referrals), peer leads and managers (their team's), paid peers
    (assigned to them): the referral with its history, screening, first meeting and contacts."""
    referral = _referral_or_404(referral_id)
    contacts = list(referral.contacts_in_order())
    audit("view", referral, summary=f"referral viewed with service user #{referral.service_user_id} "
                                    f"and {len(contacts)} contact(s)")
    return render("referrals/show.html", referral=referral, su=referral.service_user, contacts=contacts,
                  is_lead=_is_lead_of(referral), assignment=referral.current_assignment(),
                  meetings=list(referral.first_meetings()), history=list(referral.history()),
                  questions=list(referral.information_requests), action_form=ActionForm())


def _not_now(referral: Referral, *wanted: str):
    """A redirect back to the referral when the page does not fit its state, else None."""
    if referral.state in wanted:
        return None
    flash(f"This referral is {states.describe(referral.state)}, so that is not possible now.", "info")
    return redirect(url_for("referrals.show", referral_id=referral.id))


def _refused(form, error: Exception) -> None:
    """Show a refusal at the top of the re-shown form: what was typed stays on the page."""
    flash(str(error), "error")


@bp.route("/<int:referral_id>/screen", methods=["GET", "POST"])
@allow("peer_lead")
def screen(referral_id: int):
    """Peer leads: the screening decision (accept, decline, or questions to the referrer),
    with reasons, risk considerations, suitable interventions and whether a volunteer may take it."""
    referral = _lead_referral_or_404(referral_id, "viewed for screening")
    if request.method == "GET" and (away := _not_now(referral, states.SUBMITTED, states.SCREENING)):
        return away
    form = ScreeningForm()
    if request.method == "GET":
        form.risk_level.data = referral.risk_level
        form.interventions.data = [i.id for i in referral.requested_interventions()]
        form.volunteer_allowed.data = referral.volunteer_allowed
        form.reasons.data = referral.screening_reasons
        form.risk_considerations.data = referral.risk_considerations
    if form.validate_on_submit():
        try:
            with db.atomic():
                before = referral.state
                referral.screen(current_user._get_current_object(), form.decision.data,
                                reasons=form.reasons.data or "", questions=form.questions.data or "",
                                risk_considerations=form.risk_considerations.data or "",
                                interventions=list(Intervention.select().where(
                                    Intervention.id.in_(form.interventions.data or []))),
                                volunteer_allowed=form.volunteer_allowed.data, risk_level=form.risk_level.data)
                audit("screen", referral, summary=f"{before} -> {referral.state}")
        except REFUSED as error:
            referral = Referral.get_by_id(referral.id)
            _refused(form, error)
        else:
            flash({states.AWAITING_MATCH: f"{referral.label} accepted and added to the waiting list for a peer.",
                   states.DECLINED: f"{referral.label} declined. The referrer can see your reasons.",
                   states.MORE_INFO: f"Your questions have gone back to the referrer of {referral.label}."
                   }.get(referral.state, "Screening saved."), "success")
            return redirect(url_for("referrals.screening_queue"))
    return render_form("referrals/screen.html", form, referral=referral, su=referral.service_user)


@bp.route("/<int:referral_id>/answer", methods=["GET", "POST"])
@allow("clinician", "peer_lead")
def answer(referral_id: int):
    """The referrer (or their care co-ordinator colleague), or a peer lead taking the answer by
    phone: answer the screening questions; the referral returns to screening."""
    referral = _referral_or_404(referral_id, "viewed to answer questions")
    if not (referral.referrer_id == current_user.id or referral.service_user.care_coordinator_id == current_user.id
            or _is_lead_of(referral)):
        abort(404)
    if request.method == "GET" and (away := _not_now(referral, states.MORE_INFO)):
        return away
    form = AnswerForm()
    request_ = referral.open_questions()
    if form.validate_on_submit():
        try:
            with db.atomic():
                referral.answer_questions(current_user._get_current_object(), form.answer.data)
                audit("answer", referral, summary="questions answered; back to screening")
        except REFUSED as error:
            _refused(form, error)
        else:
            flash("Thank you: your answer is with the peer leads.", "success")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    return render_form("referrals/answer.html", form, referral=referral, request_=request_)


def _assignable(referral: Referral):
    """(role, caseload, problems) for every current peer of the team: those with no
    problems are offered, the others are listed with the reasons."""
    return [(role, caseload(role), referral.assignment_problems(role))
            for role in PeerRole.for_team(referral.team_id) if role.status in ("active", "paused")]


@bp.route("/<int:referral_id>/assign", methods=["GET", "POST"])
@allow("peer_lead")
def assign(referral_id: int):
    """Peer leads: assign a peer by hand. Only peers ready to practise, with capacity, and
    (for volunteers) allowed by screening, interventions and risk are offered."""
    referral = _lead_referral_or_404(referral_id, "viewed to assign a peer")
    if request.method == "GET" and (away := _not_now(referral, states.AWAITING_MATCH)):
        return away
    rows = _assignable(referral)
    offered = [(role, load) for role, load, problems in rows if not problems]
    not_offered = [(role, problems) for role, _, problems in rows if problems]
    form = AssignForm()
    form.peer_role.choices = [(role.id, f"{role.display_name} ({role.kind_label.lower()}), "
                                        f"{load} of {role.max_caseload} places taken") for role, load in offered]
    if form.validate_on_submit():
        role = PeerRole.get_or_none(PeerRole.id == form.peer_role.data) or abort(404)
        try:
            with db.atomic():
                assignment = referral.assign(role, current_user._get_current_object(), how="by hand")
                audit("assign", referral, summary=f"peer role #{role.id} assigned by hand")
        except REFUSED as error:
            referral = Referral.get_by_id(referral.id)
            _refused(form, error)
        else:
            flash(f"{assignment.peer_role.display_name} assigned to {referral.label}. "
                  "Next: arrange the first meeting.", "success")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    elif request.method == "POST":
        # A peer who is not offered (a stale page: no longer ready, or full since it was
        # shown) is refused with the reasons, not WTForms' bare "Not a valid choice".
        refused = {role.id: (role, problems) for role, problems in not_offered}.get(form.peer_role.data)
        if refused is not None:
            role, problems = refused
            form.peer_role.errors = [f"{role.display_name} cannot be assigned: {'; '.join(problems)}."]
    return render_form("referrals/assign.html", form, referral=referral, su=referral.service_user,
                       offered=offered, not_offered=not_offered)


@bp.post("/<int:referral_id>/end-assignment")
@allow("peer_lead")
def end_assignment(referral_id: int):
    """Peer leads: end a match before the first meeting; the referral goes back to awaiting match."""
    referral = _lead_referral_or_404(referral_id)
    reason = (request.form.get("reason") or "").strip()[:200]
    if ActionForm().validate_on_submit():
        try:
            with db.atomic():
                referral.end_assignment(current_user._get_current_object(), reason)
                audit("unassign", referral, summary="assignment ended before the first meeting")
            flash(f"{referral.label} is back on the waiting list.", "success")
        except REFUSED as error:
            flash(str(error), "error")
    return redirect(url_for("referrals.show", referral_id=referral.id))


@bp.route("/<int:referral_id>/first-meeting", methods=["GET", "POST"])
@allow("peer_lead")
def first_meeting(referral_id: int):
    """Peer leads: arrange the first meeting (date, place, who attends), then record its
    outcome: go ahead (active) or not a good fit (back to awaiting match; the assignment ends)."""
    referral = _lead_referral_or_404(referral_id, "viewed for the first meeting")
    assignment = referral.current_assignment()
    if referral.state == states.MATCHED:
        form = ArrangeMeetingForm(referral=referral)
        if request.method == "GET":
            form.place.data = referral.team.base_address.split("\n")[0] if referral.team.base_address else ""
            form.attendees.data = (f"{referral.service_user.first_name}, "
                                   f"{assignment.peer_role.display_name if assignment else 'the peer'}, "
                                   f"{current_user.name}")
        if form.validate_on_submit():
            try:
                with db.atomic():
                    referral.arrange_first_meeting(current_user._get_current_object(), form.meeting_on.data,
                                                   form.place.data, form.attendees.data)
                    audit("first_meeting", referral, summary="first meeting arranged")
            except REFUSED as error:
                _refused(form, error)
            else:
                flash("First meeting arranged. Record how it went here afterwards.", "success")
                return redirect(url_for("referrals.show", referral_id=referral.id))
        return render_form("referrals/first_meeting.html", form, referral=referral, assignment=assignment,
                           stage="arrange")
    if referral.state == states.FIRST_MEETING:
        if request.method == "POST" and "meeting_on" in request.form and "outcome" not in request.form:
            # The arrange form sent twice (a double tap): it is arranged, say so kindly.
            flash("The first meeting is already arranged. Record how it went here afterwards.", "info")
            return redirect(url_for("referrals.show", referral_id=referral.id))
        meeting = referral.first_meetings().first()
        form = MeetingOutcomeForm()
        if request.method == "GET" and meeting:
            form.attendees.data = meeting.attendees
        if form.validate_on_submit():
            go_ahead = form.outcome.data == "go ahead"
            try:
                with db.atomic():
                    referral.record_first_meeting(current_user._get_current_object(), go_ahead,
                                                  form.reason.data or "", attendees=form.attendees.data)
                    audit("first_meeting", referral,
                          summary="first meeting: go ahead" if go_ahead else "first meeting: not a good fit")
            except REFUSED as error:
                _refused(form, error)
            else:
                flash("Peer support has started." if go_ahead else
                      f"{referral.label} is back on the waiting list; this pair will not be proposed again.",
                      "success")
                return redirect(url_for("referrals.show", referral_id=referral.id))
        return render_form("referrals/first_meeting.html", form, referral=referral, assignment=assignment,
                           meeting=meeting, stage="outcome")
    flash(f"This referral is {states.describe(referral.state)}: there is no first meeting to arrange.", "error")
    return redirect(url_for("referrals.show", referral_id=referral.id))


@bp.route("/<int:referral_id>/contacts/new", methods=["GET", "POST"])
@allow("peer_lead", "peer")
def contact_new(referral_id: int):
    """Paid peers: record their own contact. Peer leads: enter a contact, for a volunteer
    as reported at the end-of-day debrief. Volunteers: 404, they have no electronic records."""
    referral = _referral_or_404(referral_id, "viewed to record a contact")
    lead = _is_lead_of(referral)
    assignment = referral.current_assignment()
    role = _peer_role()
    own = role is not None and assignment is not None and assignment.peer_role_id == role.id
    if not (lead or own):
        abort(404)
    debrief = lead and assignment is not None and assignment.peer_role.is_volunteer
    if request.method == "GET" and (away := _not_now(referral, states.FIRST_MEETING, states.ACTIVE)):
        return away
    form = ContactForm(referral=referral)
    if request.method == "GET":
        form.contact_on.data = clock.today()
        if debrief:
            form.debrief_on.data = clock.today()
    if form.validate_on_submit():
        if debrief and not form.debrief_on.data:
            form.debrief_on.errors = ["Enter the date of the debrief"]
        elif debrief and form.debrief_on.data < form.contact_on.data:
            form.debrief_on.errors = ["The debrief cannot be before the contact"]
        else:
            try:
                with db.atomic():
                    contact = referral.record_contact(
                        current_user._get_current_object(), contact_on=form.contact_on.data,
                        minutes=form.minutes.data, intervention=form.intervention.data or None,
                        setting=form.setting.data, attendance=form.attendance.data,
                        cancelled_by=form.cancelled_by.data if form.attendance.data == "cancelled" else "",
                        summary=(form.summary.data or "").strip(),
                        debrief_on=form.debrief_on.data if debrief else None)
                    audit("create", contact, summary=f"contact on {referral.label}"
                          + (" entered at debrief" if debrief else ""))
            except REFUSED as error:
                _refused(form, error)
            else:
                flash("Contact recorded.", "success")
                return redirect(url_for("referrals.debrief" if debrief else "referrals.show",
                                        **({} if debrief else {"referral_id": referral.id})))
    return render_form("referrals/contact_form.html", form, referral=referral, assignment=assignment,
                       debrief=debrief)


@bp.route("/<int:referral_id>/close", methods=["GET", "POST"])
@allow("peer_lead", "manager")
def close(referral_id: int):
    """Peer leads and managers of the team: close a referral with an outcome and a summary."""
    referral = _referral_or_404(referral_id, "viewed to close")
    if referral.team_id != current_user.team_id or not current_user.has_role("peer_lead", "manager"):
        abort(404)
    if request.method == "GET" and (away := _not_now(referral, states.AWAITING_MATCH, states.MATCHED,
                                                     states.FIRST_MEETING, states.ACTIVE)):
        return away
    form = CloseForm()
    if form.validate_on_submit():
        try:
            with db.atomic():
                referral.close(current_user._get_current_object(), form.outcome.data, form.summary.data)
                audit("close", referral, summary=f"closed: {form.outcome.data}")
        except REFUSED as error:
            referral = Referral.get_by_id(referral.id)
            _refused(form, error)
        else:
            flash(f"{referral.label} closed.", "success")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    return render_form("referrals/close.html", form, referral=referral)


# --- the catalogue ----------------------------------------------------------------------

@bp.get("/interventions")
@allow("admin", "peer_lead", "manager", "clinician", "peer")
def catalogue():
    """Everyone working with referrals (and admins): the intervention catalogue."""
    return render("referrals/catalogue.html", interventions=list(Intervention.listed()))


def _save_intervention(item: Intervention, form: InterventionForm) -> None:
    item.name = form.name.data.strip()
    item.duties = form.duties.data.strip()
    item.delivery = form.delivery.data
    item.settings = form.settings.data
    item.typical_sessions = form.typical_sessions.data
    item.session_minutes = form.session_minutes.data
    item.frequency = (form.frequency.data or "").strip()
    item.volunteers_allowed = form.volunteers_allowed.data
    item.risk_levels = form.risk_levels.data
    item.retired = form.retired.data
    item.save()


@bp.route("/interventions/new", methods=["GET", "POST"])
@allow("admin", "peer_lead")
def intervention_new():
    """Peer leads and admins: add an intervention to the catalogue."""
    form = InterventionForm()
    if request.method == "GET":
        form.risk_levels.data = ["low"]
    if form.validate_on_submit():
        with db.atomic():
            item = Intervention(created_at=clock.now())
            _save_intervention(item, form)
            audit("create", item, summary="intervention added to the catalogue")
        flash(f"{item.name} added to the catalogue.", "success")
        return redirect(url_for("referrals.catalogue"))
    return render_form("referrals/intervention_form.html", form, item=None)


@bp.route("/interventions/<int:intervention_id>", methods=["GET", "POST"])
@allow("admin", "peer_lead")
def intervention_edit(intervention_id: int):
    """Peer leads and admins: change or retire an intervention. Retired items stay in history."""
    item = Intervention.get_or_none(Intervention.id == intervention_id) or abort(404)
    form = InterventionForm(obj=item, intervention=item)
    if form.validate_on_submit():
        with db.atomic():
            _save_intervention(item, form)
            audit("update", item, summary="intervention changed" + (" (retired)" if item.retired else ""))
        flash(f"{item.name} saved.", "success")
        return redirect(url_for("referrals.catalogue"))
    return render_form("referrals/intervention_form.html", form, item=item)

