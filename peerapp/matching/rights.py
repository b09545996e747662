"""Matching keeps explanations (reasons, alternatives, exclusions) that may name a
service user's circumstances or a peer: erased with the service user's referrals."""
from __future__ import annotations

from ..referrals.models import Referral
from ..personal import Person
from .models import RunInputs, RunProposal, RunUnmatched

# The compressed explanations of runs stored before m0058 and the runs' inputs
# cannot be searched as text; erasing a service user blanks and rewrites them.
NAME_MENTIONS = [(RunProposal, "reasons"), (RunProposal, "alternatives"), (RunProposal, "override_reason"),
                 (RunUnmatched, "reason")]


def erase(person: Person) -> list[tuple[str, object]]:
    if person.kind != "service_user":
        return []
    referrals = Referral.select(Referral.id).where(Referral.service_user == person.id)
    RunProposal.update(reasons="", alternatives="", override_reason="", explained=None) \
        .where(RunProposal.referral.in_(referrals)).execute()
    RunUnmatched.update(reason="", explained=None).where(RunUnmatched.referral.in_(referrals)).execute()
    # A run's inputs hold the referral's interests, languages, area and preferences: drop them.
    from . import snapshot
    ids = {r.id for r in referrals}
    runs = (RunProposal.select(RunProposal.run).where(RunProposal.referral.in_(ids))
            | RunUnmatched.select(RunUnmatched.run).where(RunUnmatched.referral.in_(ids)))
    for row in RunInputs.select().where(RunInputs.run.in_(runs)):
        RunInputs.update(data=snapshot.without_referrals(row.data, ids)).where(RunInputs.id == row.id).execute()
    return []
