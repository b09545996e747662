"""Team readiness tables: the checklist (an install-wide template each team
extends), concerns, reflective meetings and their actions, SOP versions and
signatures. Other areas need nothing from here but the home-page answers
``ReflectiveAction.overdue_for(team, today)`` and ``SopVersion.to_sign_for(user)``.
"""
from __future__ import annotations

import peewee as pw

from ..db import read_memo
from ..models import BaseModel, Team, User, UserRole
from .rules import CONCERN_STATUSES, ITEM_STATUSES, THEMES, must_sign


def _in(column: str, values) -> pw.Check:
    return pw.Check(f"{column} IN ({', '.join(repr(v) for v in values)})")


class ReadinessTemplateItem(BaseModel):
    """The install-wide starting checklist (seeded from the source paper)."""
    title = pw.CharField(max_length=200, unique=True)
    guidance = pw.TextField(default="")
    order = pw.IntegerField(default=0)
    active = pw.BooleanField(default=True)

    @classmethod
    def current(cls):
        return cls.select().where(cls.active == True).order_by(cls.order, cls.id)  # noqa: E712


class ReadinessItem(BaseModel):
    """One item of one team's checklist: from the template, or the team's own."""
    team = pw.ForeignKeyField(Team, backref="readiness_items", on_delete="CASCADE")
    template_item = pw.ForeignKeyField(ReadinessTemplateItem, null=True, on_delete="RESTRICT")
    title = pw.CharField(max_length=200)
    guidance = pw.TextField(default="")
    order = pw.IntegerField(default=0)
    status = pw.CharField(max_length=12, default="not_started", constraints=[_in("status", ITEM_STATUSES)])
    evidence = pw.TextField(default="")
    owner = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    review_on = pw.DateField(null=True)
    version = pw.IntegerField(default=1)  # compare-and-set: a stale edit is refused
    updated_at = pw.DateTimeField()

    class Meta:
        indexes = ((("team", "template_item"), True), (("team", "title"), True))

    @property
    def status_label(self) -> str:
        return ITEM_STATUSES[self.status]

    @classmethod
    def for_team(cls, team):
        Owner = User.alias()
        return (cls.select(cls, Owner).join(Owner, pw.JOIN.LEFT_OUTER, on=(cls.owner == Owner.id))
                .where(cls.team == team).order_by(cls.order, cls.id))


class ReadinessItemChange(BaseModel):
    """History: every change to a checklist item, as it was after the change."""
    item = pw.ForeignKeyField(ReadinessItem, backref="changes", on_delete="CASCADE")
    changed_at = pw.DateTimeField()
    changed_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
    status = pw.CharField(max_length=12)
    evidence = pw.TextField(default="")
    owner_name = pw.CharField(max_length=120, default="")
    review_on = pw.DateField(null=True)
    what = pw.CharField(max_length=200, default="")

    @classmethod
    def for_item(cls, item):
        return cls.select(cls, User).join(User, on=(cls.changed_by == User.id)).where(cls.item == item)


class Concern(BaseModel):
    """A worry raised by a member of staff. An anonymous one keeps no link to its
    raiser and only the date (a CHECK constraint holds the first promise)."""
    team = pw.ForeignKeyField(Team, backref="concerns", on_delete="CASCADE")
    theme = pw.CharField(max_length=24, constraints=[_in("theme", THEMES)])
    text = pw.TextField()
    anonymous = pw.BooleanField(default=False)
    raised_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    raised_on = pw.DateField()  # the date only, named or not
    status = pw.CharField(max_length=10, default="open", constraints=[_in("status", CONCERN_STATUSES)])
    solution = pw.TextField(default="")
    resolved_on = pw.DateField(null=True)
    reply = pw.TextField(default="")
    replied_on = pw.DateField(null=True)
    replied_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    version = pw.IntegerField(default=1)

    class Meta:
        constraints = [pw.SQL("CHECK ((anonymous AND raised_by_id IS NULL) OR (NOT anonymous AND raised_by_id IS NOT NULL))"),
                       pw.SQL("CHECK (status <> 'resolved' OR solution <> '')"),
                       pw.SQL("CHECK (reply = '' OR NOT anonymous)")]

    @property
    def theme_label(self) -> str:
        return THEMES[self.theme]

    @property
    def status_label(self) -> str:
        return CONCERN_STATUSES[self.status]

    @classmethod
    def for_team(cls, team):
        Raiser = User.alias()
        return (cls.select(cls, Raiser).join(Raiser, pw.JOIN.LEFT_OUTER, on=(cls.raised_by == Raiser.id))
                .where(cls.team == team))

    @classmethod
    def open_first(cls):
        """Sort key: open, then discussed, then resolved."""
        return pw.Case(cls.status, (("open", 0), ("discussed", 1)), 2)


class ReflectiveMeeting(BaseModel):
    team = pw.ForeignKeyField(Team, backref="reflective_meetings", on_delete="CASCADE")
    held_on = pw.DateField()
    summary = pw.TextField(default="")
    recorded_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
    created_at = pw.DateTimeField()
    version = pw.IntegerField(default=1)

    @classmethod
    def for_team(cls, team):
        return cls.select().where(cls.team == team).order_by(cls.held_on.desc(), cls.id.desc())


class ReflectiveAttendance(BaseModel):
    meeting = pw.ForeignKeyField(ReflectiveMeeting, backref="attendance", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, on_delete="RESTRICT")

    class Meta:
        indexes = ((("meeting", "user"), True),)


class ReflectiveConcern(BaseModel):
    """A concern aired at a meeting."""
    meeting = pw.ForeignKeyField(ReflectiveMeeting, backref="aired", on_delete="CASCADE")
    concern = pw.ForeignKeyField(Concern, backref="airings", on_delete="CASCADE")

    class Meta:
        indexes = ((("meeting", "concern"), True),)


class ReflectiveAction(BaseModel):
    """A practical solution agreed at a meeting: who, by when, and whether it is done."""
    team = pw.ForeignKeyField(Team, backref="reflective_actions", on_delete="CASCADE")
    meeting = pw.ForeignKeyField(ReflectiveMeeting, backref="actions", on_delete="CASCADE")
    concern = pw.ForeignKeyField(Concern, null=True, backref="actions", on_delete="SET NULL")
    text = pw.TextField()
    owner = pw.ForeignKeyField(User, on_delete="RESTRICT")
    due_on = pw.DateField()
    done_on = pw.DateField(null=True)
    done_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    version = pw.IntegerField(default=1)

    class Meta:
        constraints = [pw.SQL("CHECK ((done_on IS NULL) = (done_by_id IS NULL))")]

    @classmethod
    def with_owner(cls):
        Owner = User.alias()
        return cls.select(cls, Owner).join(Owner, on=(cls.owner == Owner.id))

    @classmethod
    def open_for(cls, team):
        return cls.with_owner().where(cls.team == team, cls.done_on.is_null()).order_by(cls.due_on, cls.id)

    @classmethod
    def overdue_for(cls, team, today):
        return cls.open_for(team).where(cls.due_on < today)


class ReflectiveRevisit(BaseModel):
    """An action still open when a later meeting was held: revisited there."""
    meeting = pw.ForeignKeyField(ReflectiveMeeting, backref="revisits", on_delete="CASCADE")
    action = pw.ForeignKeyField(ReflectiveAction, backref="revisits", on_delete="CASCADE")

    class Meta:
        indexes = ((("meeting", "action"), True),)


class SopDocument(BaseModel):
    team = pw.ForeignKeyField(Team, backref="sop_documents", on_delete="CASCADE")
    title = pw.CharField(max_length=200)
    created_at = pw.DateTimeField()

    class Meta:
        indexes = ((("team", "title"), True),)


# Columns of a version without the PDF's bytes: lists never load the file.
class SopVersion(BaseModel):
    document = pw.ForeignKeyField(SopDocument, backref="versions", on_delete="CASCADE")
    number = pw.IntegerField(constraints=[pw.Check("number >= 1")])
    effective_on = pw.DateField()
    changes = pw.TextField(default="")
    body = pw.TextField(default="")          # Markdown, rendered through sop_text
    pdf = pw.BlobField(null=True)
    pdf_name = pw.CharField(max_length=200, default="")
    pdf_sha256 = pw.CharField(max_length=64, default="")
    pdf_size = pw.IntegerField(default=0)
    created_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
    created_at = pw.DateTimeField()

    class Meta:
        indexes = ((("document", "number"), True),)
        constraints = [pw.SQL("CHECK (body <> '' OR pdf_sha256 <> '')")]

    @classmethod
    def light(cls):
        """Every column but the PDF itself."""
        return cls.select(*[f for f in cls._meta.sorted_fields if f.name != "pdf"])

    @classmethod
    def latest_for_team(cls, team):
        """The newest version of each of the team's documents, document loaded too."""
        newest = (SopVersion.select(SopVersion.document, pw.fn.MAX(SopVersion.number).alias("n"))
                  .group_by(SopVersion.document))
        Newest = newest.alias("newest")
        return (cls.light().select_extend(SopDocument)
                .join(SopDocument, on=(cls.document == SopDocument.id))
                .join(Newest, on=((Newest.c.document_id == cls.document) & (Newest.c.n == cls.number)))
                .where(SopDocument.team == team).order_by(SopDocument.title))

    @classmethod
    def latest_with_roles(cls, team_id) -> tuple[list["SopVersion"], dict[int, set[str]]]:
        """``latest_for_team`` and the roles each of those versions asks to sign, in two
        queries; read once per GET request (the home page's lead and staff panels both ask)."""
        memo = read_memo("sop_latest_with_roles")
        if memo is not None and team_id in memo:
            return memo[team_id]
        latest = list(cls.latest_for_team(team_id))
        roles: dict[int, set[str]] = {}
        if latest:
            for version_id, role in (SopVersionRole.select(SopVersionRole.version, SopVersionRole.role)
                                     .where(SopVersionRole.version.in_([v.id for v in latest])).tuples()):
                roles.setdefault(version_id, set()).add(role)
        if memo is not None:
            memo[team_id] = (latest, roles)
        return latest, roles

    def role_list(self) -> list[str]:
        return sorted(r.role for r in SopVersionRole.select(SopVersionRole.role).where(SopVersionRole.version == self))

    @classmethod
    def to_sign_for(cls, user) -> list["SopVersion"]:
        """The newest version of each of the user's team's documents that asks one of
        their roles and that they have not signed. Three queries, however many documents."""
        if not getattr(user, "team_id", None):
            return []
        latest, roles = cls.latest_with_roles(user.team_id)
        if not latest:
            return []
        ids = [v.id for v in latest]
        signed = {s.version_id for s in SopSignature.select(SopSignature.version)
                  .where(SopSignature.version.in_(ids), SopSignature.user == user)}
        return [v for v in latest if v.id not in signed and must_sign(user.roles, roles.get(v.id, ()))]

    def signers_due(self):
        """Active staff of the team with a role this version asks, and their signature if any."""
        asked = SopVersionRole.select(SopVersionRole.role).where(SopVersionRole.version == self)
        people = (User.select(User).distinct().join(UserRole, on=(UserRole.user == User.id))
                  .where(User.team == self.document.team_id, User.active == True,  # noqa: E712
                         UserRole.role.in_(asked)).order_by(User.name))
        signatures = {s.user_id: s for s in SopSignature.select().where(SopSignature.version == self)}
        return [(person, signatures.get(person.id)) for person in people], signatures


class SopVersionRole(BaseModel):
    version = pw.ForeignKeyField(SopVersion, backref="roles", on_delete="CASCADE")
    role = pw.CharField(max_length=20)

    class Meta:
        indexes = ((("version", "role"), True),)


class SopSignature(BaseModel):
    """Read and signed, with the password typed again."""
    version = pw.ForeignKeyField(SopVersion, backref="signatures", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, on_delete="RESTRICT")
    signed_at = pw.DateTimeField()

    class Meta:
        indexes = ((("version", "user"), True),)


READINESS_MODELS = [ReadinessTemplateItem, ReadinessItem, ReadinessItemChange, Concern, ReflectiveMeeting,
                    ReflectiveAttendance, ReflectiveConcern, ReflectiveAction, ReflectiveRevisit, SopDocument,
                    SopVersion, SopVersionRole, SopSignature]
