"""NHS disclosure control for counts shown to the viewer role and in reports.

One place for the rule, used by every area:

- ``disclose(n)``: a single count. 1 to ``SMALL_NUMBER_LIMIT`` (default 7) is
  shown as ``*``; others are rounded to the nearest ``DISCLOSURE_ROUNDING``
  (default 5); 0 is shown as 0.
- ``disclose_line(counts)``: counts that add up to a published total (e.g.
  referrals by outcome). Returns the shown counts and the shown total.
- ``disclose_table(rows)``: a table with row totals, column totals and a grand
  total. Returns a :class:`Table`.
- ``disclose_rate(part, whole)``: a percentage, hidden when it would let a small
  count be worked out.

Primary suppression hides each small count. **Secondary suppression** then hides
more cells so that no hidden count can be worked out from the totals: in every
line (a row with its total, a column with its total, the totals with the grand
total) a hidden cell never stands alone, and when the line's total is shown the
hidden cells together add up to more than the limit (two hidden 1s under a
shown total would otherwise give each other away). The cells hidden for that
are the smallest non-zero ones, so the table loses as little as it can.
Rounding is applied after, to every shown number, each from its true value.

Settings: ``SMALL_NUMBER_LIMIT`` and ``DISCLOSURE_ROUNDING`` (1 = no rounding).
``tests/test_disclosure.py`` has a property test that no count below the limit
can be derived from what a table publishes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from flask import current_app, has_app_context

SUPPRESSED = "*"


def _settings(limit: int | None, rounding: int | None) -> tuple[int, int]:
    config = current_app.config if has_app_context() else {}
    if limit is None:
        limit = config.get("SMALL_NUMBER_LIMIT", 7)
    if rounding is None:
        rounding = config.get("DISCLOSURE_ROUNDING", 5)
    return int(limit), max(1, int(rounding))


def small_number_limit() -> int:
    """The largest count that is suppressed (the app's ``SMALL_NUMBER_LIMIT``, 7 outside one)."""
    return _settings(None, None)[0]


def _round(number: int, rounding: int) -> int:
    return int(rounding * round(number / rounding))


def disclose(number: int, limit: int | None = None, rounding: int | None = None) -> str | int:
    """A single count as it may be shown: 0, ``*`` for 1..limit, or rounded."""
    limit, rounding = _settings(limit, rounding)
    if number == 0:
        return 0
    if 1 <= number <= limit:
        return SUPPRESSED
    return _round(number, rounding)


def disclose_rate(part: int, whole: int, limit: int | None = None) -> int | None:
    """``part`` as a whole percentage of ``whole``, or None when it may not be shown:
    nothing to divide by, or the part, the whole or the rest is a small number
    (a rate beside a rounded total would give the hidden count back)."""
    limit, _ = _settings(limit, 1)
    if whole <= 0:
        return None
    if any(1 <= n <= limit for n in (part, whole, whole - part)):
        return None
    return round(100 * part / whole)


@dataclass
class Table:
    """A table as published: each entry is an int (0 or rounded) or ``SUPPRESSED``."""
    cells: list[list[str | int]]
    row_totals: list[str | int]
    column_totals: list[str | int]
    total: str | int
    # True for every cell hidden although it is not itself small (secondary suppression).
    secondary: list[list[bool]]


def _protect(values: list[int], hidden: list[bool], total_index: int, limit: int) -> int | None:
    """One line (members and, at ``total_index``, their total): the index of one more
    member to hide, or None when the line is safe as it stands."""
    shown_total = not hidden[total_index]
    hidden_cells = [i for i, h in enumerate(hidden) if h and i != total_index]
    count = sum(hidden)
    if count == 0:
        return None
    unsafe = count == 1 or (shown_total and sum(values[i] for i in hidden_cells) <= limit)
    if not unsafe:
        return None
    candidates = [i for i, h in enumerate(hidden) if not h and i != total_index and values[i] > 0]
    if candidates:
        return min(candidates, key=lambda i: (values[i], i))
    if shown_total:
        return total_index
    return None  # nothing non-zero is left to hide: every other member is 0 and shown


def _protect_lines(grid, hidden, lines, limit) -> None:
    changed = True
    while changed:
        changed = False
        for line in lines:
            values = [grid[r][c] for r, c in line]
            while True:
                flags = [hidden[r][c] for r, c in line]
                extra = _protect(values, flags, len(line) - 1, limit)
                if extra is None:
                    break
                r, c = line[extra]
                hidden[r][c] = True
                changed = True


def _first_pinned(grid, hidden, n_rows, n_cols, limit, rounding) -> tuple[int, int] | None:
    """The first small hidden count (cell or total) whose exact value a reader could
    work out from everything shown, or None. A reader is assumed to know the rules:
    a hidden count is at least 1, a shown one is exact within the rounding and
    above the limit. Solved as integer programmes (scipy, loaded only here)."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    size = n_rows * n_cols
    vectors = {}
    for r in range(n_rows + 1):
        for c in range(n_cols + 1):
            v = np.zeros(size)
            for rr in (range(n_rows) if r == n_rows else [r]):
                for cc in (range(n_cols) if c == n_cols else [c]):
                    v[rr * n_cols + cc] = 1
            vectors[r, c] = v
    lower, upper = [], []
    for (r, c) in vectors:
        value = grid[r][c]
        if hidden[r][c]:
            lower.append(1)
            upper.append(np.inf)
        elif value == 0:
            lower.append(0)
            upper.append(0)
        else:
            shown = _round(value, rounding)
            lower.append(max(limit + 1, shown - rounding // 2))
            upper.append(shown + rounding // 2)
    constraints = LinearConstraint(np.array(list(vectors.values())), lower, upper)
    bounds = Bounds(0, max(1, sum(grid[n_rows][:n_cols])) * 4 + 100)
    for (r, c), vector in vectors.items():
        if hidden[r][c] and 1 <= grid[r][c] <= limit:
            ends = []
            for sign in (1, -1):
                result = milp(sign * vector, constraints=constraints, integrality=np.ones(size), bounds=bounds)
                if not result.success:
                    return None  # cannot happen: the true table is feasible
                ends.append(round(float(vector @ result.x)))
            if ends[0] == ends[1]:
                return r, c
    return None


def disclose_table(rows: Sequence[Sequence[int]], limit: int | None = None,
                   rounding: int | None = None) -> Table:
    """Publish a table of counts with its row, column and grand totals (computed
    here from the cells), primary- and secondary-suppressed, then rounded."""
    limit, rounding = _settings(limit, rounding)
    cells = [[int(n) for n in row] for row in rows]
    if any(n < 0 for row in cells for n in row):
        raise ValueError("counts cannot be negative")
    n_rows = len(cells)
    n_cols = len(cells[0]) if cells else 0
    if any(len(row) != n_cols for row in cells):
        raise ValueError("every row needs the same number of columns")
    # One grid with the totals in the last row and column: (n_rows+1) x (n_cols+1).
    grid = [row + [sum(row)] for row in cells]
    column_sums = [sum(cells[r][c] for r in range(n_rows)) for c in range(n_cols)]
    grid.append(column_sums + [sum(column_sums)])
    hidden = [[1 <= value <= limit for value in row] for row in grid]
    primary = [row[:] for row in hidden]

    lines: list[list[tuple[int, int]]] = []
    for r in range(n_rows + 1):
        lines.append([(r, c) for c in range(n_cols + 1)])
    for c in range(n_cols + 1):
        lines.append([(r, c) for r in range(n_rows + 1)])
    while True:
        _protect_lines(grid, hidden, lines, limit)
        if n_rows < 2 or n_cols < 2:
            break  # one line: the rule above is enough on its own (see _protect)
        # Rows and columns together can pin a count no single line gives away: ask.
        pinned = _first_pinned(grid, hidden, n_rows, n_cols, limit, rounding)
        if pinned is None:
            break
        r, c = pinned
        options = [(grid[r2][c2], r2 == n_rows or c2 == n_cols, r2, c2)
                   for r2, c2 in lines[r] + lines[n_rows + 1 + c]
                   if not hidden[r2][c2] and grid[r2][c2] > 0]
        if not options:
            # Everything in its own row and column is hidden or zero: the leak runs
            # through other lines, so hide the smallest count still shown anywhere.
            options = [(grid[r2][c2], r2 == n_rows or c2 == n_cols, r2, c2)
                       for r2 in range(n_rows + 1) for c2 in range(n_cols + 1)
                       if not hidden[r2][c2] and grid[r2][c2] > 0]
        if not options:
            break  # nothing non-zero is shown: nothing hidden can be pinned
        _, _, r2, c2 = min(options, key=lambda o: (o[1], o[0], o[2], o[3]))
        hidden[r2][c2] = True

    def shown(r: int, c: int) -> str | int:
        return SUPPRESSED if hidden[r][c] else _round(grid[r][c], rounding)

    return Table(
        cells=[[shown(r, c) for c in range(n_cols)] for r in range(n_rows)],
        row_totals=[shown(r, n_cols) for r in range(n_rows)],
        column_totals=[shown(n_rows, c) for c in range(n_cols)],
        total=shown(n_rows, n_cols),
        secondary=[[hidden[r][c] and not primary[r][c] for c in range(n_cols)] for r in range(n_rows)],
    )


def disclose_line(counts: Sequence[int], limit: int | None = None,
                  rounding: int | None = None) -> tuple[list[str | int], str | int]:
    """Counts that add up to a total shown beside them: (shown counts, shown total)."""
    if not counts:
        return [], 0
    table = disclose_table([list(counts)], limit, rounding)
    return table.cells[0], table.row_totals[0]
