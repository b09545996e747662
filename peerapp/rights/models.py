"""Retention periods as data, and erasure requests confirmed by a second administrator."""
from __future__ import annotations

import peewee as pw

from .. import clock
from ..models import BaseModel, User

PERSON_KINDS = {"service_user": "Service user", "peer": "Peer or candidate", "staff": "Staff member"}


class RetentionRule(BaseModel):
    kind = pw.CharField(max_length=40, unique=True)
    label = pw.CharField(max_length=200)
    years = pw.IntegerField()
    starts = pw.CharField(max_length=120)
    source = pw.TextField(default="")
    updated_at = pw.DateTimeField(default=clock.now)

    @classmethod
    def years_for(cls) -> dict[str, int]:
        return dict(cls.select(cls.kind, cls.years).tuples())


class ErasureRequest(BaseModel):
    person_kind = pw.CharField(max_length=20)
    person_id = pw.IntegerField()
    reason = pw.CharField(max_length=200)
    state = pw.CharField(max_length=20, default="requested")
    requested_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    requested_at = pw.DateTimeField(default=clock.now)
    decided_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    decided_at = pw.DateTimeField(null=True)
    records_erased = pw.IntegerField(default=0)

    @property
    def kind_label(self) -> str:
        return PERSON_KINDS.get(self.person_kind, self.person_kind)

    @classmethod
    def open(cls):
        return cls.select().where(cls.state == "requested").order_by(cls.requested_at)
