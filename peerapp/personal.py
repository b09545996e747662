"""The shapes every area uses to say what it holds about a person (the house's half of
subject access and erasure; ``peerapp.rights.registry`` gathers them from every area).

They live in the house, not in the rights area, because every area's ``rights.py``
builds them and the rights area sits on top of every area.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .db import read_memo
from .providers import Question

ERASED = "Erased"


@dataclass(frozen=True)
class Person:
    kind: str  # service_user | peer | staff
    id: int


@dataclass
class Record:
    area: str
    record_type: str  # the table name, as the audit log and history name it
    record_id: int | str
    title: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Found:
    person: Person
    name: str
    detail: str = ""


# A peer is known by their candidate record (training); their sign-in account is
# on it. Training answers (peerapp.connect_areas()).
peer_account = Question("peer_account(candidate_id) -> user id or None", "training")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def record_of(area: str, row, title: str, names: list[str] | None = None) -> Record:
    """A Record from a model row: every field (foreign keys as ids), or the ``names`` given."""
    fields = {}
    for f in row._meta.sorted_fields:
        if names is not None and f.name not in names:
            continue
        value = row.__data__.get(f.name)
        fields[f.name] = _text(value)
    return Record(area, row._meta.table_name, row.get_id(), title, fields)


def account_of(person: Person) -> int | None:
    """The login account that belongs to this person, if any."""
    if person.kind == "staff":
        return person.id
    if person.kind == "peer":
        # Every area asks while one page gathers a person's records: asked once.
        memo = read_memo("peer_account")
        if memo is None:
            return peer_account(person.id)
        if person.id not in memo:
            memo[person.id] = peer_account(person.id)
        return memo[person.id]
    return None
