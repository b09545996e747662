"""Referrals: the intervention catalogue."""
from __future__ import annotations

import peewee as pw
from flask import abort, flash, redirect, request, url_for

from ... import clock
from ...access import allow
from ...audit import audit
from ...db import db
from ...changes import StaleEdit, check_version, record_version, unique_violation
from ...pages import render, render_form, render_stale
from ..forms import InterventionForm
from ..models import Intervention
from . import bp

INTERVENTION_NAME_TAKEN = "There is already an intervention with this name"

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
        try:
            with db.atomic():
                item = Intervention(created_at=clock.now())
                _save_intervention(item, form)
                audit("create", item, summary="intervention added to the catalogue")
        except pw.IntegrityError as error:
            if not unique_violation(error):
                raise
            form.name.errors.append(INTERVENTION_NAME_TAKEN)  # someone added it a moment ago
        else:
            flash(f"{item.name} added to the catalogue.", "success")
            return redirect(url_for("referrals.catalogue"))
    return render_form("referrals/intervention_form.html", form, item=None)


@bp.route("/interventions/<int:intervention_id>", methods=["GET", "POST"])
@allow("admin", "peer_lead")
def intervention_edit(intervention_id: int):
    """Peer leads and admins: change or retire an intervention. Retired items stay in history."""
    item = Intervention.get_or_none(Intervention.id == intervention_id) or abort(404)
    form = InterventionForm(obj=item, intervention=item)
    if request.method == "GET":
        form.version.data = record_version(item)
    if form.validate_on_submit():
        try:
            with db.atomic():
                check_version(item, form.version.data)
                _save_intervention(item, form)
                audit("update", item, summary="intervention changed" + (" (retired)" if item.retired else ""))
        except StaleEdit:
            item = Intervention.get_by_id(intervention_id)
            form.version.data = record_version(item)
            return render_stale("referrals/intervention_form.html", form, item=item)
        except pw.IntegrityError as error:
            if not unique_violation(error):
                raise
            form.name.errors.append(INTERVENTION_NAME_TAKEN)
        else:
            flash(f"{item.name} saved.", "success")
            return redirect(url_for("referrals.catalogue"))
    return render_form("referrals/intervention_form.html", form, item=item)
