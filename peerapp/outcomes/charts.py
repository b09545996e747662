"""Geometry for the server-drawn SVG charts (the templates draw what this returns).
No Flask. Every chart is shown beside a table of the same figures."""
from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 600, 260, 50, 20, 15, 40


@dataclass
class Point:
    x: float
    y: float
    label: str
    value: float


def _scale(value, low, high, start, end):
    if high == low:
        return (start + end) / 2
    return start + (value - low) * (end - start) / (high - low)


def over_time(definition, scored) -> dict:
    """A person's scores over time, with the reliable-change band around the first
    score and the clinical cut-off. ``scored``: completed responses in date order."""
    low, high = definition.minimum, definition.maximum
    y = lambda v: round(_scale(v, low, high, HEIGHT - BOTTOM, TOP), 1)  # noqa: E731
    n = len(scored)
    points = [Point(round(_scale(i, 0, max(n - 1, 1), LEFT + 20, WIDTH - RIGHT - 20), 1), y(r.total),
                    f"{r.taken_on:%-d %b %Y} ({r.occasion})", r.total) for i, r in enumerate(scored)]
    band = None
    if scored:
        threshold = definition.reliable_change
        top = min(high, scored[0].total + threshold)
        bottom = max(low, scored[0].total - threshold)
        band = {"y": y(top), "height": round(y(bottom) - y(top), 1), "low": bottom, "high": top}
    cutoff = None if definition.cutoff is None else {"y": y(definition.cutoff), "value": definition.cutoff}
    ticks = [{"y": y(v), "value": v} for v in (low, (low + high) / 2, high)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "points": points,
            "path": " ".join(f"{p.x},{p.y}" for p in points), "band": band, "cutoff": cutoff, "ticks": ticks,
            "axis_y": HEIGHT - BOTTOM}


def slopes(definition, pairs) -> dict:
    """A team's first-vs-latest slope chart: one line per person, labelled by number only."""
    low, high = definition.minimum, definition.maximum
    y = lambda v: round(_scale(v, low, high, HEIGHT - BOTTOM, TOP), 1)  # noqa: E731
    lines = [{"y1": y(p.first.total), "y2": y(p.latest.total), "first": p.first.total, "latest": p.latest.total,
              "category": p.category, "number": i + 1} for i, p in enumerate(pairs)]
    ticks = [{"y": y(v), "value": v} for v in (low, (low + high) / 2, high)]
    return {"width": WIDTH, "height": HEIGHT, "x1": 150, "x2": 450, "lines": lines, "ticks": ticks,
            "axis_y": HEIGHT - BOTTOM}
