"""The work-WRAP: a peer's own wellness plan, kept in versions, shared by choice.

- ``WrapSection`` is the team's template (data, not code): key, title, prompt, order.
- ``WrapPlan`` is one per account, owned by the person who writes it (a User with
  the ``peer`` role), not by their workforce role, so it outlives role changes.
- ``WrapVersion`` and ``WrapEntry`` are immutable: every save adds a version
  (a database trigger refuses UPDATE), so earlier wording is never lost.
- ``WrapShare`` says who may read which section, from when, until revoked. One
  row per (reader, section); ``section`` NULL means the whole plan, sections the
  team adds later included. A share covers the *latest* version of the shared
  sections, now and after later saves, until revoked; earlier versions stay the
  peer's alone (they may have reworded something before choosing to share).
- ``WrapArrangement`` records the working arrangements a peer and their
  supervisor agreed, confirmed by both.

Fields and queries only: every change (save, share, revoke, confirm) is in ``services.py``.
"""
from __future__ import annotations

import peewee as pw

from .. import clock
from ..models import BaseModel, User

# The section shared_early_warning_signs() reads for supervision records.
EARLY_WARNING_SIGNS = "early_warning_signs"


class WrapSection(BaseModel):
    key = pw.CharField(max_length=40, unique=True)  # stable; titles may change
    title = pw.CharField(max_length=200)
    prompt = pw.TextField(default="")
    order = pw.IntegerField(default=0)
    active = pw.BooleanField(default=True)

    def __str__(self) -> str:
        return self.title

    @classmethod
    def in_order(cls):
        return cls.select().order_by(cls.order, cls.id)

    @classmethod
    def current(cls) -> list["WrapSection"]:
        return list(cls.in_order().where(cls.active == True))  # noqa: E712

    @classmethod
    def for_texts(cls, texts: dict[int, str]) -> list["WrapSection"]:
        """Active sections, plus retired ones that still hold this person's text."""
        return [s for s in cls.in_order() if s.active or texts.get(s.id)]


class WrapPlan(BaseModel):
    owner = pw.ForeignKeyField(User, unique=True, backref="wrap_plans", on_delete="RESTRICT")
    created_at = pw.DateTimeField(default=clock.now)

    @classmethod
    def of(cls, user) -> "WrapPlan | None":
        return cls.get_or_none(cls.owner == user)

    def latest(self) -> "WrapVersion | None":
        return (WrapVersion.select().where(WrapVersion.plan == self)
                .order_by(WrapVersion.number.desc()).first())

    def versions(self):
        return WrapVersion.select().where(WrapVersion.plan == self).order_by(WrapVersion.number.desc())

    def version(self, number: int) -> "WrapVersion | None":
        return WrapVersion.get_or_none(WrapVersion.plan == self, WrapVersion.number == number)

    # --- sharing -----------------------------------------------------------
    def shares(self):
        """Every share ever made, newest first (revoked ones too: the peer's history)."""
        return (WrapShare.select(WrapShare, User, WrapSection)
                .join(User, on=(WrapShare.viewer == User.id))
                .switch(WrapShare).join(WrapSection, pw.JOIN.LEFT_OUTER)
                .where(WrapShare.plan == self)
                .order_by(WrapShare.revoked_at.is_null(False), WrapShare.created_at.desc(), WrapShare.id.desc()))

    def active_shares(self, viewer=None):
        query = WrapShare.select().where(WrapShare.plan == self, WrapShare.revoked_at.is_null())
        if viewer is not None:
            query = query.where(WrapShare.viewer == viewer)
        return query

    def readers(self) -> list[User]:
        """People who can read some of this plan right now."""
        ids = {s.viewer_id for s in self.active_shares()}
        return list(User.select().where(User.id.in_(ids)).order_by(User.name)) if ids else []

    def sections_shared_with(self, viewer) -> list[WrapSection]:
        """The sections this reader may see now, in template order (none if not shared)."""
        shares = list(self.active_shares(viewer))
        if not shares:
            return []
        latest = self.latest()
        texts = latest.texts() if latest else {}
        if any(s.section_id is None for s in shares):
            return WrapSection.for_texts(texts)
        ids = {s.section_id for s in shares}
        return [s for s in WrapSection.in_order() if s.id in ids]

    @classmethod
    def shared_with(cls, viewer):
        """Plans someone has shared with this reader and not revoked."""
        shared = WrapShare.select(WrapShare.plan).where(WrapShare.viewer == viewer, WrapShare.revoked_at.is_null())
        return (cls.select(cls, User).join(User, on=(cls.owner == User.id))
                .where(cls.id.in_(shared)).order_by(User.name))

    # --- the view log --------------------------------------------------------
    def views_by_others(self, limit: int = 200):
        """Every audited view of this plan by someone other than its owner."""
        from ..audit import AuditEvent
        return (AuditEvent.for_record(self._meta.table_name, self.id)
                .where(AuditEvent.action == "view", AuditEvent.user != self.owner_id)
                .limit(limit))

    # --- arrangements --------------------------------------------------------
    def arrangements(self):
        return (WrapArrangement.select().where(WrapArrangement.plan == self)
                .order_by(WrapArrangement.agreed_on.desc(), WrapArrangement.id.desc()))


class WrapVersion(BaseModel):
    plan = pw.ForeignKeyField(WrapPlan, backref="version_rows", on_delete="CASCADE")
    number = pw.IntegerField()
    created_at = pw.DateTimeField(default=clock.now)
    created_by = pw.ForeignKeyField(User, on_delete="RESTRICT")

    class Meta:
        indexes = ((("plan", "number"), True),)

    def texts(self) -> dict[int, str]:
        """Section id -> text of this version."""
        cached = self.__dict__.get("_texts")
        if cached is None:
            cached = {e.section_id: e.text for e in WrapEntry.select().where(WrapEntry.version == self)}
            self.__dict__["_texts"] = cached
        return cached

    def sections(self) -> list[tuple[WrapSection, str]]:
        texts = self.texts()
        return [(s, texts.get(s.id, "")) for s in WrapSection.for_texts(texts)]

    def filled(self) -> int:
        return sum(1 for t in self.texts().values() if t.strip())


class WrapEntry(BaseModel):
    version = pw.ForeignKeyField(WrapVersion, backref="entries", on_delete="CASCADE")
    section = pw.ForeignKeyField(WrapSection, on_delete="RESTRICT")
    text = pw.TextField(default="")

    class Meta:
        indexes = ((("version", "section"), True),)


class WrapShare(BaseModel):
    plan = pw.ForeignKeyField(WrapPlan, backref="share_rows", on_delete="CASCADE")
    viewer = pw.ForeignKeyField(User, on_delete="RESTRICT")
    section = pw.ForeignKeyField(WrapSection, null=True, on_delete="RESTRICT")  # NULL: the whole plan
    created_at = pw.DateTimeField(default=clock.now)
    revoked_at = pw.DateTimeField(null=True)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def what(self) -> str:
        return "The whole plan" if self.section_id is None else self.section.title


class WrapArrangement(BaseModel):
    """Working arrangements a peer and their supervisor agreed after sharing."""

    plan = pw.ForeignKeyField(WrapPlan, backref="arrangement_rows", on_delete="CASCADE")
    supervisor = pw.ForeignKeyField(User, on_delete="RESTRICT")
    agreed_on = pw.DateField()
    arrangements = pw.TextField()
    review_on = pw.DateField(null=True)
    recorded_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
    created_at = pw.DateTimeField(default=clock.now)
    peer_confirmed_at = pw.DateTimeField(null=True)
    supervisor_confirmed_at = pw.DateTimeField(null=True)

    @property
    def confirmed(self) -> bool:
        return bool(self.peer_confirmed_at and self.supervisor_confirmed_at)

    def awaits(self, user) -> bool:
        """Is this person's confirmation still missing?"""
        if user.id == self.plan.owner_id:
            return self.peer_confirmed_at is None
        if user.id == self.supervisor_id:
            return self.supervisor_confirmed_at is None
        return False


WRAP_MODELS = [WrapSection, WrapPlan, WrapVersion, WrapEntry, WrapShare, WrapArrangement]
