"""Counts for viewers and reports follow NHS disclosure control, and the totals
published beside suppressed counts never give them back."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from peerapp.disclosure import SUPPRESSED, disclose, disclose_line, disclose_rate, disclose_table


@pytest.mark.parametrize("number, shown", [(0, 0), (1, SUPPRESSED), (7, SUPPRESSED), (8, 10), (12, 10),
                                           (13, 15), (100, 100), (1234, 1235)])
def test_small_numbers_are_suppressed_and_others_rounded_to_five(number, shown):
    assert disclose(number, limit=7) == shown


def test_the_limit_comes_from_the_config(app):
    app.config["SMALL_NUMBER_LIMIT"] = 10
    with app.app_context():
        assert disclose(9) == SUPPRESSED and disclose(11) == 10


def test_the_rounding_comes_from_the_config(app):
    app.config["DISCLOSURE_ROUNDING"] = 1
    with app.app_context():
        assert disclose(13) == 13 and disclose(3) == SUPPRESSED
    app.config["DISCLOSURE_ROUNDING"] = 10
    with app.app_context():
        assert disclose(13) == 10 and disclose(16) == 20


def test_a_lone_small_count_beside_a_total_hides_the_next_smallest_too():
    # Without the second '*', 43 - 20 - 20 would give the 3 back.
    shown, total = disclose_line([3, 20, 21], rounding=1)
    assert shown == [SUPPRESSED, SUPPRESSED, 21] and total == 44


def test_two_small_counts_that_together_are_small_hide_another():
    # 1 + 1 under a shown total: each hidden cell could only be 1.
    shown, total = disclose_line([1, 1, 30, 40], rounding=1)
    assert shown == [SUPPRESSED, SUPPRESSED, SUPPRESSED, 40] and total == 72


def test_a_small_total_is_hidden_with_its_cells_and_zeros_stay_zero():
    shown, total = disclose_line([0, 5, 0], rounding=1)
    assert shown == [0, SUPPRESSED, 0] and total == SUPPRESSED


def test_nothing_small_means_nothing_hidden():
    shown, total = disclose_line([10, 0, 22])
    assert shown == [10, 0, 20] and total == 30


def test_a_table_hides_partners_in_the_row_and_the_column_but_keeps_the_totals():
    # The 2 needs a partner in its row (30) and its column (40); the 30 then needs one
    # in its column (50). The totals stay shown: one free unknown is left, never a value.
    table = disclose_table([[2, 30], [40, 50]], rounding=1)
    assert table.cells == [[SUPPRESSED, SUPPRESSED], [SUPPRESSED, SUPPRESSED]]
    assert table.row_totals == [32, 90] and table.column_totals == [42, 80] and table.total == 122
    assert table.secondary == [[False, True], [True, True]]


def test_rates_are_hidden_when_part_whole_or_rest_is_small():
    assert disclose_rate(20, 40) == 50
    assert disclose_rate(3, 40) is None and disclose_rate(37, 40) is None and disclose_rate(0, 5) is None
    assert disclose_rate(0, 0) is None and disclose_rate(0, 40) == 0


def test_negative_or_ragged_tables_are_refused():
    with pytest.raises(ValueError):
        disclose_table([[1, -1]])
    with pytest.raises(ValueError):
        disclose_table([[1, 2], [3]])


# --- the property: nothing below the limit can be worked out -------------------
LIMIT = 7


def _bounds_of_published(value, rounding):
    """What a reader knows about a true count from what was published."""
    if value == SUPPRESSED:
        return 1, np.inf  # hidden counts are never 0: assume the reader knows that too
    if value == 0:
        return 0, 0
    half = rounding // 2
    return max(LIMIT + 1, value - half), value + half


def _feasible_range(table, n_rows, n_cols, rounding, target):
    """Smallest and largest integer value of ``target`` (a 0/1 vector over the cells)
    over every table consistent with what was published."""
    size = n_rows * n_cols
    rows, lower, upper = [], [], []

    def constrain(vector, value):
        lo, hi = _bounds_of_published(value, rounding)
        rows.append(vector)
        lower.append(lo)
        upper.append(hi)

    for r in range(n_rows):
        for c in range(n_cols):
            v = np.zeros(size)
            v[r * n_cols + c] = 1
            constrain(v, table.cells[r][c])
        v = np.zeros(size)
        v[r * n_cols:(r + 1) * n_cols] = 1
        constrain(v, table.row_totals[r])
    for c in range(n_cols):
        v = np.zeros(size)
        v[c::n_cols] = 1
        constrain(v, table.column_totals[c])
    constrain(np.ones(size), table.total)
    constraints = LinearConstraint(np.array(rows), lower, upper)
    found = []
    for sign in (1, -1):
        result = milp(sign * target, constraints=constraints, integrality=np.ones(size),
                      bounds=Bounds(0, 10_000))
        assert result.success, "the true table is always feasible"
        found.append(round(float(target @ result.x)))
    return tuple(found)


tables = st.integers(1, 4).flatmap(lambda n_cols: st.lists(
    st.lists(st.one_of(st.integers(0, 9), st.integers(0, 40)), min_size=n_cols, max_size=n_cols),
    min_size=1, max_size=4))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=tables, rounding=st.sampled_from([1, 5]))
def test_no_count_below_the_limit_can_be_derived_from_the_published_table(rows, rounding):
    table = disclose_table(rows, limit=LIMIT, rounding=rounding)
    n_rows, n_cols = len(rows), len(rows[0])
    size = n_rows * n_cols
    # Every count the table stands for: each cell, each row total, each column total, the grand total.
    counts = []
    for r in range(n_rows):
        for c in range(n_cols):
            v = np.zeros(size)
            v[r * n_cols + c] = 1
            counts.append((v, rows[r][c], table.cells[r][c]))
        v = np.zeros(size)
        v[r * n_cols:(r + 1) * n_cols] = 1
        counts.append((v, sum(rows[r]), table.row_totals[r]))
    for c in range(n_cols):
        v = np.zeros(size)
        v[c::n_cols] = 1
        counts.append((v, sum(row[c] for row in rows), table.column_totals[c]))
    counts.append((np.ones(size), sum(map(sum, rows)), table.total))
    for vector, true, shown in counts:
        if 1 <= true <= LIMIT:
            assert shown == SUPPRESSED
            low, high = _feasible_range(table, n_rows, n_cols, rounding, vector)
            assert low < high, f"a hidden {true} is pinned by the totals of {rows}"
