"""Matching keeps explanations (reasons, alternatives, exclusions) that may name a
service user's circumstances or a peer: erased with the service user's referrals."""
from __future__ import annotations

from ..referrals.models import Referral
from ..personal import Person
from .models import RunProposal, RunUnmatched


NAME_MENTIONS = [(RunProposal, "reasons"), (RunProposal, "alternatives"), (RunProposal, "override_reason"),
                 (RunProposal, "excluded_json"), (RunUnmatched, "reason"), (RunUnmatched, "excluded_json")]


def erase(person: Person) -> list[tuple[str, object]]:
    if person.kind != "service_user":
        return []
    referrals = Referral.select(Referral.id).where(Referral.service_user == person.id)
    RunProposal.update(reasons="", alternatives="", override_reason="", excluded_json="[]") \
        .where(RunProposal.referral.in_(referrals)).execute()
    RunUnmatched.update(reason="", excluded_json="[]").where(RunUnmatched.referral.in_(referrals)).execute()
    return []
