"""Tables of the outcomes area.

- ``Measure`` and ``MeasureVersion``: a definition is stored as imported (JSON),
  immutable; a changed definition is a new version, and each response points at
  the version it was answered on, so old responses keep their wording and rule.
- ``MeasureSchedule``: which measure for whom (service users on a referral, or peer
  workers themselves) and how often a review is due.
- ``MeasureResponse``: one occasion (baseline, review, end) for one person, with
  who entered it, for whom, and (volunteers) who reported it at which debrief.
  Declined, could not complete and not done carry no score.
- ``ScoreShare``: a peer's own scores shared with their supervisor, until revoked.
"""
from __future__ import annotations

import json

import peewee as pw

from .. import clock
from ..models import BaseModel, User
from ..referrals.models import Referral, ServiceUser
from ..workforce.models import PeerRole
from . import definition as definitions

SERVICE_USER, PEER = "service user", "peer"
SUBJECTS = (SERVICE_USER, PEER)
BASELINE, REVIEW, END = "baseline", "review", "end"
OCCASIONS = (BASELINE, REVIEW, END)
COMPLETED, DECLINED, COULD_NOT, NOT_DONE = "completed", "declined", "could not complete", "not done"
STATUSES = (COMPLETED, DECLINED, COULD_NOT, NOT_DONE)


class Measure(BaseModel):
    key = pw.CharField(max_length=40, unique=True)
    name = pw.CharField(max_length=200)
    created_at = pw.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.name

    def current(self) -> "MeasureVersion | None":
        return (MeasureVersion.select().where(MeasureVersion.measure == self)
                .order_by(MeasureVersion.number.desc()).first())


class MeasureVersion(BaseModel):
    measure = pw.ForeignKeyField(Measure, backref="versions", on_delete="RESTRICT")
    number = pw.IntegerField()
    label = pw.CharField(max_length=40, default="")
    definition_json = pw.TextField()
    digest = pw.CharField(max_length=64)
    imported_at = pw.DateTimeField(default=clock.now)
    imported_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")

    class Meta:
        indexes = ((("measure", "number"), True), (("measure", "digest"), True))

    @property
    def definition(self) -> definitions.Definition:
        cached = self.__dict__.get("_definition")
        if cached is None:
            cached = definitions.check(json.loads(self.definition_json))
            self.__dict__["_definition"] = cached
        return cached


class MeasureSchedule(BaseModel):
    measure = pw.ForeignKeyField(Measure, backref="schedules", on_delete="CASCADE")
    subject = pw.CharField(max_length=20)  # service user | peer
    review_weeks = pw.IntegerField(default=12)
    active = pw.BooleanField(default=True)

    class Meta:
        indexes = ((("measure", "subject"), True),)


class MeasureResponse(BaseModel):
    version = pw.ForeignKeyField(MeasureVersion, backref="responses", on_delete="RESTRICT")
    measure = pw.ForeignKeyField(Measure, backref="+", on_delete="RESTRICT")
    subject = pw.CharField(max_length=20)
    referral = pw.ForeignKeyField(Referral, null=True, backref="+", on_delete="RESTRICT")
    service_user = pw.ForeignKeyField(ServiceUser, null=True, backref="+", on_delete="RESTRICT")
    peer = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    team_id = pw.IntegerField(index=True)
    occasion = pw.CharField(max_length=10)
    taken_on = pw.DateField(index=True)
    status = pw.CharField(max_length=20, default=COMPLETED)
    total = pw.FloatField(null=True)
    subscales_json = pw.TextField(default="{}")
    answers_json = pw.TextField(default="{}")
    reason = pw.TextField(default="")  # why not done / declined (optional)
    entered_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    reported_by_role = pw.ForeignKeyField(PeerRole, null=True, backref="+", on_delete="RESTRICT")
    debrief_on = pw.DateField(null=True)
    recorded_at = pw.DateTimeField(default=clock.now)

    @property
    def answers(self) -> dict:
        return json.loads(self.answers_json or "{}")

    @property
    def subscales(self) -> dict:
        return json.loads(self.subscales_json or "{}")

    @property
    def scored(self) -> bool:
        return self.status == COMPLETED and self.total is not None

    @property
    def provenance(self) -> str:
        if self.debrief_on and self.reported_by_role_id:
            return (f"Reported by {self.reported_by_role.display_name} at debrief on "
                    f"{self.debrief_on:%-d %b %Y}, entered by {self.entered_by.name}")
        return f"Entered by {self.entered_by.name}"


class ScoreShare(BaseModel):
    owner = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    viewer = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    created_at = pw.DateTimeField(default=clock.now)
    revoked_at = pw.DateTimeField(null=True)

    @classmethod
    def active_between(cls, owner, viewer) -> "ScoreShare | None":
        return cls.get_or_none(cls.owner == owner, cls.viewer == viewer, cls.revoked_at.is_null())


MODELS = [Measure, MeasureVersion, MeasureSchedule, MeasureResponse, ScoreShare]
