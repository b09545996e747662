"""The periods a report can cover: calendar quarters, financial years (April to
March, as NHS bodies report) and the last twelve months. Keys are short and carry
no personal data, so a filtered report's address can be shared or printed."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: dt.date
    end: dt.date


def _quarter(year: int, q: int) -> Period:
    start = dt.date(year, 3 * q - 2, 1)
    end = (dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)) - dt.timedelta(days=1)
    return Period(f"q{year}-{q}", f"{start:%B} to {end:%B %Y}", start, end)


def choices(today: dt.date) -> list[Period]:
    """This quarter first, then the seven before it, then financial years and 12 months."""
    year, q = today.year, (today.month - 1) // 3 + 1
    found = []
    for _ in range(8):
        found.append(_quarter(year, q))
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    fy = today.year if today.month >= 4 else today.year - 1
    for start_year in (fy, fy - 1):
        found.append(Period(f"fy{start_year}", f"Financial year {start_year} to {start_year + 1}",
                            dt.date(start_year, 4, 1), dt.date(start_year + 1, 3, 31)))
    found.append(Period("12m", "The last 12 months", today - dt.timedelta(days=364), today))
    return found


def find(key: str | None, today: dt.date) -> Period | None:
    return next((p for p in choices(today) if p.key == key), None)
