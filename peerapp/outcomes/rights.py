"""Measure responses in a subject access request, and their erasure: the reason
text goes; the scores stay (without a name they identify no one, and Impact's
counts stay right)."""
from __future__ import annotations

from flask import url_for

from .. import history
from ..models import User
from ..referrals.models import Referral
from ..personal import Person, Record, account_of, record_of
from .models import SERVICE_USER, MeasureResponse

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


# --- who may read the history of a measure response ------------------------------------------
def _may_read_response(user, record) -> bool:
    """A service user's measure: those who may enter them for the referral. A peer's own:
    themselves, and their supervisor while they share their scores."""
    from . import services
    if record.subject == SERVICE_USER:
        referral = Referral.get_or_none(Referral.id == record.referral_id)
        return referral is not None and services.may_work_with_referral(user, referral)
    peer = User.get_or_none(User.id == record.peer_id)
    return peer is not None and services.may_read_peer_scores(user, peer)


history.readable("measure_response", MeasureResponse, "Measure response", may_read=_may_read_response,
                 back=lambda r: url_for("outcomes.referral", referral_id=r.referral_id) if r.referral_id else None)
