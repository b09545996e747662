"""When has someone completed the training? The rule, with no Flask in it.

A rule says how many of the curriculum's sessions must be attended (or caught
up) and which sessions, if any, must be among them. The default is every
session. Completion is never typed in: it is derived from the register, and
the completion date is the day the last *needed* session was attended or caught
up, i.e. the first day on which the rule was met.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Register statuses. "late" counts as attended; "caught_up" counts on the day of
# the catch-up; "absent" never counts.
PRESENT, LATE, ABSENT, CAUGHT_UP = "present", "late", "absent", "caught_up"
STATUSES = {PRESENT: "Present", LATE: "Late", ABSENT: "Absent", CAUGHT_UP: "Caught up"}
COUNTS = frozenset({PRESENT, LATE, CAUGHT_UP})


@dataclass(frozen=True)
class Rule:
    """At least ``minimum`` of ``total`` sessions, including every one in ``required``."""

    total: int = 6
    minimum: int = 6
    required: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self):
        if not 1 <= self.total:
            raise ValueError("a curriculum has at least one session")
        if not 1 <= self.minimum <= self.total:
            raise ValueError(f"minimum must be between 1 and {self.total}")
        if any(not 1 <= n <= self.total for n in self.required):
            raise ValueError(f"required sessions are numbered 1 to {self.total}")
        if len(self.required) > self.minimum:
            raise ValueError("more sessions are required than the minimum")

    @property
    def is_every_session(self) -> bool:
        return self.minimum == self.total

    def describe(self) -> str:
        """The rule in words, for pages and certificates."""
        if self.is_every_session:
            return f"every one of the {self.total} sessions attended or caught up"
        text = f"at least {self.minimum} of the {self.total} sessions attended or caught up"
        if self.required:
            numbers = sorted(self.required)
            listed = (", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"
                      if len(numbers) > 1 else str(numbers[0]))
            text += f", including session{'s' if len(numbers) > 1 else ''} {listed}"
        return text

    def is_met(self, sessions: Iterable[int]) -> bool:
        done = set(sessions)
        return len(done) >= self.minimum and self.required <= done

    def completed_on(self, counted: Mapping[int, dt.date]) -> dt.date | None:
        """The first day the rule was met, given the day each session counted
        (session number -> day attended or caught up); None if not met yet."""
        done: set[int] = set()
        for day, number in sorted((d, n) for n, d in counted.items() if d is not None):
            done.add(number)
            if self.is_met(done):
                return day
        return None

    def sessions_still_needed(self, sessions: Iterable[int]) -> int:
        """How many more sessions this person needs (at least), for the register."""
        done = set(sessions)
        missing_required = len(self.required - done)
        return max(missing_required, self.minimum - len(done))


@dataclass(frozen=True)
class Mark:
    """One register entry: the session's number and day, and what happened."""

    number: int
    session_day: dt.date
    status: str
    caught_up_on: dt.date | None = None

    def counts_on(self) -> dt.date | None:
        if self.status in (PRESENT, LATE):
            return self.session_day
        if self.status == CAUGHT_UP:
            return self.caught_up_on
        return None


def counted_days(marks: Iterable[Mark]) -> dict[int, dt.date]:
    """Session number -> the day it counted. The earliest counting day wins."""
    days: dict[int, dt.date] = {}
    for mark in marks:
        day = mark.counts_on()
        if day is not None and (mark.number not in days or day < days[mark.number]):
            days[mark.number] = day
    return days


def completion_date(rule: Rule, marks: Iterable[Mark], equivalents: Iterable[dt.date] = ()) -> dt.date | None:
    """Completion from one enrolment's register, or an equivalent recognised
    elsewhere: whichever came first."""
    dates = [d for d in [rule.completed_on(counted_days(marks)), *equivalents] if d is not None]
    return min(dates) if dates else None
