"""Who may read a work-WRAP: its owner always, a reader only through an unrevoked
share, nobody else (not managers, not other peer leads, not admins).

No views here, so other areas (workforce's supervision records) can call it.
"""
from __future__ import annotations

from ..audit import audit
from ..db import db
from ..models import User
from ..providers import Question
from .models import EARLY_WARNING_SIGNS, WrapPlan, WrapSection


# The one question the work-WRAP asks workforce, which comes after it (workforce
# shows shared early warning signs in supervision): workforce answers it through
# peerapp.connect_areas().
supervisor_id_of = Question("supervisor_id_of(peer_user) -> the supervisor's user id from the current role, or None",
                            "workforce")


def supervisor_of(peer_user: User) -> User | None:
    """The peer's supervisor now, from their current workforce role (None if unknown).

    A share goes to this person as they are at the time of sharing, and stays with
    them until revoked.
    """
    supervisor_id = supervisor_id_of(peer_user)
    if supervisor_id is None:
        return None
    supervisor = User.get_or_none(User.id == supervisor_id)
    return supervisor if supervisor is not None and supervisor.active else None


def may_share_with(user: User | None) -> bool:
    """Shares go to a supervisor who is an active peer lead."""
    return bool(user is not None and user.active and user.has_role("peer_lead"))


def readable_plan(plan_id: int, reader: User) -> tuple[WrapPlan, list[WrapSection]] | None:
    """The plan and the sections ``reader`` may read now, or None (answer 404)."""
    plan = WrapPlan.get_or_none(WrapPlan.id == plan_id)
    if plan is None or plan.owner_id == reader.id:
        return None
    sections = plan.sections_shared_with(reader)
    return (plan, sections) if sections else None


def shared_early_warning_signs(peer_user: User, viewer: User) -> str | None:
    """The peer's early warning signs, for a supervision record, or None.

    Text comes back only while an unrevoked share to ``viewer`` covers that
    section (or the whole plan) and something is written there; each answer is
    audited as a view of the plan, which the peer sees in their view log.
    """
    if peer_user is None or viewer is None or peer_user.id == viewer.id:
        return None
    plan = WrapPlan.of(peer_user)
    if plan is None:
        return None
    if not any(s.key == EARLY_WARNING_SIGNS for s in plan.sections_shared_with(viewer)):
        return None
    section = WrapSection.get(WrapSection.key == EARLY_WARNING_SIGNS)
    latest = plan.latest()
    text = latest.texts().get(section.id, "") if latest else ""
    if not text.strip():
        return None
    with db.atomic():
        audit("view", plan, summary=f"early warning signs (version {latest.number}) read for supervision",
              user=viewer)
    return text
