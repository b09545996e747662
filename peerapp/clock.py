"""One place that says what time it is, so tests can freeze or move it.

Times are stored in UTC; pages show Europe/London (BST changes twice a year).
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

LONDON = ZoneInfo("Europe/London")


def now() -> dt.datetime:
    """Naive UTC datetime (how the database stores it)."""
    if has_app_context():
        frozen = current_app.config.get("CLOCK")
        if frozen is not None:
            return frozen()
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def today() -> dt.date:
    """Today's date in London: a check that expires 'today' means the team's today."""
    return local(now()).date()


def local(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(LONDON)
