"""Who may take a referral: the one place the rule is written.

Plain Python, no Flask and no database. ``problems(peer, referral, catalogue)``
returns every rule the pair breaks as ``(code, sentence)``, in code order; an empty
list means the peer may take the referral. Everyone asks here:

- assigning a peer by hand (``Referral.assignment_problems``),
- approving or overriding a matching proposal (``matching.inputs.live_problems``),
- the matching engine's one-pair reference (``engine.score_pair``) and its
  "why not this peer?" (``MatchResult.why_not``);

the engine's vectorised table computes the same rules for every pair at once, and
a property test (tests/test_eligibility.py) proves the two agree on random instances.

The facts are the dataclasses below; ``referrals.facts`` builds them from rows.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

PREFERENCE_KINDS = ("gender", "age_band", "background", "language")
DEFAULT_VOLUNTEER_RISK_LEVELS = frozenset({"low"})

# Rule codes, in the order used to pick one main reason per pair.
NOT_READY = 1
NO_CAPACITY = 2
NOT_IN_CATALOGUE = 3
INTERVENTION_RISK = 4
CONFLICT = 5
NOT_A_GOOD_FIT = 6
DOES_NOT_OFFER = 7
VOLUNTEER_INTERVENTION = 8
SCREENING = 9
VOLUNTEER_RISK = 10
MUST = 11


@dataclass(frozen=True)
class Preference:
    kind: str      # "gender" | "age_band" | "background" | "language"
    value: str     # e.g. "woman", "18-25", "Black British", "Urdu"
    must: bool     # True = hard rule, False = "would like" (soft)

    def __post_init__(self):
        if self.kind not in PREFERENCE_KINDS:
            raise ValueError(f"unknown preference kind {self.kind!r}; expected one of {PREFERENCE_KINDS}")


@dataclass(frozen=True)
class Intervention:
    id: int
    name: str
    volunteers_allowed: bool
    risk_levels: frozenset[str]   # subset of {"low", "medium", "high"}


@dataclass(frozen=True)
class Peer:
    id: int
    name: str
    ready: bool = True                       # ready to practise (workforce area decides)
    not_ready_reason: str = ""
    volunteer: bool = False
    max_caseload: int = 0
    active_caseload: int = 0                 # capacity_left = max - active (never below 0)
    interests: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    availability: frozenset[str] = frozenset()   # slots "mon-am", "tue-pm", "wed-eve", ...
    gender: str = ""
    age_band: str = ""
    backgrounds: frozenset[str] = frozenset()
    interventions: frozenset[int] = frozenset()   # intervention ids this peer offers; empty = any
    excluded_service_users: frozenset[int] = frozenset()  # peer-declared conflicts

    @property
    def capacity_left(self) -> int:
        return max(0, self.max_caseload - max(0, self.active_caseload))


@dataclass(frozen=True)
class Referral:
    id: int
    service_user_id: int
    label: str                               # safe display label, e.g. "Referral R-0042"
    waiting_days: int = 0
    risk_level: str = "low"
    interventions: frozenset[int] = frozenset()  # requested
    volunteer_allowed: bool = True           # screening decision
    interests: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    area: str = ""
    availability: frozenset[str] = frozenset()
    preferences: tuple[Preference, ...] = ()
    excluded_peers: frozenset[int] = frozenset()      # declared conflicts from the service user side
    not_a_good_fit_peers: frozenset[int] = frozenset()  # earlier match ended "not a good fit"


@lru_cache(maxsize=8192)
def key(text: str) -> str:
    """Text is compared case-insensitively, with runs of spaces folded."""
    return " ".join(str(text).split()).casefold()


@lru_cache(maxsize=8192)
def _spelling(text: str) -> tuple[str, str]:
    """(key, display text) of one value: a run reads the same words thousands of times."""
    shown = " ".join(str(text).split())
    return shown.casefold(), shown


def keyed(values: Iterable[str]) -> dict[str, str]:
    """Normalised key -> display text (the first spelling in sorted order)."""
    out: dict[str, str] = {}
    for value in sorted(values, key=str):
        k, shown = _spelling(value)
        if k and k not in out:
            out[k] = shown
    return out


def must_text(kind: str, value: str) -> str:
    if kind == "gender":
        return f"must have a {value} peer"
    if kind == "age_band":
        return f"must have a peer aged {value}"
    if kind == "background":
        return f"must have a peer from a {value} background"
    return f"must have a {value}-speaking peer"


def risk_name(risk: str) -> str:
    return risk or "unknown"


def must_preferences(referral: Referral) -> list[tuple[str, str, str]]:
    """(kind, key, display) of each "must" preference, deduplicated, in a stable order."""
    found: dict[tuple[str, str], str] = {}
    for pref in referral.preferences:
        k = key(pref.value)
        if k and pref.must:
            found.setdefault((pref.kind, k), " ".join(pref.value.split()))
    return sorted((kind, k, d) for (kind, k), d in found.items())


def peer_has(peer: Peer, kind: str, k: str) -> bool:
    if kind == "gender":
        return bool(k) and key(peer.gender) == k
    if kind == "age_band":
        return bool(k) and key(peer.age_band) == k
    if kind == "background":
        return k in keyed(peer.backgrounds)
    return k in keyed(peer.languages)  # language


def problems(peer: Peer, referral: Referral, catalogue: Mapping[int, Intervention],
             volunteer_risk_levels: Iterable[str] = DEFAULT_VOLUNTEER_RISK_LEVELS) -> list[tuple[int, str]]:
    """Every rule this pair breaks, as (code, sentence), in code order; [] = eligible."""
    risk = key(referral.risk_level)
    broken: list[tuple[int, str]] = []
    if not peer.ready:
        why = " ".join(peer.not_ready_reason.split())
        broken.append((NOT_READY, "not ready to practise" + (f": {why}" if why else "")))
    if peer.capacity_left <= 0:
        broken.append((NO_CAPACITY, f"no capacity left ({max(0, peer.active_caseload)} of {peer.max_caseload})"))
    for iid in sorted(referral.interventions):
        iv = catalogue.get(iid)
        if iv is None:
            broken.append((NOT_IN_CATALOGUE, f"requested intervention #{iid} is not in the catalogue"))
            continue
        if risk not in {key(x) for x in iv.risk_levels}:
            broken.append((INTERVENTION_RISK, f"{iv.name} is not suited to {risk_name(risk)} risk"))
        if peer.interventions and iid not in peer.interventions:
            broken.append((DOES_NOT_OFFER, f"does not offer {iv.name}"))
        if peer.volunteer and not iv.volunteers_allowed:
            broken.append((VOLUNTEER_INTERVENTION, f"volunteers may not deliver {iv.name}"))
    if referral.service_user_id in peer.excluded_service_users:
        broken.append((CONFLICT, "declared conflict: the peer asked not to be matched with this service user"))
    if peer.id in referral.excluded_peers:
        broken.append((CONFLICT, "declared conflict: this peer is excluded on the service user's side"))
    if peer.id in referral.not_a_good_fit_peers:
        broken.append((NOT_A_GOOD_FIT, "an earlier match between them ended as not a good fit"))
    if peer.volunteer and not referral.volunteer_allowed:
        broken.append((SCREENING, "screening decided a volunteer may not take this referral"))
    if peer.volunteer and risk not in {key(x) for x in volunteer_risk_levels}:
        broken.append((VOLUNTEER_RISK, f"volunteers may not take {risk_name(risk)}-risk referrals"))
    for kind, k, display in must_preferences(referral):
        if not peer_has(peer, kind, k):
            broken.append((MUST, must_text(kind, display)))
    broken.sort(key=lambda item: item[0])  # stable: keeps the order within a rule
    return broken
