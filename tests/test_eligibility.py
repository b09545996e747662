"""One eligibility rule: hand assignment, approving a proposal, the engine's one-pair
reference and its vectorised table all give the same answer, with the same sentences."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import settings as hyp_settings

from peerapp.db import db
from peerapp.demo import load_demo
from peerapp.matching import engine
from peerapp.matching.models import MatchingSettings
from peerapp.referrals import eligibility, facts
from peerapp.referrals.models import Referral
from peerapp.workforce.models import PeerRole
from test_matching_engine import RANDOM_CATALOGUE, instances


@hyp_settings(max_examples=80, deadline=None)
@given(instances())
def test_property_the_vectorised_table_agrees_with_the_eligibility_module(instance):
    peers, refs, settings = instance
    table = engine.score_table(peers, refs, RANDOM_CATALOGUE, settings)
    catalogue = {iv.id: iv for iv in RANDOM_CATALOGUE}
    by_peer = {p.id: p for p in peers}
    by_ref = {r.id: r for r in refs}
    for i, rid in enumerate(table.referral_ids):
        for j, pid in enumerate(table.peer_ids):
            found = eligibility.problems(by_peer[pid], by_ref[rid], catalogue, settings.volunteer_risk_levels)
            assert bool(table.eligible[i, j]) == (not found), (found, by_peer[pid], by_ref[rid])
            score, reasons = engine.score_pair(by_peer[pid], by_ref[rid], RANDOM_CATALOGUE, settings)
            assert (score is None) == bool(found)
            if found:
                assert reasons == [sentence for _, sentence in found]
    assert isinstance(table.eligible, np.ndarray)


def test_hand_assignment_and_the_engine_agree_on_the_demo_data(app):
    """The issue's example: by hand, a peer the engine rejects ("does not offer 1:1
    recovery conversations", a "must" preference not met) was accepted. Now both ask
    the same rule and give the same sentences."""
    with app.app_context():
        load_demo()
        with db.connection_context():
            checked, refused = 0, []
            for referral in Referral.select().where(Referral.state == "awaiting match"):
                settings = MatchingSettings.for_team(referral.team_id).engine_settings()
                catalogue = facts.catalogue()
                for role in PeerRole.for_team(referral.team_id):
                    hand = referral.assignment_problems(role, volunteer_risk_levels=settings.volunteer_risk_levels)
                    score, reasons = engine.score_pair(facts.engine_peer(role), facts.engine_referral(referral),
                                                       catalogue, settings)
                    assert hand == ([] if score is not None else reasons), (referral.label, role.display_name)
                    checked += 1
                    refused += hand
    assert checked > 10
    assert any(text.startswith("does not offer") for text in refused), refused
    assert any(text.startswith("must have") for text in refused), refused
