"""What peer leads do with matching, each a rule-checked, audited write.

Views parse a form and call one of these; an ``ApprovalRefused`` carries the message
to show (with "Nothing was changed").

- Starting a run stores what the engine proposed and why, the referrals it could not
  match and its inputs, and supersedes earlier open proposals, in one transaction.
- Approving (or overriding) a proposal checks every rule again, live
  (``inputs.live_problems``: the one eligibility rule), then decides the proposal by
  compare-and-set on ``status = proposed`` and assigns the referral through
  ``referrals.services.assign`` (its own compare-and-set on ``awaiting match``, the
  peer's role row held while their caseload is counted, the partial unique index of
  one open assignment behind it), all in one transaction: two leads approving at once
  leave one assignment and one audit row, and the other is told.
"""
from __future__ import annotations

import json

from .. import clock
from ..audit import audit
from ..changes import Refusal, compare_and_set
from ..db import db
from ..models import User
from ..referrals import services as referrals, states
from ..referrals.models import Referral
from ..workforce.models import PeerRole
from . import inputs, snapshot
from .models import (APPROVED, OVERRIDDEN, PROPOSED, SUPERSEDED, MatchingRun, MatchingSettings, RunInputs,
                     RunProposal, RunUnmatched)


class ApprovalRefused(Refusal):
    """Something changed since the run; the message is plain English for the peer lead."""


def _lines(items) -> str:
    return "\n".join(" ".join(str(x).split()) for x in items if str(x).strip())


def _insert_all(model, rows: list[dict], chunk: int = 500) -> None:
    """Many rows of one model in a few multi-row INSERTs, with the model's columns,
    conversions and (Python-side) defaults. ``insert_many`` builds a query node for
    every value: a Trust-size run's 2,000 rows took longer to write than to work out."""
    if not rows:
        return
    names = list(rows[0])
    defaults = {name: (f.default() if callable(f.default) else f.default)
                for name, f in model._meta.fields.items() if name not in names and f.default is not None}
    fields = [model._meta.fields[n] for n in [*names, *defaults]]
    convert = [f.db_value for f in fields[:len(names)]]
    tail = [model._meta.fields[n].db_value(v) for n, v in defaults.items()]
    param = db.obj.param  # ? on SQLite, %s on PostgreSQL
    head = (f'INSERT INTO "{model._meta.table_name}" ('
            + ", ".join(f'"{f.column_name}"' for f in fields) + ") VALUES ")
    one = "(" + ", ".join([param] * len(fields)) + ")"
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        values = []
        for row in part:
            values.extend(f(row[n]) for f, n in zip(convert, names))
            values.extend(tail)
        db.execute_sql(head + ", ".join([one] * len(part)), values)


# --- runs ------------------------------------------------------------------------------

def supersede_open_proposals(team) -> int:
    """A new run replaces what earlier runs proposed and nobody decided (call inside the run's transaction)."""
    earlier = MatchingRun.select(MatchingRun.id).where(MatchingRun.team == team)
    return (RunProposal.update(status=SUPERSEDED)
            .where(RunProposal.run.in_(earlier), RunProposal.status == PROPOSED).execute())


def start_run(team, *, by: User, today=None) -> MatchingRun:
    """Run the engine over the team's whole waiting list and store what it proposed
    and why, the referrals it could not match, and its inputs, from which "why not
    this peer?" is worked out when a peer lead asks. Earlier open proposals are superseded."""
    import numpy as np  # here: the app starts without loading numpy until a run needs it

    from .engine import run_matching_with_table

    settings_row = MatchingSettings.for_team(team)
    settings = settings_row.engine_settings()
    data = inputs.for_team(team, today)
    result, table = run_matching_with_table(data.peers, data.referrals, data.catalogue, settings)
    names = {p.id: p.name for p in data.peers}
    col = {pid: j for j, pid in enumerate(table.peer_ids)}
    row = {rid: i for i, rid in enumerate(table.referral_ids)}
    # Which other peers were eligible for each proposal, best first (equal scores in
    # peer order), for all proposals at once: ineligible peers sort last.
    rows = np.array([row[p.referral_id] for p in result.proposals], np.int64)
    chosen = np.array([col[p.peer_id] for p in result.proposals], np.int64)
    eligible = table.eligible[rows]
    eligible[np.arange(len(rows)), chosen] = False
    best_first = np.argsort(np.where(eligible, -table.scores[rows], np.inf), axis=1, kind="stable")
    how_many = eligible.sum(axis=1).tolist()
    positions = [snapshot.pack_positions(best_first[n, :k].tolist()) for n, k in enumerate(how_many)]

    with db.atomic():
        supersede_open_proposals(team)
        run = MatchingRun.create(team=team, started_by=by, started_at=clock.now(),
                                 settings_json=json.dumps(settings_row.as_dict(), sort_keys=True),
                                 method=result.method, total_score=round(result.total_score, 4),
                                 referral_count=len(data.referrals), peer_count=len(data.peers),
                                 proposal_count=len(result.proposals), unmatched_count=len(result.unmatched))
        RunInputs.create(run=run, peer_ids=snapshot.pack_ids(table.peer_ids),
                         data=snapshot.pack(data.peers, data.referrals, data.catalogue, settings))
        proposals = [{"run": run.id, "referral": p.referral_id, "peer_role": p.peer_id,
                      "score": round(p.score, 4), "reasons": _lines(p.reasons),
                      "alternatives": _lines(f"{names.get(pid, pid)} (score {score:.2f})"
                                             for pid, score in p.alternatives),
                      "eligible_peers": positions[n]}
                     for n, p in enumerate(result.proposals)]
        unmatched = [{"run": run.id, "referral": rid, "reason": result.unmatched[rid]}
                     for rid in sorted(result.unmatched)]
        _insert_all(RunProposal, proposals)
        _insert_all(RunUnmatched, unmatched)
        audit("create", run, user=by,
              summary=f"matching run: {run.referral_count} referral(s), {run.peer_count} peer(s), "
                      f"{run.proposal_count} proposed, {run.unmatched_count} unmatched")
    return run


# --- deciding proposals ------------------------------------------------------------------

def approve(proposal: RunProposal, *, by: User) -> RunProposal:
    """Assign the referral to the proposed peer (awaiting match -> matched, how "matching run")."""
    return _decide(proposal, by, None, "")


def override(proposal: RunProposal, role: PeerRole, reason: str, *, by: User) -> RunProposal:
    """Assign another peer instead of the proposed one, with the reason (kept on the
    proposal, the assignment and the referral's history)."""
    if not reason.strip():
        raise ApprovalRefused("Write why you chose another peer.")
    return _decide(proposal, by, role, reason)


def approve_many(run: MatchingRun, *, by: User, proposal_ids=None) -> tuple[list[str], list[str]]:
    """Approve the run's open proposals (only ``proposal_ids`` when given), each in its own
    transaction: (labels of the referrals matched, the refusals of those left as they were)."""
    query = run.proposals().where(RunProposal.status == PROPOSED)
    if proposal_ids is not None:
        query = query.where(RunProposal.id.in_(list(proposal_ids)))
    approved, refused = [], []
    for proposal in list(query):
        try:
            approve(proposal, by=by)
            approved.append(proposal.referral.label)
        except ApprovalRefused as error:
            refused.append(str(error))
    return approved, refused


def _decide(proposal: RunProposal, by: User, role: PeerRole | None, reason: str) -> RunProposal:
    """Approve (``role`` None) or override. If anything changed since the run (the proposal
    was decided or superseded, the referral matched or closed, the peer lost capacity or
    readiness, a conflict was declared), ApprovalRefused says what, and nothing is changed."""
    overriding = role is not None
    try:
        with db.atomic():
            fresh = RunProposal.get_by_id(proposal.id)
            if fresh.status != PROPOSED:
                raise ApprovalRefused(f"This proposal is already {fresh.status_text.lower()}, "
                                      "so nothing was changed.")
            referral = Referral.get_by_id(proposal.referral_id)
            target = role or fresh.peer_role
            if referral.state != states.AWAITING_MATCH:
                raise ApprovalRefused(f"{referral.label} is {states.describe(referral.state)} now, not awaiting "
                                      "a match, so nothing was changed.")
            settings = MatchingSettings.for_team(referral.team_id).engine_settings()
            problems = inputs.live_problems(referral, target, settings)
            if problems:
                raise ApprovalRefused(f"{target.display_name} cannot take {referral.label} now: "
                                      f"{'; '.join(problems)}. Nothing was changed; start a new run to see "
                                      "the best fit today.")
            # Compare-and-set on both rows: the proposal is decided once, and the referral
            # (awaiting match -> matched) is assigned once, on SQLite and PostgreSQL alike.
            compare_and_set(RunProposal, fresh.id, {"status": PROPOSED},
                            status=OVERRIDDEN if overriding else APPROVED, decided_by=by,
                            decided_at=clock.now(), assigned_role=target,
                            override_reason=reason.strip() if overriding else "",
                            refused="Someone else has just decided this proposal, so nothing was changed.")
            referrals.assign(referral, target, by=by, how="matching run",
                             overriding=fresh.peer_role if overriding else None,
                             override_reason=reason if overriding else "")
            fresh = RunProposal.get_by_id(fresh.id)
            if overriding:
                audit("override", fresh, user=by,
                      summary=f"{referral.label}: peer role #{target.id} instead of #{fresh.peer_role_id}")
            else:
                audit("approve", fresh, user=by, summary=f"{referral.label}: peer role #{target.id}")
    except ApprovalRefused:
        raise
    except Refusal as error:
        text = str(error)
        raise ApprovalRefused(text if "Nothing was" in text else f"{text} Nothing was changed.") from error
    return fresh


# --- settings ----------------------------------------------------------------------------

def save_settings(row: MatchingSettings, *, by: User, weights: dict, most_matches_first: bool) -> None:
    """A team's weights and whether to match as many referrals as possible first; they
    apply from the next run. (Volunteers' risk levels are the SOP's rule, not a setting.)"""
    with db.atomic():
        row.weights = weights
        row.most_matches_first = bool(most_matches_first)
        row.updated_by = by
        row.updated_at = clock.now()
        row.save()
        audit("update", row, user=by, summary="matching settings changed")
