"""What a reader sees of a table: every count through the house's disclosure
control (``peerapp.disclosure``: rows that split a whole get a Total row and
secondary suppression, so the total never gives a hidden row back), rates through
``disclose_rate``, waiting times hidden when they rest on a small number, and the
value each bar of the chart is drawn to (the same numbers as the table)."""
from __future__ import annotations

from dataclasses import dataclass

from ..disclosure import SUPPRESSED, disclose, disclose_line, disclose_rate
from .figures import COUNT, DAYS, PLAIN, RATE, Table

NO_DATA = "–"


@dataclass
class ShownTable:
    key: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]
    bars: list[tuple[str, float | None, str]]  # label, length (None: hidden), text
    unit: str
    note: str


def _small(n: int, limit: int) -> bool:
    return 1 <= n <= limit


def _days(value) -> str:
    if value is None:
        return NO_DATA
    return f"{value:g}"


def shown(table: Table, limit: int) -> ShownTable:
    rows: list[tuple[str, list[str]]] = []
    bars: list[tuple[str, float | None, str]] = []
    if table.kind in (COUNT, PLAIN):
        unit = table.columns[0].lower()
        values = [[int(v) for v in row] for _, row in table.rows]
        if table.kind == PLAIN:
            shown_rows = values
        elif table.total_row and len(table.rows) > 1:
            counts, total = disclose_line([row[0] for row in values[:-1]], limit)
            shown_rows = [[c] for c in counts] + [[total]]
        elif table.parts and table.rows:
            counts, total = disclose_line([row[0] for row in values], limit)
            shown_rows = [[c] for c in counts]
        else:
            shown_rows = [[disclose(v, limit) for v in row] for row in values]
        for (label, _), cells in zip(table.rows, shown_rows):
            rows.append((label, [str(c) for c in cells]))
            first = cells[0]
            bars.append((label, None if first == SUPPRESSED else float(first), str(first)))
        if table.parts and table.rows:
            rows.append(("Total", [str(total if table.kind == COUNT else sum(v[0] for v in values))]))
    elif table.kind == DAYS:
        unit = "days (median)"
        for (label, values), n in zip(table.rows, table.basis):
            if _small(n, limit):
                cells = [SUPPRESSED for _ in values]
            else:
                cells = [_days(v) for v in values]
            rows.append((label, cells))
            median = values[0]
            bars.append((label, None if _small(n, limit) or median is None else float(median), cells[0]))
    elif table.kind == RATE:
        unit = "per cent"
        for label, values in table.rows:
            cells = []
            for numerator, denominator in values:
                rate = disclose_rate(numerator, denominator, limit)
                cells.append(NO_DATA if denominator <= 0 else SUPPRESSED if rate is None else f"{rate}%")
            rows.append((label, cells))
            first = cells[0]
            bars.append((label, float(first[:-1]) if first.endswith("%") else None, first))
    else:
        raise ValueError(f"unknown kind of table: {table.kind}")
    return ShownTable(table.key, table.title, table.columns, rows, bars, unit, table.note)
