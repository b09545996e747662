"""Monitoring pages: counts only, for managers (their team), viewers (every team)
and facilitators (training, every team). Each figure is a chart drawn on the server
with the same numbers in a table beside it, small numbers suppressed, and a CSV."""
from __future__ import annotations

import csv
import io
from urllib.parse import quote_plus

import click
from flask import Blueprint, Response, abort, current_app, g, request, url_for
from flask_login import current_user

from .. import clock
from ..access import allow, recent_login
from ..audit import audit
from ..cli import run_repeatedly
from ..db import db
from ..models import Team
from ..navigation import home_panel, nav_item
from ..pages import render
from . import figures, periods
from .forms import ReportFilterForm
from .kept import KeptFigures, figures_key
from .shown import shown

bp = Blueprint("reports", __name__, url_prefix="/reports", cli_group=None)

READERS = ("viewer", "manager")
# Who may read which section: facilitators run training for every team.
SECTION_ROLES = {key: READERS for key in figures.SECTIONS}
SECTION_ROLES["training"] = (*READERS, "facilitator")

nav_item("Reports", "reports.index", order=80, hint="How peer support is doing: counts only")
home_panel("reports/_home_panel.html", "reports.index", order=80)


def _csv_cell(value) -> str:
    """Spreadsheets run cells that start with = + - @ (or tab/CR) as formulas."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _sections_for(user) -> list[str]:
    return [key for key, roles in SECTION_ROLES.items() if user.has_role(*roles)]


def _scope():
    """(filter form, period, team ids, team label, problem) from the query string.
    Managers see their own team only; viewers and facilitators every team or one."""
    today = clock.today()
    form = ReportFilterForm(request.args)
    choices = periods.choices(today)
    form.period.choices = [(p.key, p.label) for p in choices]
    problems = []
    period = periods.find(request.args.get("period"), today) if request.args.get("period") else choices[0]
    if period is None:
        problems.append("Choose a period from the list.")
        period = choices[0]
    form.period.data = period.key
    if current_user.has_role("viewer", "facilitator"):
        teams = list(Team.select(Team.id, Team.name).order_by(Team.name).tuples())
        form.team.choices = [("all", "All teams")] + [(str(tid), name) for tid, name in teams]
        wanted = request.args.get("team", "all")
        chosen = next(((tid, name) for tid, name in teams if str(tid) == wanted), None)
        if wanted != "all" and chosen is None:
            problems.append("Choose a team from the list.")
        team_ids = [chosen[0]] if chosen else [tid for tid, _ in teams]
        team_label = chosen[1] if chosen else "All teams"
        form.team.data = str(chosen[0]) if chosen else "all"
    else:
        team = current_user.team
        team_ids = [team.id] if team else []
        team_label = team.name if team else "No team"
        form.team.choices = [(str(team.id), team.name)] if team else []
        form.team.data = str(team.id) if team else None
    return form, period, team_ids, team_label, problems


def _build(keys: list[str], period, team_ids):
    """[(section, shown tables)] and when the oldest of them was worked out."""
    limit = current_app.config["SMALL_NUMBER_LIMIT"]
    seconds = current_app.config["REPORT_FIGURES_SECONDS"]
    kept = current_app.extensions.setdefault("report_figures", KeptFigures(shared=True))
    today = clock.today()
    built, oldest = [], None
    for key in keys:
        def work_out(key=key):
            return figures.SECTIONS[key](period.start, period.end, team_ids, today)
        if seconds:
            section, at = kept.get(figures_key(key, period.start, period.end, team_ids, today), seconds, work_out)
        else:
            section, at = work_out(), clock.now()
        oldest = at if oldest is None else min(oldest, at)
        built.append((section, [shown(t, limit) for t in section.tables]))
    return built, oldest


def _page(keys: list[str], single: str | None = None):
    form, period, team_ids, team_label, problems = _scope()
    sections, worked_out = _build(keys, period, team_ids)
    return render("reports/index.html", form=form, period=period, team_label=team_label, problems=problems,
                  sections=sections, single=single, limit=current_app.config["SMALL_NUMBER_LIMIT"],
                  allowed=_sections_for(current_user), query=_query(form), worked_out=worked_out,
                  kept_minutes=-(-current_app.config["REPORT_FIGURES_SECONDS"] // 60),  # rounded up: 30 s reads "up to 1 minute"
                  status=422 if problems else 200)


def _query(form) -> dict:
    return {"period": form.period.data, "team": form.team.data} if form.team.data else {"period": form.period.data}


@bp.get("/")
@allow(*READERS, "facilitator")
def index():
    """Viewers, managers and facilitators: every section they may read on one page
    (a facilitator sees training only). Counts only; small numbers suppressed."""
    return _page(_sections_for(current_user))


def _section_view(key: str):
    def view():
        return _page([key], single=key)
    view.__name__ = key
    view.__doc__ = f"{figures.TITLES[key]} figures for the period and team chosen (counts only)."
    return allow(*SECTION_ROLES[key])(view)


def _csv_view(key: str):
    def view():
        """One table of the section as CSV (UTF-8 with a BOM, formulas escaped), as shown
        on the page: suppressed counts stay suppressed. Password asked again; audited."""
        form, period, team_ids, team_label, problems = _scope()
        if problems:
            abort(404)
        built, worked_out = _build([key], period, team_ids)
        section, tables = built[0]
        wanted = request.args.get("table")
        chosen = [t for t in tables if wanted in (None, t.key)]
        if not chosen:
            abort(404)
        out = io.StringIO()
        writer = csv.writer(out)
        for table in chosen:
            writer.writerow([_csv_cell(f"{section.title}: {table.title}"), _csv_cell(team_label),
                             _csv_cell(period.label),
                             _csv_cell(f"worked out {clock.local(worked_out):%-d %b %Y, %H:%M}")])
            writer.writerow([_csv_cell(c) for c in ["", *table.columns]])
            for label, cells in table.rows:
                writer.writerow([_csv_cell(v) for v in [label, *cells]])
            writer.writerow([])
        with db.atomic():
            audit("export", record_type="report", record_id=key,
                  summary=f"{key} report exported as CSV: {period.key}, {len(team_ids)} team(s)"
                          + (f", table {wanted}" if wanted else ""))
        name = f"{key}-{wanted + '-' if wanted else ''}{period.key}.csv"
        return Response(("\ufeff" + out.getvalue()).encode("utf-8"), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    view.__name__ = f"{key}_csv"
    return recent_login(allow(*SECTION_ROLES[key])(view), also_get=True)


for _key in figures.SECTIONS:
    bp.add_url_rule(f"/{_key}", endpoint=_key, view_func=_section_view(_key), methods=["GET"])
    bp.add_url_rule(f"/{_key}.csv", endpoint=f"{_key}_csv", view_func=_csv_view(_key), methods=["GET"])


_TABLE_MARK = "peerapp-table-key"


@bp.app_template_global()
def report_csv_url(section_key: str, table_key: str, query: dict) -> str:
    """``url_for(f"reports.{section_key}_csv", table=table_key, **query)``, with url_for
    asked once per section and request (~0.2 ms each, for ~25 tables a page) and the
    table's key put in its place, quoted as werkzeug quotes query values."""
    urls = g.setdefault("report_csv_urls", {})
    key = (section_key, tuple(query.items()))
    if key not in urls:
        urls[key] = url_for(f"reports.{section_key}_csv", table=_TABLE_MARK, **query)
    return urls[key].replace(_TABLE_MARK, quote_plus(table_key, safe="!$'()*,/:;?@"), 1)


# --- the figures sweep -------------------------------------------------------------------

@bp.cli.command("report-figures")
@click.option("--every", type=click.IntRange(0, 3600), default=0,
              help="Repeat every this many seconds until stopped (make run uses 120). 0: run once.")
def figures_command(every: int):
    """Work out this and last quarter's report figures for all teams and each team,
    before anyone asks, and store them for every server process. Run it more often than
    REPORT_FIGURES_SECONDS (cron or a systemd timer every 2 minutes for the default 5)."""
    from . import sweep

    def once() -> str:
        done = sweep.run()
        return (f"{done['stored']} section(s) of {done['periods']} worked out in {done['seconds']:.1f} s; "
                f"{done['removed']} old removed.")
    run_repeatedly(every, "report figures", once)
