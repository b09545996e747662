"""Demo outcomes: the fictional demo measure (never HAO wording), scheduled for
service users and peers, with baseline, review and end scores for the demo
referrals and the demo peer so the charts and the report show something."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from .. import clock
from ..referrals import states
from ..referrals.models import Referral
from .models import BASELINE, COMPLETED, DECLINED, END, PEER, REVIEW, SERVICE_USER, MeasureResponse, MeasureSchedule
from .services import import_measure
from .scoring import score

DEMO_MEASURE = Path(__file__).resolve().parents[2] / "docs" / "measures" / "demo-measure.json"
# Answers in item order (looking_forward, stuck [reverse], small_steps, choices).
PATTERNS = [((2, 4, 2, 2), (3, 3, 3, 3), (4, 2, 4, 4)), ((3, 3, 2, 3), (3, 3, 3, 3), (3, 3, 3, 2)),
            ((2, 5, 2, 1), (2, 4, 3, 2), (4, 2, 4, 5)), ((4, 2, 4, 4), (3, 3, 3, 4), (2, 4, 2, 3))]


def seed(demo) -> None:
    lead, peer = demo.users["lead"], demo.users["peer"]
    version, _ = import_measure(DEMO_MEASURE.read_text(encoding="utf-8"), DEMO_MEASURE.name, by=demo.users["admin"])
    definition = version.definition
    keys = [i.key for i in definition.items]
    MeasureSchedule.create(measure=version.measure, subject=SERVICE_USER, review_weeks=6, active=True)
    MeasureSchedule.create(measure=version.measure, subject=PEER, review_weeks=12, active=True)
    today = clock.today()

    def add(answers, occasion, days_ago, **fields):
        given = dict(zip(keys, answers))
        result = score(definition, given)
        MeasureResponse.create(version=version, measure=version.measure, occasion=occasion, status=COMPLETED,
                               taken_on=today - dt.timedelta(days=days_ago), total=result.total,
                               subscales_json=json.dumps(result.subscales), answers_json=json.dumps(given),
                               entered_by=lead, recorded_at=clock.now(), **fields)

    referrals = list(Referral.select().where(Referral.team == demo.team,
                                             Referral.state.in_((states.ACTIVE, states.CLOSED)))
                     .order_by(Referral.id))
    for referral, pattern in zip(referrals, PATTERNS):
        fields = {"subject": SERVICE_USER, "referral": referral, "service_user": referral.service_user_id,
                  "team_id": referral.team_id}
        start = max(20, min(120, (today - referral.referred_on).days - 5))
        add(pattern[0], BASELINE, start, **fields)
        add(pattern[1], REVIEW, start // 2, **fields)
        if referral.state == states.CLOSED:
            add(pattern[2], END, 3, **fields)
        else:
            add(pattern[2], REVIEW, 2, **fields)
    if len(referrals) > len(PATTERNS):
        extra = referrals[len(PATTERNS)]
        MeasureResponse.create(version=version, measure=version.measure, occasion=BASELINE, status=DECLINED,
                               subject=SERVICE_USER, referral=extra, service_user=extra.service_user_id,
                               team_id=extra.team_id, taken_on=today - dt.timedelta(days=10),
                               reason="Did not want to fill in a form that day", entered_by=lead,
                               recorded_at=clock.now())
    # The demo peer's own measure: private to them (not shared with their supervisor).
    for answers, occasion, days_ago in (((3, 3, 3, 3), BASELINE, 30), ((4, 2, 4, 4), REVIEW, 1)):
        given = dict(zip(keys, answers))
        result = score(definition, given)
        MeasureResponse.create(version=version, measure=version.measure, occasion=occasion, status=COMPLETED,
                               subject=PEER, peer=peer, team_id=peer.team_id or demo.team.id,
                               taken_on=today - dt.timedelta(days=days_ago), total=result.total,
                               subscales_json=json.dumps(result.subscales), answers_json=json.dumps(given),
                               entered_by=peer, recorded_at=clock.now())
