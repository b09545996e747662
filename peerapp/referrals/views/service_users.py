"""Referrals: finding and recording service users, and referring them."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from ...access import allow
from ...audit import audit
from ...changes import StaleEdit
from ...pages import render, render_form
from ...workforce.models import PeerRole
from .. import services
from ..forms import ConflictForm, ExistingReferralForm, ReferralForm, ServiceUserForm, ServiceUserSearchForm
from ..models import DeclaredConflict, Intervention, Referral, ServiceUser
from ..nhs_number import normalise
from . import bp
from .common import service_user_or_404, visible

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


def _person(form) -> dict:
    """The service user's details as the form gives them."""
    return {"name": form.name.data.strip(), "preferred_name": (form.preferred_name.data or "").strip(),
            "nhs_number": normalise(form.nhs_number.data) or None, "date_of_birth": form.date_of_birth.data,
            "gender": (form.gender.data or "").strip(), "pronouns": (form.pronouns.data or "").strip(),
            "contact_preference": (form.contact_preference.data or "").strip(), "team": form.team.data,
            "care_coordinator": form.care_coordinator.data or None, "languages": form.languages.data or "",
            "interests": form.interests.data or "", "availability": form.availability.data or [],
            "area": (form.area.data or "").strip()}


def _consent(form) -> services.Consent:
    return services.Consent(form.consent_on.data, bool(form.consent_referral.data), bool(form.consent_sharing.data))


def _referral(form) -> dict:
    """The referral's fields as the form gives them."""
    return {"own_words": form.own_words.data.strip(), "goals": form.goals.data.strip(),
            "risk_summary": form.risk_summary.data.strip(), "risk_level": form.risk_level.data,
            "last_risk_review_on": form.last_risk_review_on.data,
            "consent_override_reason": (form.consent_override_reason.data or "").strip()}


def _interventions(form):
    return list(Intervention.select().where(Intervention.id.in_(form.interventions.data)))


def _new_referral_form_defaults(form) -> None:
    # The team choices are limited in ServiceUserForm itself (a peer lead's own team only).
    if request.method == "GET":
        if current_user.team_id:
            form.team.data = current_user.team_id
        if current_user.has_role("clinician"):
            form.care_coordinator.data = current_user.id


def _refused(form, duplicate: services.Duplicate) -> None:
    """A duplicate the database refused, as a message on the field concerned."""
    getattr(form, duplicate.field).errors.append(str(duplicate))


@bp.route("/new", methods=["GET", "POST"])
@allow("clinician", "peer_lead")
def new():
    """Clinicians (and peer leads taking a referral by phone): record a new service user
    and refer them. Needs consent to the referral and to sharing, or a reason."""
    form = ReferralForm()
    _new_referral_form_defaults(form)
    if form.validate_on_submit():
        try:
            referral, made = services.refer_new_service_user(
                by=current_user._get_current_object(), person=_person(form), consent=_consent(form),
                preferences=form.preference_rows(), referral=_referral(form), interventions=_interventions(form))
        except services.Duplicate as duplicate:
            _refused(form, duplicate)  # someone recorded them a moment ago
            return render_form("referrals/new.html", form, service_user=None)
        if not made:
            flash(f"Referral {referral.label} was already submitted a moment ago; it was not sent twice.", "info")
        else:
            flash(f"Referral {referral.label} submitted. The peer leads will screen it.", "success")
        return redirect(url_for("referrals.show", referral_id=referral.id))
    return render_form("referrals/new.html", form, service_user=None)


@bp.route("/service-users/<int:service_user_id>/refer", methods=["GET", "POST"])
@allow("clinician", "peer_lead")
def refer_existing(service_user_id: int):
    """Clinicians and peer leads: a new referral for a service user already recorded."""
    su = service_user_or_404(service_user_id)
    if request.method == "GET":
        audit("view", su, summary="viewed to refer")
    form = ExistingReferralForm(service_user=su)
    if form.validate_on_submit():
        try:
            referral, made = services.refer(su, by=current_user._get_current_object(), referral=_referral(form),
                                            interventions=_interventions(form))
        except services.Duplicate as duplicate:
            _refused(form, duplicate)
            return render_form("referrals/refer_existing.html", form, service_user=su)
        if not made:
            flash(f"Referral {referral.label} was already submitted a moment ago; it was not sent twice.", "info")
        else:
            flash(f"Referral {referral.label} submitted.", "success")
        return redirect(url_for("referrals.show", referral_id=referral.id))
    return render_form("referrals/refer_existing.html", form, service_user=su)


@bp.get("/service-users/<int:service_user_id>")
@allow("clinician", "peer_lead", "manager")
def service_user(service_user_id: int):
    """Clinicians, peer leads, managers: a service user's record, preferences, consent,
    declared conflicts and referrals (only those they may see)."""
    su = service_user_or_404(service_user_id)
    audit("view", su, summary="service user record viewed")
    referrals = list(visible().where(Referral.service_user == su).order_by(Referral.referred_on.desc()))
    conflicts = list(DeclaredConflict.for_service_user(su).order_by(DeclaredConflict.recorded_on.desc()))
    return render("referrals/service_user.html", su=su, referrals=referrals, conflicts=conflicts)


@bp.route("/service-users/<int:service_user_id>/edit", methods=["GET", "POST"])
@allow("clinician", "peer_lead")
def service_user_edit(service_user_id: int):
    """Clinicians and peer leads: correct a service user's details, preferences and consent."""
    su = service_user_or_404(service_user_id)
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
        try:
            services.update_service_user(su, by=current_user._get_current_object(), person=_person(form),
                                         consent=_consent(form), preferences=form.preference_rows(),
                                         seen=form.version.data)
        except StaleEdit as stale:
            flash(str(stale), "error")
            form.version.data = su.version()
            return render_form("referrals/service_user_form.html", form, su=su), 409
        except services.Duplicate as duplicate:
            _refused(form, duplicate)
            return render_form("referrals/service_user_form.html", form, su=service_user_or_404(service_user_id))
        flash("Details saved.", "success")
        return redirect(url_for("referrals.service_user", service_user_id=su.id))
    return render_form("referrals/service_user_form.html", form, su=su)


@bp.route("/service-users/<int:service_user_id>/conflicts", methods=["GET", "POST"])
@allow("peer_lead")
def conflict_new(service_user_id: int):
    """Peer leads: record a conflict declared by a peer or by the service user (they know
    each other, ...). Such a pair is never assigned or proposed."""
    su = service_user_or_404(service_user_id)
    if su.team_id != current_user.team_id:
        abort(404)
    form = ConflictForm()
    form.peer_role.choices = [(r.id, f"{r.display_name} ({r.kind_label.lower()})")
                              for r in PeerRole.for_team(su.team_id)]
    if request.method == "GET":
        audit("view", su, summary="viewed to record a conflict")
    if form.validate_on_submit():
        role = PeerRole.get_or_none(PeerRole.id == form.peer_role.data, PeerRole.team == su.team_id) or abort(404)
        conflict = services.record_conflict(su, role, by=current_user._get_current_object(),
                                            side=form.declared_by_side.data, note=form.note.data or "")
        if conflict is None:
            flash("This conflict is already recorded.", "info")
        else:
            flash("Conflict recorded: they will not be matched.", "success")
        return redirect(url_for("referrals.service_user", service_user_id=su.id))
    return render_form("referrals/conflict_form.html", form, su=su)
