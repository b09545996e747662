"""Matching runs as the peer leads see them: a team's settings, each run with the
settings it used, its proposals (and what became of them) and the referrals it
could not match, each with the reasons, so a run can be reopened and explained later.

The engine (``engine.py``) knows nothing of the database; ``inputs.py`` builds its
inputs from the other areas' answers, and this module holds what it said (fields and
queries); starting a run and deciding its proposals are ``services.py``.
"""
from __future__ import annotations

import json
import math
import zlib

import peewee as pw

from .. import clock
from ..db import db
from ..models import BaseModel, Team, User
from ..referrals.models import VOLUNTEER_RISK_LEVELS, Referral, ServiceUser
from ..training.models import Candidate
from ..workforce.models import PeerRole
from . import snapshot
from .engine import DEFAULT_WEIGHTS, Settings

PROPOSED, APPROVED, OVERRIDDEN, SUPERSEDED = "proposed", "approved", "overridden", "superseded"
STATUSES = (PROPOSED, APPROVED, OVERRIDDEN, SUPERSEDED)
STATUS_TEXT = {PROPOSED: "Proposed", APPROVED: "Approved", OVERRIDDEN: "Overridden",
               SUPERSEDED: "Superseded by a later run"}
MAX_WEIGHT = 10.0


def clean_weights(weights: dict | None) -> dict[str, float]:
    """Every engine weight, as a finite float from 0 to MAX_WEIGHT; anything else
    (unknown names, NaN, strings) falls back to the engine's default."""
    clean = dict(DEFAULT_WEIGHTS)
    for name, value in (weights or {}).items():
        if name not in clean:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number) and 0 <= number <= MAX_WEIGHT:
            clean[name] = number
    return clean


class MatchingSettings(BaseModel):
    """A team's weights for the soft score and which risk levels volunteers may take."""

    team = pw.ForeignKeyField(Team, unique=True, backref="+", on_delete="CASCADE")
    weights_json = pw.TextField(default="{}")
    volunteer_risk_levels = pw.CharField(max_length=40, default=",".join(VOLUNTEER_RISK_LEVELS))
    most_matches_first = pw.BooleanField(default=True)
    updated_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    updated_at = pw.DateTimeField(default=clock.now)

    @classmethod
    def for_team(cls, team) -> "MatchingSettings":
        """The team's saved settings, or the defaults (unsaved) when it has none yet."""
        return cls.get_or_none(cls.team == team) or cls(team=team)

    @property
    def weights(self) -> dict[str, float]:
        try:
            return clean_weights(json.loads(self.weights_json or "{}"))
        except ValueError:
            return dict(DEFAULT_WEIGHTS)

    @weights.setter
    def weights(self, value: dict) -> None:
        self.weights_json = json.dumps(clean_weights(value), sort_keys=True)

    @property
    def volunteer_levels(self) -> list[str]:
        # The SOP's rule, owned by referrals and applied to every assignment: the
        # engine must propose only what approval will accept.
        return list(VOLUNTEER_RISK_LEVELS)

    def engine_settings(self) -> Settings:
        return Settings(weights=self.weights, volunteer_risk_levels=frozenset(self.volunteer_levels),
                        most_matches_first=bool(self.most_matches_first))

    def as_dict(self) -> dict:
        return {"weights": self.weights, "volunteer_risk_levels": self.volunteer_levels,
                "most_matches_first": bool(self.most_matches_first)}


class MatchingRun(BaseModel):
    """One run of the engine over a team's whole waiting list."""

    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
    started_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    started_at = pw.DateTimeField(default=clock.now, index=True)
    settings_json = pw.TextField(default="{}")
    method = pw.CharField(max_length=40, default="optimal")
    total_score = pw.FloatField(default=0)
    referral_count = pw.IntegerField(default=0)
    peer_count = pw.IntegerField(default=0)
    proposal_count = pw.IntegerField(default=0)
    unmatched_count = pw.IntegerField(default=0)

    @property
    def label(self) -> str:
        return f"Run {self.id}"

    @property
    def settings_used(self) -> dict:
        try:
            return json.loads(self.settings_json or "{}")
        except ValueError:
            return {}

    @classmethod
    def for_team(cls, team):
        return cls.select().where(cls.team == team).order_by(cls.started_at.desc(), cls.id.desc())

    def proposals(self):
        """With the referral, its service user and the proposed peer's person joined:
        a run page of 25 rows would otherwise load each of them row by row. Only the
        columns a row shows of the people (names), not whole records."""
        return (RunProposal.select(RunProposal, Referral.id, Referral.state, ServiceUser.id, ServiceUser.name,
                                   ServiceUser.preferred_name, PeerRole.id, PeerRole.candidate, Candidate.id,
                                   Candidate.name, Candidate.preferred_name)
                .join(Referral).join(ServiceUser)
                .switch(RunProposal).join(PeerRole, on=(RunProposal.peer_role == PeerRole.id))
                .join(Candidate, on=(PeerRole.candidate == Candidate.id))
                .where(RunProposal.run == self).order_by(RunProposal.id))

    @staticmethod
    def with_decisions(proposals: list["RunProposal"]) -> list["RunProposal"]:
        """Who decided each proposal and the peer assigned instead, for a page of them in
        two queries (the rows show them; read one by one they were a query per row)."""
        deciders = {u.id: u for u in User.select(User.id, User.name)
                    .where(User.id.in_(sorted({p.decided_by_id for p in proposals if p.decided_by_id})))}
        assigned = {r.id: r for r in PeerRole.select(PeerRole.id, PeerRole.candidate, Candidate.id, Candidate.name,
                                                     Candidate.preferred_name)
                    .join(Candidate, on=(PeerRole.candidate == Candidate.id))
                    .where(PeerRole.id.in_(sorted({p.assigned_role_id for p in proposals if p.assigned_role_id})))}
        for p in proposals:
            if p.decided_by_id in deciders:
                p.decided_by = deciders[p.decided_by_id]
            if p.assigned_role_id in assigned:
                p.assigned_role = assigned[p.assigned_role_id]
        return proposals

    def unmatched(self):
        return (RunUnmatched.select(RunUnmatched, Referral.id, Referral.state, ServiceUser.id, ServiceUser.name,
                                    ServiceUser.preferred_name).join(Referral).join(ServiceUser)
                .where(RunUnmatched.run == self).order_by(RunUnmatched.id))

    def inputs(self):
        """The engine's inputs as this run saw them (``snapshot.Inputs``), or None for
        a run stored before runs kept them (its explanations are stored instead)."""
        if "_inputs" not in self.__dict__:
            row = RunInputs.select(RunInputs.data).where(RunInputs.run == self.id).first()
            self.__dict__["_inputs"] = snapshot.unpack(row.data) if row else None
        return self.__dict__["_inputs"]

    def peer_ids(self) -> list[int]:
        """The run's peers by id, in the order the stored positions count them."""
        if "_peer_ids" not in self.__dict__:
            row = RunInputs.select(RunInputs.peer_ids).where(RunInputs.run == self.id).first()
            self.__dict__["_peer_ids"] = snapshot.unpack_ids(row.peer_ids) if row else []
        return self.__dict__["_peer_ids"]

    def why_not(self, referral_id: int, proposal: "RunProposal | None" = None) -> list[dict]:
        """Every peer of the run not proposed for this referral, with why, worked out
        again from the stored inputs for this one referral: best eligible first."""
        from . import engine

        inputs = self.inputs()
        referral = inputs.referral(referral_id) if inputs else None
        if referral is None:
            return []
        proposed = (engine.Proposal(referral_id, proposal.peer_role_id, proposal.score, (), ())
                    if proposal is not None else None)
        names = {p.id: p.name for p in inputs.peers}
        return [{"peer": pid, "name": names.get(pid, f"#{pid}"), "reason": text, "eligible": eligible}
                for pid, text, eligible in engine.explain_referral(
                    inputs.peers, referral, inputs.catalogue, inputs.settings, proposed, self.method)]

    def counts(self) -> dict[str, int]:
        found = {status: 0 for status in STATUSES}
        for status, n in (RunProposal.select(RunProposal.status, pw.fn.COUNT(RunProposal.id))
                          .where(RunProposal.run == self).group_by(RunProposal.status).tuples()):
            found[status] = n
        return found


class RunInputs(BaseModel):
    """What the engine was given for one run (``snapshot.pack``), kept apart from the
    run's row so lists of runs never read it; and the run's peer ids in order."""

    run = pw.ForeignKeyField(MatchingRun, unique=True, backref="+", on_delete="CASCADE")
    peer_ids = pw.BlobField()
    data = pw.BlobField()


class _Explained(BaseModel):
    """Fields shared by proposals and unmatched referrals: every peer not proposed, with why."""

    # Runs stored before runs kept their inputs (migration m0058): the explanation
    # they stored, compressed. NULL for later runs, which work it out when asked.
    explained = pw.BlobField(null=True)

    @property
    def excluded(self) -> list[dict]:
        """[{"peer": role id, "name": ..., "reason": ..., "eligible": ...}], best eligible
        first. Worked out for this one referral when asked (``MatchingRun.why_not``)."""
        if self.explained is not None:
            try:
                return json.loads(zlib.decompress(bytes(self.explained)))
            except (ValueError, zlib.error):
                return []
        return self.run.why_not(self.referral_id, self if isinstance(self, RunProposal) else None)


class RunProposal(_Explained):
    """The engine's proposal for one referral, and what the peer lead decided."""

    run = pw.ForeignKeyField(MatchingRun, backref="proposal_rows", on_delete="CASCADE")
    referral = pw.ForeignKeyField(Referral, backref="+", on_delete="CASCADE")
    peer_role = pw.ForeignKeyField(PeerRole, backref="+", on_delete="RESTRICT")
    score = pw.FloatField()
    reasons = pw.TextField(default="")        # one reason a line
    alternatives = pw.TextField(default="")   # "name (score)" a line, best first
    status = pw.CharField(max_length=20, default=PROPOSED, index=True)
    decided_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    decided_at = pw.DateTimeField(null=True)
    assigned_role = pw.ForeignKeyField(PeerRole, null=True, backref="+", on_delete="RESTRICT")
    override_reason = pw.TextField(default="")
    # The peers eligible for this referral in the run, best first, as positions in
    # the run's peer ids (``snapshot.pack_positions``): two bytes a peer.
    eligible_peers = pw.BlobField(null=True)

    class Meta:
        indexes = ((("run", "referral"), True),)
        constraints = [pw.Check("status IN ('proposed', 'approved', 'overridden', 'superseded')")]

    def eligible_peer_ids(self) -> list[int]:
        """Peers other than the proposed one who were eligible in the run, best first."""
        if self.eligible_peers is not None:
            order = self.run.peer_ids()
            return [order[n] for n in snapshot.unpack_positions(self.eligible_peers) if n < len(order)]
        return [entry["peer"] for entry in self.excluded if entry.get("eligible")]

    @property
    def reason_list(self) -> list[str]:
        return [line for line in (self.reasons or "").split("\n") if line]

    @property
    def alternative_list(self) -> list[str]:
        return [line for line in (self.alternatives or "").split("\n") if line]

    @property
    def status_text(self) -> str:
        return STATUS_TEXT.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status == PROPOSED


class RunUnmatched(_Explained):
    """A referral the run could not match, with the engine's reason."""

    run = pw.ForeignKeyField(MatchingRun, backref="unmatched_rows", on_delete="CASCADE")
    referral = pw.ForeignKeyField(Referral, backref="+", on_delete="CASCADE")
    reason = pw.TextField(default="")

    class Meta:
        indexes = ((("run", "referral"), True),)


MODELS = [MatchingSettings, MatchingRun, RunInputs, RunProposal, RunUnmatched]

__all__ = ["MatchingSettings", "MatchingRun", "RunInputs", "RunProposal", "RunUnmatched", "MODELS", "db", "STATUSES",
           "PROPOSED", "APPROVED", "OVERRIDDEN", "SUPERSEDED", "clean_weights"]
