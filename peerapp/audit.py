"""The audit log: who viewed or changed which record, and when.

Append-only: a database trigger refuses UPDATE and DELETE, and no route edits it.
Summaries never carry sensitive content (no notes, no names of service users).
"""
from __future__ import annotations

import peewee as pw
from flask import has_request_context
from flask_login import current_user

from . import clock
from .db import InsertOnce
from .models import BaseModel, User


class AuditEvent(BaseModel):
    # Indexed by (action, at, id), (record_type, record_id, at, id), (user_id, at, id)
    # and (at, id) (migration m0006): one a filter, each also serving its first column
    # alone, so no single-column index is written with every row (m0113).
    at = pw.DateTimeField(default=clock.now)
    user = pw.ForeignKeyField(User, null=True, backref="audit_events", on_delete="RESTRICT", index=False)
    action = pw.CharField(max_length=40)  # view, create, update, delete, login, ...
    record_type = pw.CharField(max_length=40, default="")
    record_id = pw.CharField(max_length=40, default="")
    summary = pw.CharField(max_length=255, default="")

    @classmethod
    def for_record(cls, record_type: str, record_id) -> pw.ModelSelect:
        """Newest first, each with its user joined (pages list who did it)."""
        return (cls.select(cls, User).join(User, pw.JOIN.LEFT_OUTER, on=(cls.user == User.id))
                .where(cls.record_type == record_type, cls.record_id == str(record_id))
                .order_by(cls.at.desc(), cls.id.desc()))


def audit(action: str, record=None, *, record_type: str | None = None, record_id=None,
          summary: str = "", user: User | None = None) -> AuditEvent:
    """Record one event. Call it in the same transaction as the change it describes.

    ``record`` may be a model instance: its table name and id are used.
    """
    if record is not None:
        record_type = record_type or record._meta.table_name
        record_id = record.id if record_id is None else record_id
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user._get_current_object()
    return _NEW_EVENT(
        at=clock.now(), user=user, action=action,
        record_type=record_type or "", record_id="" if record_id is None else str(record_id),
        summary=summary[:255],
    )


# Every view of a sensitive record and every change writes one: its INSERT is built once.
_NEW_EVENT = InsertOnce(AuditEvent)


def audit_anonymous(action: str, *, record_type: str, record_id, summary: str, day) -> AuditEvent:
    """Record an event whose author must not be known (an anonymous concern): no
    user, whoever is signed in, and only the day (midnight), never the time."""
    import datetime as dt
    return AuditEvent.create(
        at=dt.datetime.combine(day, dt.time()), user=None, action=action,
        record_type=record_type, record_id=str(record_id), summary=summary[:255],
    )
