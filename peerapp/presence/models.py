"""Tables of the presence area: each team's thresholds, sign-ins at the base,
planned visits with their timeline, and the e-mails the sweep owes.

A visit stores the moments its thresholds fall on (due soon, overdue, escalated)
when it is started or extended, so status is read from the clock with one
comparison (``status.py``) and the banner's query stays cheap; a team's new
thresholds apply to visits started after the change.
"""
from __future__ import annotations

import peewee as pw

from .. import clock
from ..models import BaseModel, Team, User
from ..referrals.models import Referral

VISIT_STATES = ("planned", "started", "ended", "cancelled")
OUTCOMES = {"checked_out": "Checked out safe", "safe": "Reached: safe",
            "not_reached": "Could not reach them: emergency procedure followed"}
STEPS = ("due_soon", "overdue", "escalated")


class PresenceSettings(BaseModel):
    """A team's thresholds, as data (defaults when a team has none yet)."""
    team = pw.ForeignKeyField(Team, backref="+", unique=True, on_delete="CASCADE")
    reminder_minutes = pw.IntegerField(default=15)   # "due back soon" window before the expected return
    grace_minutes = pw.IntegerField(default=5)       # overdue this long after the expected return
    escalate_minutes = pw.IntegerField(default=30)   # shown to the manager this long after overdue
    sign_out_hour = pw.IntegerField(default=20)      # forgotten sign-outs close at this London hour
    keep_place_days = pw.IntegerField(default=30)    # visit places blanked after this many days
    updated_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    updated_at = pw.DateTimeField(null=True)

    DEFAULTS = {"reminder_minutes": 15, "grace_minutes": 5, "escalate_minutes": 30,
                "sign_out_hour": 20, "keep_place_days": 30}

    @classmethod
    def for_team(cls, team_id) -> "PresenceSettings":
        """The team's row, or an unsaved one holding the defaults."""
        found = cls.get_or_none(cls.team == team_id)
        return found if found is not None else cls(team=team_id, **cls.DEFAULTS)


class BaseSignIn(BaseModel):
    """One stay at the team base. Open while ``signed_out_at`` is empty; one open
    stay per person (partial unique index). A stay nobody closed reads as finished
    from ``closes_at`` (derived on read); the sweep then writes it down."""
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
    user = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    signed_in_at = pw.DateTimeField(index=True)
    signed_in_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    closes_at = pw.DateTimeField()
    signed_out_at = pw.DateTimeField(null=True)
    signed_out_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    auto_closed = pw.BooleanField(default=False)

    def out_at(self, now=None):
        """When the stay ended, by record or by the closing hour (None while open)."""
        if self.signed_out_at is not None:
            return self.signed_out_at
        now = now or clock.now()
        return self.closes_at if now >= self.closes_at else None

    def closed_automatically(self, now=None) -> bool:
        return self.auto_closed or (self.signed_out_at is None and self.out_at(now) is not None)


class Visit(BaseModel):
    """A planned visit by one worker: planned -> started -> ended (or cancelled).

    ``place`` is visible only to the worker, the team's peer leads and managers,
    and is blanked after the team's keep_place_days; the timeline stays."""
    # Change history leaves out the moments derived from the expected return.
    HISTORY_IGNORED = ("due_soon_at", "overdue_at", "escalate_at")
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
    worker = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    planned_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    planned_at = pw.DateTimeField()
    starts_at = pw.DateTimeField()
    expected_return_at = pw.DateTimeField()
    place = pw.TextField(default="")
    place_blanked_at = pw.DateTimeField(null=True)
    referral = pw.ForeignKeyField(Referral, null=True, backref="+", on_delete="SET NULL")
    buddy = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    contact_phone = pw.CharField(max_length=40, default="")
    state = pw.CharField(max_length=20, default="planned", index=True)
    version = pw.IntegerField(default=1)
    started_at = pw.DateTimeField(null=True)
    started_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    # The thresholds' moments, set on start and on each extension.
    due_soon_at = pw.DateTimeField(null=True)
    overdue_at = pw.DateTimeField(null=True, index=True)
    escalate_at = pw.DateTimeField(null=True)
    lead_ack_at = pw.DateTimeField(null=True)
    lead_ack_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    manager_ack_at = pw.DateTimeField(null=True)
    manager_ack_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    ended_at = pw.DateTimeField(null=True)
    ended_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    outcome = pw.CharField(max_length=20, default="")
    outcome_notes = pw.TextField(default="")

    class Meta:
        constraints = [pw.Check("state IN ('planned', 'started', 'ended', 'cancelled')"),
                       pw.Check("outcome IN ('', 'checked_out', 'safe', 'not_reached')")]

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, "")


class VisitEvent(BaseModel):
    """The visit's timeline: every step, when, by whom, with its note."""
    visit = pw.ForeignKeyField(Visit, backref="events", on_delete="CASCADE")
    at = pw.DateTimeField(index=True)
    by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    kind = pw.CharField(max_length=30)
    note = pw.TextField(default="")


class Notification(BaseModel):
    """An e-mail the sweep owes for one escalation step of one visit. The unique
    (visit, step) means two sweeps can never queue it twice; a claim taken by
    compare-and-set means they can never send it twice. A failure is kept with
    its attempt count and retried; the board shows it until it is sent."""
    visit = pw.ForeignKeyField(Visit, backref="+", on_delete="CASCADE")
    step = pw.CharField(max_length=20)
    created_at = pw.DateTimeField()
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.DateTimeField()
    claimed_until = pw.DateTimeField(null=True)
    claim = pw.CharField(max_length=40, default="")
    sent_at = pw.DateTimeField(null=True)
    last_error = pw.CharField(max_length=200, default="")

    class Meta:
        indexes = ((("visit", "step"), True),)
        constraints = [pw.Check("step IN ('due_soon', 'overdue', 'escalated')")]


PRESENCE_MODELS = [PresenceSettings, BaseSignIn, Visit, VisitEvent, Notification]
