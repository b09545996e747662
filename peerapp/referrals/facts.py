"""The eligibility facts of rows: a peer's role, a referral and the catalogue as
``referrals.eligibility`` reads them (names of service users and NHS numbers never
leave this area: a referral is its label)."""
from __future__ import annotations

import datetime as dt

from .. import clock
from ..workforce.models import PeerRole
from . import eligibility as engine
from .models import DeclaredConflict, Intervention, Referral


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
        volunteer=role.is_volunteer, max_caseload=role.max_caseload or 0, active_caseload=role.active_caseload(),
        interests=frozenset(role.interest_list()), languages=frozenset(role.language_list()),
        areas=frozenset(role.area_list()), availability=frozenset(role.availability_list()),
        gender=role.gender or "", age_band=role.age_band or "", backgrounds=frozenset(role.background_list()),
        interventions=_offered_interventions(role, names), excluded_service_users=excluded)


def engine_referral(referral: Referral, today: dt.date | None = None, *, accepted_at: dt.datetime | None = None,
                    requested: frozenset[int] | None = None, excluded: frozenset[int] | None = None,
                    not_fit: frozenset[int] | None = None, preferences=None) -> engine.Referral:
    """One referral as the engine sees it (its label, never a name or an NHS number)."""
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
    return referral_facts(referral.id, su.id, today, risk_level=referral.risk_level,
                          volunteer_allowed=referral.volunteer_allowed, since=accepted_at or referral.created_at,
                          interests=su.interests, languages=su.languages, area=su.area,
                          availability=su.availability, requested=requested, excluded=excluded, not_fit=not_fit,
                          preferences=preferences)


def referral_facts(referral_id: int, service_user_id: int, today: dt.date | None = None, *, risk_level, volunteer_allowed,
                   since: dt.datetime | None, interests, languages, area, availability, requested: frozenset[int],
                   excluded: frozenset[int], not_fit: frozenset[int], preferences) -> engine.Referral:
    """:func:`engine_referral` from plain values (a matching run reads 2,000 referrals as
    rows of values, not as models). ``since``: when it was last accepted, else made;
    ``preferences``: anything with ``kind``, ``value`` and ``must``."""
    today = today or clock.today()
    waited = max(0, (today - since.date()).days) if since else 0
    prefs = tuple(engine.Preference(p.kind, p.value, bool(p.must)) for p in preferences
                  if p.kind in engine.PREFERENCE_KINDS and p.value.strip())
    return engine.Referral(
        id=referral_id, service_user_id=service_user_id, label=Referral.label_for(referral_id), waiting_days=waited,
        risk_level=risk_level or "low", interventions=requested,
        volunteer_allowed=bool(volunteer_allowed), interests=frozenset(interests),
        languages=frozenset(languages), area=area or "", availability=frozenset(availability),
        preferences=prefs, excluded_peers=excluded, not_a_good_fit_peers=not_fit)
