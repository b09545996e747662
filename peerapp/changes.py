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
