"""Team readiness rules, with no Flask and no database: what "ready" means at a
glance, when a review or an action is overdue, who must sign an SOP version,
and what an anonymous concern keeps.

"Enthusiasm is not readiness": a team works through its worries before and
while peer workers join. This module decides; models gather the facts and
services change rows, so each rule reads in one place.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

ITEM_STATUSES = {"not_started": "Not started", "in_progress": "In progress", "met": "Met"}

THEMES = {
    "duty_of_care": "Duty of care",
    "confidentiality": "Confidentiality",
    "dual_relationships": "Dual relationships",
    "boundaries": "Boundaries",
    "workload": "Workload",
    "team_culture": "Team culture",
    "other": "Something else",
}

CONCERN_STATUSES = {"open": "Open", "discussed": "Discussed", "resolved": "Resolved"}

# Who may raise a concern: any member of staff with a team. Viewers (senior
# managers, commissioners) see aggregates only and are not team staff.
RAISERS = ("manager", "peer_lead", "clinician", "facilitator", "peer", "admin")
# Who reads concerns and runs reflective meetings.
LEADS = ("peer_lead", "manager")
# Roles an SOP version can ask to acknowledge it.
SIGNING_ROLES = ("manager", "peer_lead", "clinician", "facilitator", "peer", "admin")

# Told to the person before they choose anonymity: what it covers and what it cannot.
ANONYMITY_COVERS = (
    "Your name, your account and your email address are not stored with the concern.",
    "Only the date is kept, not the time, so it cannot be matched with when you were signed in.",
    "Your computer's or tablet's network address is not stored.",
    "The audit log says only that an anonymous concern was raised that day, not by whom.",
)
ANONYMITY_CANNOT = (
    "Your words may identify you: details only you know, or the way you write, can tell people who wrote it.",
    "If very few people could have raised it (for example, you are the only volunteer), others may guess.",
    "The Trust's network and web servers may keep their own records that your device visited peerapp; "
    "peerapp's installation guide asks for this page to be left out of those records.",
    "Nobody can reply to you, and you will not be able to see it again or change it, "
    "because nothing links it to you. It will be read by the peer leads and the manager "
    "and may be discussed in a reflective meeting.",
)


@dataclass(frozen=True)
class Glance:
    """The team's readiness at a glance."""
    total: int
    met: int
    in_progress: int
    not_started: int
    overdue_reviews: int

    @property
    def percent_met(self) -> int:
        return round(100 * self.met / self.total) if self.total else 0

    @property
    def ready(self) -> bool:
        return self.total > 0 and self.met == self.total and self.overdue_reviews == 0


def review_overdue(review_on: dt.date | None, today: dt.date) -> bool:
    """A review is overdue the day after its date (met items are reviewed too:
    readiness can slip)."""
    return review_on is not None and review_on < today


def glance(items, today: dt.date) -> Glance:
    """``items``: anything with ``status`` and ``review_on``."""
    items = list(items)
    count = {key: sum(1 for i in items if i.status == key) for key in ITEM_STATUSES}
    return Glance(total=len(items), met=count["met"], in_progress=count["in_progress"],
                  not_started=count["not_started"],
                  overdue_reviews=sum(1 for i in items if review_overdue(i.review_on, today)))


def action_overdue(due_on: dt.date | None, done_on: dt.date | None, today: dt.date) -> bool:
    """An agreed action is overdue the day after it was due, until it is done."""
    return done_on is None and due_on is not None and due_on < today


def must_sign(user_roles, version_roles) -> bool:
    """Someone must acknowledge a version if any of their roles is asked to."""
    return bool(set(user_roles) & set(version_roles))

