"""Lone-working visits in a subject access request (the worker's, and those to a
service user's referral), and their erasure: places, phone numbers and notes go;
the visit rows stay so Safety's counts stay right."""
from __future__ import annotations

from flask import url_for

from .. import history
from ..referrals.models import Referral
from ..personal import Person, Record, account_of, record_of
from .models import BaseSignIn, Visit, VisitEvent

AREA = "Presence and lone working"
NAME_MENTIONS = [(VisitEvent, "note"), (Visit, "outcome_notes")]


def _visits(person: Person):
    if person.kind == "service_user":
        return Visit.select().where(Visit.referral.in_(Referral.select(Referral.id)
                                                       .where(Referral.service_user == person.id)))
    user_id = account_of(person)
    return Visit.select().where(Visit.worker == user_id) if user_id else None


def subject_data(person: Person) -> list[Record]:
    visits = _visits(person)
    if visits is None:
        return []
    found = [record_of(AREA, v, "Visit") for v in visits.order_by(Visit.id)]
    ids = [int(r.record_id) for r in found] or [0]
    found += [record_of(AREA, e, "Visit event") for e in VisitEvent.select().where(VisitEvent.visit.in_(ids))]
    user_id = account_of(person)
    if user_id:
        found += [record_of(AREA, s, "Signed in at the team base") for s in BaseSignIn.select().where(BaseSignIn.user == user_id)]
    return found


def erase(person: Person) -> list[tuple[str, object]]:
    visits = _visits(person)
    if visits is None:
        return []
    ids = [v.id for v in visits]
    if not ids:
        return []
    Visit.update(place="", contact_phone="", outcome_notes="").where(Visit.id.in_(ids)).execute()
    VisitEvent.update(note="").where(VisitEvent.visit.in_(ids)).execute()
    return [("visit", i) for i in ids]


def _may_read_visit(user, record) -> bool:
    """Whoever may open the visit: the worker, the team's peer leads and managers."""
    from .services import visible_visits
    return visible_visits(user).where(Visit.id == record.id).exists()


history.readable("visit", Visit, "Lone-working visit", may_read=_may_read_visit,
                 back=lambda r: url_for("presence.visit", visit_id=r.id))
