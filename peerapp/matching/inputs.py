"""The engine's inputs, built from the database through the other areas' answers.

- referrals: the team's referrals awaiting match, with screening's interventions,
  risk level and volunteer decision, the service user's interests, languages, area,
  availability and preferences, declared conflicts and earlier "not a good fit" ends,
  and the days waited since the referral was accepted (or made);
- peers: every open role of the team (offered, onboarding, active, paused), so the
  engine can say *why* a peer who is not ready was not proposed;
- the intervention catalogue (retired items too: an old referral may still ask for one).

Labels are safe: a referral is its label (R-0042); names of service users never
reach the engine, and NHS numbers never leave the referrals area.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import peewee as pw

from .. import clock
from ..referrals import states
from ..referrals.models import (DeclaredConflict, Intervention, PeerPreference, Referral, ReferralEvent,
                                ReferralIntervention, caseload, not_a_good_fit_pairs)
from ..workforce.models import PeerRole
from . import engine


@dataclass
class TeamInputs:
    peers: list[engine.Peer]
    referrals: list[engine.Referral]
    catalogue: list[engine.Intervention]
    roles: dict[int, PeerRole] = field(default_factory=dict)
    waiting: dict[int, Referral] = field(default_factory=dict)


def catalogue() -> list[engine.Intervention]:
    return [engine.Intervention(id=item.id, name=item.name, volunteers_allowed=bool(item.volunteers_allowed),
                                risk_levels=frozenset(item.risk_levels))
            for item in Intervention.select().order_by(Intervention.id)]


def _offered_interventions(role: PeerRole, names: dict[str, int]) -> frozenset[int]:
    """The workforce area keeps the kinds a peer offers as free text. Kinds that name a
    catalogue item limit the peer to those items; otherwise the peer offers any."""
    wanted = {" ".join(kind.split()).casefold() for kind in role.intervention_kind_list()}
    return frozenset(iid for name, iid in names.items() if name in wanted)


def _not_ready_reason(role: PeerRole, today: dt.date) -> str:
    problems = role.readiness_problems(today)
    if role.status != "active":
        status = {"offered": "role offered, not started", "onboarding": "still onboarding",
                  "paused": "role paused"}.get(role.status, f"role {role.status}")
        if role.status == "paused" and role.status_reason:
            status += f" ({role.status_reason})"
        return "; ".join([status, *problems])
    return "; ".join(problems)


def engine_peer(role: PeerRole, today: dt.date | None = None, *, names: dict[str, int] | None = None,
                excluded: frozenset[int] | None = None) -> engine.Peer:
    """One role as the engine sees it."""
    today = today or clock.today()
    if names is None:
        names = {" ".join(i.name.split()).casefold(): i.id for i in Intervention.select()}
    if excluded is None:
        excluded = frozenset(c.service_user_id for c in DeclaredConflict.for_peer(role)
                             .where(DeclaredConflict.declared_by_side == "peer"))
    ready = role.status == "active" and role.ready_to_practise(today)
    return engine.Peer(
        id=role.id, name=role.display_name, ready=ready,
        not_ready_reason="" if ready else _not_ready_reason(role, today),
        volunteer=role.is_volunteer, max_caseload=role.max_caseload or 0, active_caseload=caseload(role),
        interests=frozenset(role.interest_list()), languages=frozenset(role.language_list()),
        areas=frozenset(role.area_list()), availability=frozenset(role.availability_list()),
        gender=role.gender or "", age_band=role.age_band or "", backgrounds=frozenset(role.background_list()),
        interventions=_offered_interventions(role, names), excluded_service_users=excluded)


def _accepted_at(referral_ids: list[int]) -> dict[int, dt.datetime]:
    """When each referral was last accepted at screening."""
    if not referral_ids:
        return {}
    rows = (ReferralEvent.select(ReferralEvent.referral, pw.fn.MAX(ReferralEvent.at))
            .where(ReferralEvent.referral.in_(referral_ids), ReferralEvent.to_state == states.ACCEPTED)
            .group_by(ReferralEvent.referral).tuples())
    found = {}
    for rid, at in rows:
        if isinstance(at, str):  # SQLite's MAX() hands back text
            at = dt.datetime.fromisoformat(at)
        found[rid] = at
    return found


def _requested(referral_ids: list[int]) -> dict[int, frozenset[int]]:
    """Screening's choice of interventions once made, else the referrer's (as requested_interventions())."""
    chosen: dict[int, dict[bool, set[int]]] = {}
    for rid, iid, at_screening in (ReferralIntervention
                                   .select(ReferralIntervention.referral, ReferralIntervention.intervention,
                                           ReferralIntervention.chosen_at_screening)
                                   .where(ReferralIntervention.referral.in_(referral_ids)).tuples()):
        chosen.setdefault(rid, {True: set(), False: set()})[bool(at_screening)].add(iid)
    return {rid: frozenset(sides[True] or sides[False]) for rid, sides in chosen.items()}


def engine_referral(referral: Referral, today: dt.date | None = None, *, accepted_at: dt.datetime | None = None,
                    requested: frozenset[int] | None = None, excluded: frozenset[int] | None = None,
                    not_fit: frozenset[int] | None = None, preferences=None) -> engine.Referral:
    """One referral as the engine sees it (its label, never a name or an NHS number)."""
    today = today or clock.today()
    su = referral.service_user
    if requested is None:
        requested = frozenset(i.id for i in referral.requested_interventions())
    if excluded is None:
        excluded = frozenset(c.peer_role_id for c in DeclaredConflict.for_service_user(su)
                             .where(DeclaredConflict.declared_by_side == "service user"))
    if not_fit is None:
        not_fit = frozenset(r.id for r in referral.not_a_good_fit_peers())
    if preferences is None:
        preferences = su.preferences
    since = accepted_at or referral.created_at
    waited = max(0, (today - since.date()).days) if since else 0
    prefs = tuple(engine.Preference(p.kind, p.value, bool(p.must)) for p in preferences
                  if p.kind in engine.PREFERENCE_KINDS and p.value.strip())
    return engine.Referral(
        id=referral.id, service_user_id=su.id, label=referral.label, waiting_days=waited,
        risk_level=referral.risk_level or "low", interventions=requested,
        volunteer_allowed=bool(referral.volunteer_allowed), interests=frozenset(su.interests),
        languages=frozenset(su.languages), area=su.area or "", availability=frozenset(su.availability),
        preferences=prefs, excluded_peers=excluded, not_a_good_fit_peers=not_fit)


def open_roles(team):
    """Every role of the team that is not ended: the engine explains the ones not ready."""
    return list(PeerRole.for_team(team))


def for_team(team, today: dt.date | None = None) -> TeamInputs:
    """Everything one matching run of this team needs, in a handful of queries."""
    today = today or clock.today()
    waiting = list(Referral.awaiting_match(team))
    ids = [r.id for r in waiting]
    su_ids = {r.service_user_id for r in waiting}
    roles = open_roles(team)
    role_ids = {r.id for r in roles}

    conflicts = list(DeclaredConflict.select().where(
        DeclaredConflict.service_user.in_(su_ids) | DeclaredConflict.peer_role.in_(role_ids))) if (su_ids or role_ids) else []
    su_side: dict[int, set[int]] = {}
    peer_side: dict[int, set[int]] = {}
    for c in conflicts:
        if c.declared_by_side == "service user":
            su_side.setdefault(c.service_user_id, set()).add(c.peer_role_id)
        else:
            peer_side.setdefault(c.peer_role_id, set()).add(c.service_user_id)
    not_fit: dict[int, set[int]] = {}
    for su, role in not_a_good_fit_pairs():
        not_fit.setdefault(su, set()).add(role)
    prefs: dict[int, list[PeerPreference]] = {}
    for p in PeerPreference.select().where(PeerPreference.service_user.in_(su_ids)).order_by(PeerPreference.id):
        prefs.setdefault(p.service_user_id, []).append(p)
    accepted = _accepted_at(ids)
    requested = _requested(ids)
    names = {" ".join(i.name.split()).casefold(): i.id for i in Intervention.select()}

    peers = [engine_peer(role, today, names=names, excluded=frozenset(peer_side.get(role.id, ())))
             for role in roles]
    referrals = [engine_referral(r, today, accepted_at=accepted.get(r.id), requested=requested.get(r.id, frozenset()),
                                 excluded=frozenset(su_side.get(r.service_user_id, ())),
                                 not_fit=frozenset(not_fit.get(r.service_user_id, ())),
                                 preferences=prefs.get(r.service_user_id, []))
                 for r in waiting]
    return TeamInputs(peers=peers, referrals=referrals, catalogue=catalogue(),
                      roles={r.id: r for r in roles}, waiting={r.id: r for r in waiting})


def live_problems(referral: Referral, role: PeerRole, settings: engine.Settings | None = None,
                  today: dt.date | None = None) -> list[str]:
    """Why this peer may not take this referral *now*: the referrals area's rules, then
    the engine's hard rules (a "must" preference, a kind of intervention not offered)."""
    problems = list(referral.assignment_problems(role, today))
    if problems:
        return problems
    score, reasons = engine.score_pair(engine_peer(role, today), engine_referral(referral, today),
                                       catalogue(), settings)
    return [] if score is not None else reasons
