"""The completion rule on its own: no Flask, no database."""
import datetime as dt

import pytest

from peerapp.training.completion import (ABSENT, CAUGHT_UP, LATE, PRESENT, Mark, Rule, completion_date,
                                         counted_days)

START = dt.date(2026, 3, 2)
DAYS = {n: START + dt.timedelta(weeks=n - 1) for n in range(1, 7)}


def marks(*statuses, catch_up=None):
    """statuses per session 1..6; catch_up: {number: day}."""
    catch_up = catch_up or {}
    return [Mark(n, DAYS[n], s, catch_up.get(n)) for n, s in enumerate(statuses, start=1) if s]


def test_default_rule_needs_every_session_and_dates_completion_at_the_last():
    rule = Rule()
    assert rule.is_every_session
    assert completion_date(rule, marks(*[PRESENT] * 6)) == DAYS[6]
    assert completion_date(rule, marks(*[PRESENT] * 5)) is None
    assert completion_date(rule, marks(PRESENT, PRESENT, ABSENT, PRESENT, PRESENT, PRESENT)) is None


def test_late_counts_as_attended():
    assert completion_date(Rule(), marks(LATE, PRESENT, PRESENT, PRESENT, PRESENT, LATE)) == DAYS[6]


def test_catch_up_counts_on_the_day_of_the_catch_up():
    later = DAYS[6] + dt.timedelta(days=9)
    got = completion_date(Rule(), marks(PRESENT, PRESENT, CAUGHT_UP, PRESENT, PRESENT, PRESENT,
                                        catch_up={3: later}))
    assert got == later  # the last needed session was the catch-up, after session 6
    early = DAYS[3] + dt.timedelta(days=2)
    got = completion_date(Rule(), marks(PRESENT, PRESENT, CAUGHT_UP, PRESENT, PRESENT, PRESENT,
                                        catch_up={3: early}))
    assert got == DAYS[6]


def test_a_catch_up_without_a_date_does_not_count():
    assert counted_days([Mark(3, DAYS[3], CAUGHT_UP, None)]) == {}


def test_at_least_n_including_required_sessions():
    rule = Rule(minimum=5, required=frozenset({1, 5}))
    # Missed session 2: five attended including 1 and 5 -> complete at session 6.
    assert completion_date(rule, marks(PRESENT, ABSENT, PRESENT, PRESENT, PRESENT, PRESENT)) == DAYS[6]
    # Missed session 5 (required): not complete however many others.
    assert completion_date(rule, marks(PRESENT, PRESENT, PRESENT, PRESENT, ABSENT, PRESENT)) is None
    # Five sessions reached at session 5: complete then, not at 6.
    assert completion_date(rule, marks(*[PRESENT] * 6)) == DAYS[5]
    assert rule.describe() == "at least 5 of the 6 sessions attended or caught up, including sessions 1 and 5"


def test_changing_the_rule_changes_completion():
    register = marks(PRESENT, PRESENT, PRESENT, ABSENT, PRESENT, PRESENT)
    assert completion_date(Rule(), register) is None
    assert completion_date(Rule(minimum=5), register) == DAYS[6]
    assert completion_date(Rule(minimum=4), register) == DAYS[5]
    assert completion_date(Rule(minimum=4, required=frozenset({4})), register) is None


def test_equivalent_counts_and_the_earliest_completion_wins():
    elsewhere = START - dt.timedelta(days=100)
    assert completion_date(Rule(), [], [elsewhere]) == elsewhere
    assert completion_date(Rule(), marks(*[PRESENT] * 6), [elsewhere]) == elsewhere
    after = DAYS[6] + dt.timedelta(days=30)
    assert completion_date(Rule(), marks(*[PRESENT] * 6), [after]) == DAYS[6]


def test_the_same_session_twice_counts_once_at_its_earliest_day():
    again = [Mark(1, DAYS[1], ABSENT), Mark(1, DAYS[1], CAUGHT_UP, DAYS[1] + dt.timedelta(days=1))]
    assert counted_days(again) == {1: DAYS[1] + dt.timedelta(days=1)}


def test_sessions_still_needed():
    rule = Rule(minimum=4, required=frozenset({6}))
    assert rule.sessions_still_needed({1, 2, 3, 4}) == 1
    assert rule.sessions_still_needed({1, 2}) == 2


@pytest.mark.parametrize("kwargs", [dict(minimum=0), dict(minimum=7), dict(required=frozenset({7})),
                                    dict(minimum=1, required=frozenset({1, 2}))])
def test_impossible_rules_are_refused(kwargs):
    with pytest.raises(ValueError):
        Rule(**kwargs)
