"""The referral state machine and the NHS number check: plain modules, no Flask."""
from __future__ import annotations

import itertools

import pytest

from peerapp.referrals import states
from peerapp.referrals.nhs_number import formatted, is_valid, normalise, problem
from peerapp.referrals.states import TRANSITIONS, TransitionRefused, check

PAIRS = list(itertools.product(states.STATES, states.STATES))
ALLOWED = sorted(TRANSITIONS)
REFUSED = [pair for pair in PAIRS if pair not in TRANSITIONS]


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_transition_for_the_right_role(current, target):
    move = TRANSITIONS[(current, target)]
    assert check(current, target, move.roles[:1], reason="because") is move
    assert target in states.next_states(current, move.roles[:1])


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_transition_refused_to_other_roles(current, target):
    move = TRANSITIONS[(current, target)]
    others = {"admin", "viewer", "peer", "facilitator", "clinician", "manager", "peer_lead"} - set(move.roles)
    for role in others:
        with pytest.raises(TransitionRefused, match="Only a"):
            check(current, target, [role], reason="because")
    assert target not in states.next_states(current, ["viewer"])


@pytest.mark.parametrize(("current", "target"), [p for p in ALLOWED if TRANSITIONS[p].needs_reason],
                         ids=lambda v: str(v))
def test_reason_required_where_it_matters(current, target):
    move = TRANSITIONS[(current, target)]
    with pytest.raises(TransitionRefused, match="Write down why"):
        check(current, target, move.roles, reason="   ")


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
def test_every_other_transition_is_refused_with_a_plain_message(current, target):
    assert not states.allowed(current, target)
    with pytest.raises(TransitionRefused) as refused:
        check(current, target, ["peer_lead", "manager", "clinician"], reason="because")
    message = str(refused.value)
    assert "cannot be moved" in message and states.describe(current) in message


def test_the_documented_journey_is_possible():
    path = [states.SUBMITTED, states.SCREENING, states.MORE_INFO, states.SCREENING, states.ACCEPTED,
            states.AWAITING_MATCH, states.MATCHED, states.FIRST_MEETING, states.AWAITING_MATCH,
            states.MATCHED, states.FIRST_MEETING, states.ACTIVE, states.CLOSED]
    for current, target in zip(path, path[1:]):
        assert states.allowed(current, target), (current, target)


def test_finished_states_are_final():
    for state in states.FINISHED_STATES:
        assert states.next_states(state) == []


def test_unknown_states_are_refused():
    with pytest.raises(TransitionRefused):
        check("limbo", states.SCREENING, ["peer_lead"])
    with pytest.raises(TransitionRefused):
        check(states.SUBMITTED, "limbo", ["peer_lead"])


@pytest.mark.parametrize("number", ["9434765919", "943 476 5919", "943-476-5919", "9995260182"])
def test_valid_nhs_numbers(number):
    assert is_valid(number) and problem(number) is None
    assert formatted(number) == f"{normalise(number)[:3]} {normalise(number)[3:6]} {normalise(number)[6:]}"


@pytest.mark.parametrize(("number", "words"), [
    ("9434765918", "check digit"),      # last digit changed
    ("9434765910", "check digit"),
    ("943476591", "10 digits"),         # too short
    ("94347659190", "10 digits"),       # too long
    ("", "only digits"),
    ("94347659I9", "only digits"),      # a letter I for a one
    ("９４３４７６５９１９", "only digits"),  # full-width digits
])
def test_invalid_nhs_numbers(number, words):
    assert not is_valid(number)
    assert words in problem(number)


def test_a_check_digit_of_ten_is_never_valid():
    # 100000001x: 1*10 + 1*2 = 12 -> 11 - 12 % 11 = 10: no valid number starts like this.
    assert all(not is_valid(f"100000001{d}") for d in "0123456789")
