"""Counts for Monitoring's "Safety" section: raw, unsuppressed. The caller
(reports) applies ``peerapp.disclosure`` before anyone sees them.

    safety_counts(period_start, period_end, team_ids) -> {"visits": n, "overdue": n,
        "escalated": n, "not_reached": n, "unresolved": n}
    safety(start_date, end_date, team_ids) -> peerapp.report_tables.Section (end date inclusive)

A visit counts in the period when it was started in [period_start, period_end)
(naive UTC datetimes, or dates: a date means midnight in London that day). Overdue
and escalated are read from the moments the visit stored and from when it ended,
so a visit counts as overdue only if it really was still out at that moment.
"""
from __future__ import annotations

import datetime as dt

import peewee as pw

from .. import clock
from ..report_tables import COUNT, Section, Table
from .models import Visit


def _moment(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    local = dt.datetime.combine(value, dt.time()).replace(tzinfo=clock.LONDON)
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def safety_counts(period_start, period_end, team_ids) -> dict[str, int]:
    start, end, now = _moment(period_start), _moment(period_end), clock.now()
    team_ids = list(team_ids)
    if not team_ids:
        return {"visits": 0, "overdue": 0, "escalated": 0, "not_reached": 0, "unresolved": 0}
    base = Visit.select().where(Visit.team.in_(team_ids), Visit.started_at >= start, Visit.started_at < end,
                                Visit.state.in_(("started", "ended")))

    def reached(moment_field):
        # Still out at that moment: not ended yet and the moment has come, or ended after it.
        return ((Visit.ended_at.is_null() & (moment_field <= now)) |
                (Visit.ended_at.is_null(False) & (moment_field <= Visit.ended_at)))

    row = base.select(
        pw.fn.COUNT(Visit.id).alias("visits"),
        pw.fn.SUM(pw.Case(None, [(reached(Visit.overdue_at), 1)], 0)).alias("overdue"),
        pw.fn.SUM(pw.Case(None, [(reached(Visit.escalate_at), 1)], 0)).alias("escalated"),
        pw.fn.SUM(pw.Case(None, [(Visit.outcome == "not_reached", 1)], 0)).alias("not_reached"),
        pw.fn.SUM(pw.Case(None, [(Visit.state == "started", 1)], 0)).alias("unresolved"),
    ).dicts().get()
    return {key: int(row[key] or 0) for key in ("visits", "overdue", "escalated", "not_reached", "unresolved")}


def safety(start: dt.date, end: dt.date, team_ids, today=None):
    """The Monitoring page's Safety section for the days start..end (inclusive)."""
    counts = safety_counts(start, end + dt.timedelta(days=1), team_ids)
    return Section("safety", "Safety", "Are peers safe when they work alone?", [
        Table("visits", "Lone-working visits started in the period", ["Visits"], [
            ("Visits started", [counts["visits"]]),
            ("Went overdue (not back by the expected time and grace)", [counts["overdue"]]),
            ("Escalated to a manager", [counts["escalated"]]),
            ("Could not be reached: emergency procedure followed", [counts["not_reached"]]),
            ("Not yet resolved", [counts["unresolved"]]),
        ], kind=COUNT, note="From the team's buddy-and-escalation log, not a certified alarm service (BS 8484)."),
    ])
