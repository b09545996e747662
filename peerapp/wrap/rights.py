"""A peer's work-WRAP in a subject access request, and its erasure: the whole plan,
every version, entry, share and arrangement goes; the view log keeps only that a
plan existed (its rows name the plan's number, never its text)."""
from __future__ import annotations

from ..personal import Person, Record, account_of, record_of
from .models import WrapArrangement, WrapEntry, WrapPlan, WrapShare, WrapVersion

AREA = "Work-WRAP"


def _plan(person: Person) -> WrapPlan | None:
    user_id = account_of(person)
    return WrapPlan.get_or_none(WrapPlan.owner == user_id) if user_id else None


def subject_data(person: Person) -> list[Record]:
    plan = _plan(person)
    if plan is None:
        return []
    found = [record_of(AREA, plan, "Work-WRAP")]
    versions = list(WrapVersion.select().where(WrapVersion.plan == plan).order_by(WrapVersion.number))
    found += [record_of(AREA, v, f"Version {v.number}") for v in versions]
    found += [record_of(AREA, e, "Section text") for e in
              WrapEntry.select().where(WrapEntry.version.in_([v.id for v in versions] or [0]))]
    found += [record_of(AREA, s, "Share") for s in WrapShare.select().where(WrapShare.plan == plan)]
    found += [record_of(AREA, a, "Agreed working arrangements") for a in WrapArrangement.select().where(WrapArrangement.plan == plan)]
    return found


def erase_plan(plan: WrapPlan) -> None:
    """Delete the plan and, by cascade, every version, entry, share and arrangement.
    Call inside db.atomic(); then peerapp.db.compact()."""
    versions = WrapVersion.select(WrapVersion.id).where(WrapVersion.plan == plan)
    WrapEntry.delete().where(WrapEntry.version.in_(versions)).execute()
    WrapVersion.delete().where(WrapVersion.plan == plan).execute()
    WrapShare.delete().where(WrapShare.plan == plan).execute()
    WrapArrangement.delete().where(WrapArrangement.plan == plan).execute()
    WrapPlan.delete().where(WrapPlan.id == plan.id).execute()


def erase(person: Person) -> list[tuple[str, object]]:
    plan = _plan(person)
    if plan is None:
        return []
    erase_plan(plan)
    return [("wrap_plan", plan.id)]
