"""What the referrals area holds about a service user, how it is erased, and who may
read the history of its records (see peerapp/rights/registry.py)."""
from __future__ import annotations

import datetime as dt

import peewee as pw
from flask import url_for

from .. import history
from ..models import Team
from ..personal import ERASED, Found, Person, Record, record_of
from . import states
from .models import (Assignment, Contact, DeclaredConflict, FirstMeeting, InformationRequest, PeerPreference,
                     Referral, ReferralEvent, ServiceUser)

AREA = "Referrals"
# Kept after erasure: what reports count (states, dates, outcome categories, risk level).
REFERRAL_TEXT = ("own_words", "goals", "risk_summary", "consent_override_reason", "screening_reasons",
                 "risk_considerations", "decline_reason", "closing_summary")


def _referral_ids(service_user_id: int) -> list[int]:
    return [r for (r,) in Referral.select(Referral.id).where(Referral.service_user == service_user_id).tuples()]


def subject_data(person: Person) -> list[Record]:
    if person.kind != "service_user":
        return []
    su = ServiceUser.get_or_none(ServiceUser.id == person.id)
    if su is None:
        return []
    found = [record_of(AREA, su, "Service user record")]
    found += [record_of(AREA, p, "Preference for a peer") for p in PeerPreference.select().where(PeerPreference.service_user == su)]
    found += [record_of(AREA, c, "Declared conflict") for c in DeclaredConflict.select().where(DeclaredConflict.service_user == su)]
    ids = _referral_ids(su.id)
    for model, title in ((Referral, "Referral"), (ReferralEvent, "Change of a referral's state"),
                         (InformationRequest, "Questions to the referrer"), (Assignment, "Peer assigned"),
                         (FirstMeeting, "First meeting"), (Contact, "Contact")):
        column = model.id if model is Referral else model.referral
        found += [record_of(AREA, row, title) for row in model.select().where(column.in_(ids or [0])).order_by(model.id)]
    return found


def erase(person: Person) -> list[tuple[str, object]]:
    if person.kind != "service_user":
        return []
    su_id = person.id
    if not ServiceUser.select().where(ServiceUser.id == su_id).exists():
        return []
    ServiceUser.update(name=ERASED, preferred_name="", nhs_number=None, date_of_birth=None, gender="", pronouns="",
                       contact_preference="", languages="", interests="", availability="", area="") \
        .where(ServiceUser.id == su_id).execute()
    PeerPreference.delete().where(PeerPreference.service_user == su_id).execute()
    DeclaredConflict.update(note="").where(DeclaredConflict.service_user == su_id).execute()
    ids = _referral_ids(su_id) or [0]
    Referral.update(**{name: "" for name in REFERRAL_TEXT}).where(Referral.id.in_(ids)).execute()
    ReferralEvent.update(reason="").where(ReferralEvent.referral.in_(ids)).execute()
    InformationRequest.update(questions="", answer="").where(InformationRequest.referral.in_(ids)).execute()
    FirstMeeting.update(place="", attendees="", outcome_reason="").where(FirstMeeting.referral.in_(ids)).execute()
    Contact.update(summary="").where(Contact.referral.in_(ids)).execute()
    # Keep the category that reports count ("not a good fit", "referral closed"); drop free text.
    Assignment.update(ended_reason="").where(Assignment.referral.in_(ids),
                                             Assignment.ended_reason.not_in(("not a good fit", "referral closed"))).execute()
    touched = [("service_user", su_id)] + [("referral", i) for i in ids]
    touched += [("contact", c) for (c,) in Contact.select(Contact.id).where(Contact.referral.in_(ids)).tuples()]
    return touched


NAME_MENTIONS = [(ReferralEvent, "reason"), (Contact, "summary"), (Assignment, "ended_reason"),
                 (FirstMeeting, "attendees")]


def names_of(person: Person) -> list[str]:
    if person.kind != "service_user":
        return []
    row = ServiceUser.select(ServiceUser.name, ServiceUser.preferred_name).where(ServiceUser.id == person.id).tuples().first()
    return [n for n in (row or ()) if n]


def name_of(person: Person) -> str:
    if person.kind == "service_user":
        return ServiceUser.select(ServiceUser.name).where(ServiceUser.id == person.id).scalar() or ""
    return ""


def find(words: str) -> list[Found]:
    digits = "".join(c for c in words if c.isdigit())
    condition = ServiceUser.name.contains(words)
    if len(digits) == 10:
        condition |= ServiceUser.nhs_number == digits
    return [Found(Person("service_user", su.id), su.name,
                  f"NHS number {su.nhs_number_formatted}" if su.nhs_number else "no NHS number")
            for su in ServiceUser.select().where(condition).order_by(ServiceUser.name).limit(50)]


def past_retention(years: dict[str, int], today: dt.date) -> list[Found]:
    """Service users with no open referral whose last referral finished more than the
    retention period ago (mental health records: from when support ended)."""
    keep = years.get("service_user")
    if keep is None:
        return []
    cutoff = dt.datetime.combine(today.replace(year=today.year - keep) if not (today.month == 2 and today.day == 29)
                                 else today.replace(year=today.year - keep, day=28), dt.time())
    # Only the service users (not yet erased) with a referral finished before the cutoff
    # have their referrals grouped: at the Trust's size grouping every referral took
    # 60 ms (grouping the join with every service user 135-157 ms); this is ~0.1 ms while
    # nobody is due. "team IN (every team)" lets SQLite search the (team, state,
    # state_changed_at) index for the old ones without needing ANALYZE's statistics.
    finished = Referral.state.in_(states.FINISHED_STATES)
    old = Referral.alias("old")
    due = (old.select(old.service_user).join(ServiceUser, on=(ServiceUser.id == old.service_user))
           .where(old.team.in_(Team.select(Team.id)), old.state.in_(states.FINISHED_STATES),
                  old.state_changed_at < cutoff, ServiceUser.name != ERASED))
    open_ = pw.fn.SUM(pw.Case(None, [(~finished, 1)], 0))
    last = pw.fn.MAX(Referral.state_changed_at)
    ended = (Referral.select(Referral.service_user.alias("sid"), last.alias("last"))
             .where(Referral.service_user.in_(due))
             .group_by(Referral.service_user)
             .having((open_ == 0) & (last < cutoff))).alias("ended")
    rows = (ServiceUser.select(ServiceUser.id, ServiceUser.name, ended.c.last)
            .join(ended, on=(ended.c.sid == ServiceUser.id))
            .order_by(ServiceUser.id).tuples())
    return [Found(Person("service_user", sid), name, f"support ended {str(last)[:10]}") for sid, name, last in rows]


# --- who may read the history of these records ---------------------------------------------
def _may_read_service_user(user, record) -> bool:
    return ServiceUser.visible_to(user).where(ServiceUser.id == record.id).exists()


def _may_read_referral(user, record) -> bool:
    from ..workforce.models import PeerRole
    role = PeerRole.current_for(user) if user.has_role("peer") else None
    if role is not None and role.is_volunteer:
        return False
    return Referral.visible_to(user, role).where(Referral.id == record.id).exists()


def _may_read_contact(user, record) -> bool:
    return _may_read_referral(user, Referral(id=record.referral_id))


history.readable("service_user", ServiceUser, "Service user", may_read=_may_read_service_user,
                 back=lambda r: url_for("referrals.service_user", service_user_id=r.id))
history.readable("referral", Referral, "Referral", may_read=_may_read_referral,
                 back=lambda r: url_for("referrals.show", referral_id=r.id))
history.readable("contact", Contact, "Contact", may_read=_may_read_contact,
                 back=lambda r: url_for("referrals.show", referral_id=r.referral_id))

