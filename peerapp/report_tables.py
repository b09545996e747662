"""The shape of a monitoring section: tables of raw counts under a question.

The reports area shows them; the areas that answer a section of their own
(outcomes' Impact, presence's Safety) build them too. Both import this house
module, so an area never imports the reports area that sits on top of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

COUNT, PLAIN, DAYS, RATE = "count", "plain", "days", "rate"


@dataclass
class Table:
    """One table of a section. ``kind``: COUNT (people or records, suppressed), PLAIN
    (counts of teams or cohorts, which identify no one: shown as they are),
    DAYS (median and 90th centile; ``basis`` says how many records each row rests on),
    RATE (``values`` are (numerator, denominator) pairs)."""
    key: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list]]
    kind: str = COUNT
    note: str = ""
    basis: list[int] = field(default_factory=list)
    parts: bool = False  # the rows split one whole: a Total row is added, with secondary suppression
    total_row: bool = False  # the last row is already the total of the others (secondary suppression too)


@dataclass
class Section:
    key: str
    title: str
    question: str
    tables: list[Table]
    available: bool = True
    note: str = ""

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)
