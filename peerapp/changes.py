"""How an area changes data: one service function per thing a person does.

    def screen(referral_id, decision, *, by, expected_state):
        with db.atomic():
            compare_and_set(Referral, referral_id, {"state": expected_state},
                            state=decision, refused="Someone has just screened this referral.")
            ...other rows...
            audit("update", record_type="referral", record_id=referral_id, summary="screened")

A state change is one guarded UPDATE inside the transaction: the row changes
only if it still holds what the person saw, so two people can never both win.
Zero rows changed raises ``Refusal`` with a message for the person; the view
shows it with their typed text kept. A database constraint stands behind every
"only one" rule, so even a forgotten guard cannot store two truths.
"""
from __future__ import annotations

import peewee as pw


class Refusal(ValueError):
    """A domain rule said no; the message is shown to the person as it is."""


def compare_and_set(model: type[pw.Model], record_id, expected: dict, *, refused: str, **changes) -> None:
    """``UPDATE model SET changes WHERE id = record_id AND each expected field = value``.

    Call inside ``db.atomic()``. Raises :class:`Refusal` (``refused``) when no row
    matched, i.e. someone else changed the record first.
    """
    if not changes:
        raise ValueError("compare_and_set needs something to change")
    condition = model._meta.primary_key == record_id
    for name, value in expected.items():
        field = getattr(model, name)
        condition &= field.is_null() if value is None else (field == value)
    if model.update(**changes).where(condition).execute() != 1:
        raise Refusal(refused)


def unique_violation(error: Exception) -> bool:
    """Is this IntegrityError a broken UNIQUE constraint, on SQLite or PostgreSQL?"""
    text = str(error).lower()
    return "unique" in text or "duplicate key" in text


class StaleEdit(Refusal):
    """The record changed since the person opened the edit page: nothing was saved."""


STALE_EDIT = ("Someone else changed this while you were editing. Nothing was saved: your changes are "
              "below. Open the page in a new tab to see theirs, then save again.")


def record_version(record: pw.Model, *extra) -> str:
    """A digest of the record as it stands (and of ``extra`` values such as its
    child rows), carried in the edit form's hidden ``version`` field."""
    import hashlib
    fields = [str(getattr(record, f.name)) for f in record._meta.sorted_fields]
    fields += [str(value) for value in extra]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:32]


def check_version(record: pw.Model, seen: str | None, extra=lambda record: ()) -> None:
    """Inside the saving transaction: refuse (``StaleEdit``) when the row as it is
    now differs from the version the person's form was made from.

    The row is read with :func:`hold`, so on PostgreSQL a second save of the same
    record waits here until the first commits, then sees its version and is
    refused: compare and set, not read then compare."""
    if not seen:
        return  # a post made without the edit page (a script, a page from before versions): nothing to compare
    fresh = hold(type(record), record._pk)
    if fresh is None or record_version(fresh, *extra(fresh)) != seen:
        raise StaleEdit(STALE_EDIT)


def hold(model: type[pw.Model], record_id):
    """Inside ``db.atomic()``: the row as it is now, held until commit, or None.

    For a rule that reads other rows before it writes (a cohort's free places, an
    induction's ticks): on PostgreSQL ``SELECT ... FOR UPDATE`` makes a second
    transaction wait here until the first commits; SQLite's IMMEDIATE transaction
    already holds the whole database, so a plain read does.
    """
    from .db import is_sqlite

    query = model.select().where(model._meta.primary_key == record_id)
    return (query if is_sqlite() else query.for_update()).get_or_none()
