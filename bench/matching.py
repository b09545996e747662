"""Benchmark of the matching engine at team size and at Trust size.

Run from the repository root:  python bench/matching.py

Seeds synthetic peers and referrals with a fixed random seed, then times whole
matching runs (hard rules, scoring every pair, the assignment, and explanations for
every proposal and every unmatched referral), and prints the optimum beside
first come, first served (what peer leads did by hand).
"""

from __future__ import annotations

import importlib
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEED = 20240611
TARGET_SECONDS = 1.0

INTERESTS = [
    "music", "football", "cooking", "gardening", "art", "walking", "gaming", "reading",
    "films", "fishing", "running", "yoga", "photography", "crafts", "faith", "cycling",
    "volunteering", "animals", "writing", "poetry",
]
# English is near universal; the rest follow a Manchester-like mix.
LANGUAGES = ["English", "Urdu", "Punjabi", "Polish", "Arabic", "Somali", "Bengali", "Cantonese"]
LANGUAGE_WEIGHTS = [0, 12, 6, 6, 5, 3, 3, 2]
AREAS = ["Hulme", "Moss Side", "Longsight", "Levenshulme", "Didsbury", "Wythenshawe",
         "Gorton", "Cheetham Hill", "Ancoats", "Chorlton"]
SLOTS = [f"{day}-{part}" for day in ("mon", "tue", "wed", "thu", "fri") for part in ("am", "pm", "eve")
         if (day, part) != ("fri", "eve")]  # 14 slots
GENDERS = ["woman", "man", "non-binary"]
GENDER_WEIGHTS = [48, 48, 4]
AGE_BANDS = ["18-25", "26-35", "36-50", "51+"]
BACKGROUNDS = ["White British", "Black British", "Asian British", "Mixed", "White other", "Arab"]
RISKS = ["low", "medium", "high"]
RISK_WEIGHTS = [60, 30, 10]


def catalogue(engine):
    I = engine.Intervention
    return [
        I(1, "One-to-one support", True, frozenset({"low", "medium", "high"})),
        I(2, "Community access", True, frozenset({"low", "medium"})),
        I(3, "Home visits", False, frozenset({"low", "medium", "high"})),
        I(4, "Recovery group", True, frozenset({"low", "medium", "high"})),
        I(5, "Work-WRAP coaching", False, frozenset({"low", "medium"})),
        I(6, "Benefits and housing support", True, frozenset({"low", "medium", "high"})),
    ]


def _some(rng, items, low, high):
    return frozenset(rng.sample(items, rng.randint(low, high)))


def _languages(rng):
    langs = {"English"} if rng.random() < 0.95 else set()
    if rng.random() < 0.35:
        langs.add(rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0])
    return frozenset(langs or {"English"})


def synthetic(engine, n_peers, n_referrals, seed=SEED):
    """Peers (capacity left 1-5 for ready peers) and referrals, realistic enough."""
    rng = random.Random(seed)
    n_service_users = n_referrals
    peers = []
    for pid in range(1, n_peers + 1):
        volunteer = rng.random() < 0.30
        ready = rng.random() >= 0.10
        active = rng.randint(0, 3)
        offers = frozenset() if rng.random() < 0.6 else _some(rng, [1, 2, 3, 4, 5, 6], 2, 5)
        excluded = frozenset(rng.randint(1, n_service_users) for _ in range(rng.randint(0, 2))) \
            if rng.random() < 0.15 else frozenset()
        peers.append(engine.Peer(
            id=pid, name=f"Peer P-{pid:04d}", ready=ready,
            not_ready_reason="" if ready else rng.choice(["DBS check expired", "induction not complete",
                                                           "confidentiality agreement not signed"]),
            volunteer=volunteer, max_caseload=active + rng.randint(1, 5), active_caseload=active,
            interests=_some(rng, INTERESTS, 2, 6), languages=_languages(rng),
            areas=_some(rng, AREAS, 1, 3), availability=_some(rng, SLOTS, 3, 8),
            gender=rng.choices(GENDERS, GENDER_WEIGHTS)[0], age_band=rng.choice(AGE_BANDS),
            backgrounds=frozenset({rng.choice(BACKGROUNDS)}),
            interventions=offers, excluded_service_users=excluded,
        ))
    referrals = []
    for rid in range(1, n_referrals + 1):
        prefs = []
        if rng.random() < 0.10:  # a "must"
            kind = rng.choice(["gender", "gender", "language", "age_band", "background"])
            value = {"gender": lambda: rng.choice(["woman", "man"]),
                     "language": lambda: rng.choices(LANGUAGES[1:], LANGUAGE_WEIGHTS[1:])[0],
                     "age_band": lambda: rng.choice(AGE_BANDS),
                     "background": lambda: rng.choice(BACKGROUNDS)}[kind]()
            prefs.append(engine.Preference(kind, value, True))
        for kind, values in (("gender", GENDERS[:2]), ("age_band", AGE_BANDS), ("background", BACKGROUNDS)):
            if rng.random() < 0.25:
                prefs.append(engine.Preference(kind, rng.choice(values), False))
        risk = rng.choices(RISKS, RISK_WEIGHTS)[0]
        wanted = {rng.choice([1, 1, 1, 2, 4, 6])}
        if rng.random() < 0.15:
            wanted.add(rng.choice([3, 5]))
        if risk == "high":
            wanted.discard(2), wanted.discard(5)
            wanted = wanted or {1}
        excluded = frozenset(rng.randint(1, n_peers) for _ in range(rng.randint(1, 2))) \
            if rng.random() < 0.05 else frozenset()
        not_fit = frozenset({rng.randint(1, n_peers)}) if rng.random() < 0.03 else frozenset()
        referrals.append(engine.Referral(
            id=rid, service_user_id=rid, label=f"Referral R-{rid:04d}",
            waiting_days=int(rng.expovariate(1 / 30)), risk_level=risk,
            interventions=frozenset(wanted), volunteer_allowed=rng.random() >= 0.15,
            interests=_some(rng, INTERESTS, 1, 5), languages=_languages(rng),
            area=rng.choice(AREAS), availability=_some(rng, SLOTS, 2, 7),
            preferences=tuple(prefs), excluded_peers=excluded, not_a_good_fit_peers=not_fit,
        ))
    return peers, referrals


def timed(fn, *args, repeat=5):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return result, times


def phases(engine, peers, referrals, ivs, repeat):
    """Median time of each phase of an optimal run (internal API, for the breakdown)."""
    rows = {"hard rules + scoring every pair": [], "assignment (linear_sum_assignment)": [],
            "explanations (proposals + unmatched)": []}
    for _ in range(repeat):
        t0 = time.perf_counter()
        tables = engine._Tables(peers, referrals, ivs, None)
        t1 = time.perf_counter()
        pairs = tables.solve_optimal()
        t2 = time.perf_counter()
        tables.result(pairs, "optimal")
        t3 = time.perf_counter()
        for key, value in zip(rows, (t1 - t0, t2 - t1, t3 - t2)):
            rows[key].append(value)
    return {key: statistics.median(values) for key, values in rows.items()}


def report(engine, title, n_peers, n_referrals, repeat):
    peers, referrals = synthetic(engine, n_peers, n_referrals)
    ivs = catalogue(engine)
    capacity = sum(p.capacity_left for p in peers if p.ready)
    optimum, times = timed(engine.run_matching, peers, referrals, ivs, repeat=repeat)
    greedy, gtimes = timed(engine.greedy_first_come, peers, referrals, ivs, repeat=repeat)
    no_peer = sum(1 for text in optimum.unmatched.values() if not text[0].isdigit())

    print(f"\n{title}: {n_peers} peers x {n_referrals} referrals "
          f"({n_peers * n_referrals:,} pairs; {capacity:,} places left with ready peers)")
    print(f"  whole run, optimal          median {statistics.median(times) * 1000:7.1f} ms   "
          f"best {min(times) * 1000:7.1f} ms   worst {max(times) * 1000:7.1f} ms   ({repeat} runs)")
    for name, seconds in phases(engine, peers, referrals, ivs, repeat).items():
        print(f"    {name:38} {seconds * 1000:7.1f} ms")
    print(f"  whole run, first come       median {statistics.median(gtimes) * 1000:7.1f} ms")
    print(f"  {'':28}{'matched':>9}{'unmatched':>11}{'total score':>14}{'mean score':>12}")
    for name, res in (("optimal", optimum), ("first come, first served", greedy)):
        mean = res.total_score / res.matched_count if res.matched_count else 0.0
        print(f"  {name:28}{res.matched_count:>9}{len(res.unmatched):>11}"
              f"{res.total_score:>14.1f}{mean:>12.2f}")
    gain = (optimum.total_score - greedy.total_score) / greedy.total_score * 100 if greedy.total_score else 0.0
    print(f"  optimum gains {gain:+.1f}% total score and {optimum.matched_count - greedy.matched_count:+d} "
          f"matched referrals over first come, first served")
    print(f"  unmatched: {no_peer} with no eligible peer, "
          f"{len(optimum.unmatched) - no_peer} eligible but places ran out")

    if optimum.proposals:
        p = optimum.proposals[0]
        print(f"  e.g. referral {p.referral_id} -> peer {p.peer_id} (score {p.score:.2f}): " + "; ".join(p.reasons))
        print("       alternatives: " + ", ".join(f"peer {pid} ({score:.2f})" for pid, score in p.alternatives))
        start = time.perf_counter()
        excluded = optimum.excluded_peers(p.referral_id)
        lazy = time.perf_counter() - start
        shown = [excluded[0]] + [x for x in excluded if not x[1].startswith("eligible")][:2]
        for pid, text in shown:
            print(f"       why not peer {pid}: {text}")
        print(f"       (all {len(excluded)} other peers explained lazily in {lazy * 1000:.1f} ms)")
    examples = {}
    for rid, text in optimum.unmatched.items():
        examples.setdefault(text[0].isdigit(), (rid, text))
    for rid, text in examples.values():
        print(f"  e.g. referral {rid} unmatched: {text}")
    return statistics.median(times)


def main():
    start = time.perf_counter()
    importlib.import_module("peerapp")
    import_package = time.perf_counter() - start
    start = time.perf_counter()
    engine = importlib.import_module("peerapp.matching.engine")
    import_engine = time.perf_counter() - start
    lazy = "numpy" not in sys.modules and "scipy" not in sys.modules
    start = time.perf_counter()
    import numpy  # noqa: F401
    import scipy.optimize  # noqa: F401
    import_numeric = time.perf_counter() - start

    print("Matching engine benchmark (fixed seed %d, Python %s, %d cores)"
          % (SEED, sys.version.split()[0], os.cpu_count() or 0))
    print(f"  import peerapp (the app package, Flask etc.): {import_package * 1000:6.1f} ms")
    print(f"  import peerapp.matching.engine on top:        {import_engine * 1000:6.1f} ms "
          f"(numpy/scipy {'not imported' if lazy else 'ALREADY imported'})")
    print(f"  first matching run imports numpy + scipy.optimize: {import_numeric * 1000:6.1f} ms "
          "(once per process; not counted below)")

    report(engine, "Team size", 20, 60, repeat=20)
    trust = report(engine, "Trust size", 500, 2000, repeat=7)
    verdict = "within" if trust < TARGET_SECONDS else "OVER"
    print(f"\nTrust-size whole run {trust * 1000:.0f} ms (median): {verdict} the "
          f"{TARGET_SECONDS * 1000:.0f} ms target")
    return 0 if trust < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
