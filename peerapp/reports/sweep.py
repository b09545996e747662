"""The figures sweep: works out, before anyone asks, the report figures readers open
first (this quarter, the default, and the last one, which commissioners report on:
every section, for all teams and for each team), and stores them for every server
process (``kept.py``). A viewer's "All teams" then opens in milliseconds instead of
~0.5 s at a Trust's size; any other period or team is worked out when first asked
and stored the same way. Old figures (over a day) are removed. ``make run`` runs it
beside the server; on an install, a timer runs it more often than
``REPORT_FIGURES_SECONDS`` (every 2 minutes for the default 5)."""
from __future__ import annotations

import datetime as dt
import time

from .. import clock
from ..db import db
from ..models import Team
from . import figures, periods
from .kept import figures_key, store
from .models import StoredReportFigures


SWEPT_PERIODS = 2  # the first choices of the period list: this quarter and the last


def run(today: dt.date | None = None) -> dict:
    """Work out and store this and last quarter's figures for all teams and each team."""
    today = today or clock.today()
    swept = periods.choices(today)[:SWEPT_PERIODS]
    teams = [tid for (tid,) in Team.select(Team.id).order_by(Team.name).tuples()]
    started, at = time.perf_counter(), clock.now()
    # Worked out first, then written in one transaction: the write lock is held for
    # milliseconds, not for the seconds the working out takes.
    worked_out = {figures_key(key, period.start, period.end, team_ids, today):
                  work_out(period.start, period.end, team_ids, today)
                  for period in swept
                  for team_ids in [teams, *([tid] for tid in teams)]
                  for key, work_out in figures.SECTIONS.items()}
    store(worked_out, at)
    with db.atomic():
        removed = (StoredReportFigures.delete()
                   .where(StoredReportFigures.worked_out_at < at - dt.timedelta(days=1)).execute())
    return {"periods": " and ".join(p.label for p in swept), "stored": len(worked_out), "removed": removed,
            "seconds": time.perf_counter() - started}
