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
from ..referrals.facts import catalogue, engine_peer, referral_facts
from ..referrals.models import (DeclaredConflict, Intervention, PeerPreference, Referral, ReferralEvent,
                                ReferralIntervention, ServiceUser, not_a_good_fit_pairs)
from ..workforce.models import PeerRole
from . import engine


@dataclass
class TeamInputs:
    peers: list[engine.Peer]
    referrals: list[engine.Referral]
    catalogue: list[engine.Intervention]
    roles: dict[int, PeerRole] = field(default_factory=dict)


def _accepted_at(referral_ids) -> dict[int, dt.datetime]:
    """When each referral was last accepted at screening (``referral_ids``: ids or a subquery)."""
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


def open_roles(team):
    """Every role of the team that is not ended: the engine explains the ones not ready.
    Readiness and caseloads are gathered for all of them at once (``PeerRole.gather``)."""
    return PeerRole.gather(PeerRole.for_team(team))


def for_team(team, today: dt.date | None = None) -> TeamInputs:
    """Everything one matching run of this team needs, in a handful of queries (the
    waiting list is named by a subquery, not by 2,000 ids in every statement).
    Referrals, preferences and conflicts are read as rows of plain values: a Trust
    team's 2,000 waiting referrals as model instances cost more to load than the
    engine takes to run."""
    today = today or clock.today()
    waiting = list(Referral.awaiting_match(team).select(
        Referral.id, ServiceUser.id, Referral.risk_level, Referral.volunteer_allowed, Referral.created_at,
        ServiceUser.interests, ServiceUser.languages, ServiceUser.area, ServiceUser.availability).tuples())
    waiting_ids = Referral.awaiting_match(team).select(Referral.id).order_by()
    su_ids = Referral.awaiting_match(team).select(Referral.service_user).order_by()
    roles = open_roles(team)
    role_ids = [r.id for r in roles]

    su_side: dict[int, set[int]] = {}
    peer_side: dict[int, set[int]] = {}
    if waiting or role_ids:
        for su, role, side in (DeclaredConflict
                               .select(DeclaredConflict.service_user, DeclaredConflict.peer_role,
                                       DeclaredConflict.declared_by_side)
                               .where(DeclaredConflict.service_user.in_(su_ids)
                                      | DeclaredConflict.peer_role.in_(role_ids)).tuples()):
            if side == "service user":
                su_side.setdefault(su, set()).add(role)
            else:
                peer_side.setdefault(role, set()).add(su)
    not_fit: dict[int, set[int]] = {}
    for su, role in not_a_good_fit_pairs():
        not_fit.setdefault(su, set()).add(role)
    prefs: dict[int, list] = {}
    for p in (PeerPreference.select(PeerPreference.service_user, PeerPreference.kind, PeerPreference.value,
                                    PeerPreference.must)
              .where(PeerPreference.service_user.in_(su_ids)).order_by(PeerPreference.id).namedtuples()):
        prefs.setdefault(p.service_user, []).append(p)
    accepted = _accepted_at(waiting_ids) if waiting else {}
    requested = _requested(waiting_ids) if waiting else {}
    names = {" ".join(i.name.split()).casefold(): i.id for i in Intervention.select()}

    peers = [engine_peer(role, today, names=names, excluded=frozenset(peer_side.get(role.id, ())))
             for role in roles]
    referrals = [referral_facts(rid, su, today, risk_level=risk, volunteer_allowed=volunteers,
                                since=accepted.get(rid) or created, interests=interests, languages=languages,
                                area=area, availability=availability, requested=requested.get(rid, frozenset()),
                                excluded=frozenset(su_side.get(su, ())), not_fit=frozenset(not_fit.get(su, ())),
                                preferences=prefs.get(su, ()))
                 for rid, su, risk, volunteers, created, interests, languages, area, availability in waiting]
    return TeamInputs(peers=peers, referrals=referrals, catalogue=catalogue(), roles={r.id: r for r in roles})


def live_problems(referral: Referral, role: PeerRole, settings: engine.Settings | None = None,
                  today: dt.date | None = None) -> list[str]:
    """Why this peer may not take this referral *now*: the one eligibility rule, as
    hand assignment asks it, with the team's volunteer risk levels."""
    levels = settings.volunteer_risk_levels if settings is not None else None
    return referral.assignment_problems(role, today, volunteer_risk_levels=levels)
