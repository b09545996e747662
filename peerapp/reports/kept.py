"""Figures kept for a few minutes, so a report read again is not worked out again.

Across the whole Trust a section walks every contact and referral of the period
(about 1 s for the viewer's "All teams" at 40 teams); the figures are counts for
monitoring, not a case record, and a reader is told when they were worked out.
Each server process keeps its own, at most ``SIZE`` sections, for
``REPORT_FIGURES_SECONDS`` (0: not kept). The key is the section, the period's
dates, the teams and the day: whose figures they are is decided before (who may
read which teams), never by what is kept.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Callable

from .. import clock
from ..report_tables import Section

SIZE = 256


class KeptFigures:
    def __init__(self, size: int = SIZE):
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple, tuple[dt.datetime, Section]] = OrderedDict()
        self._size = size

    def get(self, key: tuple, seconds: int, work_out: Callable[[], Section]) -> tuple[Section, dt.datetime]:
        """(section, when it was worked out): the kept one if younger than ``seconds``."""
        now = clock.now()
        with self._lock:
            found = self._kept.get(key)
            # A clock set back counts as stale: figures never look newer than they are.
            if found and dt.timedelta(0) <= now - found[0] < dt.timedelta(seconds=seconds):
                self._kept.move_to_end(key)
                return found[1], found[0]
        section = work_out()  # outside the lock: another reader is not held up meanwhile
        with self._lock:
            self._kept[key] = (now, section)
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return section, now
