"""Team readiness: the checklist template (seeded) and each team's items with
their history, concerns (anonymous ones keep no raiser), reflective meetings,
agreed actions and their revisits, SOP versions (Markdown or a PDF with its
sha256), the roles asked to sign each version, and signatures."""
import peewee as pw

from . import existing, snapshot_base

# The starting checklist, from the source paper's lessons; a team adds its own.
TEMPLATE = [
    ("Peer leads named", "Two paid peer leads are named for the team and know their role."),
    ("Supervision arranged", "Each peer worker has a named supervisor and a supervision schedule."),
    ("Duty of care agreed", "The team has discussed who holds clinical responsibility and what a peer worker "
                            "does when worried about a service user's safety."),
    ("Confidentiality agreed", "What peer workers record, what they share with the team and what stays "
                               "between them and the service user is written down and understood."),
    ("Dual relationships discussed", "How the team handles a peer worker who knows a service user, or has "
                                     "used the same service, is agreed."),
    ("Boundaries discussed", "Self-disclosure, contact outside work and gifts have been talked through."),
    ("Team culture and language", "The team has talked about how it speaks about service users and about "
                                  "lived experience, in reflective meetings."),
    ("Roles and tasks clear", "Staff know which tasks peer workers do and do not do."),
    ("SOP read and signed", "The team's standard operating procedure is current and staff have signed it."),
    ("Induction ready", "An induction for new peer workers is planned, with a named person for each part."),
    ("Wellbeing support", "Peer workers can write a work-WRAP and know how the team will support them."),
    ("Base and access", "Desk space, phones, lone-working arrangements and record access are ready."),
]


def upgrade(database, migrator):
    Base = snapshot_base(database)
    Team = existing(Base, "team")
    User = existing(Base, "user")

    def _in(column, values):
        return pw.Check(f"{column} IN ({', '.join(repr(v) for v in values)})")

    class ReadinessTemplateItem(Base):
        title = pw.CharField(max_length=200, unique=True)
        guidance = pw.TextField(default="")
        order = pw.IntegerField(default=0)
        active = pw.BooleanField(default=True)

    class ReadinessItem(Base):
        team = pw.ForeignKeyField(Team, on_delete="CASCADE")
        template_item = pw.ForeignKeyField(ReadinessTemplateItem, null=True, on_delete="RESTRICT")
        title = pw.CharField(max_length=200)
        guidance = pw.TextField(default="")
        order = pw.IntegerField(default=0)
        status = pw.CharField(max_length=12, default="not_started",
                              constraints=[_in("status", ("not_started", "in_progress", "met"))])
        evidence = pw.TextField(default="")
        owner = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
        review_on = pw.DateField(null=True)
        version = pw.IntegerField(default=1)
        updated_at = pw.DateTimeField()

        class Meta:
            indexes = ((("team", "template_item"), True), (("team", "title"), True))

    class ReadinessItemChange(Base):
        item = pw.ForeignKeyField(ReadinessItem, on_delete="CASCADE")
        changed_at = pw.DateTimeField()
        changed_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        status = pw.CharField(max_length=12)
        evidence = pw.TextField(default="")
        owner_name = pw.CharField(max_length=120, default="")
        review_on = pw.DateField(null=True)
        what = pw.CharField(max_length=200, default="")

    class Concern(Base):
        team = pw.ForeignKeyField(Team, on_delete="CASCADE")
        theme = pw.CharField(max_length=24, constraints=[_in("theme", (
            "duty_of_care", "confidentiality", "dual_relationships", "boundaries", "workload",
            "team_culture", "other"))])
        text = pw.TextField()
        anonymous = pw.BooleanField(default=False)
        raised_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        raised_on = pw.DateField()
        status = pw.CharField(max_length=10, default="open",
                              constraints=[_in("status", ("open", "discussed", "resolved"))])
        solution = pw.TextField(default="")
        resolved_on = pw.DateField(null=True)
        reply = pw.TextField(default="")
        replied_on = pw.DateField(null=True)
        replied_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        version = pw.IntegerField(default=1)

        class Meta:
            constraints = [
                pw.SQL("CHECK ((anonymous AND raised_by_id IS NULL) OR (NOT anonymous AND raised_by_id IS NOT NULL))"),
                pw.SQL("CHECK (status <> 'resolved' OR solution <> '')"),
                pw.SQL("CHECK (reply = '' OR NOT anonymous)")]

    class ReflectiveMeeting(Base):
        team = pw.ForeignKeyField(Team, on_delete="CASCADE")
        held_on = pw.DateField()
        summary = pw.TextField(default="")
        recorded_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        created_at = pw.DateTimeField()
        version = pw.IntegerField(default=1)

    class ReflectiveAttendance(Base):
        meeting = pw.ForeignKeyField(ReflectiveMeeting, on_delete="CASCADE")
        user = pw.ForeignKeyField(User, on_delete="RESTRICT")

        class Meta:
            indexes = ((("meeting", "user"), True),)

    class ReflectiveConcern(Base):
        meeting = pw.ForeignKeyField(ReflectiveMeeting, on_delete="CASCADE")
        concern = pw.ForeignKeyField(Concern, on_delete="CASCADE")

        class Meta:
            indexes = ((("meeting", "concern"), True),)

    class ReflectiveAction(Base):
        team = pw.ForeignKeyField(Team, on_delete="CASCADE")
        meeting = pw.ForeignKeyField(ReflectiveMeeting, on_delete="CASCADE")
        concern = pw.ForeignKeyField(Concern, null=True, on_delete="SET NULL")
        text = pw.TextField()
        owner = pw.ForeignKeyField(User, on_delete="RESTRICT")
        due_on = pw.DateField()
        done_on = pw.DateField(null=True)
        done_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        version = pw.IntegerField(default=1)

        class Meta:
            constraints = [pw.SQL("CHECK ((done_on IS NULL) = (done_by_id IS NULL))")]

    class ReflectiveRevisit(Base):
        meeting = pw.ForeignKeyField(ReflectiveMeeting, on_delete="CASCADE")
        action = pw.ForeignKeyField(ReflectiveAction, on_delete="CASCADE")

        class Meta:
            indexes = ((("meeting", "action"), True),)

    class SopDocument(Base):
        team = pw.ForeignKeyField(Team, on_delete="CASCADE")
        title = pw.CharField(max_length=200)
        created_at = pw.DateTimeField()

        class Meta:
            indexes = ((("team", "title"), True),)

    class SopVersion(Base):
        document = pw.ForeignKeyField(SopDocument, on_delete="CASCADE")
        number = pw.IntegerField(constraints=[pw.Check("number >= 1")])
        effective_on = pw.DateField()
        changes = pw.TextField(default="")
        body = pw.TextField(default="")
        pdf = pw.BlobField(null=True)
        pdf_name = pw.CharField(max_length=200, default="")
        pdf_sha256 = pw.CharField(max_length=64, default="")
        pdf_size = pw.IntegerField(default=0)
        created_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        created_at = pw.DateTimeField()

        class Meta:
            indexes = ((("document", "number"), True),)
            constraints = [pw.SQL("CHECK (body <> '' OR pdf_sha256 <> '')")]

    class SopVersionRole(Base):
        version = pw.ForeignKeyField(SopVersion, on_delete="CASCADE")
        role = pw.CharField(max_length=20)

        class Meta:
            indexes = ((("version", "role"), True),)

    class SopSignature(Base):
        version = pw.ForeignKeyField(SopVersion, on_delete="CASCADE")
        user = pw.ForeignKeyField(User, on_delete="RESTRICT")
        signed_at = pw.DateTimeField()

        class Meta:
            indexes = ((("version", "user"), True),)

    database.create_tables([ReadinessTemplateItem, ReadinessItem, ReadinessItemChange, Concern, ReflectiveMeeting,
                            ReflectiveAttendance, ReflectiveConcern, ReflectiveAction, ReflectiveRevisit,
                            SopDocument, SopVersion, SopVersionRole, SopSignature])
    for order, (title, guidance) in enumerate(TEMPLATE, start=1):
        ReadinessTemplateItem.create(title=title, guidance=guidance, order=order * 10)
