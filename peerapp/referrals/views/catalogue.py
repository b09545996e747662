"""Referrals: the intervention catalogue."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from ...access import allow
from ...changes import StaleEdit, record_version
from ...pages import render, render_form, render_stale
from .. import services
from ..forms import InterventionForm
from ..models import Intervention
from . import bp


@bp.get("/interventions")
@allow("admin", "peer_lead", "manager", "clinician", "peer")
def catalogue():
    """Everyone working with referrals (and admins): the intervention catalogue."""
    return render("referrals/catalogue.html", interventions=list(Intervention.listed()))


def _fields(form: InterventionForm) -> dict:
    """The intervention as the form gives it."""
    return {"name": form.name.data.strip(), "duties": form.duties.data.strip(), "delivery": form.delivery.data,
            "settings": form.settings.data, "typical_sessions": form.typical_sessions.data,
            "session_minutes": form.session_minutes.data, "frequency": (form.frequency.data or "").strip(),
            "volunteers_allowed": form.volunteers_allowed.data, "risk_levels": form.risk_levels.data,
            "retired": form.retired.data}


@bp.route("/interventions/new", methods=["GET", "POST"])
@allow("admin", "peer_lead")
def intervention_new():
    """Peer leads and admins: add an intervention to the catalogue."""
    form = InterventionForm()
    if request.method == "GET":
        form.risk_levels.data = ["low"]
    if form.validate_on_submit():
        try:
            item = services.save_intervention(None, by=current_user._get_current_object(), fields=_fields(form))
        except services.Duplicate as duplicate:
            form.name.errors.append(str(duplicate))  # someone added it a moment ago
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
            services.save_intervention(item, by=current_user._get_current_object(), fields=_fields(form),
                                       seen=form.version.data)
        except StaleEdit:
            item = Intervention.get_by_id(intervention_id)
            form.version.data = record_version(item)
            return render_stale("referrals/intervention_form.html", form, item=item)
        except services.Duplicate as duplicate:
            form.name.errors.append(str(duplicate))
        else:
            flash(f"{item.name} saved.", "success")
            return redirect(url_for("referrals.catalogue"))
    return render_form("referrals/intervention_form.html", form, item=item)
