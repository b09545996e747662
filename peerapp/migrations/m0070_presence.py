"""Presence and lone working: team thresholds, sign-ins at the base, planned
visits with their timeline, and the e-mails the sweep owes."""
import peewee as pw

from . import existing, snapshot_base


def upgrade(database, migrator):
    Base = snapshot_base(database)
    Team = existing(Base, "team")
    User = existing(Base, "user")
    Referral = existing(Base, "referral")  # made by the referrals area (m0040)

    class PresenceSettings(Base):
        team = pw.ForeignKeyField(Team, backref="+", unique=True, on_delete="CASCADE")
        reminder_minutes = pw.IntegerField(default=15)
        grace_minutes = pw.IntegerField(default=5)
        escalate_minutes = pw.IntegerField(default=30)
        sign_out_hour = pw.IntegerField(default=20)
        keep_place_days = pw.IntegerField(default=30)
        updated_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        updated_at = pw.DateTimeField(null=True)

        class Meta:
            constraints = [pw.Check("reminder_minutes BETWEEN 0 AND 240"), pw.Check("grace_minutes BETWEEN 0 AND 240"),
                           pw.Check("escalate_minutes BETWEEN 1 AND 480"), pw.Check("sign_out_hour BETWEEN 0 AND 23"),
                           pw.Check("keep_place_days BETWEEN 1 AND 3650")]

    class BaseSignIn(Base):
        team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
        user = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
        signed_in_at = pw.DateTimeField(index=True)
        signed_in_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
        closes_at = pw.DateTimeField()
        signed_out_at = pw.DateTimeField(null=True)
        signed_out_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        auto_closed = pw.BooleanField(default=False)

    class Visit(Base):
        team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
        worker = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
        planned_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
        planned_at = pw.DateTimeField()
        starts_at = pw.DateTimeField()
        expected_return_at = pw.DateTimeField()
        place = pw.TextField(default="")
        place_blanked_at = pw.DateTimeField(null=True)
        referral = pw.ForeignKeyField(Referral, null=True, backref="+", on_delete="SET NULL")
        buddy = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        contact_phone = pw.CharField(max_length=40, default="")
        state = pw.CharField(max_length=20, default="planned", index=True)
        version = pw.IntegerField(default=1)
        started_at = pw.DateTimeField(null=True)
        started_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        due_soon_at = pw.DateTimeField(null=True)
        overdue_at = pw.DateTimeField(null=True, index=True)
        escalate_at = pw.DateTimeField(null=True)
        lead_ack_at = pw.DateTimeField(null=True)
        lead_ack_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        manager_ack_at = pw.DateTimeField(null=True)
        manager_ack_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        ended_at = pw.DateTimeField(null=True)
        ended_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        outcome = pw.CharField(max_length=20, default="")
        outcome_notes = pw.TextField(default="")

        class Meta:
            constraints = [pw.Check("state IN ('planned', 'started', 'ended', 'cancelled')"),
                           pw.Check("outcome IN ('', 'checked_out', 'safe', 'not_reached')"),
                           pw.Check("expected_return_at > starts_at")]

    class VisitEvent(Base):
        visit = pw.ForeignKeyField(Visit, backref="+", on_delete="CASCADE")
        at = pw.DateTimeField(index=True)
        by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        kind = pw.CharField(max_length=30)
        note = pw.TextField(default="")

    class Notification(Base):
        visit = pw.ForeignKeyField(Visit, backref="+", on_delete="CASCADE")
        step = pw.CharField(max_length=20)
        created_at = pw.DateTimeField()
        attempts = pw.IntegerField(default=0)
        next_attempt_at = pw.DateTimeField()
        claimed_until = pw.DateTimeField(null=True)
        claim = pw.CharField(max_length=40, default="")
        sent_at = pw.DateTimeField(null=True)
        last_error = pw.CharField(max_length=200, default="")

        class Meta:
            indexes = ((("visit", "step"), True),)
            constraints = [pw.Check("step IN ('due_soon', 'overdue', 'escalated')")]

    database.create_tables([PresenceSettings, BaseSignIn, Visit, VisitEvent, Notification])
    # One open stay at the base per person, and one visit under way per worker:
    # partial unique indexes, the same SQL on SQLite and PostgreSQL.
    database.execute_sql("CREATE UNIQUE INDEX base_sign_in_one_open ON base_sign_in (user_id) "
                         "WHERE signed_out_at IS NULL")
    database.execute_sql("CREATE UNIQUE INDEX visit_one_started ON visit (worker_id) WHERE state = 'started'")
