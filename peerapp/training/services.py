"""What facilitators and teams do in training, each a rule-checked, audited write:
offering a place (or the waiting list), offering a freed place to the next in line,
withdrawing, the register, cohorts, nominations, equivalents and the curriculum.

Views parse a form and call one of these; a ``Refusal`` carries the message to show.

Places: a candidate trains in one cohort; a second place alongside it is only for
catching up sessions missed elsewhere, and a facilitator says so by marking it a
catch-up. The partial unique index ``enrolment_one_place_at_a_time`` (m0013) holds
that rule and ``(cohort, candidate)`` unique (m0010) one row per candidate per
cohort. A cohort's places are a rule across rows, so every change of who holds a
place first holds the cohort's row (``changes.hold``: FOR UPDATE on PostgreSQL;
SQLite's IMMEDIATE transaction already serialises) and then compare-and-sets the
enrolment on the status the person saw: two facilitators pressing at once leave
one change, one audit row, and a message for the other.
"""
from __future__ import annotations

import peewee as pw

import datetime as dt

from .. import clock
from ..audit import audit
from ..changes import Refusal, compare_and_set, hold, unique_violation
from ..db import SqlOnce, db
from ..models import Team, User
from .completion import CAUGHT_UP, Rule
from .models import (PLACE, PRESENT, WAITING, WITHDRAWN, Attendance, Candidate, Cohort, CohortFacilitator,
                     CohortSession, Curriculum, Enrolment, EquivalentTraining)


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


def may_be_offered(cohort: Cohort, candidate_ids=None):
    """Who may be offered a place (or the waiting list) on this cohort: not on it now
    (a withdrawal may come back), and not trained, in order of nomination; each row
    with its team's name and the cohort where they hold an ordinary place, if any
    (they may take only a catch-up place here). The page's list and the check of a
    posted candidate (``offer``) both ask this, so nobody is offered whom the check
    refuses, or refused whom the list offered. Completion is asked of the database
    (``Candidate.completed_ids``), not worked out in Python for every enrolment."""
    query = _offered(Curriculum.current().rule(), cohort.id, cohort.id)
    if candidate_ids is not None:
        query = query.where(Candidate.id.in_(list(candidate_ids)))
    return query


def offered_list(cohort: Cohort, rule: Rule):
    """``may_be_offered(cohort)`` as rows (dicts) for the page's list, its SQL built
    once per rule and engine (``db.SqlOnce``): peewee took ~5 ms to build it each time."""
    return _OFFERED(cohort.id, cohort.id, variant=rule)


def _offered(rule: Rule, cohort_id, also_cohort_id):
    """``may_be_offered``'s query: the cohort's id twice (each value reaches the SQL once)."""
    on_cohort = Enrolment.select(Enrolment.candidate).where(Enrolment.cohort == cohort_id,
                                                            Enrolment.status != WITHDRAWN)
    held, elsewhere = Enrolment.alias(), Cohort.alias()
    query = (Candidate.select(Candidate.id, Candidate.name, Candidate.nominated_on,
                              Team.name.alias("team_name"), elsewhere.name.alias("holds_place_in"))
             .join(Team)
             .switch(Candidate)
             # At most one ordinary place at a time (m0013), so this join adds no rows.
             .join(held, pw.JOIN.LEFT_OUTER,
                   on=((held.candidate == Candidate.id) & (held.status == PLACE) & (held.catch_up == False)  # noqa: E712
                       & (held.cohort != also_cohort_id)))
             .join(elsewhere, pw.JOIN.LEFT_OUTER, on=(elsewhere.id == held.cohort))
             .where(Candidate.id.not_in(on_cohort), Candidate.id.not_in(Candidate.completed_ids(rule)))
             .order_by(Candidate.nominated_on, Candidate.id))
    return query


_OFFERED = SqlOnce(lambda rule, cohort_id, also_cohort_id: _offered(rule, cohort_id, also_cohort_id).dicts())


def _why_not_offered(cohort: Cohort, candidate: Candidate) -> str:
    existing = Enrolment.get_or_none(Enrolment.cohort == cohort, Enrolment.candidate == candidate)
    if existing is not None and existing.status != WITHDRAWN:
        return f"{candidate.name} is already on this cohort ({existing.status_label.lower()})"
    done = candidate.completed_training()
    if done is not None:
        return f"{candidate.name} completed training on {done.strftime('%-d %b %Y')}: they do not need a place"
    return f"{candidate.name} cannot be offered a place on this cohort: look again"


def _check(candidate: Candidate, cohort: Cohort, catch_up: bool) -> None:
    if not catch_up and (other := place_elsewhere(candidate.id, cohort.id)) is not None:
        raise Refusal(one_at_a_time(candidate.name, other))


def _hold_cohort(cohort: Cohort) -> None:
    if hold(Cohort, cohort.id) is None:
        raise Refusal("This cohort has just been removed.")


def offer(cohort: Cohort, candidate: Candidate, *, catch_up: bool = False,
          seen_status: str | None = None) -> Enrolment:
    """Offer a place, or the waiting list when the cohort is full or others wait first.
    Refused when the candidate holds a place in another cohort and this is not a catch-up.
    ``seen_status``: the candidate's status on this cohort as the person saw it (None:
    not on it; ``withdrawn``: coming back)."""
    try:
        with db.atomic():
            _hold_cohort(cohort)  # places are counted across rows: one offer at a time per cohort
            if not may_be_offered(cohort, [candidate.id]).exists():
                raise Refusal(_why_not_offered(cohort, candidate))
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
                compare_and_set(Enrolment, enrolment.id, {"status": seen_status or WITHDRAWN},
                                refused=f"Someone else has just offered {candidate.name} a place on this cohort "
                                        "(or its waiting list): look again.",
                                status=status, offered_on=offered_on, catch_up=catch_up)
                enrolment.status, enrolment.offered_on, enrolment.catch_up = status, offered_on, catch_up
            what = "offered a catch-up place" if status == PLACE and catch_up else (
                "offered a place" if status == PLACE else "added to the waiting list")
            audit("enrol", enrolment, summary=f"candidate {candidate.id} {what}")
    except pw.IntegrityError as error:
        if unique_violation(error) and (other := place_elsewhere(candidate.id, cohort.id)) is not None:
            raise Refusal(one_at_a_time(candidate.name, other)) from error
        raise Refusal(f"Someone else has just offered {candidate.name} a place on this cohort "
                      "(or its waiting list): look again.") from error
    return enrolment


def offer_next(cohort: Cohort, *, seen_first: int | None = None) -> Enrolment:
    """Offer a free place to whoever is first on the waiting list (``seen_first``: the
    enrolment the facilitator saw first, when the page said)."""
    try:
        with db.atomic():
            _hold_cohort(cohort)
            first = cohort.waiting_list().first()
            if seen_first is not None and (first is None or first.id != seen_first):
                raise Refusal("Someone else has just changed the waiting list (offered the place, or withdrawn "
                              "the person named on the button): look again.")
            if cohort.places_left() <= 0:
                raise Refusal(f"All {cohort.places} places are taken: withdraw someone or add a place first.")
            if first is None:
                raise Refusal("Nobody is on the waiting list.")
            _check(first.candidate, cohort, first.catch_up)
            compare_and_set(Enrolment, first.id, {"status": WAITING},
                            refused="Someone else has just changed the waiting list: look again.",
                            status=PLACE, offered_on=clock.today())
            first.status = PLACE
            audit("enrol", first, summary=f"candidate {first.candidate_id} offered a place from the waiting list")
    except pw.IntegrityError as error:
        if unique_violation(error):
            raise Refusal("That place was just taken, or the candidate was just given a place in another "
                          "cohort: look again.") from error
        raise
    return first


def withdraw(enrolment: Enrolment, *, reason: str, by: User | None = None) -> bool:
    """Withdraw someone from a cohort (or its waiting list), with a reason; their register
    entries are kept. Returns whether a place was freed."""
    seen = enrolment.status
    if seen == WITHDRAWN:
        raise Refusal(f"{enrolment.candidate.name} has already withdrawn.")
    today = clock.today()
    with db.atomic():
        compare_and_set(Enrolment, enrolment.id, {"status": seen},
                        refused=f"Someone else has just changed {enrolment.candidate.name}'s place on this cohort "
                                "(withdrawn or offered): nothing was saved. Look again.",
                        status=WITHDRAWN, withdrawn_on=today, withdrawal_reason=reason.strip())
        enrolment.status, enrolment.withdrawn_on, enrolment.withdrawal_reason = WITHDRAWN, today, reason.strip()
        audit("withdraw", enrolment, summary=f"candidate {enrolment.candidate_id} withdrawn", user=by)
    return seen == PLACE


# --- the register -------------------------------------------------------------------

def mark(session: CohortSession, enrolment: Enrolment, *, status: str, caught_up_on: dt.date | None = None,
         caught_up_with: str = "", by: User) -> Attendance:
    """Record one person's attendance at a session (one entry per person per session)."""
    caught_up = status == CAUGHT_UP
    try:
        with db.atomic():
            fresh = hold(Enrolment, enrolment.id)
            if fresh is None or fresh.status != PLACE:
                raise Refusal(f"{enrolment.candidate.name} has just been withdrawn, so their attendance cannot "
                              "be recorded here.")
            entry = Attendance.get_or_none(Attendance.session == session, Attendance.enrolment == enrolment)
            action = "create" if entry is None else "update"
            entry = entry or Attendance(session=session, enrolment=enrolment)
            entry.status = status
            entry.caught_up_on = caught_up_on if caught_up else None
            entry.caught_up_with = (caught_up_with or "").strip() if caught_up else ""
            entry.recorded_by = by.id
            entry.recorded_at = clock.now()
            entry.save()
            audit(action, entry, summary=f"register: candidate {enrolment.candidate_id}, session {session.number} "
                                         f"marked {entry.status_label.lower()}")
    except pw.IntegrityError as error:  # two first entries at once: unique (session, enrolment)
        if not unique_violation(error):
            raise
        raise Refusal(f"Someone else has just marked {enrolment.candidate.name} for this session: "
                      "look again.") from None
    return entry


def mark_everyone_present(session: CohortSession, *, by: User) -> int:
    """Mark everyone not yet recorded as present; returns how many were marked."""
    marked = 0
    try:
        with db.atomic():
            for enrolment, entry in session.register():
                if entry is None:
                    entry = Attendance.create(session=session, enrolment=enrolment, status=PRESENT,
                                              recorded_by=by.id, recorded_at=clock.now())
                    audit("create", entry, summary=f"register: candidate {enrolment.candidate_id}, "
                                                   f"session {session.number} marked present (everyone present)")
                    marked += 1
    except pw.IntegrityError as error:
        if not unique_violation(error):
            raise
        raise Refusal("Someone else has just marked this register: look again, then mark who is left.") from None
    return marked


# --- cohorts, nominations, equivalents, the curriculum -----------------------------------

def save_cohort(cohort: Cohort | None, *, name: str, venue: str, places: int, facilitators: list[int],
                dates: dict[int, dt.date], by: User) -> Cohort:
    """Set up a cohort, or change it. Call inside ``db.atomic()`` (an edit checks its
    version first); IntegrityError means the name is taken."""
    if cohort is None:
        cohort = Cohort.create(name=name.strip(), venue=venue.strip(), places=places, created_by=by.id,
                               created_at=clock.now())
        action = "create"
    else:
        cohort.name, cohort.venue, cohort.places = name.strip(), venue.strip(), places
        cohort.save()
        action = "update"
    CohortFacilitator.delete().where(CohortFacilitator.cohort == cohort,
                                     CohortFacilitator.user.not_in(facilitators)).execute()
    have = {f.user_id for f in cohort.facilitator_rows}
    for user_id in facilitators:
        if user_id not in have:
            CohortFacilitator.create(cohort=cohort, user=user_id)
    existing = {s.number: s for s in cohort.session_rows}
    for number, day in dates.items():
        if number in existing:
            if existing[number].held_on != day:
                existing[number].held_on = day
                existing[number].save()
        else:
            CohortSession.create(cohort=cohort, number=number, held_on=day)
    audit(action, cohort, summary=f"cohort {action}d: {places} places")
    return cohort


def nominate(team, *, by: User, name: str, preferred_name: str, pronouns: str, email: str, phone: str,
             nominated_on: dt.date) -> Candidate:
    """A team nominates someone; IntegrityError (unique_violation) means nominated already today."""
    with db.atomic():
        candidate = Candidate.create(name=name.strip(), preferred_name=preferred_name.strip(),
                                     pronouns=pronouns.strip(), email=email.strip().lower(), phone=phone.strip(),
                                     team=team, nominated_by=by.id, nominated_on=nominated_on,
                                     created_at=clock.now())
        audit("create", candidate, summary="candidate nominated for training")
    return candidate


def update_candidate(candidate: Candidate, *, name: str, preferred_name: str, pronouns: str, email: str,
                     phone: str, nominated_on: dt.date) -> None:
    """Correct a candidate's contact details. Call inside ``db.atomic()`` after
    ``check_version`` (the edit page's compare-and-set) with history recorded around it."""
    candidate.name, candidate.preferred_name, candidate.pronouns = name.strip(), preferred_name.strip(), pronouns.strip()
    candidate.email, candidate.phone, candidate.nominated_on = email.strip().lower(), phone.strip(), nominated_on
    candidate.save()
    audit("update", candidate, summary="candidate details changed")


def recognise_equivalent(candidate: Candidate, *, provider: str, completed_on: dt.date, evidence: str,
                         by: User) -> EquivalentTraining:
    with db.atomic():
        row = EquivalentTraining.create(candidate=candidate, provider=provider.strip(), completed_on=completed_on,
                                        evidence=evidence.strip(), recognised_by=by.id,
                                        recognised_on=clock.today(), created_at=clock.now())
        audit("create", row, summary=f"equivalent training recognised for candidate {candidate.id}")
    return row


def save_curriculum(current: Curriculum, *, titles: dict[int, str], minimum_sessions: int,
                    required_sessions: list[int]) -> None:
    with db.atomic():
        for row in current.sessions():
            if row.number in titles:
                row.title = titles[row.number].strip()
                row.save()
        current.minimum_sessions = minimum_sessions
        current.required_sessions = ",".join(str(n) for n in sorted(required_sessions or []))
        current.updated_at = clock.now()
        current.save()
        audit("update", current, summary=f"curriculum changed: {current.rule().describe()}"[:255])
