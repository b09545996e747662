"""What the training area holds about a candidate (a peer, or someone nominated who
never took a role), and how it is erased (see peerapp/rights/registry.py). Which
candidates are past retention is workforce's to say (whether they took a role)."""
from __future__ import annotations

from flask import url_for

from .. import history
from ..personal import ERASED, Found, Person, Record, record_of
from .models import Attendance, Candidate, Enrolment, EquivalentTraining

AREA = "Training"


def subject_data(person: Person) -> list[Record]:
    if person.kind != "peer":
        return []
    candidate = Candidate.get_or_none(Candidate.id == person.id)
    if candidate is None:
        return []
    found = [record_of(AREA, candidate, "Training candidate")]
    enrolments = list(Enrolment.select().where(Enrolment.candidate == candidate))
    found += [record_of(AREA, e, "Place on a cohort") for e in enrolments]
    found += [record_of(AREA, a, "Register entry")
              for a in Attendance.select().where(Attendance.enrolment.in_([e.id for e in enrolments] or [0]))]
    found += [record_of(AREA, e, "Equivalent training") for e in EquivalentTraining.select().where(EquivalentTraining.candidate == candidate)]
    return found


def erase(person: Person) -> list[tuple[str, object]]:
    if person.kind != "peer" or not Candidate.select().where(Candidate.id == person.id).exists():
        return []
    Candidate.update(name=ERASED, preferred_name="", pronouns="", email="", phone="").where(Candidate.id == person.id).execute()
    Enrolment.update(withdrawal_reason="").where(Enrolment.candidate == person.id).execute()
    EquivalentTraining.update(provider=ERASED, evidence="").where(EquivalentTraining.candidate == person.id).execute()
    return [("candidate", person.id)]


def name_of(person: Person) -> str:
    if person.kind == "peer":
        return Candidate.select(Candidate.name).where(Candidate.id == person.id).scalar() or ""
    return ""


def names_of(person: Person) -> list[str]:
    if person.kind != "peer":
        return []
    row = Candidate.select(Candidate.name, Candidate.preferred_name).where(Candidate.id == person.id).tuples().first()
    return [n for n in (row or ()) if n]


def find(words: str) -> list[Found]:
    query = Candidate.select().where(Candidate.name.contains(words) | Candidate.preferred_name.contains(words)
                                     | (Candidate.email == words.lower()))
    return [Found(Person("peer", c.id), c.name, f"nominated {c.nominated_on:%-d %b %Y}")
            for c in query.order_by(Candidate.name).limit(50)]


def peer_account(candidate_id: int) -> int | None:
    """The sign-in account of the peer known by this candidate record (peerapp.personal asks)."""
    return Candidate.select(Candidate.user).where(Candidate.id == candidate_id).scalar()


def _may_read_candidate(user, record) -> bool:
    return Candidate.visible_to(user).where(Candidate.id == record.id).exists()


history.readable("candidate", Candidate, "Training candidate", may_read=_may_read_candidate,
                 back=lambda r: url_for("training.candidate", candidate_id=r.id))
