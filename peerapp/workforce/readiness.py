"""Ready to practise: one derived answer, with no Flask and no database.

A peer may work with service users (be active, be given base access, be
matched) only when their training is complete, every check their kind of role
requires is complete and in date, and their induction is signed off. The model
layer gathers the facts; this module decides, so the rule reads in one place.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def long_date(day: dt.date) -> str:
    """3 May 2026 (no leading zero), as people write it."""
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class CheckFact:
    """The newest record of one required kind of check, or None if never recorded."""
    name: str
    completed_on: dt.date | None = None
    expires_on: dt.date | None = None
    needs_review: bool = False  # e.g. a DBS outcome that is not "clear"


def check_state(fact: CheckFact | None, today: dt.date) -> str:
    """missing | needs_review | expired | in_date. A check lapses ON its expiry date."""
    if fact is None or fact.completed_on is None:
        return "missing"
    if fact.needs_review:
        return "needs_review"
    if fact.expires_on is not None and fact.expires_on <= today:
        return "expired"
    return "in_date"


def check_problem(name: str, fact: CheckFact | None, today: dt.date) -> str | None:
    state = check_state(fact, today)
    if state == "missing":
        return f"{name} not recorded"
    if state == "needs_review":
        return f"{name} needs review"
    if state == "expired":
        return f"{name} expired on {long_date(fact.expires_on)}"
    return None


def readiness_problems(*, training_completed_on: dt.date | None,
                       required: dict[str, CheckFact | None],
                       induction_signed_off_on: dt.date | None,
                       today: dt.date) -> list[str]:
    """Plain-English reasons a peer may not practise today; empty means ready.

    ``required`` maps each required check's name to its newest record (or None).
    """
    problems = []
    if training_completed_on is None:
        problems.append("training not completed")
    for name, fact in required.items():
        problem = check_problem(name, fact, today)
        if problem:
            problems.append(problem)
    if induction_signed_off_on is None:
        problems.append("induction not signed off")
    return problems


def days_to_expiry(fact: CheckFact | None, today: dt.date) -> int | None:
    if fact is None or fact.expires_on is None:
        return None
    return (fact.expires_on - today).days
