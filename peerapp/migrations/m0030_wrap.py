"""Work-WRAP: the section template (seeded), plans, immutable versions, shares,
agreed working arrangements."""
import peewee as pw

from . import existing, snapshot_base

# The team's starting template; a peer lead or admin can rename, reorder and add.
SECTIONS = [
    ("well_at_work", "What I am like when I am well at work",
     "Describe yourself at work when you are well: how you come across, what you enjoy, what you are good at."),
    ("toolbox", "My wellness toolbox",
     "The things, people and habits that help you stay well, or feel better when you are struggling."),
    ("daily_maintenance", "Daily maintenance at work",
     "What you need to do, or have, each working day to stay well: breaks, routines, check-ins."),
    ("triggers", "Triggers at work and what I will do",
     "Situations at work that may upset you, and what you will do if they happen."),
    ("early_warning_signs", "Early warning signs and what I and others can do",
     "Small changes that tell you, or others, that you may be becoming unwell, and what would help."),
    ("breaking_down", "When things are breaking down",
     "Signs that things are getting much worse, and what you want to happen then."),
    ("if_unwell", "What helps if I become unwell at work",
     "Who to contact, what helps, and what people should not do."),
    ("returning", "After a difficult time and returning to work",
     "What would help you come back to work after time away or a hard period."),
    ("working_arrangements", "Working arrangements and adjustments I would like",
     "Hours, tasks, supervision, breaks or other adjustments you would like to agree with your supervisor."),
]


def upgrade(database, migrator):
    Base = snapshot_base(database)

    User = existing(Base, "user")

    class WrapSection(Base):
        key = pw.CharField(max_length=40, unique=True)
        title = pw.CharField(max_length=200)
        prompt = pw.TextField(default="")
        order = pw.IntegerField(default=0)
        active = pw.BooleanField(default=True)

    class WrapPlan(Base):
        owner = pw.ForeignKeyField(User, unique=True, on_delete="RESTRICT")
        created_at = pw.DateTimeField()

    class WrapVersion(Base):
        plan = pw.ForeignKeyField(WrapPlan, on_delete="CASCADE")
        number = pw.IntegerField()
        created_at = pw.DateTimeField()
        created_by = pw.ForeignKeyField(User, on_delete="RESTRICT")

        class Meta:
            indexes = ((("plan", "number"), True),)

    class WrapEntry(Base):
        version = pw.ForeignKeyField(WrapVersion, on_delete="CASCADE")
        section = pw.ForeignKeyField(WrapSection, on_delete="RESTRICT")
        text = pw.TextField(default="")

        class Meta:
            indexes = ((("version", "section"), True),)

    class WrapShare(Base):
        plan = pw.ForeignKeyField(WrapPlan, on_delete="CASCADE")
        viewer = pw.ForeignKeyField(User, on_delete="RESTRICT")
        section = pw.ForeignKeyField(WrapSection, null=True, on_delete="RESTRICT")
        created_at = pw.DateTimeField()
        revoked_at = pw.DateTimeField(null=True)

    class WrapArrangement(Base):
        plan = pw.ForeignKeyField(WrapPlan, on_delete="CASCADE")
        supervisor = pw.ForeignKeyField(User, on_delete="RESTRICT")
        agreed_on = pw.DateField()
        arrangements = pw.TextField()
        review_on = pw.DateField(null=True)
        recorded_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        created_at = pw.DateTimeField()
        peer_confirmed_at = pw.DateTimeField(null=True)
        supervisor_confirmed_at = pw.DateTimeField(null=True)

    database.create_tables([WrapSection, WrapPlan, WrapVersion, WrapEntry, WrapShare, WrapArrangement])

    # One live share per reader and section (COALESCE: NULL, the whole plan, counts once too).
    database.execute_sql(
        "CREATE UNIQUE INDEX wrap_share_one_live ON wrap_share "
        "(plan_id, viewer_id, COALESCE(section_id, 0)) WHERE revoked_at IS NULL")

    # Versions are history: the database itself refuses to rewrite them.
    if isinstance(database, pw.SqliteDatabase):
        for table in ("wrap_version", "wrap_entry"):
            database.execute_sql(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'work-WRAP versions cannot be changed'); END;")
    else:
        database.execute_sql(
            "CREATE OR REPLACE FUNCTION wrap_version_immutable() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'work-WRAP versions cannot be changed' USING ERRCODE = 'integrity_constraint_violation'; END; $$ LANGUAGE plpgsql;")
        for table in ("wrap_version", "wrap_entry"):
            database.execute_sql(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION wrap_version_immutable();")

    WrapSection.insert_many([
        {"key": key, "title": title, "prompt": prompt, "order": (n + 1) * 10, "active": True}
        for n, (key, title, prompt) in enumerate(SECTIONS)
    ]).execute()
