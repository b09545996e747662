"""Measure responses in a subject access request, and their erasure: the reason
text goes; the scores stay (without a name they identify no one, and Impact's
counts stay right)."""
from __future__ import annotations

from ..referrals.models import Referral
from ..personal import Person, Record, account_of, record_of
from .models import MeasureResponse

AREA = "Outcomes"


def _responses(person: Person):
    if person.kind == "service_user":
        return MeasureResponse.select().where(
            (MeasureResponse.service_user == person.id)
            | MeasureResponse.referral.in_(Referral.select(Referral.id).where(Referral.service_user == person.id)))
    user_id = account_of(person)
    return MeasureResponse.select().where(MeasureResponse.peer == user_id) if user_id else None


def subject_data(person: Person) -> list[Record]:
    query = _responses(person)
    return [record_of(AREA, r, "Measure response") for r in query.order_by(MeasureResponse.id)] if query else []


def erase(person: Person) -> list[tuple[str, object]]:
    query = _responses(person)
    if query is None:
        return []
    ids = [r.id for r in query]
    if ids:
        MeasureResponse.update(reason="").where(MeasureResponse.id.in_(ids)).execute()
    return [("measure_response", i) for i in ids]
