"""Counts for Monitoring's "Safety" section: raw, unsuppressed. The caller
(reports) applies ``peerapp.disclosure`` before anyone sees them.

    safety(period_start, period_end, team_ids) -> {"visits": n, "overdue": n,
        "escalated": n, "not_reached": n, "unresolved": n}

A visit counts in the period when it was started in [period_start, period_end)
(naive UTC datetimes, or dates: a date means midnight UTC of that day). Overdue
and escalated are read from the moments the visit stored and from when it ended,
so a visit counts as overdue only if it really was still out at that moment.
"""
from __future__ import annotations

import datetime as dt

import peewee as pw

from .. import clock
from .models import Visit


def _moment(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time())


def safety(period_start, period_end, team_ids) -> dict[str, int]:
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
