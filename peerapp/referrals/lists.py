"""The referral lists: a team's (peer leads, managers), a clinician's own, the closed
ones, and the two queues peer leads open all day. Each is a ``paging.ListQuery``:
paged as every list is, with its SQL built once per engine and shape instead of on
every visit."""
from __future__ import annotations

from ..paging import ListQuery, Page, without_joins
from . import states
from .models import Referral, ReferralCard, ReferralRow


def _visible(variant, *values):
    """The referrals these doors open (``Referral.doors_for``), only finished ones when the
    variant says so, filtered by state and team when it says so (their values come
    after the doors')."""
    doors, finished, by_state, by_team = variant
    values = list(values)
    team = values.pop() if by_team else None
    state = values.pop() if by_state else None
    query = Referral.through_doors(doors, *values)
    if finished:
        query = query.where(Referral.state.in_(states.FINISHED_STATES))
    if by_state:
        query = query.where(Referral.state == state)
    if by_team:
        query = query.where(Referral.team == team)
    return query


_VISIBLE = ListQuery(lambda variant, *values: ReferralRow.of(_visible(variant, *values)),
                     lambda variant, *values: without_joins(_visible(variant, *values)),
                     Referral.referred_on.desc(), Referral.id.desc(), row_type=ReferralRow)

_SCREENING = ListQuery(lambda _, team_id: ReferralCard.of(Referral.screening_queue(team_id)),
                       lambda _, team_id: without_joins(Referral.screening_queue(team_id)),
                       Referral.referred_on, Referral.id, row_type=ReferralCard)

_AWAITING = ListQuery(lambda _, team_id: ReferralCard.of(Referral.awaiting_match(team_id)),
                      lambda _, team_id: without_joins(Referral.awaiting_match(team_id)),
                      Referral.state_changed_at, Referral.id, row_type=ReferralCard)


def referrals_page(doors: tuple[str, ...], values: list, *, finished: bool = False, state: str = "",
                   team: int = 0) -> Page:
    """A page of the referrals these doors open (``Referral.doors_for``: who may see
    which), newest first, as list rows: only closed and declined ones when
    ``finished``; only those in ``state`` and ``team`` when given."""
    values = [*values, *([state] if state else []), *([team] if team else [])]
    return _VISIBLE.page(*values, variant=(doors, finished, bool(state), bool(team)))


def screening_page(team_id: int) -> Page:
    """The team's screening queue, oldest referral first, as cards."""
    return _SCREENING.page(team_id, variant="screening")


def awaiting_page(team_id: int) -> Page:
    """The team's accepted referrals waiting for a peer, longest waiting first, as cards."""
    return _AWAITING.page(team_id, variant="awaiting")
