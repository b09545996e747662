"""Everything held about one person, gathered from every area, and erased from every area.

Each area contributes through ``peerapp/<area>/rights.py``, listed in ``load_areas()``
(the rights area sits on top of every area), with any of:

    subject_data(person) -> list[Record]     what the area holds about them
    erase(person) -> list[(record_type, id)] blank personal fields, remove free text,
                                              keep the row (a tombstone: counts stay right)
    find(words) -> list[Found]               people matching a name (for the admin's search)
    past_retention(years, today) -> list[Found]  people whose records are past retention

building the shapes of ``peerapp.personal`` (Person, Record, Found), and may call
``peerapp.history.readable(...)`` to say who may read its records' history.
The house adds the person's login account and, for every record, who viewed or changed it.
"""
from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import asdict, dataclass
from typing import Callable

from peewee import JOIN, fn

from .. import clock
from ..audit import AuditEvent
from ..db import compact  # noqa: F401 (erasure's last step, kept here for its callers)
from ..history import FieldChange
from ..models import User
from ..personal import ERASED, Found, Person, Record, _text, account_of, record_of  # noqa: F401 (the areas' shapes)

@dataclass
class Answers:
    """Which area answers which question, each list in the order of the domain map."""
    subject_data: list[Callable]
    erase: list[Callable]
    name_of: list[Callable]
    names_of: list[Callable]
    find: list[Callable]
    past_retention: list[Callable]
    name_mentions: list[tuple]


_LOADED: list[Answers] = []


def load_areas() -> Answers:
    """Every area's answers, named one by one (never looked up: a new area with
    personal data adds its import and its functions here)."""
    if not _LOADED:
        from ..matching import rights as matching
        from ..outcomes import rights as outcomes
        from ..presence import rights as presence
        from ..readiness import rights as readiness
        from ..referrals import rights as referrals
        from ..training import rights as training
        from ..workforce import rights as workforce
        from ..wrap import rights as wrap
        _register_accounts()
        _LOADED.append(Answers(
            subject_data=[training.subject_data, workforce.subject_data, wrap.subject_data, referrals.subject_data,
                          outcomes.subject_data, presence.subject_data, readiness.subject_data],
            erase=[training.erase, workforce.erase, wrap.erase, referrals.erase, matching.erase, outcomes.erase,
                   presence.erase, readiness.erase],
            name_of=[training.name_of, referrals.name_of],
            names_of=[training.names_of, referrals.names_of],
            find=[training.find, referrals.find],
            past_retention=[workforce.past_retention, referrals.past_retention],
            name_mentions=referrals.NAME_MENTIONS + matching.NAME_MENTIONS + presence.NAME_MENTIONS,
        ))
    return _LOADED[0]


def _may_read_account(user, record) -> bool:
    return user.has_role("admin")


def _register_accounts() -> None:
    from flask import url_for

    from .. import history
    history.readable("user", User, "Sign-in account", may_read=_may_read_account,
                     back=lambda r: url_for("admin.user_edit", user_id=r.id))


def _account(user_id: int | None) -> list[Record]:
    if not user_id:
        return []
    user = User.get_or_none(User.id == user_id)
    if user is None:
        return []
    record = record_of("Sign-in account", user, "Sign-in account",
                       ["email", "name", "team", "active", "created_at", "password_changed_at"])
    record.fields["roles"] = ", ".join(sorted(user.roles))
    return [record]


def gather(person: Person) -> dict:
    """Everything held about the person: each area's records, the history of their
    changes, and every audit row naming one of those records (who viewed or changed it)."""
    records: list[Record] = []
    for subject_data in load_areas().subject_data:
        records += subject_data(person)
    records += _account(account_of(person))
    pairs = sorted({(r.record_type, str(r.record_id)) for r in records})
    views, changes = [], []
    # One query for the audit rows and one for the history of up to 500 records of any
    # types (an OR of "this type, these ids", each an index search), not two per type:
    # peewee spent more building 40 queries than SQLite answering them (issue #17).
    for start in range(0, len(pairs), 500):
        these = _of_records(pairs[start:start + 500])
        views.extend(AuditEvent.select(AuditEvent, User).join(
            User, on=(AuditEvent.user == User.id), join_type=JOIN.LEFT_OUTER).where(these(AuditEvent)))
        changes.extend(FieldChange.select().where(these(FieldChange)))
    # By record type, then oldest first, as the report has always listed them.
    views.sort(key=lambda e: (e.record_type, e.at, e.id))
    changes.sort(key=lambda c: (c.record_type, c.at, c.id))
    return {
        "person": asdict(person),
        "gathered_at": clock.now().isoformat(timespec="seconds"),
        "records": [asdict(r) for r in records],
        "history": [{"at": _text(c.at), "by": c.user_id, "record_type": c.record_type, "record_id": c.record_id,
                     "field": c.field, "old": c.old_value, "new": c.new_value} for c in changes],
        "audit": [{"at": _text(e.at), "by": e.user.name if e.user_id else "", "action": e.action,
                   "record_type": e.record_type, "record_id": e.record_id, "summary": e.summary} for e in views],
    }


def _of_records(pairs: list[tuple[str, str]]):
    """A condition on a table with ``record_type`` and ``record_id`` naming these records."""
    by_type: dict[str, list[str]] = {}
    for record_type, record_id in pairs:
        by_type.setdefault(record_type, []).append(record_id)

    def condition(model):
        terms = [(model.record_type == t) & model.record_id.in_(ids) for t, ids in by_type.items()]
        return functools.reduce(operator.or_, terms) if terms else (model.id == -1)
    return condition


def name_of(person: Person) -> str:
    if person.kind == "staff":
        user = User.get_or_none(User.id == person.id)
        return user.name if user else ""
    for namer in load_areas().name_of:
        found = namer(person)
        if found:
            return found
    return ""


def find(words: str) -> list[Found]:
    words = " ".join(words.split())
    if len(words) < 2:
        return []
    found = [Found(Person("staff", u.id), u.name, u.email)
             for u in User.select().where(User.name.contains(words) | (User.email == words.lower()))
             .order_by(User.name).limit(50)]
    for finder in load_areas().find:
        found += finder(words)
    return found


def past_retention(today: dt.date | None = None) -> list[Found]:
    from .models import ErasureRequest, RetentionRule
    today = today or clock.today()
    years = RetentionRule.years_for()
    erased = set(ErasureRequest.select(ErasureRequest.person_kind, ErasureRequest.person_id)
                 .where(ErasureRequest.state == "erased").tuples())
    found = []
    for past in load_areas().past_retention:
        found += [f for f in past(years, today) if (f.person.kind, f.person.id) not in erased]
    return found


def erase(person: Person) -> int:
    """Blank the person's personal fields and free text in every area, keep each row
    (counts in reports stay right), and blank the old and new values in the field
    history of every record held about them (who changed which field when stays, so
    the history still shows that changes were made). Call inside ``db.atomic()``;
    then ``compact()`` outside it."""
    held = [(r.record_type, str(r.record_id)) for subject_data in load_areas().subject_data
            for r in subject_data(person)]
    names = set()
    for names_of in load_areas().names_of:
        names.update(n for n in names_of(person) if len(n.strip()) >= 3)
    user_id = account_of(person)
    if user_id:
        names.add(User.select(User.name).where(User.id == user_id).scalar() or "")
    names = {n for n in names if len(n.strip()) >= 3 and n != ERASED}
    touched: list[tuple[str, object]] = []
    for erase_in_area in load_areas().erase:
        touched += erase_in_area(person)
    # Other people's records may mention them by name (a state change "Sam assigned
    # by hand", a matching explanation): the name is replaced there too.
    for model, column in load_areas().name_mentions:
        field = model._meta.fields[column]
        for name in names:
            model.update({field: fn.REPLACE(field, name, ERASED)}).where(field.contains(name)).execute()
    user_id = account_of(person)
    if user_id:
        User.update(name=ERASED, email=f"erased-{user_id}@erased.invalid", active=False, password_hash="",
                    must_change_password=False).where(User.id == user_id).execute()
        User.get_by_id(user_id).end_sessions()
        touched.append(("user", user_id))
    by_type: dict[str, set[str]] = {}
    for record_type, record_id in held + touched:
        by_type.setdefault(record_type, set()).add(str(record_id))
    for record_type, ids in by_type.items():
        ids = sorted(ids)
        for start in range(0, len(ids), 500):
            FieldChange.update(old_value=ERASED, new_value=ERASED).where(
                FieldChange.record_type == record_type, FieldChange.record_id.in_(ids[start:start + 500])).execute()
    # Others' histories may carry the name too (a meeting's attendees, a renamed account).
    for column in (FieldChange.old_value, FieldChange.new_value):
        for name in names:
            FieldChange.update({column: fn.REPLACE(column, name, ERASED)}).where(column.contains(name)).execute()
    return len(touched)
