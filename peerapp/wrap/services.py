"""What a peer (and their supervisor) do to a work-WRAP, each a rule-checked, audited write.

Views parse a form and call one of these; a ``Refusal`` carries the message to show.

- Saving adds a version (immutable, m0030's trigger); a save started from an older
  version is refused (``StaleVersion``) and the unique ``(plan, number)`` stands
  behind the check when two saves race.
- Sharing holds the plan's row first (``changes.hold``), so two tabs choosing
  sections at once are applied one after the other; the partial unique index
  ``wrap_share_one_live`` (m0030: one live share per plan, reader and section, the
  whole plan counting as one section) stands behind it.
- Revoking is a compare-and-set on ``revoked_at IS NULL``: pressing "Stop sharing"
  in two tabs ends the share once, with one audit row, and tells the other tab.
- Confirming an arrangement is a compare-and-set on that side's confirmation.
"""
from __future__ import annotations

import datetime as dt

import peewee as pw

from .. import clock
from ..audit import audit
from ..changes import Refusal, compare_and_set, hold, unique_violation
from ..db import db
from ..models import User
from .models import WrapArrangement, WrapEntry, WrapPlan, WrapSection, WrapShare, WrapVersion
from .rights import erase_plan


class StaleVersion(Refusal):
    """A save was based on an older version than the latest: nothing was saved."""

    def __init__(self, latest: WrapVersion | None):
        super().__init__(f"not based on the latest version ({latest.number if latest else 0})")
        self.latest = latest


# --- writing --------------------------------------------------------------------------

def save_version(owner: User, base_number: int, texts: dict[int, str]) -> WrapVersion:
    """Save a new version of ``owner``'s plan from ``texts`` (section id -> text).

    ``base_number`` is the version the person started from (0 for a new plan). If the
    plan moved on since, raise StaleVersion and save nothing: a tablet and a desktop
    left open must not silently overwrite each other.
    """
    try:
        with db.atomic():
            plan = WrapPlan.of(owner)
            latest = plan.latest() if plan else None
            if (latest.number if latest else 0) != base_number:
                raise StaleVersion(latest)
            if plan is None:
                plan = WrapPlan.create(owner=owner, created_at=clock.now())
            version = WrapVersion.create(plan=plan, number=base_number + 1, created_at=clock.now(),
                                         created_by=owner)
            WrapEntry.insert_many([{"version": version.id, "section": section_id, "text": text}
                                   for section_id, text in texts.items()]).execute()
            audit("create", plan, summary=f"saved version {version.number}", user=owner)
    except pw.IntegrityError as error:
        # Two saves raced past the check (PostgreSQL): the unique (plan, number) kept one,
        # or the unique owner kept one new plan. This one is a conflict like any other.
        if not unique_violation(error):
            raise
        plan = WrapPlan.of(owner)
        raise StaleVersion(plan.latest() if plan else None) from None
    return version


# --- sharing --------------------------------------------------------------------------

def set_shares(plan: WrapPlan, viewer: User, sections: list[WrapSection] | None) -> tuple[int, int]:
    """Make exactly ``sections`` (None: the whole plan) readable by ``viewer``; call inside
    ``db.atomic()`` after holding the plan. Sections already shared keep their original
    date; those no longer chosen are revoked. Returns (added, revoked)."""
    now = clock.now()
    wanted = {None} if sections is None else {s.id for s in sections}
    current = {s.section_id: s for s in plan.active_shares(viewer)}
    revoked = 0
    for section_id, share in current.items():
        if section_id not in wanted:
            revoked += WrapShare.update(revoked_at=now).where(WrapShare.id == share.id,
                                                              WrapShare.revoked_at.is_null()).execute()
    added = 0
    for section_id in wanted - set(current):
        WrapShare.create(plan=plan, viewer=viewer, section=section_id, created_at=now)
        added += 1
    return added, revoked


def share(plan: WrapPlan, supervisor: User, sections: list[WrapSection] | None) -> str:
    """The owner shares exactly ``sections`` (None: the whole plan) with their supervisor.
    Returns what is now shared, in words."""
    what = "the whole plan" if sections is None else f"{len(sections)} section(s)"
    try:
        with db.atomic():
            if hold(WrapPlan, plan.id) is None:
                raise Refusal("Your work-WRAP has just been deleted (perhaps in another tab): nothing was shared.")
            added, revoked = set_shares(plan, supervisor, sections)
            audit("share", plan, summary=f"shared {what} with user #{supervisor.id} "
                                         f"({added} added, {revoked} withdrawn)")
    except pw.IntegrityError as error:  # wrap_share_one_live: another tab shared the same at once
        if not unique_violation(error):
            raise
        raise Refusal("You have just changed your sharing in another tab or window: look at who can read "
                      "what, then choose again.") from None
    return what


def revoke(plan: WrapPlan, found: WrapShare) -> None:
    """Stop one share (one section, or the whole plan). The reader is refused from
    their very next request."""
    with db.atomic():
        compare_and_set(WrapShare, found.id, {"revoked_at": None, "plan": plan.id}, revoked_at=clock.now(),
                        refused=f"You have just stopped sharing \u201c{found.what()}\u201d with "
                                f"{found.viewer.name} (in another tab or window): it is no longer shared.")
        audit("revoke", plan, summary=f"stopped sharing share #{found.id} with user #{found.viewer_id}")


def revoke_all(plan: WrapPlan, viewer_id: int) -> int:
    """Stop sharing anything with this person; returns how many shares ended."""
    with db.atomic():
        ended = (WrapShare.update(revoked_at=clock.now())
                 .where(WrapShare.plan == plan.id, WrapShare.viewer == viewer_id, WrapShare.revoked_at.is_null())
                 .execute())
        if ended == 0:
            raise Refusal("You have just stopped sharing with them (in another tab or window): "
                          "they can no longer read any of your work-WRAP.")
        audit("revoke", plan, summary=f"stopped sharing everything with user #{viewer_id} ({ended} share(s))")
    return ended


def erase(plan: WrapPlan) -> None:
    """The owner deletes their plan for good, with every version, share and arrangement."""
    with db.atomic():
        if hold(WrapPlan, plan.id) is None:
            raise Refusal("Your work-WRAP has just been deleted (perhaps in another tab).")
        erase_plan(plan)
        audit("erase", record_type="wrap_plan", record_id=plan.id, summary="work-WRAP erased by its owner")


# --- agreed working arrangements ------------------------------------------------------

def record_arrangement(plan: WrapPlan, *, by: User, supervisor: User, agreed_on: dt.date, text: str,
                       review_on: dt.date | None) -> WrapArrangement | None:
    """Record arrangements agreed by the peer and a supervisor; the one recording
    confirms. Returns None when the same agreement is already recorded (a double tap)."""
    owner = plan.owner_id == by.id
    now = clock.now()
    text = text.replace("\r\n", "\n").strip()
    with db.atomic():
        hold(WrapPlan, plan.id)  # two taps at once: the second sees the first's row
        repeat = plan.arrangements().where(WrapArrangement.supervisor == supervisor,
                                           WrapArrangement.agreed_on == agreed_on,
                                           WrapArrangement.arrangements == text).exists()
        if repeat:
            return None
        arrangement = WrapArrangement.create(
            plan=plan, supervisor=supervisor, agreed_on=agreed_on, arrangements=text, review_on=review_on,
            recorded_by=by, created_at=now, peer_confirmed_at=now if owner else None,
            supervisor_confirmed_at=None if owner else now)
        audit("create", arrangement, summary=f"working arrangements recorded for plan #{plan.id}")
    return arrangement


def confirm_arrangement(arrangement: WrapArrangement, user: User) -> None:
    """The peer, or the supervisor named on it, confirms an arrangement the other recorded."""
    if user.id == arrangement.plan.owner_id:
        column = "peer_confirmed_at"
    elif user.id == arrangement.supervisor_id:
        column = "supervisor_confirmed_at"
    else:
        raise Refusal("Only the peer and the supervisor named on it can confirm these arrangements.")
    if getattr(arrangement, column) is not None:
        raise Refusal("You have already confirmed these arrangements.")
    now = clock.now()
    with db.atomic():
        compare_and_set(WrapArrangement, arrangement.id, {column: None}, **{column: now},
                        refused="You have just confirmed these arrangements (in another tab or window).")
        setattr(arrangement, column, now)
        audit("confirm", arrangement, summary="working arrangements confirmed")


# --- the section template ---------------------------------------------------------------

def add_section(*, key: str, title: str, prompt: str, order: int, active: bool) -> WrapSection:
    with db.atomic():
        section = WrapSection.create(key=key, title=title.strip(), prompt=prompt.strip(), order=order, active=active)
        audit("create", section, summary="work-WRAP section added")
    return section


def save_section(section: WrapSection, *, title: str, prompt: str, order: int, active: bool) -> None:
    """Call inside ``db.atomic()`` after ``check_version`` (the edit page's compare-and-set)."""
    section.title, section.prompt, section.order, section.active = title.strip(), prompt.strip(), order, active
    section.save()
    audit("update", section, summary="work-WRAP section changed")
