"""Scoring a measure and judging change, by the measure's own definition.

No Flask and no database. ``score(definition, answers)`` turns item answers
(item key -> option value) into the total and subscale scores: reverse-scored
items count as (lowest + highest - value), then sum or mean. ``change(definition,
first, latest)`` says whether the difference is a reliable improvement, no
reliable change or a reliable deterioration: a change counts as reliable when it
is at least the measure's reliable-change threshold (given, or Jacobson &
Truax's 1.96 x SD x sqrt(2) x sqrt(1 - r)), in the measure's better direction.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from .definition import Definition

IMPROVED = "reliable improvement"
NO_CHANGE = "no reliable change"
DETERIORATED = "reliable deterioration"
CATEGORIES = (IMPROVED, NO_CHANGE, DETERIORATED)


class Unanswered(ValueError):
    """Some items have no valid answer; the message names them."""


@dataclass(frozen=True)
class Score:
    total: float
    subscales: dict  # subscale key -> score


def item_value(item, value: int) -> int:
    return item.lowest + item.highest - value if item.reverse else value


def _combine(values: list[int], method: str) -> float:
    return float(sum(values)) if method == "sum" else sum(values) / len(values)


def score(definition: Definition, answers: dict) -> Score:
    missing = []
    scored: dict[str, int] = {}
    for item in definition.items:
        value = answers.get(item.key)
        if value is None or value not in {o.value for o in item.options}:
            missing.append(item.key)
        else:
            scored[item.key] = item_value(item, value)
    if missing:
        raise Unanswered(f"Not answered: {', '.join(missing)}")
    total = _combine(list(scored.values()), definition.method)
    subscales = {}
    for key in definition.subscales:
        members = [scored[i.key] for i in definition.items if i.subscale == key]
        subscales[key] = _combine(members, definition.method)
    return Score(round(total, 4), {k: round(v, 4) for k, v in subscales.items()})


def classify(definition: Definition, first: float, latest: float) -> str:
    difference = latest - first
    better = difference if definition.higher_is_better else -difference
    threshold = definition.reliable_change
    # A tiny allowance so 4.0 - 1.0 >= 3.0 is never lost to floating point.
    if better >= threshold - 1e-9:
        return IMPROVED
    if -better >= threshold - 1e-9:
        return DETERIORATED
    return NO_CHANGE


def on_better_side(definition: Definition, value: float) -> bool | None:
    if definition.cutoff is None:
        return None
    return value >= definition.cutoff if definition.higher_is_better else value <= definition.cutoff


def mean_with_ci(values: list[float]) -> tuple[float, float, float] | None:
    """Mean and its 95% confidence interval (t distribution), or None for fewer than 2."""
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    sd = statistics.stdev(values)
    from scipy.stats import t  # loaded only when a report asks
    half = t.ppf(0.975, len(values) - 1) * sd / math.sqrt(len(values))
    return mean, mean - half, mean + half
