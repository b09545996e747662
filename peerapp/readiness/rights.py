"""Team readiness in a subject access request and an erasure (a member of staff's
named concerns, the actions they own, the meetings they attended, the SOP versions
they signed; anonymous concerns are linked to nobody, so they are never found), and
who may read these records' change history: the team's peer leads and its manager."""
from __future__ import annotations

from flask import url_for

from .. import history
from ..personal import Person, Record, account_of, record_of
from .models import Concern, ReadinessItem, ReflectiveAction, ReflectiveAttendance, ReflectiveMeeting, SopSignature
from .rules import LEADS

AREA = "Team readiness"


def subject_data(person: Person) -> list[Record]:
    user_id = account_of(person)
    if not user_id:
        return []
    found = [record_of(AREA, c, "Concern raised (named)")
             for c in Concern.select().where(Concern.raised_by == user_id).order_by(Concern.id)]
    found += [record_of(AREA, a, "Action agreed at a reflective meeting")
              for a in ReflectiveAction.select().where(ReflectiveAction.owner == user_id).order_by(ReflectiveAction.id)]
    found += [record_of(AREA, a, "Attended a reflective meeting")
              for a in ReflectiveAttendance.select().where(ReflectiveAttendance.user == user_id)]
    found += [record_of(AREA, s, "Signed a version of the SOP")
              for s in SopSignature.select().where(SopSignature.user == user_id)]
    return found


def erase(person: Person) -> list[tuple[str, object]]:
    """Their own words in the concerns they raised go; the concern stays (with the
    team's reply and solution), so the team's record of what was raised and done stays."""
    user_id = account_of(person)
    if not user_id:
        return []
    ids = [c for (c,) in Concern.select(Concern.id).where(Concern.raised_by == user_id).tuples()]
    if ids:
        Concern.update(text="").where(Concern.id.in_(ids)).execute()
    return [("concern", i) for i in ids]


def _team_lead(user, record) -> bool:
    return user.has_role(*LEADS) and user.team_id is not None and user.team_id == record.team_id


history.readable("readiness_item", ReadinessItem, "Checklist item", may_read=_team_lead,
                 back=lambda r: url_for("readiness.item", item_id=r.id))
history.readable("concern", Concern, "Concern", may_read=_team_lead,
                 back=lambda r: url_for("readiness.concern", concern_id=r.id))
history.readable("reflective_meeting", ReflectiveMeeting, "Reflective meeting", may_read=_team_lead,
                 back=lambda r: url_for("readiness.meeting", meeting_id=r.id))
