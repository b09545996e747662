"""Demo matching: default settings for the demo team, a few more peers so a live run
has real choices to make (and one peer whose DBS check has expired, to show why a
peer is not proposed), and one earlier run from yesterday so the run list is not
empty. Its proposals were never decided, so every referral the referrals demo left
awaiting a match is still waiting for the peer lead's live run. Names are invented.
"""
from __future__ import annotations

import datetime as dt

from .. import clock
from ..db import db
from ..training.models import Candidate, EquivalentTraining
from ..workforce.models import RecruitmentCheck, PeerRole
from .models import MatchingRun, MatchingSettings
from .services import start_run

# name, kind, max caseload, details. The workforce demo may already have given some of
# them a role (then theirs is kept); the last two are this demo's own, so a live run always
# has an alternative peer to choose, and a peer whose DBS check has lapsed.
PEERS = [
    ("Fatima Hussain", "paid", 3, dict(gender="woman", age_band="26-35", languages="English, Urdu, Punjabi",
                                       interests="cooking, art, walking", areas="Northfield, Eastgate",
                                       availability="mon-pm,wed-pm,thu-pm", backgrounds="British Pakistani")),
    ("Daniel Price", "paid", 3, dict(gender="man", age_band="26-35", languages="English",
                                     interests="football, gaming, cycling", areas="Eastgate, Westbrook",
                                     availability="tue-eve,thu-eve,sat-am")),
    ("Amara Okonkwo", "volunteer", 2, dict(gender="woman", age_band="36-45", languages="English, Yoruba",
                                           interests="singing, cooking, church", areas="Northfield, South Vale",
                                           availability="mon-pm,wed-am,thu-am")),
    ("Lowri Evans", "paid", 4, dict(gender="woman", age_band="18-25", languages="English, Welsh",
                                    interests="swimming, baking, walking", areas="Northfield, Eastgate",
                                    availability="mon-pm,tue-pm,thu-pm,sat-am", backgrounds="care experienced")),
    ("Marcus Webb", "paid", 3, dict(gender="man", age_band="36-45", languages="English, Polish",
                                    interests="gardening, fishing", areas="Westbrook",
                                    availability="mon-am,fri-am")),
]
EXPIRED_DBS = "Marcus Webb"


def _trained_candidate(demo, name: str, today: dt.date) -> Candidate:
    """The training demo's candidate when there is one who completed training; else one
    with equivalent training recognised, so this demo stands on its own."""
    lead = demo.users["lead"]
    candidate = Candidate.select().where(Candidate.name == name, Candidate.team == demo.team).first()
    if candidate is None:
        candidate = Candidate.create(name=name, team=demo.team, nominated_by=lead,
                                     nominated_on=today - dt.timedelta(days=200))
    if candidate.completed_training() is None:
        EquivalentTraining.create(candidate=candidate, provider="Northfield Recovery College",
                                  completed_on=today - dt.timedelta(days=150),
                                  evidence="Certificate seen", recognised_by=demo.users.get("facilitator", lead),
                                  recognised_on=today - dt.timedelta(days=140))
    return candidate


def seed(demo) -> None:
    from ..referrals.demo import ready_peer

    today = clock.today()
    lead = demo.users["lead"]
    with db.atomic():
        settings = MatchingSettings.for_team(demo.team)
        settings.weights = settings.weights
        settings.updated_by = lead
        settings.save()

        for name, kind, limit, details in PEERS:
            candidate = _trained_candidate(demo, name, today)
            if PeerRole.select().where(PeerRole.candidate == candidate, PeerRole.status != "ended").exists():
                continue  # the workforce demo already gave them a role
            role = ready_peer(candidate=candidate, team=demo.team, user=None, kind=kind, supervisor=lead,
                              max_caseload=limit, today=today, **details)
            if name == EXPIRED_DBS:
                for check in RecruitmentCheck.select().where(RecruitmentCheck.candidate == candidate):
                    if check.check_type.is_dbs:
                        check.completed_on = today - dt.timedelta(days=3 * 365 + 20)
                        check.expires_on = today - dt.timedelta(days=12)
                        check.save()
                role.status_reason = ""
                role.save()

        # An earlier run, yesterday: opened, read, never decided (the live run supersedes it).
        run = start_run(demo.team, by=lead, today=today - dt.timedelta(days=1))
        yesterday = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(16, 30))
        MatchingRun.update(started_at=yesterday).where(MatchingRun.id == run.id).execute()
