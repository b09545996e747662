"""What a reader sees of a table: every count through the house's disclosure
control, rates and waiting times hidden when they rest on a small number, and
the value each bar of the chart is drawn to (the same numbers as the table)."""
from __future__ import annotations

from dataclasses import dataclass

from ..disclosure import SUPPRESSED, disclose
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
        for label, values in table.rows:
            cells = [disclose(int(v), limit) if table.kind == COUNT else int(v) for v in values]
            rows.append((label, [str(c) for c in cells]))
            first = cells[0]
            bars.append((label, None if first == SUPPRESSED else float(first), str(first)))
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
                if denominator == 0:
                    cells.append(NO_DATA)
                elif any(_small(n, limit) for n in (numerator, denominator, denominator - numerator)):
                    cells.append(SUPPRESSED)
                else:
                    cells.append(f"{round(100 * numerator / denominator)}%")
            rows.append((label, cells))
            first = cells[0]
            bars.append((label, float(first[:-1]) if first.endswith("%") else None, first))
    else:
        raise ValueError(f"unknown kind of table: {table.kind}")
    return ShownTable(table.key, table.title, table.columns, rows, bars, unit, table.note)
