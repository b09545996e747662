"""What the workforce area holds about a peer (by their candidate record), how it is
erased, and who may read the history of roles, checks and supervision."""
from __future__ import annotations

import datetime as dt

import peewee as pw
from flask import url_for

from .. import history
from ..personal import ERASED, Found, Person, Record, record_of
from ..training.models import Candidate
from .models import (Debrief, InductionTick, PeerRole, RecruitmentCheck, StaffConflict, Supervision,
                     TeamMeetingAgreement)

AREA = "Workforce"
ROLE_TEXT = ("interests", "languages", "areas", "availability", "gender", "age_band", "backgrounds",
             "intervention_kinds", "status_reason", "working_days")


def _role_ids(candidate_id: int) -> list[int]:
    return [r for (r,) in PeerRole.select(PeerRole.id).where(PeerRole.candidate == candidate_id).tuples()]


def subject_data(person: Person) -> list[Record]:
    if person.kind != "peer":
        return []
    roles = list(PeerRole.select().where(PeerRole.candidate == person.id))
    ids = [r.id for r in roles] or [0]
    found = [record_of(AREA, r, "Peer role") for r in roles]
    found += [record_of(AREA, c, "Recruitment check") for c in RecruitmentCheck.select().where(RecruitmentCheck.candidate == person.id)]
    for model, title in ((InductionTick, "Induction item done"), (TeamMeetingAgreement, "Team meeting agreement"),
                         (Supervision, "Supervision"), (Debrief, "Debrief"), (StaffConflict, "Declared prior care relationship")):
        found += [record_of(AREA, row, title) for row in model.select().where(model.role.in_(ids)).order_by(model.id)]
    return found


def erase(person: Person) -> list[tuple[str, object]]:
    if person.kind != "peer":
        return []
    ids = _role_ids(person.id)
    if not ids:
        return []
    PeerRole.update(**{name: "" for name in ROLE_TEXT}).where(PeerRole.id.in_(ids)).execute()
    Supervision.update(how_they_are="", actions="").where(Supervision.role.in_(ids)).execute()
    Debrief.update(summary="", wellbeing="").where(Debrief.role.in_(ids)).execute()
    TeamMeetingAgreement.update(arrangement="").where(TeamMeetingAgreement.role.in_(ids)).execute()
    touched = [("peer_role", i) for i in ids]
    touched += [("supervision", s) for (s,) in Supervision.select(Supervision.id).where(Supervision.role.in_(ids)).tuples()]
    touched += [("debrief", d) for (d,) in Debrief.select(Debrief.id).where(Debrief.role.in_(ids)).tuples()]
    touched += [("recruitment_check", c) for (c,) in
                RecruitmentCheck.select(RecruitmentCheck.id).where(RecruitmentCheck.candidate == person.id).tuples()]
    return touched


def past_retention(years: dict[str, int], today: dt.date) -> list[Found]:
    """Candidates who never took a role, and peers whose every role ended, longer ago
    than their retention periods."""
    return candidates_past_retention(years, today) + peers_past_retention(years, today)


def peers_past_retention(years: dict[str, int], today: dt.date) -> list[Found]:
    """Peers whose every role ended longer ago than the retention period."""
    from ..training.models import Candidate
    from ..personal import ERASED
    keep = years.get("peer")
    if keep is None:
        return []
    cutoff = today - dt.timedelta(days=round(365.25 * keep))
    still_open = pw.fn.SUM(pw.Case(None, [(PeerRole.status != "ended", 1)], 0))
    rows = (Candidate.select(Candidate.id, Candidate.name, pw.fn.MAX(PeerRole.ended_on))
            .join(PeerRole, on=(PeerRole.candidate == Candidate.id))
            .where(Candidate.name != ERASED)
            .group_by(Candidate.id, Candidate.name)
            .having((still_open == 0) & (pw.fn.MAX(PeerRole.ended_on) < cutoff)).tuples())
    return [Found(Person("peer", cid), name, f"last role ended {ended}") for cid, name, ended in rows]


def candidates_past_retention(years: dict[str, int], today: dt.date) -> list[Found]:
    """Candidates who never took a role, nominated longer ago than the retention period
    (asked here, not in training: whether a candidate took a role is workforce's to say)."""
    keep = years.get("candidate")
    if keep is None:
        return []
    cutoff = today - dt.timedelta(days=round(365.25 * keep))
    rows = (Candidate.select(Candidate.id, Candidate.name, Candidate.nominated_on)
            .where(Candidate.nominated_on < cutoff, Candidate.name != ERASED,
                   Candidate.id.not_in(PeerRole.select(PeerRole.candidate))).tuples())
    return [Found(Person("peer", cid), name, f"nominated {day}, never took a role") for cid, name, day in rows]


def _staff_or_peer(user, role) -> bool:
    staff = user.has_role("peer_lead", "manager") and user.team_id == role.team_id
    return staff or (user.has_role("peer") and role.is_peer(user))


def _may_read_role(user, record) -> bool:
    return _staff_or_peer(user, record)


def _may_read_check(user, record) -> bool:
    return any(_staff_or_peer(user, role) for role in PeerRole.select().where(PeerRole.candidate == record.candidate_id))


def _may_read_note(user, record) -> bool:
    return record.visible_to(user)


history.readable("peer_role", PeerRole, "Peer role", may_read=_may_read_role,
                 back=lambda r: url_for("workforce.role", role_id=r.id))
history.readable("recruitment_check", RecruitmentCheck, "Recruitment check", may_read=_may_read_check)
history.readable("supervision", Supervision, "Supervision", may_read=_may_read_note,
                 back=lambda r: url_for("workforce.supervision", record_id=r.id))
history.readable("debrief", Debrief, "Debrief", may_read=_may_read_note,
                 back=lambda r: url_for("workforce.debrief", record_id=r.id))
