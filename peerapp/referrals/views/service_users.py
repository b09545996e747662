"""Referrals: finding and recording service users, and referring them."""
from __future__ import annotations

import peewee as pw
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from ... import clock, history
from ...access import allow
from ...audit import audit
from ...db import db
from ...changes import unique_violation
from ...pages import render, render_form
from ...workforce.models import PeerRole
from .. import services
from ..forms import ConflictForm, ExistingReferralForm, ReferralForm, ServiceUserForm, ServiceUserSearchForm
from ..models import DOUBLE_TAP, DeclaredConflict, Intervention, Referral, ServiceUser
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
    services.set_preferences(su, form.preference_rows())


def _save_referral(referral: Referral, form) -> None:
    referral.own_words = form.own_words.data.strip()
    referral.goals = form.goals.data.strip()
    referral.risk_summary = form.risk_summary.data.strip()
    referral.risk_level = form.risk_level.data
    referral.last_risk_review_on = form.last_risk_review_on.data
    referral.consent_override_reason = (form.consent_override_reason.data or "").strip()
    referral.save()
    services.set_interventions(referral, Intervention.select().where(Intervention.id.in_(form.interventions.data)))


def _new_referral_form_defaults(form) -> None:
    # The team choices are limited in ServiceUserForm itself (a peer lead's own team only).
    if request.method == "GET":
        if current_user.team_id:
            form.team.data = current_user.team_id
        if current_user.has_role("clinician"):
            form.care_coordinator.data = current_user.id


OPEN_REFERRAL = ("This service user already has an open referral to this team: add to that one "
                 "(it may have been sent a moment ago)")


def _duplicate_service_user(form, error) -> None:
    """Which 'only one' rule the database kept, as a message on the field concerned."""
    text = str(error).lower()
    if "nhs_number" in text:
        form.nhs_number.errors.append("A service user with this NHS number is already recorded: "
                                      "search for them and refer them from their record")
    elif "referral" in text:
        form.own_words.errors.append(OPEN_REFERRAL)
    else:
        form.name.errors.append("A service user with this name and date of birth is already recorded in "
                                "this team: search for them and refer them from their record")


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
        try:
            with db.atomic():
                su = ServiceUser(team=form.team.data, created_by=current_user.id, created_at=clock.now())
                _save_service_user(su, form)
                referral = Referral(service_user=su, team=su.team_id, referrer=current_user.id,
                                    referred_on=clock.today(), state_changed_at=clock.now(), created_at=clock.now())
                _save_referral(referral, form)
                audit("create", su, summary="service user recorded")
                audit("create", referral, summary="referral submitted"
                      + (" without recorded consent (reason given)" if referral.consent_override_reason else ""))
        except pw.IntegrityError as error:
            if not unique_violation(error):
                raise
            _duplicate_service_user(form, error)  # someone recorded them a moment ago
            return render_form("referrals/new.html", form, service_user=None)
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
        twin = (Referral.select().where(Referral.service_user == su, Referral.referrer == current_user.id,
                                        Referral.own_words == form.own_words.data.strip(),
                                        Referral.created_at >= clock.now() - DOUBLE_TAP).first())
        if twin is not None:
            flash(f"Referral {twin.label} was already submitted a moment ago; it was not sent twice.", "info")
            return redirect(url_for("referrals.show", referral_id=twin.id))
        try:
            with db.atomic():
                referral = Referral(service_user=su, team=su.team_id, referrer=current_user.id,
                                    referred_on=clock.today(), state_changed_at=clock.now(), created_at=clock.now())
                _save_referral(referral, form)
                audit("create", referral, summary="referral submitted")
        except pw.IntegrityError as error:
            if not unique_violation(error):
                raise
            form.own_words.errors.append(OPEN_REFERRAL)
            return render_form("referrals/refer_existing.html", form, service_user=su)
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
        if form.version.data != su.version():
            flash("Someone else changed these details while you were editing. Nothing was saved: your "
                  "changes are below. Open the record in a new tab to see theirs, then save again.", "error")
            form.version.data = su.version()
            return render_form("referrals/service_user_form.html", form, su=su), 409
        try:
            with db.atomic():
                before = history.snapshot(su)
                preferences = "; ".join(str(p) for p in su.preferences)
                _save_service_user(su, form)
                history.record_changes(before, su)
                history.record_values("service_user", su.id, {"preferences": preferences},
                                      {"preferences": "; ".join(str(p) for p in su.preferences)})
                audit("update", su, summary="service user details changed")
        except pw.IntegrityError as error:
            if not unique_violation(error):
                raise
            _duplicate_service_user(form, error)
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
