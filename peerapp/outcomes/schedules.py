"""What is due and overdue, from the schedules and the responses. No Flask.

A baseline is due as soon as a peer works with the referral (matched, first
meeting, active) and overdue 14 days later; a review is due ``review_weeks``
after the last measure taken and overdue 14 days after that. Peers: a baseline
once their role is active, then reviews. The end measure is asked for at closing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .. import clock
from .models import BASELINE, END, PEER, SERVICE_USER, MeasureResponse, MeasureSchedule

GRACE = dt.timedelta(days=14)


@dataclass
class Due:
    schedule: MeasureSchedule
    occasion: str
    due_on: dt.date
    overdue: bool
    referral: object = None
    peer: object = None


def _latest_by(responses, key):
    found = {}
    for r in responses:
        k = (key(r), r.measure_id)
        if k not in found or (r.taken_on, r.id) > (found[k].taken_on, found[k].id):
            found[k] = r
    return found


def due_for_referrals(referrals, schedules, today: dt.date | None = None) -> list[Due]:
    today = today or clock.today()
    referrals = list(referrals)
    schedules = [s for s in schedules if s.subject == SERVICE_USER]
    if not referrals or not schedules:
        return []
    R = MeasureResponse
    responses = list(R.select(R.id, R.referral, R.measure, R.taken_on)
                     .where(R.referral.in_([r.id for r in referrals]), R.occasion != END))
    latest = _latest_by(responses, lambda r: r.referral_id)
    found = []
    for referral in referrals:
        started = clock.local(referral.state_changed_at).date() if referral.state_changed_at else today
        for schedule in schedules:
            last = latest.get((referral.id, schedule.measure_id))
            if last is None:
                due_on, occasion = started, BASELINE
            else:
                due_on, occasion = last.taken_on + dt.timedelta(weeks=schedule.review_weeks), "review"
            if due_on <= today:
                found.append(Due(schedule, occasion, due_on, today > due_on + GRACE, referral=referral))
    return sorted(found, key=lambda d: (not d.overdue, d.due_on))


def due_for_peers(roles, schedules, today: dt.date | None = None) -> list[Due]:
    today = today or clock.today()
    roles = [r for r in roles if r.user_id]
    schedules = [s for s in schedules if s.subject == PEER]
    if not roles or not schedules:
        return []
    R = MeasureResponse
    responses = list(R.select(R.id, R.peer, R.measure, R.taken_on).where(R.peer.in_([r.user_id for r in roles])))
    latest = _latest_by(responses, lambda r: r.peer_id)
    found = []
    for role in roles:
        for schedule in schedules:
            last = latest.get((role.user_id, schedule.measure_id))
            if last is None:
                due_on, occasion = role.start_date, BASELINE
            else:
                due_on, occasion = last.taken_on + dt.timedelta(weeks=schedule.review_weeks), "review"
            if due_on <= today:
                found.append(Due(schedule, occasion, due_on, today > due_on + GRACE, peer=role))
    return sorted(found, key=lambda d: (not d.overdue, d.due_on))
