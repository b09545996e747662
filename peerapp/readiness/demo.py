"""Demo team readiness (fictional): North Hill's checklist part-way done, two
concerns (one anonymous), one reflective meeting with actions (one overdue), and
an SOP at version 2 that some staff have yet to sign. Sign in as
manager@demo.peerapp or lead@demo.peerapp to see it at a glance; as
peer@demo.peerapp to read and sign the SOP."""
from __future__ import annotations

import datetime as dt

from .. import clock
from ..audit import audit
from .models import (Concern, ReadinessItem, ReadinessItemChange, ReflectiveAction, ReflectiveAttendance,
                     ReflectiveConcern, ReflectiveMeeting, SopDocument, SopSignature, SopVersion, SopVersionRole)
from .services import start_checklist

SOP_V1 = """# Peer support in North Hill EIP team

## Who does what
- Peer workers support service users alongside their care co-ordinator.
- Peer leads supervise peer workers monthly and debrief volunteers at the end of each day.

## Confidentiality
Peer workers record contacts in the app. What a service user tells a peer worker is shared
with the team when it concerns risk, as for any member of staff.
"""

SOP_V2 = SOP_V1 + """
## Dual relationships
A peer worker who knows a service user outside work declares it, and is not matched with them.

## Lone working
Sign out with an expected return time; the peer lead on duty follows up anyone late back.
"""

# Item title: (status, evidence, owner key, review in days)
PROGRESS = {
    "Peer leads named": ("met", "Priya Shah and Tom Okafor named at the team meeting.", "manager", 90),
    "Supervision arranged": ("met", "Monthly supervision booked for each peer worker.", "lead", 60),
    "Duty of care agreed": ("in_progress", "Discussed at the reflective meeting; written guidance to follow.", "lead2", 14),
    "Confidentiality agreed": ("in_progress", "", "manager", -3),
    "Dual relationships discussed": ("met", "Declaration form in use (Workforce area).", "lead", 120),
    "SOP read and signed": ("in_progress", "Version 2 published; signatures outstanding.", "manager", 21),
}


def seed(demo) -> None:
    team = demo.team
    users = demo.users
    now = clock.now()
    today = clock.today()
    manager, lead, lead2 = users["manager"], users["lead"], users["lead2"]

    start_checklist(team, by=manager)
    for item in ReadinessItem.select().where(ReadinessItem.team == team):
        if item.title not in PROGRESS:
            continue
        status, evidence, owner, days = PROGRESS[item.title]
        review_on = today + dt.timedelta(days=days)
        ReadinessItem.update(status=status, evidence=evidence, owner=users[owner], review_on=review_on,
                             version=2, updated_at=now - dt.timedelta(days=7)).where(ReadinessItem.id == item.id).execute()
        ReadinessItemChange.create(item=item, changed_at=now - dt.timedelta(days=7), changed_by=manager, status=status,
                                   evidence=evidence, owner_name=users[owner].name, review_on=review_on,
                                   what="status, evidence, owner, review date")

    named = Concern.create(team=team, theme="boundaries", raised_by=users["clinician"], anonymous=False,
                           raised_on=today - dt.timedelta(days=12),
                           text="What should I say if a peer worker tells a service user about their own "
                                "admission? I'm not sure where the line is.")
    audit("create", named, summary="a named concern was raised (demo)", user=users["clinician"])
    anonymous = Concern.create(team=team, theme="workload", anonymous=True, raised_by=None,
                               raised_on=today - dt.timedelta(days=9),
                               text="Peer workers are being asked to cover duty calls when the team is short. "
                                    "That is not their role and nobody has said so.")

    meeting = ReflectiveMeeting.create(team=team, held_on=today - dt.timedelta(days=7), recorded_by=manager,
                                       created_at=now - dt.timedelta(days=7),
                                       summary="We talked about self-disclosure: it is a skill peer workers are "
                                               "trained in, and the team will ask rather than assume. Duty calls "
                                               "are not a peer worker's role; the rota will say so.")
    for key in ("manager", "lead", "lead2", "clinician", "peer"):
        ReflectiveAttendance.create(meeting=meeting, user=users[key])
    for concern in (named, anonymous):
        ReflectiveConcern.create(meeting=meeting, concern=concern)
        Concern.update(status="discussed", version=2).where(Concern.id == concern.id).execute()
    ReflectiveAction.create(team=team, meeting=meeting, concern=anonymous, owner=manager,
                            text="Take peer workers off the duty rota and tell the team why.",
                            due_on=today - dt.timedelta(days=2))
    ReflectiveAction.create(team=team, meeting=meeting, concern=named, owner=lead,
                            text="Run a 20-minute session on self-disclosure at the next team meeting.",
                            due_on=today + dt.timedelta(days=10))
    done = ReflectiveAction.create(team=team, meeting=meeting, owner=lead2, text="Share the SOP draft with the team.",
                                   due_on=today - dt.timedelta(days=5))
    ReflectiveAction.update(done_on=today - dt.timedelta(days=6), done_by=lead2).where(ReflectiveAction.id == done.id).execute()

    document = SopDocument.create(team=team, title="Peer support SOP", created_at=now - dt.timedelta(days=60))
    roles = ["manager", "peer_lead", "clinician", "peer"]
    v1 = SopVersion.create(document=document, number=1, effective_on=today - dt.timedelta(days=60),
                           changes="First version.", body=SOP_V1, created_by=manager, created_at=now - dt.timedelta(days=60))
    v2 = SopVersion.create(document=document, number=2, effective_on=today - dt.timedelta(days=5),
                           changes="Adds dual relationships and lone working, agreed at the reflective meeting.",
                           body=SOP_V2, created_by=manager, created_at=now - dt.timedelta(days=5))
    for version in (v1, v2):
        SopVersionRole.insert_many([{"version": version.id, "role": r} for r in roles]).execute()
    for key in ("manager", "lead", "lead2", "clinician", "peer", "volunteer"):
        SopSignature.create(version=v1, user=users[key], signed_at=now - dt.timedelta(days=50))
    # Version 2: the manager and one peer lead have signed; the rest are asked again.
    for key in ("manager", "lead"):
        SopSignature.create(version=v2, user=users[key], signed_at=now - dt.timedelta(days=4))
