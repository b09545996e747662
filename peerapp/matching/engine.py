"""The matching engine: proposes the best fit between peers and referrals.

Plain Python with no Flask and no database: the matching views turn rows into the
dataclasses below, call :func:`run_matching`, and show the :class:`MatchResult`
to a peer lead, who approves or overrides each proposal.

Hard rules
----------
A (referral, peer) pair that breaks any of these is never proposed, and the
reason is kept so the lead can ask "why not this peer?":

1. the peer is not ready to practise;
2. the peer has no capacity left (``max_caseload - active_caseload <= 0``);
3. a requested intervention is not in the catalogue, or is not suited to the
   referral's risk level (``Intervention.risk_levels``; this applies to every
   peer, paid or volunteer);
4. a declared conflict, either way: the peer declared they must not be matched
   with this service user, or the referral excludes this peer;
5. an earlier match between the same two people ended as "not a good fit";
6. the peer does not offer a requested intervention (an empty
   ``Peer.interventions`` means the peer offers any);
7. the peer is a volunteer and: the intervention does not allow volunteers, or
   screening decided a volunteer may not take this referral, or the referral's
   risk level is not in ``Settings.volunteer_risk_levels`` (low only by default);
8. a "must" preference of the service user is not met (gender, age band,
   background, language).

Text is compared case-insensitively, with runs of spaces folded.

Soft score
----------
Every eligible pair scores::

    score = 1                                    (the match base)
          + w_interests        * min(shared interests, interest_cap)       cap 3
          + w_languages        * min(shared languages, language_cap)       cap 2
          + w_preferences      * ("would like" preferences met)
          + w_availability     * min(shared free slots, availability_cap)  cap 3
          + w_area             * (1 if the referral's area is one of the peer's)
          + w_caseload_balance * (1 - active_caseload / max_caseload)
          + w_waiting          * min(waiting_days, waiting_cap_days)       cap 90

The weights live in ``Settings.weights`` (defaults in :data:`DEFAULT_WEIGHTS`,
labels for the settings form in :data:`WEIGHT_LABELS`) and must be >= 0, so every
eligible pair scores at least the match base of 1: proposing an eligible pair
always beats leaving the referral unmatched. Waiting time depends only on the
referral; it decides *which* referrals are matched when capacity is short.

Optimal assignment
------------------
Each referral gets at most one peer and no peer gets more referrals than their
capacity left. By default (``Settings.most_matches_first``) the run first matches
as many referrals as possible and, among those assignments, takes the highest total
score: nobody is left without a peer so that others get a slightly better fit.
With ``most_matches_first=False`` it simply maximises the total score.

It is solved exactly with ``scipy.optimize.linear_sum_assignment`` on a
capacity-expanded matrix: one row per referral with at least one eligible peer,
and each peer repeated ``min(capacity left, referrals eligible for them)`` times
as columns. Ineligible cells are worth the same as leaving the referral
unmatched (0) and are dropped after solving. For "most matches first" every
eligible cell gets a solver-only bonus larger than any possible difference in
total score; reported scores never include it.

Same input, same output: peers, referrals and catalogue are sorted by id before
anything else, and ties are broken by that order.

Speed
-----
Hard rules and scores are computed for every pair at once with numpy (boolean
matrices; shared interests, languages, slots, interventions and preferences as
bits in uint64 words, counted with a bitwise AND and a population count).
Plain-English text is only built for proposed pairs, for unmatched referrals, and
lazily through :meth:`MatchResult.why_not` and :meth:`MatchResult.excluded_peers`. numpy and scipy are imported inside the
functions that need them, so importing this module is cheap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

# The facts and the hard rules live in referrals.eligibility (hand assignment asks them
# too); they are re-exported here as the engine's inputs.
from ..referrals.eligibility import (CONFLICT, DOES_NOT_OFFER, INTERVENTION_RISK, MUST, NO_CAPACITY,  # noqa: F401
                                     NOT_A_GOOD_FIT, NOT_IN_CATALOGUE, NOT_READY, PREFERENCE_KINDS, SCREENING,
                                     VOLUNTEER_INTERVENTION, VOLUNTEER_RISK, Intervention, Peer, Preference,
                                     Referral)
from ..referrals.eligibility import key as _key
from ..referrals.eligibility import keyed as _keyed
from ..referrals.eligibility import must_text as _must_text
from ..referrals.eligibility import problems as _eligibility_problems
from ..referrals.eligibility import risk_name as _risk_name

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

RISK_LEVELS = ("low", "medium", "high")

# Every eligible pair scores at least this, so matching beats not matching.
MATCH_BASE = 1.0

DEFAULT_WEIGHTS = {
    "interests": 1.0,
    "languages": 1.0,
    "preferences": 1.5,
    "availability": 0.5,
    "area": 1.0,
    "caseload_balance": 1.0,
    "waiting": 0.02,
}

WEIGHT_LABELS = {
    "interests": "Each shared interest (up to 3)",
    "languages": "Each shared language (up to 2)",
    "preferences": "Each 'would like' preference met (gender, age band, background, language)",
    "availability": "Each free time slot in common (up to 3)",
    "area": "Peer works in the service user's area",
    "caseload_balance": "Peer has room in their caseload (full weight when their caseload is empty)",
    "waiting": "Each day the referral has waited (up to 90 days)",
}

DAY_NAMES = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}
PART_NAMES = {"am": "mornings", "pm": "afternoons", "eve": "evenings"}


# ---------------------------------------------------------------------------
# The data the engine works on
# ---------------------------------------------------------------------------

@dataclass
class Settings:
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    volunteer_risk_levels: frozenset[str] = frozenset({"low"})
    alternatives: int = 3
    # Caps on the counted terms of the score (see the module docstring).
    interest_cap: int = 3
    language_cap: int = 2
    availability_cap: int = 3
    waiting_cap_days: int = 90
    # True: match as many referrals as possible, then maximise the total score.
    # False: maximise the total score only.
    most_matches_first: bool = True


@dataclass(frozen=True)
class Proposal:
    referral_id: int
    peer_id: int
    score: float
    reasons: tuple[str, ...]
    alternatives: tuple[tuple[int, float], ...]   # (peer_id, score), best first


@dataclass
class MatchResult:
    proposals: list[Proposal]             # sorted by referral id
    unmatched: dict[int, str]             # referral_id -> plain-English reason
    total_score: float
    method: str = "optimal"               # "optimal" or "first come, first served"
    _context: Any = field(default=None, repr=False, compare=False)

    @property
    def matched_count(self) -> int:
        return len(self.proposals)

    def proposal_for(self, referral_id: int) -> Proposal | None:
        ctx = self._require_context()
        return ctx.proposal_by_referral.get(referral_id)

    def why_not(self, referral_id: int, peer_id: int) -> str:
        """Why this peer was not proposed for this referral, in plain English.

        Built on demand for one pair, so the UI never needs all the strings.
        Raises KeyError for a referral or peer that was not in the run.
        """
        ctx = self._require_context()
        ref, peer = ctx.referral(referral_id), ctx.peer(peer_id)
        proposal = ctx.proposal_by_referral.get(referral_id)
        if proposal is not None and proposal.peer_id == peer_id:
            return "proposed: " + "; ".join(proposal.reasons)
        score, reasons, _ = _evaluate(peer, ref, ctx.catalogue, ctx.settings, ctx.weights)
        if score is None:
            return "; ".join(reasons)
        return ctx.lost_reason(score, proposal)

    def excluded_peers(self, referral_id: int) -> list[tuple[int, str]]:
        """Every peer not proposed for this referral, with the reason.

        Eligible peers come first (best score first), then the others by peer id.
        """
        return [(pid, text) for pid, text, _ in self.excluded_peers_marked(referral_id)]

    def excluded_peers_marked(self, referral_id: int) -> list[tuple[int, str, bool]]:
        """As :meth:`excluded_peers`, each with whether the peer was eligible."""
        ctx = self._require_context()
        ref = ctx.referral(referral_id)
        proposal = ctx.proposal_by_referral.get(referral_id)
        eligible, ineligible = [], []
        for peer in ctx.peers.values():
            if proposal is not None and proposal.peer_id == peer.peer.id:
                continue
            score, reasons, _ = _evaluate(peer, ref, ctx.catalogue, ctx.settings, ctx.weights)
            if score is None:
                ineligible.append((peer.peer.id, "; ".join(reasons), False))
            else:
                eligible.append((-score, peer.peer.id, ctx.lost_reason(score, proposal)))
        eligible.sort()
        return [(pid, text, True) for _, pid, text in eligible] + ineligible

    def _require_context(self) -> _Context:
        if self._context is None:
            raise RuntimeError("this MatchResult was not made by a matching run")
        return self._context


# ---------------------------------------------------------------------------
# Normalised views of peers and referrals (built once per run)
# ---------------------------------------------------------------------------

class _NPeer:
    __slots__ = ("peer", "interests", "languages", "areas", "availability", "gender",
                 "age_band", "backgrounds", "capacity_left", "active")

    def __init__(self, peer: Peer):
        self.peer = peer
        self.interests = _keyed(peer.interests)
        self.languages = _keyed(peer.languages)
        self.areas = _keyed(peer.areas)
        self.availability = _keyed(peer.availability)
        self.gender = _key(peer.gender)
        self.age_band = _key(peer.age_band)
        self.backgrounds = _keyed(peer.backgrounds)
        self.active = max(0, peer.active_caseload)
        self.capacity_left = peer.capacity_left

    def has(self, kind: str, key: str) -> bool:
        if kind == "gender":
            return bool(key) and self.gender == key
        if kind == "age_band":
            return bool(key) and self.age_band == key
        if kind == "background":
            return key in self.backgrounds
        return key in self.languages  # language


class _NReferral:
    __slots__ = ("referral", "interests", "languages", "area", "area_display", "availability",
                 "risk", "must", "would_like", "interventions")

    def __init__(self, referral: Referral):
        self.referral = referral
        self.interests = _keyed(referral.interests)
        self.languages = _keyed(referral.languages)
        self.area = _key(referral.area)
        self.area_display = " ".join(referral.area.split())
        self.availability = _keyed(referral.availability)
        self.risk = _key(referral.risk_level)
        # (kind, key, display), deduplicated, in a stable order.
        must: dict[tuple[str, str], str] = {}
        would: dict[tuple[str, str], str] = {}
        for pref in referral.preferences:
            k = _key(pref.value)
            if not k:
                continue
            target = must if pref.must else would
            target.setdefault((pref.kind, k), " ".join(pref.value.split()))
        self.must = sorted((kind, k, d) for (kind, k), d in must.items())
        self.would_like = sorted((kind, k, d) for (kind, k), d in would.items())
        self.interventions = tuple(sorted(referral.interventions))


# Short phrases for counting peers in an unmatched referral's summary.
_COUNT_PHRASES = {
    NOT_READY: "not ready",
    NO_CAPACITY: "no capacity left",
    NOT_IN_CATALOGUE: "intervention not in the catalogue",
    INTERVENTION_RISK: "intervention not suited to the risk level",
    CONFLICT: "declared conflict",
    NOT_A_GOOD_FIT: "earlier match ended as not a good fit",
    DOES_NOT_OFFER: "do not offer the intervention",
    VOLUNTEER_INTERVENTION: "volunteers not allowed to deliver the intervention",
    SCREENING: "volunteers ruled out at screening",
    VOLUNTEER_RISK: "volunteers not allowed for {risk} risk",
    MUST: "a 'must' preference not met",
}


def _would_like_text(kind: str, value: str) -> str:
    if kind == "gender":
        return f"prefers a {value} peer"
    if kind == "age_band":
        return f"prefers a peer aged {value}"
    if kind == "background":
        return f"prefers a peer from a {value} background"
    return f"prefers a peer who speaks {value}"


def _nobody_with_capacity_text(kind: str, value: str) -> str:
    if kind == "gender":
        return f"no {value} peer has capacity"
    if kind == "age_band":
        return f"no peer aged {value} has capacity"
    if kind == "background":
        return f"no peer from a {value} background has capacity"
    return f"no peer with capacity speaks {value}"


def slot_name(slot: str) -> str:
    """"tue-pm" -> "Tuesday afternoons"; anything else is shown as written."""
    day, _, part = _key(slot).partition("-")
    if day in DAY_NAMES and part in PART_NAMES:
        return f"{DAY_NAMES[day]} {PART_NAMES[part]}"
    return slot


def _slot_order(key: str) -> tuple:
    day, _, part = key.partition("-")
    days, parts = list(DAY_NAMES), list(PART_NAMES)
    return (days.index(day) if day in days else 99, parts.index(part) if part in parts else 99, key)


def _and_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------------------
# One pair, in plain Python: the reference the bulk code is tested against
# ---------------------------------------------------------------------------

def _hard_rules(p: _NPeer, r: _NReferral, catalogue: Mapping[int, Intervention],
                settings: Settings) -> list[tuple[int, str]]:
    """The one eligibility rule (referrals.eligibility), which hand assignment asks too."""
    return _eligibility_problems(p.peer, r.referral, catalogue, settings.volunteer_risk_levels)


def _evaluate(p: _NPeer, r: _NReferral, catalogue: Mapping[int, Intervention],
              settings: Settings, weights: Mapping[str, float]
              ) -> tuple[float | None, list[str], list[int]]:
    """(score or None, reasons, hard-rule codes) for one pair."""
    broken = _hard_rules(p, r, catalogue, settings)
    if broken:
        return None, [text for _, text in broken], [code for code, _ in broken]

    reasons: list[str] = []
    score = MATCH_BASE

    shared_lang = sorted(k for k in r.languages if k in p.languages)
    score += weights["languages"] * min(len(shared_lang), settings.language_cap)
    if shared_lang:
        reasons.append("both speak " + _and_list([r.languages[k] for k in shared_lang]))

    shared_int = sorted(k for k in r.interests if k in p.interests)
    score += weights["interests"] * min(len(shared_int), settings.interest_cap)
    if shared_int:
        names = ", ".join(r.interests[k] for k in shared_int)
        reasons.append(("shares interests: " if len(shared_int) > 1 else "shares an interest: ") + names)

    shared_slots = sorted((k for k in r.availability if k in p.availability), key=_slot_order)
    score += weights["availability"] * min(len(shared_slots), settings.availability_cap)
    if shared_slots:
        reasons.append("both free " + ", ".join(slot_name(r.availability[k]) for k in shared_slots))

    same_area = bool(r.area) and r.area in p.areas
    score += weights["area"] * (1.0 if same_area else 0.0)
    if same_area:
        reasons.append(f"same area: {r.area_display}")

    for kind, k, display in r.must:
        reasons.append(f"{_must_text(kind, display)}: met")
    met = 0
    for kind, k, display in r.would_like:
        ok = p.has(kind, k)
        met += ok
        reasons.append(f"{_would_like_text(kind, display)}: {'met' if ok else 'not met'}")
    score += weights["preferences"] * met

    peer = p.peer
    balance = 1.0 - min(p.active, peer.max_caseload) / peer.max_caseload
    score += weights["caseload_balance"] * balance
    reasons.append(f"caseload {p.active} of {peer.max_caseload}")

    waited = max(0, r.referral.waiting_days)
    score += weights["waiting"] * min(waited, settings.waiting_cap_days)
    if waited:
        reasons.append(f"waiting {waited} day{'s' if waited != 1 else ''}")
    return score, reasons, []


def _resolve(settings: Settings | None) -> tuple[Settings, dict[str, float]]:
    settings = settings if settings is not None else Settings()
    unknown = set(settings.weights) - set(DEFAULT_WEIGHTS)
    if unknown:
        raise ValueError(f"unknown matching weights: {sorted(unknown)}")
    weights = dict(DEFAULT_WEIGHTS)
    for name, value in settings.weights.items():
        value = float(value)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"matching weight {name!r} must be a number >= 0, not {value!r}")
        weights[name] = value
    for cap in ("interest_cap", "language_cap", "availability_cap", "waiting_cap_days", "alternatives"):
        if int(getattr(settings, cap)) < 0:
            raise ValueError(f"{cap} must be >= 0")
    return settings, weights


def _catalogue(interventions) -> dict[int, Intervention]:
    items = list(interventions.values()) if isinstance(interventions, Mapping) else list(interventions)
    catalogue: dict[int, Intervention] = {}
    for iv in sorted(items, key=lambda iv: iv.id):
        if iv.id in catalogue:
            raise ValueError(f"intervention id {iv.id} appears twice")
        catalogue[iv.id] = iv
    return catalogue


def score_pair(peer: Peer, referral: Referral, interventions, settings: Settings | None = None
               ) -> tuple[float | None, list[str]]:
    """None score + hard-rule reasons when ineligible; else score + plain-English reasons.

    Pure-Python reference implementation used by tests.
    """
    settings, weights = _resolve(settings)
    score, reasons, _ = _evaluate(_NPeer(peer), _NReferral(referral), _catalogue(interventions),
                                  settings, weights)
    return score, reasons


# ---------------------------------------------------------------------------
# Every pair at once
# ---------------------------------------------------------------------------

@dataclass
class ScoreTable:
    """Eligibility and score of every (referral, peer) pair, rows and columns by id."""
    referral_ids: tuple[int, ...]
    peer_ids: tuple[int, ...]
    eligible: np.ndarray          # bool, (referrals, peers)
    scores: np.ndarray            # float64, 0 where ineligible
    _main_reason: Any = field(default=None, repr=False, compare=False)

    @property
    def main_reason(self) -> np.ndarray:
        """uint8 hard-rule code of the first rule broken, 0 if eligible: worked out
        when first asked (a stored run never needs it)."""
        if callable(self._main_reason):
            self._main_reason = self._main_reason()
        return self._main_reason


# --- sets as bits ------------------------------------------------------------------
# Shared interests, languages, slots, requested interventions and preferences are
# counted for every (referral, peer) pair with bitwise AND and a population count on
# uint64 words: no Python loop per pair and no BLAS (whose threads only spin on a
# busy 2-core machine for matrices this thin).

def _incidence(sets, index: Mapping, width: int):
    """Boolean (len(sets), width): True where an item's set holds word ``index[k]``
    (words not in ``index`` are ignored)."""
    import numpy as np
    from itertools import chain

    cols = [[index[k] for k in s if k in index] for s in sets]
    counts = np.fromiter(map(len, cols), np.int64, len(cols))
    flat = np.fromiter(chain.from_iterable(cols), np.int64, int(counts.sum()))
    out = np.zeros((len(cols), width), bool)
    out[np.repeat(np.arange(len(cols)), counts), flat] = True
    return out


def _bits(matrix):
    """A boolean (n, c) matrix as uint64 words (n, ceil(c / 64)): column c is bit c % 64 of word c // 64."""
    import numpy as np

    packed = np.packbits(matrix, axis=1, bitorder="little")
    padding = (-packed.shape[1]) % 8 or (8 if packed.shape[1] == 0 else 0)
    if padding:
        packed = np.pad(packed, ((0, 0), (0, padding)))
    return np.ascontiguousarray(packed).view("<u8")


def _shared_count(a, b):
    """How many bits each row of ``a`` shares with each row of ``b``: uint16 (len(a), len(b))."""
    import numpy as np

    out = np.zeros((a.shape[0], b.shape[0]), np.uint16)
    both = np.empty((a.shape[0], b.shape[0]), np.uint64)
    for w in range(a.shape[1]):
        np.bitwise_and(a[:, w, None], b[None, :, w], out=both)
        out += np.bitwise_count(both)
    return out


def _share_any(a, b):
    """Whether each row of ``a`` shares a bit with each row of ``b``: bool (len(a), len(b))."""
    import numpy as np

    out = np.zeros((a.shape[0], b.shape[0]), bool)
    both = np.empty((a.shape[0], b.shape[0]), np.uint64)
    for w in range(a.shape[1]):
        np.bitwise_and(a[:, w, None], b[None, :, w], out=both)
        out |= both != 0
    return out


class _Tables:
    """Everything one run computes in bulk."""

    def __init__(self, peers, referrals, interventions, settings):
        import numpy as np

        self.settings, self.weights = _resolve(settings)
        settings = self.settings
        self.catalogue = _catalogue(interventions)
        self.peers = [_NPeer(p) for p in sorted(peers, key=lambda p: p.id)]
        self.refs = [_NReferral(r) for r in sorted(referrals, key=lambda r: r.id)]
        for what, items, get in (("peer", self.peers, lambda x: x.peer.id),
                                 ("referral", self.refs, lambda x: x.referral.id)):
            ids = [get(x) for x in items]
            if len(set(ids)) != len(ids):
                raise ValueError(f"{what} ids must be unique")
        peers, refs, cat = self.peers, self.refs, self.catalogue
        n_r, n_p = len(refs), len(peers)
        self.peer_col = {p.peer.id: j for j, p in enumerate(peers)}

        ready = np.fromiter((p.peer.ready for p in peers), bool, n_p)
        self.capacity = np.fromiter((p.capacity_left for p in peers), np.int64, n_p)
        volunteer = np.fromiter((p.peer.volunteer for p in peers), bool, n_p)
        self.available = ready & (self.capacity > 0)

        # Hard rules as (code, mask); masks broadcast to (referrals, peers).
        rules: list[tuple[int, np.ndarray]] = []
        rules.append((NOT_READY, ~ready[None, :]))
        rules.append((NO_CAPACITY, (self.capacity <= 0)[None, :]))

        # Interventions: referral-level rules, then peer x intervention rules.
        iv_ids = list(cat)
        iv_col = {iid: k for k, iid in enumerate(iv_ids)}
        missing = np.zeros(n_r, bool)
        unsuited = np.zeros(n_r, bool)
        risk_keys = {iid: {_key(x) for x in iv.risk_levels} for iid, iv in cat.items()}
        for i, r in enumerate(refs):
            for iid in r.interventions:
                if iid not in cat:
                    missing[i] = True
                elif r.risk not in risk_keys[iid]:
                    unsuited[i] = True
        rules.append((NOT_IN_CATALOGUE, missing[:, None]))
        rules.append((INTERVENTION_RISK, unsuited[:, None]))

        # Conflicts and earlier "not a good fit" endings are sparse: set by index.
        rows_of_su: dict[int, list[int]] = {}
        for i, r in enumerate(refs):
            rows_of_su.setdefault(r.referral.service_user_id, []).append(i)
        conflict = np.zeros((n_r, n_p), bool)
        not_fit = np.zeros((n_r, n_p), bool)
        for j, p in enumerate(peers):
            for su in p.peer.excluded_service_users:
                for i in rows_of_su.get(su, ()):
                    conflict[i, j] = True
        for i, r in enumerate(refs):
            for pid in r.referral.excluded_peers:
                if pid in self.peer_col:
                    conflict[i, self.peer_col[pid]] = True
            for pid in r.referral.not_a_good_fit_peers:
                if pid in self.peer_col:
                    not_fit[i, self.peer_col[pid]] = True
        rules.append((CONFLICT, conflict))
        rules.append((NOT_A_GOOD_FIT, not_fit))

        if iv_ids:
            requested = _bits(_incidence([r.interventions for r in refs], iv_col, len(iv_ids)))
            offers_limited = np.zeros((n_p, len(iv_ids)), bool)
            for j, p in enumerate(peers):
                if p.peer.interventions:
                    offers_limited[j] = [iid not in p.peer.interventions for iid in iv_ids]
            no_volunteers = np.array([not cat[iid].volunteers_allowed for iid in iv_ids], bool)
            vol_blocked = volunteer[:, None] & no_volunteers[None, :]
            rules.append((DOES_NOT_OFFER, _share_any(requested, _bits(offers_limited))))
            rules.append((VOLUNTEER_INTERVENTION, _share_any(requested, _bits(vol_blocked))))
            cannot = offers_limited | vol_blocked
            self.can_deliver = {iid: ~cannot[:, k] for k, iid in enumerate(iv_ids)}
        else:
            self.can_deliver = {}

        screened_out = np.fromiter((not r.referral.volunteer_allowed for r in refs), bool, n_r)
        rules.append((SCREENING, screened_out[:, None] & volunteer[None, :]))
        vol_levels = {_key(x) for x in settings.volunteer_risk_levels}
        too_risky = np.fromiter((r.risk not in vol_levels for r in refs), bool, n_r)
        rules.append((VOLUNTEER_RISK, too_risky[:, None] & volunteer[None, :]))

        # "Must" preferences: one column per distinct (kind, value) asked for.
        self._has_cache: dict[tuple[str, str], np.ndarray] = {}
        must_cols = sorted({(kind, k) for r in refs for kind, k, _ in r.must})
        if must_cols:
            col = {c: k for k, c in enumerate(must_cols)}
            wants = _incidence([[(kind, k) for kind, k, _ in r.must] for r in refs], col, len(must_cols))
            lacks = np.stack([~self.peers_with(*c) for c in must_cols], axis=1)
            rules.append((MUST, _share_any(_bits(wants), _bits(lacks))))
        self.rules = rules

        blocked = np.zeros((n_r, n_p), bool)
        for _, mask in rules:
            blocked |= mask
        self.eligible = ~blocked

        # Soft score, for every pair, then zeroed where ineligible. Each term is added
        # in place, in the documented order, in float64 (the same sums as score_pair).
        w = self.weights
        score = np.full((n_r, n_p), MATCH_BASE)
        term = np.empty((n_r, n_p))

        def add(weight, counts):
            np.multiply(counts, weight, out=term, dtype=np.float64)
            np.add(score, term, out=score)

        def shared(ref_attr, peer_attr, cap):
            vocab = sorted({k for x in refs for k in getattr(x, ref_attr)})
            if not vocab or n_p == 0:
                return np.zeros((n_r, n_p), np.uint16)
            index = {k: c for c, k in enumerate(vocab)}
            a = _bits(_incidence([getattr(x, ref_attr) for x in refs], index, len(vocab)))
            b = _bits(_incidence([getattr(x, peer_attr) for x in peers], index, len(vocab)))
            return np.minimum(_shared_count(a, b), cap)

        add(w["languages"], shared("languages", "languages", settings.language_cap))
        add(w["interests"], shared("interests", "interests", settings.interest_cap))
        add(w["availability"], shared("availability", "availability", settings.availability_cap))

        areas = sorted({r.area for r in refs if r.area})
        if areas and n_p:
            area_index = {k: c for c, k in enumerate(areas)}
            ref_in = _bits(_incidence([(r.area,) for r in refs], area_index, len(areas)))
            peer_in = _bits(_incidence([p.areas for p in peers], area_index, len(areas)))
            add(w["area"], _share_any(ref_in, peer_in))

        would_cols = sorted({(kind, k) for r in refs for kind, k, _ in r.would_like})
        if would_cols and n_p:
            col = {c: k for k, c in enumerate(would_cols)}
            wants = _incidence([[(kind, k) for kind, k, _ in r.would_like] for r in refs], col, len(would_cols))
            has = np.stack([self.peers_with(*c) for c in would_cols], axis=1)
            add(w["preferences"], _shared_count(_bits(wants), _bits(has)))

        maxc = np.fromiter((p.peer.max_caseload for p in peers), np.float64, n_p)
        active = np.fromiter((p.active for p in peers), np.float64, n_p)
        with np.errstate(divide="ignore", invalid="ignore"):
            balance = np.where(maxc > 0, 1.0 - np.minimum(active, maxc) / np.where(maxc > 0, maxc, 1), 0.0)
        score += w["caseload_balance"] * balance[None, :]
        waited = np.fromiter((min(max(0, r.referral.waiting_days), settings.waiting_cap_days)
                              for r in refs), np.float64, n_r)
        score += w["waiting"] * waited[:, None]
        np.copyto(score, 0.0, where=blocked)
        self.scores = score

    def peers_with(self, kind: str, key: str):
        """Boolean vector: which peers have this gender / age band / background / language."""
        import numpy as np

        found = self._has_cache.get((kind, key))
        if found is None:
            found = np.fromiter((p.has(kind, key) for p in self.peers), bool, len(self.peers))
            self._has_cache[(kind, key)] = found
        return found

    def main_reason(self, rows=None):
        """uint8 code of the first hard rule each pair breaks (0 = eligible)."""
        import numpy as np

        rows = np.arange(len(self.refs)) if rows is None else np.asarray(rows, np.int64)
        codes = np.zeros((len(rows), len(self.peers)), np.uint8)
        for code, mask in reversed(self.rules):
            m = mask[rows] if mask.shape[0] > 1 else mask
            codes[np.broadcast_to(m, codes.shape)] = code
        return codes

    # -- solving ------------------------------------------------------------

    def solve_optimal(self) -> list[tuple[int, int]]:
        import numpy as np
        from scipy.optimize import linear_sum_assignment

        E, S = self.eligible, self.scores
        rows = np.flatnonzero(E.any(axis=1))
        per_peer = np.minimum(self.capacity, E.sum(axis=0))
        col_peer = np.repeat(np.arange(len(self.peers)), per_peer)
        if len(rows) == 0 or len(col_peer) == 0:
            return []
        # Worked out on each peer's column once, then repeated for their places.
        used = np.flatnonzero(per_peer > 0)
        value = S[np.ix_(rows, used)]
        if self.settings.most_matches_first:
            # Worth more than any difference in total score: the solver first
            # maximises how many referrals are matched, then the total score.
            bonus = min(len(rows), len(col_peer)) * float(value.max()) + 1.0
            value = np.where(E[np.ix_(rows, used)], value + bonus, 0.0)
        value = value[:, np.repeat(np.arange(len(used)), per_peer[used])]
        r_idx, c_idx = linear_sum_assignment(value, maximize=True)
        keep = E[rows[r_idx], col_peer[c_idx]]
        return [(int(rows[r]), int(col_peer[c])) for r, c in zip(r_idx[keep], c_idx[keep])]

    def solve_greedy(self) -> list[tuple[int, int]]:
        """Oldest referral first takes its best eligible peer with capacity (ties: lower id)."""
        import numpy as np

        left = self.capacity.copy()
        order = sorted(range(len(self.refs)),
                       key=lambda i: (-self.refs[i].referral.waiting_days, self.refs[i].referral.id))
        pairs = []
        for i in order:
            candidates = self.eligible[i] & (left > 0)
            if candidates.any():
                j = int(np.argmax(np.where(candidates, self.scores[i], -1.0)))
                left[j] -= 1
                pairs.append((i, j))
        return pairs

    # -- explaining ---------------------------------------------------------

    def unmatched_reason(self, i: int, codes_row) -> str:
        import numpy as np

        r = self.refs[i]
        n_eligible = int(self.eligible[i].sum())
        if n_eligible:
            peers = "peer" if n_eligible == 1 else "peers"
            return (f"{n_eligible} eligible {peers}, but their capacity went to other referrals "
                    f"in the {_PHRASES[self.method]['overall']}")
        if not self.peers:
            return "no peers in this matching run"
        referral_level = self.referral_level_reasons(i)
        if referral_level:
            return "no eligible peer: " + "; ".join(referral_level)
        avail = self.available
        if not avail.any():
            n_not_ready = sum(not p.peer.ready for p in self.peers)
            n_full = int((self.capacity <= 0).sum())
            return (f"no peer is ready to practise with capacity left "
                    f"({n_not_ready} not ready, {n_full} with no capacity left)")
        lines = []
        for kind, k, display in r.must:
            if not (avail & self.peers_with(kind, k)).any():
                lines.append(_nobody_with_capacity_text(kind, display))
        for iid in r.interventions:
            if not (avail & self.can_deliver[iid]).any():
                lines.append(f"no peer with capacity can deliver {self.catalogue[iid].name}")
        if lines:
            return "; ".join(lines)
        counts = np.bincount(codes_row, minlength=MUST + 1)
        ranked = sorted((c for c in range(1, MUST + 1) if counts[c]), key=lambda c: (-counts[c], c))
        parts = [f"{counts[c]} " + _COUNT_PHRASES[c].format(risk=_risk_name(r.risk)) for c in ranked[:4]]
        rest = int(sum(counts[c] for c in ranked[4:]))
        if rest:
            parts.append(f"{rest} for other reasons")
        return "no eligible peer: " + ", ".join(parts)

    def referral_level_reasons(self, i: int) -> list[str]:
        """Reasons that rule out every peer: the referral's interventions themselves."""
        r = self.refs[i]
        texts = []
        for iid in r.interventions:
            iv = self.catalogue.get(iid)
            if iv is None:
                texts.append(f"requested intervention #{iid} is not in the catalogue")
            elif r.risk not in {_key(x) for x in iv.risk_levels}:
                texts.append(f"{iv.name} is not suited to {_risk_name(r.risk)} risk")
        return texts

    def result(self, pairs: list[tuple[int, int]], method: str) -> MatchResult:
        import numpy as np

        self.method = method
        pairs = sorted(pairs)
        k = int(self.settings.alternatives)
        alternatives: dict[int, list[tuple[int, float]]] = {}
        if pairs and k:
            rows = np.array([i for i, _ in pairs])
            chosen = np.array([j for _, j in pairs])
            sub = np.where(self.eligible[rows], self.scores[rows], -np.inf)
            sub[np.arange(len(rows)), chosen] = -np.inf
            # The best ``k`` of each row, best first, equal scores in peer-id order: the
            # first of the highest (argmax), taken out, ``k`` times (as a stable sort would).
            picked, best = [], []
            for _ in range(min(k, sub.shape[1])):
                j = np.argmax(sub, axis=1)
                picked.append(j)
                best.append(sub[np.arange(len(rows)), j])
                sub[np.arange(len(rows)), j] = -np.inf
            order = np.stack(picked, axis=1)
            best = np.stack(best, axis=1)
            peer_ids = [p.peer.id for p in self.peers]
            for n, i in enumerate(rows.tolist()):
                alternatives[i] = [(peer_ids[j], float(s))
                                   for j, s in zip(order[n].tolist(), best[n].tolist()) if s > -np.inf]

        proposals = []
        for i, j in pairs:
            p, r = self.peers[j], self.refs[i]
            score, reasons, _ = _evaluate(p, r, self.catalogue, self.settings, self.weights)
            if score is None:  # the bulk rules and the reference disagree: never propose it
                raise RuntimeError(f"matching engine inconsistency: referral {r.referral.id}, "
                                   f"peer {p.peer.id}: {'; '.join(reasons)}")
            proposals.append(Proposal(r.referral.id, p.peer.id, score, tuple(reasons),
                                      tuple(alternatives.get(i, ()))))

        matched = {i for i, _ in pairs}
        left = [i for i in range(len(self.refs)) if i not in matched]
        unmatched: dict[int, str] = {}
        if left:
            no_one = [i for i in left if not self.eligible[i].any()]
            codes = self.main_reason(no_one) if no_one else None
            code_row = {i: n for n, i in enumerate(no_one)}
            for i in left:
                row = codes[code_row[i]] if i in code_row else None
                unmatched[self.refs[i].referral.id] = self.unmatched_reason(i, row)

        ctx = _Context(
            peers={p.peer.id: p for p in self.peers},
            referrals={r.referral.id: r for r in self.refs},
            catalogue=self.catalogue, settings=self.settings, weights=self.weights,
            proposal_by_referral={pr.referral_id: pr for pr in proposals}, method=method,
        )
        return MatchResult(proposals=proposals, unmatched=unmatched,
                           total_score=math.fsum(pr.score for pr in proposals),
                           method=method, _context=ctx)

    def table(self) -> ScoreTable:
        return ScoreTable(
            referral_ids=tuple(r.referral.id for r in self.refs),
            peer_ids=tuple(p.peer.id for p in self.peers),
            eligible=self.eligible, scores=self.scores, _main_reason=self.main_reason,
        )


_PHRASES = {
    "optimal": {"overall": "overall best fit"},
    "first come, first served": {"overall": "first-come, first-served order"},
}


@dataclass
class _Context:
    """What a MatchResult keeps to explain itself later (no big matrices)."""
    peers: dict[int, _NPeer]
    referrals: dict[int, _NReferral]
    catalogue: dict[int, Intervention]
    settings: Settings
    weights: dict[str, float]
    proposal_by_referral: dict[int, Proposal]
    method: str

    def peer(self, peer_id: int) -> _NPeer:
        try:
            return self.peers[peer_id]
        except KeyError:
            raise KeyError(f"peer {peer_id} was not in this matching run") from None

    def referral(self, referral_id: int) -> _NReferral:
        try:
            return self.referrals[referral_id]
        except KeyError:
            raise KeyError(f"referral {referral_id} was not in this matching run") from None

    def lost_reason(self, score: float, proposal: Proposal | None) -> str:
        overall = _PHRASES[self.method]["overall"]
        if proposal is not None:
            winner = self.peers[proposal.peer_id].peer.name
            return (f"eligible (score {score:.2f}), but the {overall} gave this referral to "
                    f"{winner} (score {proposal.score:.2f})")
        return (f"eligible (score {score:.2f}), but their capacity went to other referrals "
                f"in the {overall}")


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------

def score_table(peers, referrals, interventions, settings: Settings | None = None) -> ScoreTable:
    """Eligibility, score and main hard-rule code of every pair, computed in bulk."""
    return _Tables(peers, referrals, interventions, settings).table()


def run_matching(peers, referrals, interventions, settings: Settings | None = None) -> MatchResult:
    """The optimal assignment of peers to the whole waiting list, explained."""
    tables = _Tables(peers, referrals, interventions, settings)
    return tables.result(tables.solve_optimal(), "optimal")


def run_matching_with_table(peers, referrals, interventions, settings: Settings | None = None
                            ) -> tuple[MatchResult, ScoreTable]:
    """:func:`run_matching` and :func:`score_table` from one bulk computation (a stored
    run keeps which peers were eligible for each referral without working it out twice)."""
    tables = _Tables(peers, referrals, interventions, settings)
    return tables.result(tables.solve_optimal(), "optimal"), tables.table()


def explain_referral(peers, referral: Referral, interventions, settings: Settings | None,
                     proposal: Proposal | None, method: str = "optimal") -> list[tuple[int, str, bool]]:
    """Why each peer was not proposed for one referral of a stored run, worked out
    again from the run's inputs (the same peers, referral, catalogue and settings),
    so a run keeps its inputs rather than every pair's sentence. ``proposal``: what
    the run proposed for this referral (None when it was not matched). Each peer
    is asked the one eligibility rule (``referrals.eligibility``) through
    :func:`_evaluate`, as the run did: (peer id, reason, eligible), best eligible first."""
    settings, weights = _resolve(settings)
    ctx = _Context(peers={p.id: _NPeer(p) for p in sorted(peers, key=lambda p: p.id)},
                   referrals={referral.id: _NReferral(referral)}, catalogue=_catalogue(interventions),
                   settings=settings, weights=weights,
                   proposal_by_referral={referral.id: proposal} if proposal is not None else {}, method=method)
    return MatchResult(proposals=[], unmatched={}, total_score=0.0, method=method,
                       _context=ctx).excluded_peers_marked(referral.id)


def greedy_first_come(peers, referrals, interventions, settings: Settings | None = None) -> MatchResult:
    """Oldest referral first takes its best eligible peer with capacity: what peer leads did by hand; the benchmark prints it beside the optimum."""
    tables = _Tables(peers, referrals, interventions, settings)
    return tables.result(tables.solve_greedy(), "first come, first served")
