"""Change history: every edit of a sensitive record keeps who, when, which field,
the old value and the new value. Built once here; services call it.

    before = history.snapshot(role)          # before changing anything
    ... change the record, save it ...
    history.record_changes(before, role)     # in the same db.atomic() as the change

or, when a service changes rows with an UPDATE statement rather than an instance,
``history.record_values("peer_role", role_id, {"status": old}, {"status": new})``.

Free text (notes, reasons, summaries: every TextField unless the area says
otherwise) is kept, but the History page shows it only to people who may read the
record's notes; others see that it changed and a short fingerprint (the first
characters of a SHA-256 hash), which tells two versions apart without revealing
either. Each area says who may read a record's history with ``readable(...)``
in its ``rights.py``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import peewee as pw
from flask import has_request_context
from flask_login import current_user

from . import clock
from .models import BaseModel, User

# Bookkeeping, not content; and secrets, which no history keeps. A model may name more
# in ``HISTORY_IGNORED``.
IGNORED = {"id", "updated_at", "created_at", "state_changed_at", "version", "password_hash"}


class FieldChange(BaseModel):
    at = pw.DateTimeField(default=clock.now, index=True)
    user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    record_type = pw.CharField(max_length=40)
    record_id = pw.CharField(max_length=40)
    field = pw.CharField(max_length=60)
    old_value = pw.TextField(default="")
    new_value = pw.TextField(default="")
    free_text = pw.BooleanField(default=False)

    class Meta:
        indexes = ((("record_type", "record_id", "at"), False),)

    @classmethod
    def for_record(cls, record_type: str, record_id) -> pw.ModelSelect:
        return (cls.select(cls, User).join(User, pw.JOIN.LEFT_OUTER, on=(cls.user == User.id))
                .where(cls.record_type == record_type, cls.record_id == str(record_id))
                .order_by(cls.at.desc(), cls.id.desc()))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, pw.Model):
        return str(value.get_id())
    return str(value)


def _ignored(model) -> set[str]:
    return IGNORED | set(getattr(model, "HISTORY_IGNORED", ()))


def _fields(record: pw.Model) -> dict[str, pw.Field]:
    ignored = _ignored(type(record))
    return {f.name: f for f in record._meta.sorted_fields if f.name not in ignored}


def snapshot(record: pw.Model) -> dict[str, str]:
    """The record's fields as text (foreign keys as ids), to compare after a change."""
    found = {}
    for name, field in _fields(record).items():
        value = record.__data__.get(name) if isinstance(field, pw.ForeignKeyField) else getattr(record, name)
        found[name] = _text(value)
    return found


def free_text_fields(model: type[pw.Model]) -> set[str]:
    """Notes and reasons: plain TextFields (subclasses such as lists of words are not notes)."""
    return {f.name for f in model._meta.sorted_fields if type(f) is pw.TextField
            and f.name not in getattr(model, "HISTORY_NOT_FREE_TEXT", ())}


def record_values(record_type: str, record_id, before: dict, after: dict, *, free_text=(),
                  user: User | None = None) -> list[FieldChange]:
    """One FieldChange per field whose text differs. Call inside the change's transaction."""
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user._get_current_object()
    now = clock.now()
    rows = []
    for name in after:
        old, new = _text(before.get(name, "")), _text(after[name])
        if old != new:
            rows.append({"at": now, "user": user, "record_type": record_type, "record_id": str(record_id),
                         "field": name, "old_value": old, "new_value": new, "free_text": name in free_text})
    if rows:
        FieldChange.insert_many(rows).execute()
    return rows


@dataclass(frozen=True)
class Part:
    """A row that is read as part of another record (a referral's first meeting, a
    role's team meeting arrangement): its changes go in the owner's history, each
    field named ``"<label>: <field>"``, so one History page tells the whole story."""
    record: pw.Model | None
    owner: pw.Model
    label: str


def record_changes(before: dict, record: pw.Model | Part, *, user: User | None = None,
                   record_type: str | None = None) -> list[FieldChange]:
    """Compare ``snapshot`` taken before the change with the record as now stored (read
    back, so values are compared as the database keeps them)."""
    if isinstance(record, Part):
        owner, prefix, record = record.owner, record.label + ": ", record.record
    else:
        owner, prefix = record, ""
    stored = snapshot(type(record).get_by_id(record.get_id()))
    free = free_text_fields(type(record))
    return record_values(record_type or owner._meta.table_name, owner.get_id(),
                         {prefix + name: value for name, value in before.items()},
                         {prefix + name: value for name, value in stored.items()},
                         free_text={prefix + name for name in free}, user=user)


def record_update(record: pw.Model | Part, changes: dict, *, user: User | None = None) -> list[FieldChange]:
    """After an UPDATE statement (``compare_and_set``) that set ``changes`` on the row
    ``record`` was read as: one FieldChange per field whose value changed. Values that
    are SQL expressions (``version + 1``) and bookkeeping fields are left out.

        changes = dict(state="ended", outcome=outcome, outcome_notes=notes)
        compare_and_set(Visit, visit.id, {"state": "started"}, refused=..., **changes)
        history.record_update(visit, changes, user=by)
    """
    owner, prefix = (record.owner, record.label + ": ") if isinstance(record, Part) else (record, "")
    record = record.record if isinstance(record, Part) else record
    model = type(record)
    ignored = _ignored(model)
    plain = {name: value for name, value in changes.items()
             if name not in ignored and name in model._meta.fields
             and (isinstance(value, pw.Model) or not isinstance(value, pw.Node))}
    before = {}
    for name in plain:
        field = model._meta.fields[name]
        before[name] = record.__data__.get(name) if isinstance(field, pw.ForeignKeyField) else getattr(record, name)
    return record_values(owner._meta.table_name, owner.get_id(),
                         {prefix + name: value for name, value in before.items()},
                         {prefix + name: value for name, value in plain.items()},
                         free_text={prefix + name for name in free_text_fields(model) & set(plain)}, user=user)


CORRECTION_REASON = "reason for the correction"


def correct(record: pw.Model, changes: dict, *, reason: str, seen: str | None, user: User | None = None,
            owner: pw.Model | None = None) -> list[FieldChange]:
    """Correct a mistake in a record that is otherwise only ever created (a contact, a
    check, a supervision note): call inside ``db.atomic()``. Refuses (``StaleEdit``) when
    the row is no longer the version the person's form was made from
    (``changes.record_version``), then sets ``changes`` with one guarded UPDATE whose
    condition is the old value of every changed field, and keeps one FieldChange per
    changed field plus the person's reason (free text: shown only to those who may
    read the record's notes). Returns the field rows (none: nothing changed)."""
    from .changes import STALE_EDIT, Refusal, StaleEdit, check_version, compare_and_set
    model = type(record)
    check_version(record, seen)
    fresh = model.get_or_none(model._meta.primary_key == record.get_id())
    if fresh is None:
        raise StaleEdit(STALE_EDIT)
    differing = {name: value for name, value in changes.items()
                 if _text(value) != _text(fresh.__data__.get(name) if isinstance(model._meta.fields[name], pw.ForeignKeyField)
                                          else getattr(fresh, name))}
    if not differing:
        return []
    try:
        compare_and_set(model, fresh.get_id(), {name: fresh.__data__.get(name) for name in differing},
                        refused=STALE_EDIT, **differing)
    except Refusal:
        raise StaleEdit(STALE_EDIT) from None
    target = Part(fresh, owner, model._meta.table_name) if owner is not None else fresh
    rows = record_update(target, differing, user=user)
    holder = owner if owner is not None else fresh
    record_values(holder._meta.table_name, holder.get_id(), {CORRECTION_REASON: ""}, {CORRECTION_REASON: reason.strip()},
                  free_text={CORRECTION_REASON}, user=user)
    return rows


@contextmanager
def tracked(*records: pw.Model | Part | None, user: User | None = None):
    """Field history of records changed with ``save()`` inside the block:

        with db.atomic(), history.tracked(referral, history.Part(meeting, referral, "first meeting"), user=by):
            ... change and save them ...

    A record that is new (not yet saved) when the block starts has no history: its
    creation is the audit row."""
    befores = []
    for record in records:
        row = record.record if isinstance(record, Part) else record
        if row is not None and row.get_id() is not None:
            befores.append((record, snapshot(row)))
    yield
    for record, before in befores:
        record_changes(before, record, user=user)


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10] if text else ""


# --- who may read which record's history: each area says, in its rights.py --------------
@dataclass(frozen=True)
class Readable:
    model: type[pw.Model]
    title: str
    may_read: Callable    # (user, record) -> bool: may see the record (and so its history)
    may_read_text: Callable  # (user, record) -> bool: may read its free-text notes
    back: Callable | None = None  # record -> url of the record's page

_READABLE: dict[str, Readable] = {}


def readable(record_type: str, model: type[pw.Model], title: str, *, may_read, may_read_text=None, back=None) -> None:
    _READABLE[record_type] = Readable(model, title, may_read, may_read_text or may_read, back)


def kind(record_type: str) -> Readable | None:
    """Who may read this kind of record's history (areas say so at start-up:
    ``peerapp.connect_areas()`` loads every area's rights module)."""
    return _READABLE.get(record_type)


def readable_record(user, record_type: str, record_id):
    """(kind, record) when ``user`` may read this record's history, else None. The
    aggregate-only viewer never reads a person's record, whatever an area says."""
    found = kind(record_type)
    if found is None or user is None or not getattr(user, "is_authenticated", False) or user.roles <= {"viewer"}:
        return None
    record = found.model.get_or_none(found.model._meta.primary_key == record_id)
    if record is None or not found.may_read(user, record):
        return None
    return found, record


def shown_value(change: FieldChange, text_allowed: bool, side: str) -> str:
    value = change.old_value if side == "old" else change.new_value
    if change.free_text and not text_allowed:
        return f"(text hidden; fingerprint {fingerprint(value)})" if value else "(empty)"
    return value
