"""Demo work-WRAPs (fictional). Sam Rivers, the paid peer, has two versions and
shares two sections with their supervisor; Chris Lee, the volunteer, keeps an
unshared plan. Sign in as peer@demo.peerapp to see the owner's side and as
lead@demo.peerapp to read what Sam shared."""
from __future__ import annotations

import datetime as dt

from .. import clock
from ..audit import audit
from .models import EARLY_WARNING_SIGNS, WrapArrangement, WrapEntry, WrapPlan, WrapSection, WrapShare, WrapVersion
from .services import set_shares
from .sharing import may_share_with, supervisor_of

SAM_FIRST = {
    "well_at_work": "Chatty, curious, on time. I like being out and about with people.",
    "toolbox": "A walk at lunchtime. Music on the way in. Talking things over with my supervisor.",
    "triggers": "Being rushed between visits. Hearing my own story in someone else's.",
}

SAM_SECOND = {
    **SAM_FIRST,
    "daily_maintenance": "Eat lunch away from my desk. Write notes the same day. A ten-minute break after a hard visit.",
    "early_warning_signs": "I stop eating lunch, go quiet in the team meeting and arrive late. "
                           "Ask me how I am doing; help me move a visit if my diary is too full.",
    "if_unwell": "Call my sister (her number is with my manager). Please do not ring me repeatedly at home.",
    "working_arrangements": "Start at 10 on Mondays after my appointment. No more than three visits a day.",
}

CHRIS = {
    "well_at_work": "Calm and a good listener.",
    "toolbox": "Gardening, my dog, a cup of tea with a colleague.",
    "triggers": "Crowded waiting rooms.",
}


def _version(plan: WrapPlan, number: int, texts: dict[str, str], when: dt.datetime) -> WrapVersion:
    # Made directly (not through save_version) so the demo has a history in the past.
    keys = {s.key: s for s in WrapSection.current()}
    version = WrapVersion.create(plan=plan, number=number, created_at=when, created_by=plan.owner)
    WrapEntry.insert_many([{"version": version.id, "section": keys[k].id, "text": t}
                           for k, t in texts.items() if k in keys]).execute()
    return version


def seed(demo) -> None:
    now = clock.now()
    sam = demo.users["peer"]
    plan = WrapPlan.create(owner=sam, created_at=now - dt.timedelta(days=21))
    _version(plan, 1, SAM_FIRST, now - dt.timedelta(days=21))
    _version(plan, 2, SAM_SECOND, now - dt.timedelta(days=6))

    supervisor = supervisor_of(sam)
    if not may_share_with(supervisor):
        supervisor = demo.users["lead"]
    chosen = [s for s in WrapSection.current() if s.key in (EARLY_WARNING_SIGNS, "working_arrangements")]
    set_shares(plan, supervisor, chosen)
    WrapShare.update(created_at=now - dt.timedelta(days=5)).where(WrapShare.plan == plan).execute()
    audit("share", plan, summary=f"shared {len(chosen)} section(s) with user #{supervisor.id} (demo)", user=sam)
    audit("view", plan, summary=f"{len(chosen)} shared section(s) read (version 2)", user=supervisor)
    WrapArrangement.create(
        plan=plan, supervisor=supervisor, agreed_on=clock.today() - dt.timedelta(days=4),
        arrangements="Monday start at 10:00. At most three visits a day. Fortnightly supervision on Thursdays.",
        review_on=clock.today() + dt.timedelta(days=84), recorded_by=supervisor,
        created_at=now - dt.timedelta(days=4), supervisor_confirmed_at=now - dt.timedelta(days=4),
        peer_confirmed_at=now - dt.timedelta(days=3))

    chris = demo.users["volunteer"]
    private = WrapPlan.create(owner=chris, created_at=now - dt.timedelta(days=10))
    _version(private, 1, CHRIS, now - dt.timedelta(days=10))
