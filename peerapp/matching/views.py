"""Matching: a peer lead runs the engine over the team's whole waiting list, reads
why each peer was or was not proposed, and approves or overrides each proposal.

Who may use it:
- peer leads of the team: start runs, approve (one, several, all), override, settings;
- managers of the team: read runs;
- everyone else is refused by ``@allow``; a run of another team answers 404.
Opening a run is audited (it names service users by first name); so are starting a
run, every approval and every override.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from ..access import allow
from ..audit import audit
from ..forms import ActionForm
from ..navigation import home_panel, nav_item
from ..models import User
from ..pages import is_fragment_request, render, render_form
from ..paging import paged
from ..referrals.models import Referral, caseloads
from ..training.models import Candidate
from ..workforce.models import KINDS, PeerRole
from . import inputs, services
from .forms import OverrideForm, SettingsForm
from .models import PROPOSED, MatchingRun, MatchingSettings, RunProposal, RunUnmatched
from .services import ApprovalRefused

bp = Blueprint("matching", __name__, url_prefix="/matching")
nav_item("Matching", "matching.index", order=50,
         hint="Propose the best fit between peers and the referrals awaiting a match")
home_panel("matching/_home_panel.html", "matching.start", order=50)

LEADS = ("peer_lead",)
LEADS_AND_MANAGERS = ("peer_lead", "manager")


# --- who may see what -------------------------------------------------------------

def _team_id() -> int | None:
    return current_user.team_id


def _is_lead() -> bool:
    return current_user.has_role("peer_lead") and bool(current_user.team_id)


def _run_or_404(run_id: int) -> MatchingRun:
    """A run of the signed-in person's own team, else 404."""
    run = MatchingRun.get_or_none(MatchingRun.id == run_id)
    if run is None or not _team_id() or run.team_id != _team_id():
        abort(404)
    return run


def _proposal_or_404(proposal_id: int) -> RunProposal:
    proposal = (RunProposal.select(RunProposal, MatchingRun).join(MatchingRun)
                .where(RunProposal.id == proposal_id).first())
    if proposal is None or not _team_id() or proposal.run.team_id != _team_id() or not _is_lead():
        abort(404)
    return proposal


@bp.app_context_processor
def matching_panel():
    """The home panel's count, computed only when the panel asks for it."""
    def counts() -> dict:
        if not current_user.is_authenticated or not current_user.team_id:
            return {"awaiting": 0}
        return {"awaiting": Referral.awaiting_match(current_user.team_id).count()}
    return {"matching_counts": counts}


# --- what a row shows -------------------------------------------------------------

@dataclass(frozen=True)
class Room:
    """What "choose another peer" shows of a role: read as plain values, not rows."""
    id: int
    display_name: str
    kind_label: str
    max_caseload: int


def room_now(team_id: int, ids=None) -> dict[int, tuple[Room, int]]:
    """The team's active roles (only ``ids`` when given) with their caseload now:
    counted for all of them at once, so a run page does not count again for every row
    or role (500 roles: two queries of plain values)."""
    query = (PeerRole.select(PeerRole.id, PeerRole.kind, PeerRole.max_caseload, Candidate.preferred_name,
                             Candidate.name)
             .join(Candidate, on=(PeerRole.candidate == Candidate.id))
             .where(PeerRole.team == team_id, PeerRole.status == "active"))
    if ids is not None:
        query = query.where(PeerRole.id.in_(list(ids)))
    rows = list(query.tuples())
    loads = caseloads([row[0] for row in rows])
    return {rid: (Room(rid, preferred or name, KINDS.get(kind, kind), limit or 0), loads.get(rid, 0))
            for rid, kind, limit, preferred, name in rows}


def override_choices(proposal: RunProposal, room: dict | None = None, limit: int | None = None
                     ) -> list[tuple[int, str]]:
    """Peers the engine found eligible for this referral in the run who still have room
    now (approval checks every rule again, live), best first, at most ``limit``. ``room``
    is :func:`room_now` for the team when the caller already has it."""
    ids = proposal.eligible_peer_ids()
    if not ids:
        return []
    if room is None:
        room = room_now(proposal.run.team_id, ids)
    choices = []
    for pid in ids:
        if limit is not None and len(choices) >= limit:
            break
        if pid not in room:
            continue
        role, load = room[pid]
        places = role.max_caseload or 0
        if load < places:
            choices.append((role.id, f"{role.display_name} – {role.kind_label.lower()}, "
                                     f"{load} of {places} places taken"))
    return choices


def _row_context(proposal: RunProposal, form: OverrideForm | None = None, problem: str = "",
                 done: str = "") -> dict:
    """A row's context; ``form`` (choose another peer) only when it is shown open: a run
    page's rows load it when "Choose another peer" is opened."""
    may_act = _is_lead() and proposal.is_open
    return {"proposal": proposal, "run": proposal.run, "referral": proposal.referral,
            "first_name": proposal.referral.service_user.first_name, "form": form if may_act else None,
            "may_act": may_act, "problem": problem, "done": done}


def _back_to_row(proposal: RunProposal):
    return redirect(url_for("matching.run", run_id=proposal.run_id) + f"#proposal-{proposal.id}", 303)


# --- pages ------------------------------------------------------------------------

@bp.get("/")
@allow(*LEADS_AND_MANAGERS)
def index():
    """Peer leads and managers: the team's referrals awaiting a match and its runs,
    newest first. Peer leads start a run here."""
    team_id = _team_id()
    runs, awaiting, settings, page = [], 0, None, None
    if team_id:
        # 50 a page, newest first, with who started each run joined (not looked up per row).
        page = paged(MatchingRun.select(MatchingRun, User).join(User, on=(MatchingRun.started_by == User.id))
                     .where(MatchingRun.team == team_id), MatchingRun.started_at.desc(), MatchingRun.id.desc())
        runs = page.rows
        awaiting = Referral.awaiting_match(team_id).count()
        settings = MatchingSettings.for_team(team_id)
    return render("matching/index.html", runs=runs, page=page, awaiting=awaiting, settings=settings,
                  has_team=bool(team_id),
                  is_lead=_is_lead(), form=ActionForm())


@bp.post("/runs")
@allow(*LEADS)
def start():
    """Peer leads: run the engine over the team's whole waiting list. The run, its
    proposals and the unmatched referrals are stored; earlier open proposals are superseded."""
    if not ActionForm().validate_on_submit():
        abort(400)
    if not _team_id():
        abort(404)
    if not Referral.awaiting_match(_team_id()).exists():
        flash("No referrals are awaiting a match, so there is nothing to run.", "info")
        return redirect(url_for("matching.index"), 303)
    run = services.start_run(_team_id(), by=current_user._get_current_object())
    flash(f"{run.label}: {run.proposal_count} proposed, {run.unmatched_count} not matched. "
          "Check each proposal, then approve or choose another peer.", "success")
    return redirect(url_for("matching.run", run_id=run.id), 303)


RUN_PAGE_ROWS = 25  # a row carries two forms and two disclosures: 25 keep the page light


@bp.get("/runs/<int:run_id>")
@allow(*LEADS_AND_MANAGERS)
def run(run_id: int):
    """Peer leads and managers of the team: a run's proposals with their reasons and the
    next best peers, 25 a page, then the first 25 referrals it could not match. Why
    every other peer was not proposed, and whom else to choose, are worked out when a
    row's "Why not" or "Choose another peer" is opened."""
    found = _run_or_404(run_id)
    page = paged(found.proposals(), RunProposal.id, size=RUN_PAGE_ROWS, count=False)
    proposals = found.with_decisions(page.rows)
    for proposal in proposals:
        proposal.run = found  # the run is known: no query per row
    unmatched_page = paged(found.unmatched(), RunUnmatched.id, size=RUN_PAGE_ROWS, count=False, after=0)
    unmatched = unmatched_page.rows
    for item in unmatched:
        item.run = found
    # Totals from the run's rows alone (an index walk), not the joined page query.
    counts = found.counts()
    page.total = sum(counts.values())
    unmatched_page.total = RunUnmatched.select().where(RunUnmatched.run == found.id).count()
    audit("view", found, summary=f"matching run: {len(proposals)} proposal(s), {len(unmatched)} unmatched shown")
    latest = MatchingRun.for_team(found.team_id).first()
    rows = [_row_context(p) for p in proposals]
    open_count = counts[PROPOSED]
    return render("matching/run.html", run=found, rows=rows, page=page, unmatched=unmatched,
                  unmatched_page=unmatched_page, is_lead=_is_lead(), open_count=open_count, latest=latest,
                  settings=found.settings_used, weight_labels=_weight_labels(), form=ActionForm())


@bp.get("/runs/<int:run_id>/unmatched")
@allow(*LEADS_AND_MANAGERS)
def run_unmatched(run_id: int):
    """Peer leads and managers of the team: every referral the run could not match, 50 a page."""
    found = _run_or_404(run_id)
    page = paged(found.unmatched(), RunUnmatched.id)
    for item in page.rows:
        item.run = found
    audit("view", found, summary=f"matching run: {len(page.rows)} unmatched shown")
    return render("matching/unmatched.html", run=found, unmatched=page.rows, page=page, is_lead=_is_lead())


@bp.get("/runs/<int:run_id>/why-not/<int:referral_id>")
@allow(*LEADS_AND_MANAGERS)
def why_not(run_id: int, referral_id: int):
    """Peer leads and managers of the team: why each peer of the run was not proposed
    for one of its referrals, worked out now from the run's stored inputs (htmx gets
    the list for the row's "Why not other peers?"). 404 for a referral not in the run."""
    found = _run_or_404(run_id)
    item = (RunProposal.select(RunProposal, Referral).join(Referral)
            .where(RunProposal.run == found.id, RunProposal.referral == referral_id).first()
            or RunUnmatched.select(RunUnmatched, Referral).join(Referral)
            .where(RunUnmatched.run == found.id, RunUnmatched.referral == referral_id).first())
    if item is None:
        abort(404)
    item.run = found
    audit("view", found, summary=f"matching run: why not, referral #{referral_id}")
    return render("matching/why_not.html", "matching/_why_not_list.html", run=found, referral=item.referral,
                  excluded=item.excluded)


def _weight_labels() -> dict[str, str]:
    from .engine import WEIGHT_LABELS
    return WEIGHT_LABELS


def _respond(proposal: RunProposal, *, problem: str = "", done: str = "", form=None, status: int = 200):
    """htmx gets the row back in place; a plain POST goes back to the run with a message."""
    proposal = RunProposal.get_by_id(proposal.id)
    if is_fragment_request():
        # The row, and "Approve all (N)" out of band: its number changes with every decision.
        open_count = proposal.run.proposals().where(RunProposal.status == PROPOSED).count()
        return render("matching/_proposal_update.html", status=status, open_count=open_count,
                      is_lead=_is_lead(), **_row_context(proposal, form=form, problem=problem, done=done))
    flash(problem or done, "error" if problem else "success")
    return _back_to_row(proposal)


@bp.post("/proposals/<int:proposal_id>/approve")
@allow(*LEADS)
def approve(proposal_id: int):
    """Peer leads: approve one proposal: the referral is assigned to the proposed peer
    (awaiting match -> matched, how "matching run"). Refused, with the reason and no
    change, when something changed since the run."""
    proposal = _proposal_or_404(proposal_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.approve(proposal, by=current_user._get_current_object())
    except ApprovalRefused as error:
        return _respond(proposal, problem=str(error), status=409)
    return _respond(proposal, done=f"{proposal.referral.label} matched with {proposal.peer_role.display_name}. "
                                   "Next: arrange the first meeting.")


@bp.route("/proposals/<int:proposal_id>/override", methods=["GET", "POST"])
@allow(*LEADS)
def override(proposal_id: int):
    """Peer leads: assign another eligible peer with capacity instead of the proposed
    one, with a reason. A peer who may not take the referral is refused with why."""
    proposal = _proposal_or_404(proposal_id)
    choices = override_choices(proposal) if proposal.is_open else []

    def refusal(role_id: int) -> str:
        # SQLite integers stop at 2**63: a fuzzed id is simply not one of ours.
        role = PeerRole.get_or_none(PeerRole.id == role_id) if 0 < role_id < 2 ** 62 else None
        if role is None or role.team_id != proposal.run.team_id:
            return "Choose one of the peers listed"
        if role.id == proposal.peer_role_id:
            return f"{role.display_name} is the proposed peer: use Approve instead"
        problems = inputs.live_problems(proposal.referral, role,
                                        MatchingSettings.for_team(role.team_id).engine_settings())
        return (f"{role.display_name} cannot take {proposal.referral.label}: "
                + ("; ".join(problems) or "they were not eligible in this run"))

    form = OverrideForm(choices=choices, refusal=refusal)
    if request.method == "POST" and proposal.is_open and form.validate_on_submit():
        role = PeerRole.get_by_id(form.peer_role.data)
        try:
            services.override(proposal, role, form.reason.data, by=current_user._get_current_object())
        except ApprovalRefused as error:
            return _respond(proposal, problem=str(error), status=409)
        return _respond(proposal, done=f"{proposal.referral.label} matched with {role.display_name} "
                                       "instead of the proposed peer. Next: arrange the first meeting.")
    elif request.method == "POST" and not proposal.is_open:
        return _respond(proposal, problem=f"This proposal is already {proposal.status_text.lower()}, "
                                          "so nothing was changed.", status=409)
    if request.method == "GET":
        audit("view", proposal, summary=f"{proposal.referral.label}: choosing another peer")
        if is_fragment_request():  # the row's "Choose another peer", opened
            return render("matching/_override_form.html", **_row_context(proposal, form=form))
    if is_fragment_request():
        return render("matching/_proposal_row.html", **_row_context(proposal, form=form))
    context = _row_context(proposal, form=form)
    context.pop("form")
    return render_form("matching/override.html", form, **context)


@bp.post("/runs/<int:run_id>/approve")
@allow(*LEADS)
def approve_many(run_id: int):
    """Peer leads: approve the ticked proposals ("Approve selected") or every open one
    ("Approve all"). Each is checked again; any refused are listed and left as they were."""
    found = _run_or_404(run_id)
    if not _is_lead() or not ActionForm().validate_on_submit():
        abort(400 if _is_lead() else 404)
    wanted = None
    if request.form.get("scope", "selected") != "all":
        # ASCII digits only: "²".isdigit() is true but int("²") raises.
        wanted = {int(x) for x in request.form.getlist("proposal")
                  if x.isascii() and x.isdigit() and len(x) < 12}
        if not wanted:
            flash("Tick the proposals to approve first, or use Approve all.", "error")
            return redirect(url_for("matching.run", run_id=found.id), 303)
    approved, refused = services.approve_many(found, by=current_user._get_current_object(), proposal_ids=wanted)
    if approved:
        flash(f"Approved {len(approved)}: {', '.join(approved)}. Next: arrange the first meetings.", "success")
    if refused:
        flash(f"Not approved ({len(refused)}): " + " ".join(refused), "error")
    if not approved and not refused:
        flash("There was nothing left to approve in this run.", "info")
    return redirect(url_for("matching.run", run_id=found.id), 303)


@bp.route("/settings", methods=["GET", "POST"])
@allow(*LEADS)
def settings():
    """Peer leads: the team's weights for the soft score (0 to 10 each), which risk
    levels volunteers may take, and whether to match as many referrals as possible first."""
    if not _team_id():
        abort(404)
    row = MatchingSettings.for_team(_team_id())
    form = SettingsForm()
    if request.method == "GET":
        form.fill_from(row)
    if form.validate_on_submit():
        services.save_settings(row, by=current_user._get_current_object(), weights=form.weights(),
                               most_matches_first=form.most_matches_first.data)
        flash("Matching settings saved. They apply from the next run.", "success")
        return redirect(url_for("matching.index"), 303)
    return render_form("matching/settings.html", form, row=row, volunteer_levels=row.volunteer_levels)
