"""Who may read the change history of the team readiness records: the team's peer
leads and its manager, who keep the checklist, answer concerns and hold the
reflective meetings. (Concerns and meetings hold no service user's data; a named
concern's raiser reads the reply on their own page.)"""
from __future__ import annotations

from flask import url_for

from .. import history
from .models import Concern, ReadinessItem, ReflectiveMeeting
from .rules import LEADS


def _team_lead(user, record) -> bool:
    return user.has_role(*LEADS) and user.team_id is not None and user.team_id == record.team_id


history.readable("readiness_item", ReadinessItem, "Checklist item", may_read=_team_lead,
                 back=lambda r: url_for("readiness.item", item_id=r.id))
history.readable("concern", Concern, "Concern", may_read=_team_lead,
                 back=lambda r: url_for("readiness.concern", concern_id=r.id))
history.readable("reflective_meeting", ReflectiveMeeting, "Reflective meeting", may_read=_team_lead,
                 back=lambda r: url_for("readiness.meeting", meeting_id=r.id))
