"""Change over time, for one person and for a team, as plain numbers. No Flask.

Paired change is each person's first completed score against their latest (the
measure's rule from the latest response's version). ``impact(start, end,
team_ids)`` answers the Monitoring page's Impact section (raw counts; the caller
applies disclosure control), and ``period_figures`` feeds the outcomes report.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from ..disclosure import small_number_limit
from ..report_tables import RATE, Section, Table
from . import scoring
from .models import BASELINE, COMPLETED, END, PEER, REVIEW, SERVICE_USER, Measure, MeasureResponse, MeasureVersion

CHANGE_BINS = (-99, -6, -3, 0, 3, 6, 99)  # edges of the distribution-of-change histogram


@dataclass
class Pair:
    person: int              # referral id (service users) or user id (peers)
    first: MeasureResponse
    latest: MeasureResponse
    category: str

    @property
    def change(self) -> float:
        return self.latest.total - self.first.total


@dataclass
class Figures:
    measure: Measure
    subject: str
    baseline: int = 0
    review: int = 0
    end: int = 0
    recorded: int = 0           # every occasion recorded in the period, whatever its status
    completed: int = 0
    not_completed: int = 0      # declined, could not complete, not done
    changes: list[float] = field(default_factory=list)
    categories: dict = field(default_factory=lambda: {c: 0 for c in scoring.CATEGORIES})
    mean_ci: tuple | None = None
    distribution: list[tuple[str, int]] = field(default_factory=list)

    @property
    def paired(self) -> int:
        return len(self.changes)


def person_key(response: MeasureResponse) -> int:
    return response.referral_id if response.subject == SERVICE_USER else response.peer_id


def pairs(responses: list[MeasureResponse]) -> list[Pair]:
    """First vs latest completed score per person, for people with two or more."""
    by_person: dict[int, list[MeasureResponse]] = defaultdict(list)
    for response in responses:
        if response.scored:
            by_person[person_key(response)].append(response)
    found = []
    for person, rows in by_person.items():
        rows.sort(key=lambda r: (r.taken_on, r.id))
        if len(rows) >= 2:
            first, latest = rows[0], rows[-1]
            category = scoring.classify(latest.version.definition, first.total, latest.total)
            found.append(Pair(person, first, latest, category))
    return found


def _responses(measure, subject: str, team_ids, until: dt.date):
    """The responses as ``period_figures`` and ``pairs`` read them: only the columns
    they use, and each of the measure's versions read once and shared by its rows (so
    its definition is parsed once, not once per person with a pair)."""
    R = MeasureResponse
    query = (R.select(R.id, R.version, R.subject, R.referral, R.peer, R.occasion, R.taken_on, R.status, R.total)
             .where(R.measure == measure, R.subject == subject, R.taken_on <= until))
    if team_ids is not None:
        query = query.where(R.team_id.in_(list(team_ids) or [0]))
    rows = list(query)
    versions = {v.id: v for v in MeasureVersion.select().where(MeasureVersion.measure == measure)}
    for row in rows:
        row.version = versions[row.version_id]
    return rows


def _bin_label(low: int, high: int) -> str:
    if low == -99:
        return f"{high} or less"
    if high == 99:
        return f"more than {low}"
    return f"{low + 1} to {high}" if low + 1 != high else str(high)


def period_figures(measure, subject: str, start: dt.date, end: dt.date, team_ids) -> Figures:
    """Counts for one measure and one kind of person, for people in ``team_ids``
    (None: every team). Pairs count people whose latest score falls in the period."""
    rows = _responses(measure, subject, team_ids, end)
    figures = Figures(measure, subject)
    for r in rows:
        if r.taken_on < start:
            continue
        figures.recorded += 1
        if r.status == COMPLETED:
            figures.completed += 1
            figures.baseline += r.occasion == BASELINE
            figures.review += r.occasion == REVIEW
            figures.end += r.occasion == END
        else:
            figures.not_completed += 1
    for pair in pairs(rows):
        if pair.latest.taken_on >= start:
            figures.changes.append(pair.change)
            figures.categories[pair.category] += 1
    figures.mean_ci = scoring.mean_with_ci(figures.changes)
    bins = []
    for low, high in zip(CHANGE_BINS, CHANGE_BINS[1:]):
        bins.append((_bin_label(low, high), sum(1 for c in figures.changes if low < c <= high)))
    figures.distribution = bins
    return figures


def measures_in_use(subject: str | None = None) -> list[Measure]:
    query = Measure.select().where(Measure.id.in_(
        MeasureResponse.select(MeasureResponse.measure).where(
            True if subject is None else (MeasureResponse.subject == subject))))
    return list(query.order_by(Measure.name))


def impact(period_start: dt.date, period_end: dt.date, team_ids, today: dt.date | None = None):
    """The Monitoring page's Impact section: raw counts (the caller suppresses)."""
    limit = small_number_limit()
    tables = []
    for measure in measures_in_use():
        for subject, who in ((SERVICE_USER, "Service users"), (PEER, "Peer workers")):
            f = period_figures(measure, subject, period_start, period_end, team_ids)
            if not f.recorded and not f.paired:
                continue
            key = f"{measure.key}-{'su' if subject == SERVICE_USER else 'peer'}"
            note = ""
            if f.mean_ci and f.paired > limit:
                mean, low, high = f.mean_ci
                note = f"Mean change {mean:+.1f} (95% CI {low:+.1f} to {high:+.1f}) over {f.paired} people."
            tables.append(Table(f"{key}-measured", f"{who}: {measure.name}, measures taken", ["Measures"],
                                [("Baseline", [f.baseline]), ("Review", [f.review]), ("End", [f.end]),
                                 ("Declined, could not complete or not done", [f.not_completed])]))
            tables.append(Table(f"{key}-change", f"{who}: {measure.name}, change from first to latest", ["People"],
                                [(c[:1].upper() + c[1:], [f.categories[c]]) for c in scoring.CATEGORIES]
                                + [("People with a first and a latest score", [f.paired])],
                                total_row=True, note=note))
            tables.append(Table(f"{key}-completion", f"{who}: {measure.name}, completion", ["Rate"],
                                [("Completed, of measures recorded", [(f.completed, f.recorded)])], kind=RATE))
    return Section("impact", "Impact", "Do people feel more hope, agency and opportunity?", tables,
                   note="" if tables else "No outcome measures were recorded in this period.")
