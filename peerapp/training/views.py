"""Training rounds: cohorts, the register, nominations, completion, certificates.

Facilitators run every cohort (each can open any cohort: they cover for each
other). Peer leads and managers nominate candidates and see their own team's
candidates' training records. Viewers see counts only. Nobody else has access.
"""
from __future__ import annotations

import csv
import io

import peewee as pw
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import clock, history
from ..access import allow, recent_login
from ..audit import audit
from ..changes import Refusal
from ..db import db
from ..disclosure import disclose
from ..forms import ActionForm, int_arg
from ..navigation import home_panel, nav_item
from ..changes import StaleEdit, check_version, record_version, unique_violation
from ..pages import is_fragment_request, render, render_form, render_stale
from ..paging import paged
from . import services
from .completion import STATUSES
from .forms import (CohortForm, CurriculumForm, EnrolForm, EquivalentForm, MarkForm, NominationForm,
                    WithdrawForm)
from .models import (CAUGHT_UP, PLACE, WAITING, WITHDRAWN, Attendance, Candidate, Cohort,
                     CohortFacilitator, CohortSession, Curriculum, Enrolment,
                     EquivalentTraining)

bp = Blueprint("training", __name__, url_prefix="/training")
nav_item("Training", "training.cohorts", order=20, hint="Cohorts, registers and completion")
nav_item("Training candidates", "training.candidates", order=21,
         hint="Nominate people for training and see who has completed it")
home_panel("training/_home_panel.html", "training.cohorts", order=20)
home_panel("training/_team_panel.html", "training.nominate", order=21)

FACILITATOR = ("facilitator",)
TEAM_STAFF = ("peer_lead", "manager")
LARGEST_ID = 2**63 - 1  # SQLite's integers stop here; a bigger id in a URL would be a 500


@bp.url_value_preprocessor
def refuse_impossible_ids(endpoint, values):
    """No record has an id SQLite cannot even hold: answer 404, as for any missing record."""
    if any(isinstance(v, int) and not 0 <= v <= LARGEST_ID for v in (values or {}).values()):
        abort(404)


# --- lookups that answer 404 for what is not there or not yours -------------
def _cohort_or_404(cohort_id: int) -> Cohort:
    return Cohort.get_or_none(Cohort.id == cohort_id) or abort(404)


def _session_or_404(session_id: int) -> CohortSession:
    return (CohortSession.select(CohortSession, Cohort).join(Cohort)
            .where(CohortSession.id == session_id).first()) or abort(404)


def _enrolment_or_404(enrolment_id: int) -> Enrolment:
    return (Enrolment.select(Enrolment, Candidate, Cohort).join(Candidate).switch(Enrolment).join(Cohort)
            .where(Enrolment.id == enrolment_id).first()) or abort(404)


def _candidate_or_404(candidate_id: int) -> Candidate:
    """Facilitators: anyone. Peer leads and managers: their own team's candidates only."""
    return Candidate.visible_to(current_user).where(Candidate.id == candidate_id).first() or abort(404)


# --- the facilitator's home panel and the team panel --------------------------
@bp.app_context_processor
def training_context():
    def facilitator_home():
        today = clock.today()
        mine = [row for row in Cohort.overview(Cohort.facilitated_by(current_user), today)
                if not (row["state"] == "finished" and (today - row["last"]).days > 60)]
        upcoming = [m for m in mine if m["next"] is not None]
        upcoming.sort(key=lambda m: m["next"].held_on)
        return {"cohorts": mine, "next": upcoming[0] if upcoming else None, "today": today}

    def team_home():
        team = current_user.team
        if team is None:
            return None
        candidates = [cid for cid, in Candidate.select(Candidate.id).where(Candidate.team == team).tuples()]
        done = Candidate.completion_dates(candidates)
        return {"team": team, "nominated": len(candidates), "completed": len(done)}

    return {"training_home": facilitator_home, "training_team_home": team_home}


# --- cohorts ----------------------------------------------------------------
@bp.get("/cohorts")
@allow(*FACILITATOR)
def cohorts():
    """Facilitators: every cohort, newest first, with places filled and completions."""
    today = clock.today()
    # Paged like every list: the Trust's cohorts grow every year, and each row's
    # completions come from the register of every place.
    page = paged(Cohort.listed(), Cohort.created_at.desc(), Cohort.id.desc())
    rows = Cohort.overview(page.rows, today, user=current_user.id)
    return render_template("training/cohorts.html", rows=rows, page=page)


def _save_cohort(cohort: Cohort | None, form: CohortForm) -> Cohort:
    return services.save_cohort(cohort, name=form.name.data, venue=form.venue.data or "", places=form.places.data,
                                facilitators=list(form.facilitators.data), dates=form.dates(), by=current_user)


@bp.route("/cohorts/new", methods=["GET", "POST"])
@allow(*FACILITATOR)
def cohort_new():
    """Facilitators: set up a cohort with its places, facilitators and six dated sessions."""
    form = CohortForm(titles=Curriculum.current().titles())
    if request.method == "GET":
        form.facilitators.data = [current_user.id]
    if form.validate_on_submit():
        try:
            with db.atomic():
                cohort = _save_cohort(None, form)
        except pw.IntegrityError:
            form.name.errors.append("There is already a cohort with this name")
        else:
            flash(f"{cohort.name} set up. Offer places to candidates below.", "success")
            return redirect(url_for("training.cohort", cohort_id=cohort.id))
    return render_form("training/cohort_form.html", form, cohort=None)


@bp.route("/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@allow(*FACILITATOR)
def cohort_edit(cohort_id: int):
    """Facilitators: change a cohort's name, venue, places, facilitators or session dates."""
    cohort = _cohort_or_404(cohort_id)
    form = CohortForm(obj=cohort, cohort=cohort, titles=Curriculum.current().titles())
    if request.method == "GET":
        form.facilitators.data = [f.user_id for f in cohort.facilitator_rows]
        for session in cohort.sessions():
            form[f"session_{session.number}"].data = session.held_on
        form.version.data = record_version(cohort, *_cohort_extra(cohort))
    if form.validate_on_submit():
        try:
            with db.atomic():
                check_version(cohort, form.version.data, _cohort_extra)
                _save_cohort(cohort, form)
        except StaleEdit:
            cohort = _cohort_or_404(cohort_id)
            form.version.data = record_version(cohort, *_cohort_extra(cohort))
            return render_stale("training/cohort_form.html", form, cohort=cohort)
        except pw.IntegrityError:
            form.name.errors.append("There is already a cohort with this name")
        else:
            flash("Cohort saved.", "success")
            return redirect(url_for("training.cohort", cohort_id=cohort.id))
    return render_form("training/cohort_form.html", form, cohort=cohort)


def _cohort_extra(cohort: Cohort) -> tuple:
    """What the cohort form edits besides the row: its facilitators and session dates."""
    facilitators = sorted(f.user_id for f in CohortFacilitator.select().where(CohortFacilitator.cohort == cohort))
    sessions = sorted((s.number, str(s.held_on)) for s in CohortSession.select().where(CohortSession.cohort == cohort))
    return (facilitators, sessions)


def _cohort_page(cohort: Cohort, enrol_form: EnrolForm | None = None, status: int = 200):
    today = clock.today()
    sessions = list(cohort.sessions())
    curriculum = Curriculum.current()
    titles, rule = curriculum.titles(), curriculum.rule()
    with_places = list(cohort.with_places())
    completions = cohort.completions()
    enrol_form = (enrol_form or EnrolForm(cohort=cohort, formdata=None)).offering(services.offered_list(cohort, rule))
    return render("training/cohort.html", status=status, cohort=cohort, sessions=sessions, titles=titles,
                  with_places=with_places, waiting=list(cohort.waiting_list()), withdrawn=list(cohort.withdrawn()),
                  grid=cohort.grid(), completions=completions, enrol_form=enrol_form, today=today,
                  state=cohort.state(today), facilitators=list(cohort.facilitators()),
                  places_left=cohort.places_left(), rule=rule, STATUSES=STATUSES)


@bp.get("/cohorts/<int:cohort_id>")
@allow(*FACILITATOR)
def cohort(cohort_id: int):
    """Facilitators: a cohort's sessions, attendance grid (candidates x sessions),
    completion, waiting list and withdrawals."""
    cohort = _cohort_or_404(cohort_id)
    audit("view", cohort, summary="cohort attendance grid viewed")
    return _cohort_page(cohort)


@bp.post("/cohorts/<int:cohort_id>/enrol")
@allow(*FACILITATOR)
def enrol(cohort_id: int):
    """Facilitators: offer a candidate a place, or the waiting list when the cohort is full."""
    cohort = _cohort_or_404(cohort_id)
    form = EnrolForm(cohort=cohort)
    if not form.validate_on_submit():
        return _cohort_page(cohort, form, status=422)
    candidate = form.candidate.candidate
    try:
        enrolment = services.offer(cohort, candidate, catch_up=form.catch_up.data)
    except Refusal as refusal:
        form.candidate.errors.append(str(refusal))
        return _cohort_page(cohort, form, status=422)
    status = enrolment.status
    if status == PLACE:
        flash(f"{candidate.name} has been offered a {'catch-up ' if enrolment.catch_up else ''}place.", "success")
    elif cohort.places_left() > 0:
        flash(f"Others are already waiting: {candidate.name} is on the waiting list in nomination order. "
              "Offer the free place to the next in line.", "info")
    else:
        flash(f"The cohort is full: {candidate.name} is on the waiting list.", "info")
    return redirect(url_for("training.cohort", cohort_id=cohort.id))


@bp.post("/cohorts/<int:cohort_id>/offer-next")
@allow(*FACILITATOR)
def offer_next(cohort_id: int):
    """Facilitators: offer a free place to whoever is first on the waiting list."""
    cohort = _cohort_or_404(cohort_id)
    if ActionForm().validate_on_submit():
        try:
            first = services.offer_next(cohort, seen_first=int_arg("first", None, source=request.form))
        except Refusal as refusal:
            flash(str(refusal), "error")
        else:
            flash(f"{first.candidate.name} has been offered the free place.", "success")
    return redirect(url_for("training.cohort", cohort_id=cohort.id))


@bp.route("/enrolments/<int:enrolment_id>/withdraw", methods=["GET", "POST"])
@allow(*FACILITATOR)
def withdraw(enrolment_id: int):
    """Facilitators: withdraw someone from a cohort (or its waiting list), with a reason.
    Their register entries are kept."""
    enrolment = _enrolment_or_404(enrolment_id)
    if enrolment.status == WITHDRAWN:
        flash(f"{enrolment.candidate.name} has already withdrawn.", "info")
        return redirect(url_for("training.cohort", cohort_id=enrolment.cohort_id))
    form = WithdrawForm()
    if request.method == "GET":
        with db.atomic():
            audit("view", enrolment, summary="place viewed to withdraw")
    if form.validate_on_submit():
        try:
            freed = services.withdraw(enrolment, reason=form.reason.data, by=current_user)
        except Refusal as refusal:
            form.reason.errors = list(form.reason.errors) + [str(refusal)]  # the reason typed is kept
            return render_form("training/withdraw.html", form, enrolment=enrolment)
        message = f"{enrolment.candidate.name} has withdrawn."
        if freed and enrolment.cohort.waiting_list().exists():
            message += " A place is free: you can offer it to the next person on the waiting list."
        flash(message, "success")
        return redirect(url_for("training.cohort", cohort_id=enrolment.cohort_id))
    return render_form("training/withdraw.html", form, enrolment=enrolment)


def _csv_cell(value) -> str:
    """Spreadsheets run cells that start with = + - @ (or tab/CR) as formulas."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/cohorts/<int:cohort_id>/attendance.csv")
@allow(*FACILITATOR)
@recent_login(also_get=True)
def cohort_csv(cohort_id: int):
    """Facilitators: the attendance grid as a CSV file (audited: it carries names)."""
    cohort = _cohort_or_404(cohort_id)
    sessions = list(cohort.sessions())
    grid = cohort.grid()
    completions = cohort.completions()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Name", "Preferred name", "Team", "Place"]
                    + [f"Session {s.number} ({s.held_on.isoformat()})" for s in sessions] + ["Completed on"])
    for enrolment in list(cohort.with_places()) + list(cohort.waiting_list()) + list(cohort.withdrawn()):
        cells = []
        for session in sessions:
            entry = grid.get((enrolment.id, session.id))
            if entry is None:
                cells.append("")
            elif entry.status == CAUGHT_UP:
                cells.append(f"Caught up {entry.caught_up_on.isoformat()}"
                             + (f" with {entry.caught_up_with}" if entry.caught_up_with else ""))
            else:
                cells.append(entry.status_label)
        done = completions.get(enrolment.id)
        writer.writerow([_csv_cell(v) for v in [enrolment.candidate.name, enrolment.candidate.preferred_name,
                                                enrolment.candidate.team.name, enrolment.status_label,
                                                *cells, done.isoformat() if done else ""]])
    with db.atomic():
        audit("export", cohort, summary="attendance grid exported as CSV")
    body = "\ufeff" + out.getvalue()  # the BOM makes Excel read UTF-8 names correctly
    return Response(body.encode("utf-8"), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="cohort-{cohort.id}-attendance.csv"'})


# --- the register -------------------------------------------------------------
def _register_context(session: CohortSession, forms: dict | None = None) -> dict:
    rows = session.register()
    completions = Enrolment.completion_days([e.id for e, _ in rows])
    cohort = session.cohort
    sessions = list(cohort.sessions())
    return {"session": session, "cohort": cohort, "rows": rows, "completions": completions,
            "forms": forms or {}, "titles": Curriculum.current().titles(), "sessions": sessions,
            "today": clock.today(), "open": session.held_on <= clock.today(),
            "counts": {key: sum(1 for _, a in rows if a and a.status == key) for key in STATUSES},
            "unrecorded": sum(1 for _, a in rows if a is None)}


def _row_context(session: CohortSession, enrolment: Enrolment, form: MarkForm | None = None) -> dict:
    entry = Attendance.get_or_none(Attendance.session == session, Attendance.enrolment == enrolment)
    return {"session": session, "enrolment": enrolment, "entry": entry,
            "completed_on": enrolment.completed_on(), "form": form, "open": session.held_on <= clock.today(),
            "today": clock.today()}


@bp.get("/sessions/<int:session_id>/register")
@allow(*FACILITATOR)
def register(session_id: int):
    """Facilitators: the one-tap register for a session (works with or without JavaScript)."""
    session = _session_or_404(session_id)
    audit("view", session, summary="session register viewed")
    return render("training/register.html", "training/_register.html", **_register_context(session))


def _refuse(session: CohortSession, message: str):
    """A register change that cannot be made: say why, change nothing."""
    if is_fragment_request():
        response = render("_alert.html", status=422, title="Not saved", text=message)
        response.headers["HX-Retarget"] = "#page-alert"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render("training/register.html", status=422, problem=message, **_register_context(session))


@bp.post("/sessions/<int:session_id>/register/<int:enrolment_id>")
@allow(*FACILITATOR)
def mark(session_id: int, enrolment_id: int):
    """Facilitators: record one person's attendance (present, absent, late, or caught up
    with its date and with whom). htmx gets the updated row back."""
    session = _session_or_404(session_id)
    enrolment = (Enrolment.select(Enrolment, Candidate).join(Candidate)
                 .where(Enrolment.id == enrolment_id).first())
    if enrolment is None or enrolment.cohort_id != session.cohort_id or enrolment.status != PLACE:
        return _refuse(session, "That person does not have a place on this cohort, so their attendance "
                                "cannot be recorded here.")
    if session.held_on > clock.today():
        return _refuse(session, f"Session {session.number} is on {session.held_on.strftime('%-d %b %Y')}: "
                                "its register opens on the day.")
    form = MarkForm(earliest=session.cohort.first_day())
    if not form.validate_on_submit():
        if is_fragment_request():
            return render("training/_register_row.html", **_row_context(session, enrolment, form))
        return render("training/register.html", status=422, **_register_context(session, {enrolment.id: form}))
    try:
        entry = services.mark(session, enrolment, status=form.status.data, caught_up_on=form.caught_up_on.data,
                              caught_up_with=form.caught_up_with.data or "", by=current_user)
    except Refusal as refusal:
        return _refuse(session, str(refusal))
    if is_fragment_request():
        return render("training/_register_row.html", **_row_context(session, enrolment))
    flash(f"{enrolment.candidate.name}: {entry.status_label.lower()}.", "success")
    return redirect(url_for("training.register", session_id=session.id) + f"#register-row-{enrolment.id}")


@bp.post("/sessions/<int:session_id>/register/everyone-present")
@allow(*FACILITATOR)
def mark_all_present(session_id: int):
    """Facilitators: mark everyone not yet recorded as present; then correct the exceptions."""
    session = _session_or_404(session_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if session.held_on > clock.today():
        return _refuse(session, f"Session {session.number} is on {session.held_on.strftime('%-d %b %Y')}: "
                                "its register opens on the day.")
    try:
        marked = services.mark_everyone_present(session, by=current_user)
    except Refusal as refusal:
        return _refuse(session, str(refusal))
    if is_fragment_request():
        return render("training/register.html", "training/_register.html", **_register_context(session))
    flash(f"{marked} marked present. Now correct anyone who was absent or late.", "success")
    return redirect(url_for("training.register", session_id=session.id))


# --- curriculum ---------------------------------------------------------------
@bp.route("/curriculum", methods=["GET", "POST"])
@allow(*FACILITATOR)
def curriculum():
    """Facilitators: rename the sessions and set what counts as completion.
    Completion is derived, so a changed rule applies to everyone at once."""
    current = Curriculum.current()
    rows = {s.number: s for s in current.sessions()}
    form = CurriculumForm()
    if request.method == "GET":
        for number, row in rows.items():
            form[f"title_{number}"].data = row.title
        form.minimum_sessions.data = current.minimum_sessions
        form.required_sessions.data = sorted(current.required())
    if form.validate_on_submit():
        services.save_curriculum(current, titles={n: form[f"title_{n}"].data for n in rows},
                                 minimum_sessions=form.minimum_sessions.data,
                                 required_sessions=list(form.required_sessions.data or []))
        flash(f"Curriculum saved. Completion now means {current.rule().describe()}.", "success")
        return redirect(url_for("training.curriculum"))
    return render_form("training/curriculum.html", form, rule=current.rule())


# --- candidates -------------------------------------------------------------
def _status_by_candidate(candidates) -> dict[int, str]:
    ids = [c.id for c in candidates]
    done = Candidate.completion_dates(ids)
    status = {}
    for enrolment in (Enrolment.select(Enrolment, Cohort).join(Cohort)
                      .where(Enrolment.candidate.in_(ids or [0])).order_by(Enrolment.created_at)):
        if enrolment.status != WITHDRAWN:
            status[enrolment.candidate_id] = f"{enrolment.status_label} in {enrolment.cohort.name}"
    for who, day in done.items():
        status[who] = f"Completed {day.strftime('%-d %b %Y')}"
    return status


@bp.get("/candidates")
@allow("facilitator", *TEAM_STAFF)
def candidates():
    """Facilitators: every candidate. Peer leads and managers: their team's candidates.
    50 a page, by name (a facilitator's list is the whole Trust's, ~1,000 people)."""
    page = paged(Candidate.visible_to(current_user), Candidate.name, Candidate.id)
    with db.atomic():
        audit("view_list", record_type="candidate", summary=f"candidates list: {len(page.rows)} candidate(s)")
    return render_template("training/candidates.html", candidates=page.rows, page=page,
                           status=_status_by_candidate(page.rows))


@bp.route("/candidates/new", methods=["GET", "POST"])
@allow(*TEAM_STAFF)
def nominate():
    """Peer leads and managers: nominate someone from their team for training."""
    form = NominationForm()
    team = current_user.team
    if team is None:
        flash("You need to belong to a team to nominate candidates: ask the administrator.", "error")
        return redirect(url_for("training.candidates"))
    if form.validate_on_submit():
        try:
            candidate = _nominate(form, team)
        except pw.IntegrityError as error:
            if not unique_violation(error):
                raise
            form.name.errors.append(NOMINATED_ALREADY)
            return render_form("training/nominate.html", form, candidate=None, team=team)
        flash(f"{candidate.name} has been nominated. A facilitator will offer them a place.", "success")
        return redirect(url_for("training.candidate", candidate_id=candidate.id))
    return render_form("training/nominate.html", form, candidate=None, team=team)


NOMINATED_ALREADY = ("This person has already been nominated by your team today "
                     "(perhaps a moment ago): see the candidates list")


def _nominate(form, team) -> Candidate:
    return services.nominate(team, by=current_user, name=form.name.data, preferred_name=form.preferred_name.data or "",
                             pronouns=form.pronouns.data or "", email=form.email.data or "",
                             phone=form.phone.data or "", nominated_on=form.nominated_on.data)


@bp.route("/candidates/<int:candidate_id>/edit", methods=["GET", "POST"])
@allow("facilitator", *TEAM_STAFF)
def candidate_edit(candidate_id: int):
    """Facilitators, and peer leads and managers of the nominating team: correct contact details."""
    candidate = _candidate_or_404(candidate_id)
    form = NominationForm(obj=candidate, candidate=candidate)
    if request.method == "GET":  # the form shows their contact details: a view like the record page
        audit("view", candidate, summary="candidate details viewed to edit")
        form.version.data = record_version(candidate)
    if form.validate_on_submit():
        try:
            with db.atomic():
                check_version(candidate, form.version.data)
                before = history.snapshot(candidate)
                _save_candidate(candidate, form)
                history.record_changes(before, candidate)
        except pw.IntegrityError as error:
            if not unique_violation(error):
                raise
            form.name.errors.append(NOMINATED_ALREADY)
            return render_form("training/nominate.html", form, candidate=_candidate_or_404(candidate_id),
                               team=candidate.team)
        except StaleEdit:
            candidate = _candidate_or_404(candidate_id)
            form.version.data = record_version(candidate)
            return render_stale("training/nominate.html", form, candidate=candidate, team=candidate.team)
        flash("Details saved.", "success")
        return redirect(url_for("training.candidate", candidate_id=candidate.id))
    return render_form("training/nominate.html", form, candidate=candidate, team=candidate.team)


def _save_candidate(candidate, form) -> None:
    services.update_candidate(candidate, name=form.name.data, preferred_name=form.preferred_name.data or "",
                              pronouns=form.pronouns.data or "", email=form.email.data or "",
                              phone=form.phone.data or "", nominated_on=form.nominated_on.data)


@bp.get("/candidates/<int:candidate_id>")
@allow("facilitator", *TEAM_STAFF)
def candidate(candidate_id: int):
    """Facilitators, and peer leads and managers of the nominating team: a candidate's
    training record (nominations, cohorts, attendance, completion, equivalents)."""
    candidate = _candidate_or_404(candidate_id)
    enrolments = list(candidate.enrolments_in_order())
    # A withdrawn enrolment never completes (as in Candidate.completion_dates), whatever its register says.
    completions = Enrolment.completion_days([e.id for e in enrolments if e.status != WITHDRAWN])
    registers = {}
    for enrolment in enrolments:
        entries = {a.session_id: a for a in enrolment.attendance}
        registers[enrolment.id] = [(s, entries.get(s.id)) for s in enrolment.cohort.sessions()]
    audit("view", candidate, summary="training record viewed")
    return render_template("training/candidate.html", candidate=candidate, enrolments=enrolments,
                           completions=completions, registers=registers,
                           equivalents=list(candidate.equivalents_in_order()),
                           completed_on=candidate.completed_training(), titles=Curriculum.current().titles(),
                           rule=Curriculum.current().rule())


@bp.route("/candidates/<int:candidate_id>/equivalent", methods=["GET", "POST"])
@allow(*FACILITATOR)
def equivalent(candidate_id: int):
    """Facilitators: recognise training done elsewhere as equivalent, with evidence.
    It counts as completion from the date it was completed."""
    candidate = _candidate_or_404(candidate_id)
    form = EquivalentForm()
    if request.method == "GET":
        with db.atomic():
            audit("view", candidate, summary="training record viewed to recognise equivalent training")
    if form.validate_on_submit():
        row = services.recognise_equivalent(candidate, provider=form.provider.data, completed_on=form.completed_on.data,
                                            evidence=form.evidence.data, by=current_user)
        flash(f"Training at {row.provider} recognised as equivalent for {candidate.name}.", "success")
        return redirect(url_for("training.candidate", candidate_id=candidate.id))
    return render_form("training/equivalent.html", form, candidate=candidate)


@bp.get("/candidates/<int:candidate_id>/certificate")
@allow("facilitator", *TEAM_STAFF)
def certificate(candidate_id: int):
    """Facilitators, and peer leads and managers of the nominating team: a printable
    certificate for someone who has completed training (404 until they have)."""
    candidate = _candidate_or_404(candidate_id)
    completed_on = candidate.completed_training()
    if completed_on is None:
        abort(404)
    enrolments = list(candidate.enrolments_in_order())
    days = Enrolment.completion_days([e.id for e in enrolments])
    # A withdrawn enrolment never counts (Candidate.completion_dates), so it never names the cohort.
    via = next((e for e in enrolments if e.status != WITHDRAWN and days.get(e.id) == completed_on), None)
    equivalent_row = None
    if via is None:
        equivalent_row = candidate.equivalents.where(EquivalentTraining.completed_on == completed_on).first()
    audit("view", candidate, summary="training certificate viewed")
    return render_template("training/certificate.html", candidate=candidate, completed_on=completed_on,
                           enrolment=via, equivalent=equivalent_row,
                           facilitators=list(via.cohort.facilitators()) if via else [],
                           titles=Curriculum.current().titles(), curriculum=Curriculum.current())


# --- counts for viewers -------------------------------------------------------
@bp.get("/summary")
@allow("viewer", "manager", "facilitator")
def summary():
    """The training figures moved to Reports (counts, charts and CSV); old links lead there."""
    return redirect(url_for("reports.training"))
