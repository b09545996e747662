"""A visit's status, read from the clock: never from a job that may not have run.

One rule, one place: the board, the banner, the sweep and the figures all ask
here (or, for lists in SQL, the same stored moments: due_soon_at, overdue_at,
escalate_at, set when the visit starts or is extended).

    planned -> on a visit -> due back soon -> overdue -> escalated -> ended
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# level: how urgent; the board sorts by it, most urgent first.
PLANNED, ON_VISIT, DUE_SOON, OVERDUE, ESCALATED = "planned", "on_visit", "due_soon", "overdue", "escalated"
ENDED, CANCELLED = "ended", "cancelled"
LEVEL = {ENDED: 0, CANCELLED: 0, PLANNED: 1, ON_VISIT: 2, DUE_SOON: 3, OVERDUE: 4, ESCALATED: 5}
# Words and icon go with every colour: colour is never the only signal.
LABEL = {PLANNED: "Planned", ON_VISIT: "On a visit", DUE_SOON: "Due back soon", OVERDUE: "Overdue",
         ESCALATED: "Escalated to manager", ENDED: "Back safe", CANCELLED: "Cancelled"}
ICON = {PLANNED: "○", ON_VISIT: "→", DUE_SOON: "◔", OVERDUE: "⚠", ESCALATED: "‼", ENDED: "✓", CANCELLED: "–"}


@dataclass(frozen=True)
class Thresholds:
    reminder_minutes: int = 15
    grace_minutes: int = 5
    escalate_minutes: int = 30

    @classmethod
    def of(cls, settings) -> "Thresholds":
        return cls(settings.reminder_minutes, settings.grace_minutes, settings.escalate_minutes)

    def moments(self, expected_return: dt.datetime) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
        """(due soon from, overdue from, escalated from) for this expected return."""
        overdue = expected_return + dt.timedelta(minutes=self.grace_minutes)
        return (expected_return - dt.timedelta(minutes=self.reminder_minutes), overdue,
                overdue + dt.timedelta(minutes=self.escalate_minutes))


def of(visit, now: dt.datetime) -> str:
    """The status of a visit at ``now`` (naive UTC)."""
    if visit.state in (PLANNED, ENDED, CANCELLED):
        return visit.state
    if visit.escalate_at is not None and now >= visit.escalate_at:
        return ESCALATED
    if visit.overdue_at is not None and now >= visit.overdue_at:
        return OVERDUE
    if visit.due_soon_at is not None and now >= visit.due_soon_at:
        return DUE_SOON
    return ON_VISIT


def waiting_for(visit, now: dt.datetime) -> str | None:
    """Whose acknowledgement the ladder waits for: 'peer_lead', 'manager' or None."""
    current = of(visit, now)
    if current == ESCALATED and visit.manager_ack_at is None:
        return "manager"
    if current in (OVERDUE, ESCALATED) and visit.lead_ack_at is None:
        return "peer_lead"
    return None


def urgency(visit, now: dt.datetime) -> tuple:
    """Sort key, most urgent first: level, then unacknowledged, then longest late."""
    current = of(visit, now)
    late_since = visit.overdue_at or visit.expected_return_at
    return (-LEVEL[current], 0 if waiting_for(visit, now) else 1, late_since)


def may_extend(visit, now: dt.datetime) -> bool:
    """An alarm once raised is resolved, not snoozed: extending stops at overdue."""
    return visit.state == "started" and of(visit, now) in (ON_VISIT, DUE_SOON)
