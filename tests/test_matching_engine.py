"""The matching engine: hard rules, plain-English reasons, optimality, determinism.

Plain Python, no app or database. Property tests compare the bulk (numpy) engine
with the pure-Python ``score_pair`` and with a brute-force optimum.
"""

import itertools
import math
import subprocess
import sys

import pytest
from hypothesis import given, settings as hyp_settings, strategies as st

from peerapp.matching import engine
from peerapp.matching.engine import (
    DEFAULT_WEIGHTS, WEIGHT_LABELS, Intervention, Peer, Preference, Referral, Settings,
    greedy_first_come, run_matching, score_pair, score_table,
)

ONE_TO_ONE = Intervention(1, "One-to-one support", True, frozenset({"low", "medium", "high"}))
HOME_VISITS = Intervention(2, "Home visits", False, frozenset({"low", "medium"}))
CATALOGUE = [ONE_TO_ONE, HOME_VISITS]


def peer(id, **kw):
    kw.setdefault("name", f"Peer {id}")
    kw.setdefault("max_caseload", 3)
    return Peer(id=id, **kw)


def referral(id, **kw):
    kw.setdefault("service_user_id", 100 + id)
    kw.setdefault("label", f"Referral R-{id:04d}")
    return Referral(id=id, **kw)


def only_weights(**weights):
    """Settings where only the named weights count (all others 0)."""
    return Settings(weights={name: weights.get(name, 0.0) for name in DEFAULT_WEIGHTS})


# ---------------------------------------------------------------------------
# Hard rules: the blocked peer would be the better fit, yet is never proposed
# ---------------------------------------------------------------------------

GOOD_FIT = dict(interests=frozenset({"music", "football"}), languages=frozenset({"Urdu"}),
                areas=frozenset({"Hulme"}))
WANTS = dict(interests=frozenset({"music", "football"}), languages=frozenset({"Urdu"}), area="Hulme")


def assert_blocked(blocked: Peer, ref: Referral, rule_text: str, settings=None, catalogue=CATALOGUE,
                   **fallback_has):
    """The blocked peer (a better fit on paper) loses to a plain eligible peer."""
    fallback = peer(99, name="Fallback peer", **fallback_has)
    result = run_matching([blocked, fallback], [ref], catalogue, settings)
    assert [(p.referral_id, p.peer_id) for p in result.proposals] == [(ref.id, 99)]
    assert rule_text in result.why_not(ref.id, blocked.id)
    assert blocked.id not in [pid for pid, _ in result.proposals[0].alternatives]
    score, reasons = score_pair(blocked, ref, catalogue, settings)
    assert score is None and any(rule_text in r for r in reasons)
    # Alone, the blocked peer leaves the referral unmatched.
    alone = run_matching([blocked], [ref], catalogue, settings)
    assert alone.proposals == [] and ref.id in alone.unmatched
    return result


def test_peer_not_ready_to_practise():
    assert_blocked(peer(1, ready=False, not_ready_reason="DBS check expired", **GOOD_FIT),
                   referral(1, **WANTS), "not ready to practise: DBS check expired")


def test_no_capacity_left():
    assert_blocked(peer(1, max_caseload=4, active_caseload=4, **GOOD_FIT),
                   referral(1, **WANTS), "no capacity left (4 of 4)")


def test_active_caseload_above_maximum_is_no_capacity():
    assert peer(1, max_caseload=2, active_caseload=5).capacity_left == 0
    assert_blocked(peer(1, max_caseload=2, active_caseload=5, **GOOD_FIT),
                   referral(1, **WANTS), "no capacity left (5 of 2)")


def test_volunteers_may_not_deliver_the_intervention():
    assert_blocked(peer(1, volunteer=True, **GOOD_FIT),
                   referral(1, interventions=frozenset({2}), **WANTS),
                   "volunteers may not deliver Home visits")


def test_peer_does_not_offer_the_intervention():
    assert_blocked(peer(1, interventions=frozenset({1}), **GOOD_FIT),
                   referral(1, interventions=frozenset({2}), **WANTS), "does not offer Home visits")


def test_screening_said_no_volunteer():
    assert_blocked(peer(1, volunteer=True, **GOOD_FIT),
                   referral(1, volunteer_allowed=False, **WANTS),
                   "screening decided a volunteer may not take this referral")


def test_volunteer_risk_levels_come_from_settings():
    ref = referral(1, risk_level="medium", **WANTS)
    volunteer = peer(1, volunteer=True, **GOOD_FIT)
    assert_blocked(volunteer, ref, "volunteers may not take medium-risk referrals")
    wider = Settings(volunteer_risk_levels=frozenset({"low", "medium"}))
    result = run_matching([volunteer, peer(99)], [ref], CATALOGUE, wider)
    assert result.proposals[0].peer_id == 1


def test_intervention_not_suited_to_the_risk_level_blocks_every_peer():
    ref = referral(1, risk_level="high", interventions=frozenset({2}))
    result = run_matching([peer(1), peer(2)], [ref], CATALOGUE)
    assert result.proposals == []
    assert result.unmatched[1] == "no eligible peer: Home visits is not suited to high risk"
    assert "Home visits is not suited to high risk" in result.why_not(1, 2)


def test_intervention_missing_from_the_catalogue():
    result = run_matching([peer(1)], [referral(1, interventions=frozenset({7}))], CATALOGUE)
    assert result.unmatched[1] == "no eligible peer: requested intervention #7 is not in the catalogue"


def test_conflict_declared_by_the_peer():
    assert_blocked(peer(1, excluded_service_users=frozenset({555}), **GOOD_FIT),
                   referral(1, service_user_id=555, **WANTS), "declared conflict")


def test_conflict_declared_on_the_service_user_side():
    assert_blocked(peer(1, **GOOD_FIT), referral(1, excluded_peers=frozenset({1}), **WANTS),
                   "declared conflict")


def test_earlier_match_ended_not_a_good_fit():
    assert_blocked(peer(1, **GOOD_FIT), referral(1, not_a_good_fit_peers=frozenset({1}), **WANTS),
                   "ended as not a good fit")


@pytest.mark.parametrize("pref, peer_has, fallback_has, text", [
    (Preference("gender", "woman", True), dict(gender="man"), dict(gender="Woman"), "must have a woman peer"),
    (Preference("age_band", "18-25", True), dict(age_band="36-50"), dict(age_band="18-25"),
     "must have a peer aged 18-25"),
    (Preference("background", "Black British", True), dict(backgrounds=frozenset({"White British"})),
     dict(backgrounds=frozenset({"Black British", "Mixed"})), "must have a peer from a Black British background"),
    (Preference("language", "Polish", True), dict(languages=frozenset({"English"})),
     dict(languages=frozenset({"polish"})), "must have a Polish-speaking peer"),
])
def test_must_preference_not_met(pref, peer_has, fallback_has, text):
    assert_blocked(peer(1, **{**GOOD_FIT, **peer_has}), referral(1, preferences=(pref,), **WANTS), text,
                   **fallback_has)


def test_must_preference_is_matched_without_regard_to_case_or_spaces():
    ref = referral(1, preferences=(Preference("language", "polish", True),
                                   Preference("background", "Black  British", True)))
    p = peer(1, languages=frozenset({"Polish"}), backgrounds=frozenset({"black british"}))
    score, reasons = score_pair(p, ref, CATALOGUE)
    assert score is not None
    assert "must have a polish-speaking peer: met" in reasons


def test_unknown_preference_kind_is_refused():
    with pytest.raises(ValueError):
        Preference("religion", "any", True)


# ---------------------------------------------------------------------------
# Reasons and explanations
# ---------------------------------------------------------------------------

def test_proposal_reasons_are_plain_english():
    ref = referral(1, languages=frozenset({"Urdu"}), interests=frozenset({"music", "football", "chess"}),
                   availability=frozenset({"tue-pm", "sat-am"}), area="Hulme", waiting_days=12,
                   preferences=(Preference("gender", "woman", False),))
    p = peer(1, name="Aisha", languages=frozenset({"Urdu", "English"}),
             interests=frozenset({"Music", "Football"}), availability=frozenset({"tue-pm"}),
             areas=frozenset({"Hulme", "Moss Side"}), gender="woman", max_caseload=4, active_caseload=1)
    result = run_matching([p], [ref], CATALOGUE)
    (proposal,) = result.proposals
    assert proposal.reasons == (
        "both speak Urdu",
        "shares interests: football, music",
        "both free Tuesday afternoons",
        "same area: Hulme",
        "prefers a woman peer: met",
        "caseload 1 of 4",
        "waiting 12 days",
    )
    assert result.why_not(1, 1).startswith("proposed: both speak Urdu")


def test_score_follows_the_documented_formula():
    ref = referral(1, languages=frozenset({"Urdu", "English", "Punjabi"}),
                   interests=frozenset("abcde"), availability=frozenset({"mon-am", "tue-pm"}),
                   area="Hulme", waiting_days=200,
                   preferences=(Preference("gender", "woman", False), Preference("age_band", "18-25", False)))
    p = peer(1, languages=frozenset({"Urdu", "English", "Punjabi"}), interests=frozenset("abcde"),
             availability=frozenset({"mon-am"}), areas=frozenset({"Hulme"}), gender="woman",
             age_band="26-35", max_caseload=4, active_caseload=1)
    w = DEFAULT_WEIGHTS
    expected = (1 + w["languages"] * 2 + w["interests"] * 3 + w["availability"] * 1 + w["area"]
                + w["preferences"] * 1 + w["caseload_balance"] * 0.75 + w["waiting"] * 90)
    score, reasons = score_pair(p, ref, CATALOGUE)
    assert score == pytest.approx(expected)
    assert "prefers a peer aged 18-25: not met" in reasons


def test_alternatives_are_the_next_best_eligible_peers():
    ref = referral(1, interests=frozenset({"a", "b", "c", "d"}))
    peers = [peer(i, interests=frozenset("abcd"[:i])) for i in range(1, 5)]
    peers.append(peer(5, ready=False, interests=frozenset("abcd")))
    result = run_matching(peers, [ref], CATALOGUE, only_weights(interests=1.0))
    (proposal,) = result.proposals
    assert proposal.peer_id == 3 or proposal.peer_id == 4  # 3 and 4 both hit the cap of 3
    assert [pid for pid, _ in proposal.alternatives] == [
        pid for pid in (3, 4, 2, 1) if pid != proposal.peer_id][:3]
    for pid, score in proposal.alternatives:
        assert score == pytest.approx(score_pair(peers[pid - 1], ref, CATALOGUE, only_weights(interests=1.0))[0])


def test_eligible_peer_that_lost_is_explained():
    ref_a, ref_b = referral(1, waiting_days=5), referral(2, waiting_days=1)
    busy = peer(1, name="Ann", max_caseload=1)
    result = run_matching([busy], [ref_a, ref_b], CATALOGUE)
    (proposal,) = result.proposals
    loser = 2 if proposal.referral_id == 1 else 1
    assert result.unmatched[loser] == ("1 eligible peer, but their capacity went to other referrals "
                                       "in the overall best fit")
    assert "but their capacity went to other referrals" in result.why_not(loser, 1)

    two = run_matching([peer(1, name="Ann", interests=frozenset({"art"})), peer(2, name="Bea")],
                       [referral(1, interests=frozenset({"art"}))], CATALOGUE)
    assert two.proposals[0].peer_id == 1
    assert "but the overall best fit gave this referral to Ann" in two.why_not(1, 2)


def test_excluded_peers_lists_every_other_peer_eligible_first():
    ref = referral(1, interests=frozenset({"art"}))
    peers = [peer(1, ready=False), peer(2, interests=frozenset({"art"})), peer(3), peer(4, max_caseload=0)]
    result = run_matching(peers, [ref], CATALOGUE)
    assert result.proposals[0].peer_id == 2
    listed = result.excluded_peers(1)
    assert [pid for pid, _ in listed] == [3, 1, 4]
    assert listed[0][1].startswith("eligible")
    assert "not ready to practise" in listed[1][1]
    assert "no capacity left (0 of 0)" in listed[2][1]


def test_why_not_for_an_unknown_pair_raises_key_error():
    result = run_matching([peer(1)], [referral(1)], CATALOGUE)
    with pytest.raises(KeyError):
        result.why_not(1, 42)
    with pytest.raises(KeyError):
        result.why_not(42, 1)


def test_unmatched_summary_names_a_missing_language():
    ref = referral(1, preferences=(Preference("language", "Polish", True),))
    peers = [peer(1, languages=frozenset({"English"})), peer(2, languages=frozenset({"Polish"}), ready=False)]
    result = run_matching(peers, [ref], CATALOGUE)
    assert result.unmatched == {1: "no peer with capacity speaks Polish"}


def test_unmatched_summary_counts_the_commonest_reasons():
    ref = referral(1, risk_level="high")
    peers = ([peer(i, ready=False) for i in range(1, 13)]
             + [peer(i, volunteer=True) for i in range(13, 16)]
             + [peer(16, excluded_service_users=frozenset({101}))])
    result = run_matching(peers, [ref], CATALOGUE)
    assert result.unmatched[1] == ("no eligible peer: 12 not ready, 3 volunteers not allowed for high risk, "
                                   "1 declared conflict")


def test_unmatched_summary_when_nobody_has_capacity():
    result = run_matching([peer(1, ready=False), peer(2, max_caseload=2, active_caseload=2)],
                          [referral(1)], CATALOGUE)
    assert result.unmatched[1] == ("no peer is ready to practise with capacity left "
                                   "(1 not ready, 1 with no capacity left)")


def test_slot_names_are_in_english():
    assert engine.slot_name("tue-pm") == "Tuesday afternoons"
    assert engine.slot_name("WED-eve") == "Wednesday evenings"
    assert engine.slot_name("weekends") == "weekends"


def test_every_weight_has_a_label():
    assert set(WEIGHT_LABELS) == set(DEFAULT_WEIGHTS)
    assert Settings().weights == DEFAULT_WEIGHTS


# ---------------------------------------------------------------------------
# The assignment
# ---------------------------------------------------------------------------

def test_capacity_is_used_in_full_and_never_exceeded():
    peers = [peer(1, max_caseload=3, active_caseload=1), peer(2, max_caseload=1)]
    refs = [referral(i) for i in range(1, 6)]
    result = run_matching(peers, refs, CATALOGUE)
    per_peer = {pid: sum(p.peer_id == pid for p in result.proposals) for pid in (1, 2)}
    assert per_peer == {1: 2, 2: 1}
    assert len(result.unmatched) == 2


def test_most_matches_first_beats_one_brilliant_match():
    # Referral 1 fits Ann brilliantly and Bea barely; referral 2 can only have Ann.
    ann = peer(1, name="Ann", max_caseload=1, interests=frozenset({"art"}))
    bea = peer(2, name="Bea", max_caseload=1)
    refs = [referral(1, interests=frozenset({"art"})), referral(2, excluded_peers=frozenset({2}))]
    weights = only_weights(interests=10.0)
    both = run_matching([ann, bea], refs, CATALOGUE, weights)
    assert [(p.referral_id, p.peer_id) for p in both.proposals] == [(1, 2), (2, 1)]
    assert both.total_score == pytest.approx(2.0)
    weights.most_matches_first = False
    best_total = run_matching([ann, bea], refs, CATALOGUE, weights)
    assert [(p.referral_id, p.peer_id) for p in best_total.proposals] == [(1, 1)]
    assert best_total.total_score == pytest.approx(11.0)


def test_waiting_time_decides_who_is_matched_when_capacity_is_short():
    refs = [referral(1, waiting_days=3), referral(2, waiting_days=60), referral(3, waiting_days=10)]
    result = run_matching([peer(1, max_caseload=2)], refs, CATALOGUE)
    assert sorted(p.referral_id for p in result.proposals) == [2, 3]


def test_first_come_first_served_is_worse_here():
    # The oldest referral takes Ann, leaving the other with nobody.
    ann, bea = peer(1, name="Ann", max_caseload=1, interests=frozenset({"art"})), peer(2, name="Bea", max_caseload=1)
    refs = [referral(1, waiting_days=30, interests=frozenset({"art"})),
            referral(2, waiting_days=1, excluded_peers=frozenset({2}))]
    greedy = greedy_first_come([ann, bea], refs, CATALOGUE)
    assert [(p.referral_id, p.peer_id) for p in greedy.proposals] == [(1, 1)]
    assert "first-come, first-served order" in greedy.unmatched[2]
    optimum = run_matching([ann, bea], refs, CATALOGUE)
    assert optimum.matched_count == 2


def test_empty_inputs():
    assert run_matching([], [], CATALOGUE).proposals == []
    nobody = run_matching([], [referral(1)], CATALOGUE)
    assert nobody.unmatched == {1: "no peers in this matching run"}
    no_refs = run_matching([peer(1)], [], CATALOGUE)
    assert no_refs.proposals == [] and no_refs.unmatched == {} and no_refs.total_score == 0


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        run_matching([peer(1), peer(1)], [referral(1)], CATALOGUE)
    with pytest.raises(ValueError):
        run_matching([peer(1)], [referral(1), referral(1)], CATALOGUE)
    with pytest.raises(ValueError):
        run_matching([peer(1)], [referral(1)], CATALOGUE, Settings(weights={"interests": -1}))
    with pytest.raises(ValueError):
        run_matching([peer(1)], [referral(1)], CATALOGUE, Settings(weights={"astrology": 1}))


def test_importing_the_engine_does_not_import_numpy_or_scipy():
    # The engine and the eligibility rule it shares with hand assignment, imported alone.
    code = (
        "import sys\n"
        "import peerapp.matching.engine, peerapp.referrals.eligibility\n"
        "print('numpy' in sys.modules, 'scipy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------------------
# Properties on small random instances
# ---------------------------------------------------------------------------

# More distinct values than the caps (3 interests, 2 languages, 3 slots), with case variants.
INTERESTS = ["music", "football", "art", "chess", "Music"]
LANGUAGES = ["English", "Urdu", "Polish", "Arabic", "urdu"]
AREAS = ["Hulme", "Gorton", "hulme"]
SLOTS = ["mon-am", "tue-pm", "wed-eve", "thu-am", "TUE-PM"]
PREF_VALUES = {"gender": ["woman", "man"], "age_band": ["18-25", "26-35"],
               "background": ["Black British", "White British"], "language": ["Urdu", "Polish"]}
RISKS = ["low", "medium", "high"]
RANDOM_CATALOGUE = [ONE_TO_ONE, HOME_VISITS,
                    Intervention(3, "Recovery group", True, frozenset({"low", "high"}))]


def subsets(items, max_size=3):
    return st.frozensets(st.sampled_from(items), max_size=max_size)


preferences = st.builds(
    lambda kind, i, must: Preference(kind, PREF_VALUES[kind][i], must),
    st.sampled_from(sorted(PREF_VALUES)), st.integers(0, 1), st.sampled_from([False, False, True]))


def mostly(common, *rare):
    """The common value three times in four, else one of the rare ones."""
    return st.one_of(st.just(common), st.just(common), st.just(common), st.sampled_from(rare or [common]))


@st.composite
def instances(draw, max_peers=4, max_referrals=5, max_capacity=2):
    # Hard rules are drawn rarely enough that most pairs are eligible and
    # capacity, not the rules, decides the assignment.
    n_peers = draw(st.integers(0, max_peers))
    peer_ids = draw(st.lists(st.integers(1, 40), min_size=n_peers, max_size=n_peers, unique=True))
    n_refs = draw(st.integers(0, max_referrals))
    ref_ids = draw(st.lists(st.integers(1, 40), min_size=n_refs, max_size=n_refs, unique=True))
    service_users = [1, 2, 3, 4]
    peers = []
    for pid in peer_ids:
        active = draw(st.integers(0, 2))
        peers.append(Peer(
            id=pid, name=f"Peer {pid}", ready=draw(mostly(True, False)),
            volunteer=draw(mostly(False, True)),
            max_caseload=active + draw(st.integers(0, max_capacity)), active_caseload=active,
            interests=draw(subsets(INTERESTS, 5)), languages=draw(subsets(LANGUAGES, 4)),
            areas=draw(subsets(AREAS, 2)), availability=draw(subsets(SLOTS, 5)),
            gender=draw(st.sampled_from(["", "woman", "man", "Woman"])),
            age_band=draw(st.sampled_from(["", "18-25", "26-35"])),
            backgrounds=draw(subsets(PREF_VALUES["background"], 1)),
            interventions=draw(mostly(frozenset(), frozenset({1}), frozenset({2, 3}))),
            excluded_service_users=draw(mostly(frozenset(), *[frozenset({su}) for su in service_users])),
        ))
    refs = []
    for rid in ref_ids:
        refs.append(Referral(
            id=rid, service_user_id=draw(st.sampled_from(service_users)), label=f"Referral {rid}",
            waiting_days=draw(st.integers(0, 200)), risk_level=draw(mostly("low", "medium", "high")),
            interventions=draw(st.sampled_from(
                [frozenset(), frozenset(), frozenset({1}), frozenset({1}), frozenset({2}), frozenset({3}),
                 frozenset({1, 3}), frozenset({9})])),
            volunteer_allowed=draw(mostly(True, False)),
            interests=draw(subsets(INTERESTS, 5)), languages=draw(subsets(LANGUAGES, 4)),
            area=draw(st.sampled_from(["", *AREAS])), availability=draw(subsets(SLOTS, 5)),
            preferences=tuple(draw(st.lists(preferences, max_size=2))),
            excluded_peers=draw(mostly(frozenset(), *[frozenset({pid}) for pid in peer_ids])),
            not_a_good_fit_peers=draw(mostly(frozenset(), *[frozenset({pid}) for pid in peer_ids])),
        ))
    weights = draw(st.one_of(
        st.just(dict(DEFAULT_WEIGHTS)),
        st.fixed_dictionaries({name: st.sampled_from([0.0, 0.5, 1.0, 2.5, 8.0]) for name in DEFAULT_WEIGHTS}),
    ))
    settings = Settings(
        weights=weights,
        volunteer_risk_levels=draw(st.sampled_from([frozenset({"low"}), frozenset({"low", "medium"})])),
        most_matches_first=draw(st.booleans()),
    )
    return peers, refs, settings


@st.composite
def crowded_instances(draw):
    """Two peers with few places, eligibility only through declared conflicts, and
    one heavy weight: where "most matches first" and "best total" can part ways."""
    peer_ids = draw(st.lists(st.integers(1, 40), min_size=2, max_size=2, unique=True))
    fit = st.sampled_from([frozenset(), frozenset({"art", "music", "chess"})])
    peers = [Peer(id=pid, name=f"Peer {pid}", max_caseload=draw(mostly(1, 2)), interests=draw(fit))
             for pid in peer_ids]
    either_or_one = st.sampled_from([frozenset(), frozenset({peer_ids[0]}), frozenset({peer_ids[1]})])
    ref_ids = draw(st.lists(st.integers(1, 40), min_size=2, max_size=4, unique=True))
    refs = [Referral(id=rid, service_user_id=rid, label=f"Referral {rid}", waiting_days=draw(st.integers(0, 30)),
                     interests=draw(fit), excluded_peers=draw(either_or_one))
            for rid in ref_ids]
    weights = {name: 0.0 for name in DEFAULT_WEIGHTS}
    weights.update(interests=draw(st.sampled_from([2.0, 5.0, 10.0])), waiting=0.01)
    return peers, refs, Settings(weights=weights, most_matches_first=draw(st.booleans()))


def assert_respects_rules(result, peers, refs, settings):
    by_id = {p.id: p for p in peers}
    refs_by_id = {r.id: r for r in refs}
    taken: dict[int, int] = {}
    for proposal in result.proposals:
        score, reasons = score_pair(by_id[proposal.peer_id], refs_by_id[proposal.referral_id],
                                    RANDOM_CATALOGUE, settings)
        assert score is not None, reasons
        assert proposal.score == pytest.approx(score)
        taken[proposal.peer_id] = taken.get(proposal.peer_id, 0) + 1
        # Alternatives: other eligible peers, best first, no more than asked for.
        alt_ids = [pid for pid, _ in proposal.alternatives]
        assert proposal.peer_id not in alt_ids and len(set(alt_ids)) == len(alt_ids)
        assert len(alt_ids) <= settings.alternatives
        alt_scores = [s for _, s in proposal.alternatives]
        assert alt_scores == sorted(alt_scores, reverse=True)
        for pid, alt_score in proposal.alternatives:
            expected, _ = score_pair(by_id[pid], refs_by_id[proposal.referral_id], RANDOM_CATALOGUE, settings)
            assert expected == pytest.approx(alt_score)
        others = [s for p in peers if p.id != proposal.peer_id
                  for s in [score_pair(p, refs_by_id[proposal.referral_id], RANDOM_CATALOGUE, settings)[0]]
                  if s is not None]
        assert len(alt_ids) == min(len(others), settings.alternatives)
    for pid, count in taken.items():
        assert count <= by_id[pid].capacity_left
    proposed = [p.referral_id for p in result.proposals]
    assert proposed == sorted(set(proposed))
    assert set(proposed) | set(result.unmatched) == set(refs_by_id)
    assert not set(proposed) & set(result.unmatched)
    assert result.total_score == pytest.approx(sum(p.score for p in result.proposals))


@hyp_settings(max_examples=60, deadline=None)
@given(instances())
def test_property_no_proposal_breaks_a_hard_rule_or_a_capacity(instance):
    peers, refs, settings = instance
    for run in (run_matching, greedy_first_come):
        result = run(peers, refs, RANDOM_CATALOGUE, settings)
        assert_respects_rules(result, peers, refs, settings)
        for r in refs:
            for p in peers:
                assert result.why_not(r.id, p.id)


def brute_force(peers, refs, settings):
    """(most referrals matched, best total among those), (best total overall)."""
    options = []
    for r in refs:
        eligible = [(None, 0.0)]
        for p in peers:
            score, _ = score_pair(p, r, RANDOM_CATALOGUE, settings)
            if score is not None:
                eligible.append((p.id, score))
        options.append(eligible)
    capacity = {p.id: p.capacity_left for p in peers}
    best_lexi, best_total = (0, 0.0), 0.0
    for choice in itertools.product(*options):
        used: dict[int, int] = {}
        for pid, _ in choice:
            if pid is not None:
                used[pid] = used.get(pid, 0) + 1
        if any(n > capacity[pid] for pid, n in used.items()):
            continue
        count = sum(pid is not None for pid, _ in choice)
        total = math.fsum(s for _, s in choice)
        if count > best_lexi[0] or (count == best_lexi[0] and total > best_lexi[1]):
            best_lexi = (count, total)
        best_total = max(best_total, total)
    return best_lexi, best_total


def assert_optimal(peers, refs, settings):
    result = run_matching(peers, refs, RANDOM_CATALOGUE, settings)
    (most, total_at_most), best_total = brute_force(peers, refs, settings)
    if settings.most_matches_first:
        assert result.matched_count == most
        assert result.total_score == pytest.approx(total_at_most, abs=1e-6)
    else:
        assert result.total_score == pytest.approx(best_total, abs=1e-6)
    greedy = greedy_first_come(peers, refs, RANDOM_CATALOGUE, settings)
    assert greedy.matched_count <= most
    assert greedy.total_score <= best_total + 1e-6


@hyp_settings(max_examples=60, deadline=None)
@given(instances())
def test_property_total_equals_brute_force_optimum(instance):
    assert_optimal(*instance)


@hyp_settings(max_examples=200, deadline=None)
@given(crowded_instances())
def test_property_brute_force_optimum_when_places_are_short(instance):
    assert_optimal(*instance)


@hyp_settings(max_examples=40, deadline=None)
@given(st.frozensets(st.sampled_from(INTERESTS[:4])), st.frozensets(st.sampled_from(INTERESTS[:4])),
       st.frozensets(st.sampled_from(INTERESTS[:4])), st.frozensets(st.sampled_from(INTERESTS[:4])),
       st.sampled_from([1.0, 5.0, 10.0]), st.sampled_from([0.0, 1.0]))
def test_property_most_matches_first_matches_everyone_who_can_be(a_likes, b_likes, x_likes, y_likes,
                                                                  interests, balance):
    # Referral X may have Ann or Bea; referral Y may only have Ann; one place each.
    ann = Peer(id=1, name="Ann", max_caseload=1, interests=a_likes)
    bea = Peer(id=2, name="Bea", max_caseload=1, interests=b_likes)
    refs = [Referral(id=1, service_user_id=1, label="X", interests=x_likes),
            Referral(id=2, service_user_id=2, label="Y", interests=y_likes, excluded_peers=frozenset({2}))]
    settings = only_weights(interests=interests, caseload_balance=balance)
    result = run_matching([ann, bea], refs, RANDOM_CATALOGUE, settings)
    assert [(p.referral_id, p.peer_id) for p in result.proposals] == [(1, 2), (2, 1)]
    assert_optimal([ann, bea], refs, settings)
    settings.most_matches_first = False
    assert_optimal([ann, bea], refs, settings)


def signature(result):
    return (result.proposals, result.unmatched, result.total_score)


@hyp_settings(max_examples=60, deadline=None)
@given(instances(max_peers=6, max_referrals=8, max_capacity=3), st.randoms(use_true_random=False))
def test_property_same_input_same_output_whatever_the_order(instance, rnd):
    peers, refs, settings = instance
    first = run_matching(peers, refs, RANDOM_CATALOGUE, settings)
    assert signature(run_matching(peers, refs, RANDOM_CATALOGUE, settings)) == signature(first)
    peers2, refs2, catalogue2 = list(peers), list(refs), list(RANDOM_CATALOGUE)
    rnd.shuffle(peers2), rnd.shuffle(refs2), rnd.shuffle(catalogue2)
    assert signature(run_matching(peers2, refs2, catalogue2, settings)) == signature(first)


def test_ties_are_broken_the_same_way_whatever_the_order():
    # Identical peers and referrals: every assignment ties.
    peers = [peer(i, max_caseload=1) for i in (5, 3, 9, 1)]
    refs = [referral(i, service_user_id=1) for i in (4, 2, 8, 6, 7)]
    first = run_matching(peers, refs, CATALOGUE)
    assert signature(run_matching(peers[::-1], refs[::-1], CATALOGUE)) == signature(first)
    assert first.matched_count == 4


# Which words the first hard-rule reason contains, for each rule code.
CODE_TEXT = {
    engine.NOT_READY: "not ready to practise", engine.NO_CAPACITY: "no capacity left",
    engine.NOT_IN_CATALOGUE: "is not in the catalogue", engine.INTERVENTION_RISK: "is not suited to",
    engine.CONFLICT: "declared conflict", engine.NOT_A_GOOD_FIT: "not a good fit",
    engine.DOES_NOT_OFFER: "does not offer", engine.VOLUNTEER_INTERVENTION: "volunteers may not deliver",
    engine.SCREENING: "screening decided", engine.VOLUNTEER_RISK: "volunteers may not take",
    engine.MUST: "must have",
}


@hyp_settings(max_examples=60, deadline=None)
@given(instances(max_peers=6, max_referrals=8, max_capacity=3))
def test_property_bulk_scores_equal_score_pair(instance):
    peers, refs, settings = instance
    table = score_table(peers, refs, RANDOM_CATALOGUE, settings)
    assert table.referral_ids == tuple(sorted(r.id for r in refs))
    assert table.peer_ids == tuple(sorted(p.id for p in peers))
    by_id = {p.id: p for p in peers}
    refs_by_id = {r.id: r for r in refs}
    for i, rid in enumerate(table.referral_ids):
        for j, pid in enumerate(table.peer_ids):
            score, reasons = score_pair(by_id[pid], refs_by_id[rid], RANDOM_CATALOGUE, settings)
            assert bool(table.eligible[i, j]) == (score is not None), reasons
            if score is None:
                assert table.scores[i, j] == 0
                assert CODE_TEXT[int(table.main_reason[i, j])] in reasons[0]
            else:
                assert table.main_reason[i, j] == 0
                assert score >= engine.MATCH_BASE
                assert table.scores[i, j] == pytest.approx(score, rel=1e-9)
