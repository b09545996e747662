"""Referrals: who may see what, shared by every referral page (404 for records not theirs)."""
from __future__ import annotations

from functools import lru_cache

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from markupsafe import Markup

from ...audit import audit
from ...changes import Refusal
from ...workforce.models import PeerRole
from .. import states
from ..models import Referral, ServiceUser, caseload
from . import bp

STAFF = ("peer_lead", "manager", "clinician")
# Every rule's refusal (services.ReferralError, states.TransitionRefused, a lost compare-and-set) is a Refusal.
REFUSED = (Refusal,)


def peer_role():
    """The signed-in peer's current role (None for staff without one)."""
    if not current_user.has_role("peer"):
        return None
    cached = getattr(request, "_peer_role", False)
    if cached is False:  # asked once a request (the referral pages ask it several times)
        cached = PeerRole.current_for(current_user)
        request._peer_role = cached
    return cached


def may_read_notes() -> bool:
    """Staff, and paid peers. A volunteer has no access to electronic records."""
    if current_user.has_role(*STAFF):
        return True
    role = peer_role()
    return role is not None and not role.is_volunteer


def opening_role():
    """The person's current peer role when it opens referrals to them: a paid peer's
    (a volunteer's referrals come through their peer lead)."""
    role = peer_role()
    return role if role and not role.is_volunteer else None


def visible() -> "Referral":
    return Referral.visible_to(current_user, opening_role())


def my_doors() -> tuple[tuple[str, ...], list]:
    """``visible()``'s doors and their values, for the lists (``referrals.lists``)."""
    return Referral.doors_for(current_user, opening_role())


def referral_or_404(referral_id: int, purpose: str | None = None) -> Referral:
    """A referral this person may see, else 404. ``purpose`` audits the view (GET only)."""
    if not may_read_notes():
        abort(404)
    referral = Referral.visible_one(current_user, opening_role(), referral_id) or abort(404)
    if purpose and request.method == "GET":
        audit("view", referral, summary=purpose)
    return referral


def lead_referral_or_404(referral_id: int, purpose: str | None = None) -> Referral:
    """Peer leads act only on their own team's referrals."""
    referral = referral_or_404(referral_id, purpose)
    if not (current_user.has_role("peer_lead") and referral.team_id == current_user.team_id):
        abort(404)
    return referral


def service_user_or_404(service_user_id: int) -> ServiceUser:
    return ServiceUser.visible_to(current_user).where(ServiceUser.id == service_user_id).first() or abort(404)


def is_lead_of(referral: Referral) -> bool:
    return current_user.has_role("peer_lead") and referral.team_id == current_user.team_id


# Each state's tag colour; the tag's words say the state too (colour is never the only signal).
STATE_COLOURS = {states.SUBMITTED: "blue", states.SCREENING: "blue", states.MORE_INFO: "yellow",
                 states.ACCEPTED: "green", states.DECLINED: "grey", states.AWAITING_MATCH: "orange",
                 states.MATCHED: "purple", states.FIRST_MEETING: "purple", states.ACTIVE: "green",
                 states.CLOSED: "grey"}


# Filters, not Jinja macros: two macro calls a row were a third of a 50-row list's time.
@bp.app_template_filter("state_tag")
@lru_cache(maxsize=64)
def state_tag(state: str) -> Markup:
    return Markup('<strong class="nhsuk-tag nhsuk-tag--{}">{}</strong>').format(
        STATE_COLOURS.get(state, "grey"), str(state).capitalize())


@bp.app_template_filter("risk_tag")
@lru_cache(maxsize=64)
def risk_tag(level: str) -> Markup:
    return Markup('<strong class="nhsuk-tag referrals-risk referrals-risk--{}">{} risk</strong>').format(
        level, str(level).capitalize())


def audit_list(name: str, rows) -> None:
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
            # Counted without the lists' order: with it SQLite walked all the team's
            # referrals in date order (8.6 ms at 2,000 a team) instead of searching
            # (team, state) (0.2 ms).
            found["screening"] = Referral.screening_queue(current_user.team_id).order_by().count()
            found["awaiting"] = Referral.awaiting_match(current_user.team_id).order_by().count()
        role = peer_role()
        if role is not None:
            found["caseload"] = caseload(role)
            found["max_caseload"] = role.max_caseload
        return found
    return {"referral_counts": counts}


def not_now(referral: Referral, *wanted: str):
    """A redirect back to the referral when the page does not fit its state, else None."""
    if referral.state in wanted:
        return None
    flash(f"This referral is {states.describe(referral.state)}, so that is not possible now.", "info")
    return redirect(url_for("referrals.show", referral_id=referral.id))


def refused(form, error: Exception) -> None:
    """Show a refusal at the top of the re-shown form: what was typed stays on the page."""
    flash(str(error), "error")
