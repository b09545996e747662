"""Figures kept for a few minutes, so a report read again is not worked out again.

Across the whole Trust a section walks every contact and referral of the period
(about 0.5 s for the viewer's "All teams" at 40 teams); the figures are counts for
monitoring, not a case record, and a reader is told when they were worked out.
Kept for ``REPORT_FIGURES_SECONDS`` (0: not kept), in two places: each server
process keeps the last ``SIZE`` sections it showed, and the database keeps every
section worked out (``StoredReportFigures``), so the other processes, and one just
restarted, show them too. The figures sweep (``flask report-figures``, ``sweep.py``)
works out the ones readers open first before anyone asks. The key is the section,
the period's dates, the teams and the day: whose figures they are is decided before
(who may read which teams), never by what is kept.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from decimal import Decimal
from typing import Callable

import peewee as pw

from .. import clock
from ..db import db
from ..report_tables import Section, Table

SIZE = 256


def figures_key(section: str, start: dt.date, end: dt.date, team_ids, today: dt.date) -> str:
    """One section's figures for a period, teams (in any order) and day, as a short key."""
    teams = hashlib.sha256(",".join(map(str, sorted(team_ids))).encode()).hexdigest()[:24]
    return f"{section}|{start:%Y%m%d}|{end:%Y%m%d}|{today:%Y%m%d}|{teams}"


def encode(section: Section) -> str:
    # PostgreSQL's SUM can give a Decimal; every figure is a count, a rate's parts or days.
    return json.dumps(dataclasses.asdict(section), separators=(",", ":"),
                      default=lambda v: float(v) if isinstance(v, Decimal) else str(v))


def decode(text: str) -> Section:
    found = json.loads(text)
    tables = [Table(**{**table, "rows": [(label, [tuple(v) if isinstance(v, list) else v for v in values])
                                         for label, values in table["rows"]]})
              for table in found.pop("tables")]
    return Section(**found, tables=tables)


def _fresh(at: dt.datetime, now: dt.datetime, seconds: int) -> bool:
    # A clock set back counts as stale: figures never look newer than they are.
    return dt.timedelta(0) <= now - at < dt.timedelta(seconds=seconds)


def store(sections: dict[str, Section], at: dt.datetime) -> None:
    """Keep these figures (by key) in the database for every process, in one short
    write. Figures worked out earlier never replace later ones: the sweep takes
    seconds, and a page may have stored a section meanwhile. Figures dated after
    now (a clock set back) are replaced, or they would be neither read nor removed."""
    from .models import StoredReportFigures as S
    rows = [{"key": key, "worked_out_at": at, "figures": encode(section)} for key, section in sections.items()]
    newer = (S.worked_out_at < pw.EXCLUDED.worked_out_at) | (S.worked_out_at > clock.now())
    with db.atomic():
        for start in range(0, len(rows), 100):  # 100 rows, 300 parameters a statement
            (S.insert_many(rows[start:start + 100])
             .on_conflict(conflict_target=[S.key], preserve=[S.worked_out_at, S.figures], where=newer).execute())


def stored(key: str, now: dt.datetime, seconds: int) -> tuple[Section, dt.datetime] | None:
    from .models import StoredReportFigures as S
    row = S.select(S.worked_out_at, S.figures).where(S.key == key).tuples().first()
    if row is None or not _fresh(row[0], now, seconds):
        return None
    try:
        return decode(row[1]), row[0]
    except (TypeError, ValueError, KeyError):  # stored by an older version of the tables: work out again
        return None


class KeptFigures:
    def __init__(self, size: int = SIZE, shared: bool = False):
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, tuple[dt.datetime, Section]] = OrderedDict()
        self._size = size
        self._shared = shared  # also read and write the database's stored figures

    def get(self, key: str, seconds: int, work_out: Callable[[], Section]) -> tuple[Section, dt.datetime]:
        """(section, when it was worked out): the kept one if younger than ``seconds``."""
        now = clock.now()
        with self._lock:
            found = self._kept.get(key)
            if found and _fresh(found[0], now, seconds):
                self._kept.move_to_end(key)
                return found[1], found[0]
        found = stored(key, now, seconds) if self._shared else None
        if found:
            section, now = found
        else:
            section = work_out()  # outside the lock: another reader is not held up meanwhile
            if self._shared:
                store({key: section}, now)
        with self._lock:
            self._kept[key] = (now, section)
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return section, now
