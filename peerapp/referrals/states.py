"""The life of a referral, as a plain table: which moves are allowed and who may make them.

No Flask and no database here: the models call :func:`check` before every change of
state and record a ``ReferralEvent`` for it; the tests walk every pair of states.

    submitted -> screening -> accepted -> awaiting match -> matched -> first meeting -> active -> closed
                           -> declined (reason)
                           -> more information requested -> (the referrer answers) -> screening
    first meeting -> awaiting match ("not a good fit": the assignment ends)
"""
from __future__ import annotations

from dataclasses import dataclass

from ..changes import Refusal

SUBMITTED = "submitted"
SCREENING = "screening"
ACCEPTED = "accepted"
DECLINED = "declined"
MORE_INFO = "more information requested"
AWAITING_MATCH = "awaiting match"
MATCHED = "matched"
FIRST_MEETING = "first meeting"
ACTIVE = "active"
CLOSED = "closed"

STATES = (SUBMITTED, SCREENING, MORE_INFO, ACCEPTED, DECLINED, AWAITING_MATCH, MATCHED,
          FIRST_MEETING, ACTIVE, CLOSED)
# A peer is "working with" the referral in these states: they count towards caseload.
CASELOAD_STATES = (MATCHED, FIRST_MEETING, ACTIVE)
# Still waiting for a screening decision (the peer lead's queue).
SCREENING_QUEUE_STATES = (SUBMITTED, SCREENING, MORE_INFO)
FINISHED_STATES = (DECLINED, CLOSED)

CLOSING_OUTCOMES = ("goals met", "disengaged", "not a good fit", "moved", "other")
RISK_LEVELS = ("low", "medium", "high")

LEAD = ("peer_lead",)
LEAD_OR_MANAGER = ("peer_lead", "manager")


@dataclass(frozen=True)
class Move:
    action: str                 # what the button says, e.g. "Decline"
    roles: tuple[str, ...]      # who may make it
    needs_reason: bool = False  # a reason must be written down


TRANSITIONS: dict[tuple[str, str], Move] = {
    (SUBMITTED, SCREENING): Move("Start screening", LEAD),
    (SCREENING, ACCEPTED): Move("Accept", LEAD),
    (SCREENING, DECLINED): Move("Decline", LEAD, needs_reason=True),
    (SCREENING, MORE_INFO): Move("Ask the referrer for more information", LEAD, needs_reason=True),
    # The referrer answers the questions; a peer lead may type in an answer given by phone.
    (MORE_INFO, SCREENING): Move("Answer the questions", ("clinician", "peer_lead"), needs_reason=True),
    (ACCEPTED, AWAITING_MATCH): Move("Add to the waiting list", LEAD),
    (AWAITING_MATCH, MATCHED): Move("Assign a peer", LEAD),
    (MATCHED, AWAITING_MATCH): Move("End the assignment", LEAD, needs_reason=True),
    (MATCHED, FIRST_MEETING): Move("Arrange the first meeting", LEAD),
    (FIRST_MEETING, ACTIVE): Move("Go ahead", LEAD),
    (FIRST_MEETING, AWAITING_MATCH): Move("Not a good fit", LEAD, needs_reason=True),
    (AWAITING_MATCH, CLOSED): Move("Close", LEAD_OR_MANAGER, needs_reason=True),
    (MATCHED, CLOSED): Move("Close", LEAD_OR_MANAGER, needs_reason=True),
    (FIRST_MEETING, CLOSED): Move("Close", LEAD_OR_MANAGER, needs_reason=True),
    (ACTIVE, CLOSED): Move("Close", LEAD_OR_MANAGER, needs_reason=True),
}


class TransitionRefused(Refusal):
    """A move the state machine does not allow; the message is for the person."""


def allowed(current: str, target: str) -> bool:
    return (current, target) in TRANSITIONS


def next_states(current: str, roles=()) -> list[str]:
    """Where a referral in ``current`` may go next, for someone holding ``roles``."""
    roles = set(roles)
    return [to for (frm, to), move in TRANSITIONS.items()
            if frm == current and (not roles or roles.intersection(move.roles))]


def check(current: str, target: str, roles, reason: str = "") -> Move:
    """Return the move, or raise :class:`TransitionRefused` saying why not."""
    if current not in STATES:
        raise TransitionRefused(f"This referral is in an unknown state ({current}).")
    if target not in STATES:
        raise TransitionRefused(f"“{target}” is not a state a referral can be in.")
    move = TRANSITIONS.get((current, target))
    if move is None:
        raise TransitionRefused(
            f"A referral that is {describe(current)} cannot be moved to {describe(target)}. "
            "The page may be out of date: reload it to see where the referral is now.")
    if not set(roles).intersection(move.roles):
        who = " or ".join(_ROLE_WORDS.get(r, r) for r in move.roles)
        raise TransitionRefused(f"Only a {who} can do this (“{move.action}”).")
    if move.needs_reason and not (reason or "").strip():
        raise TransitionRefused(f"Write down why before you choose “{move.action}”.")
    return move


def describe(state: str) -> str:
    """'awaiting match' -> 'awaiting a match', for sentences."""
    return {
        SUBMITTED: "submitted", SCREENING: "being screened", ACCEPTED: "accepted",
        DECLINED: "declined", MORE_INFO: "waiting for more information",
        AWAITING_MATCH: "awaiting a match", MATCHED: "matched with a peer",
        FIRST_MEETING: "at the first meeting stage", ACTIVE: "active", CLOSED: "closed",
    }.get(state, state)


_ROLE_WORDS = {"peer_lead": "peer lead", "manager": "team manager", "clinician": "referrer (clinician)"}
