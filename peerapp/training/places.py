"""Places on cohorts: offering one, and the rule that a candidate holds one place
at a time.

The SOP's reading: a candidate trains in one cohort; a second place alongside it
is only for catching up sessions missed elsewhere, and a facilitator says so by
marking it a catch-up. The partial unique index ``enrolment_one_place_at_a_time``
(migration m0013) holds the rule in the database; these functions check it first
under the write lock to give the person a reason, and turn a lost race into the
same message.
"""
from __future__ import annotations

import peewee as pw

from .. import clock
from ..audit import audit
from ..changes import Refusal, unique_violation
from ..db import db
from .models import PLACE, WAITING, Candidate, Cohort, Enrolment


def place_elsewhere(candidate_id: int, cohort_id: int) -> Enrolment | None:
    """The ordinary (not catch-up) place this candidate holds in another cohort, if any."""
    return (Enrolment.select(Enrolment, Cohort).join(Cohort)
            .where(Enrolment.candidate == candidate_id, Enrolment.cohort != cohort_id,
                   Enrolment.status == PLACE, Enrolment.catch_up == False)  # noqa: E712
            .first())


def one_at_a_time(name: str, other: Enrolment) -> str:
    return (f"{name} already holds a place in {other.cohort.name}. One place at a time: tick "
            f"'A catch-up place' if they will catch up sessions missed there, or withdraw them "
            f"from {other.cohort.name} first.")


def _check(candidate: Candidate, cohort: Cohort, catch_up: bool) -> None:
    if not catch_up and (other := place_elsewhere(candidate.id, cohort.id)) is not None:
        raise Refusal(one_at_a_time(candidate.name, other))


def offer(cohort: Cohort, candidate: Candidate, *, catch_up: bool = False) -> Enrolment:
    """Offer a place, or the waiting list when the cohort is full or others wait first.
    Refused when the candidate holds a place in another cohort and this is not a catch-up."""
    try:
        with db.atomic():
            # A free place goes to the waiting list first (offer-next), never to a newcomer
            # who would jump the queue.
            status = PLACE if cohort.places_left() > 0 and not cohort.waiting_list().exists() else WAITING
            if status == PLACE:
                _check(candidate, cohort, catch_up)
            enrolment = Enrolment.get_or_none(Enrolment.cohort == cohort, Enrolment.candidate == candidate)
            offered_on = clock.today() if status == PLACE else None
            if enrolment is None:
                enrolment = Enrolment.create(cohort=cohort, candidate=candidate, status=status, catch_up=catch_up,
                                             offered_on=offered_on, created_at=clock.now())
            else:  # a withdrawn candidate comes back; the earlier withdrawal and its reason are kept
                enrolment.status, enrolment.offered_on, enrolment.catch_up = status, offered_on, catch_up
                enrolment.save()
            what = "offered a catch-up place" if status == PLACE and catch_up else (
                "offered a place" if status == PLACE else "added to the waiting list")
            audit("enrol", enrolment, summary=f"candidate {candidate.id} {what}")
    except pw.IntegrityError as error:
        if unique_violation(error) and (other := place_elsewhere(candidate.id, cohort.id)) is not None:
            raise Refusal(one_at_a_time(candidate.name, other)) from error
        raise Refusal(f"{candidate.name} is already on this cohort") from error
    return enrolment


def offer_next(cohort: Cohort) -> Enrolment:
    """Offer a free place to whoever is first on the waiting list."""
    try:
        with db.atomic():
            first = cohort.waiting_list().first()
            if cohort.places_left() <= 0:
                raise Refusal(f"All {cohort.places} places are taken: withdraw someone or add a place first.")
            if first is None:
                raise Refusal("Nobody is on the waiting list.")
            _check(first.candidate, cohort, first.catch_up)
            changed = (Enrolment.update(status=PLACE, offered_on=clock.today())
                       .where(Enrolment.id == first.id, Enrolment.status == WAITING).execute())
            if changed != 1:
                raise Refusal("Someone has just changed the waiting list: look again.")
            audit("enrol", first, summary=f"candidate {first.candidate_id} offered a place from the waiting list")
    except pw.IntegrityError as error:
        if unique_violation(error):
            raise Refusal("That place was just taken, or the candidate was just given a place in another "
                          "cohort: look again.") from error
        raise
    return first
