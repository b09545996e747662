"""Teams, users and their roles, login sessions, failed logins, the audit log."""
import peewee as pw

from . import snapshot_base


def upgrade(database, migrator):
    Base = snapshot_base(database)

    class Team(Base):
        name = pw.CharField(max_length=120, unique=True)
        base_address = pw.TextField(default="")
        active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

    class User(Base):
        email = pw.CharField(max_length=254, unique=True)
        name = pw.CharField(max_length=120)
        team = pw.ForeignKeyField(Team, null=True, on_delete="RESTRICT")
        password_hash = pw.CharField(max_length=255, default="")
        must_change_password = pw.BooleanField(default=False)
        active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()
        password_changed_at = pw.DateTimeField(null=True)

    class UserRole(Base):
        user = pw.ForeignKeyField(User, on_delete="CASCADE")
        role = pw.CharField(max_length=20)

        class Meta:
            indexes = ((("user", "role"), True),)

    class LoginSession(Base):
        token_hash = pw.CharField(max_length=64, unique=True)
        user = pw.ForeignKeyField(User, on_delete="CASCADE")
        created_at = pw.DateTimeField()
        last_seen_at = pw.DateTimeField()

    class LoginFailure(Base):
        email_hash = pw.CharField(max_length=64, index=True)
        at = pw.DateTimeField(index=True)

    class AuditEvent(Base):
        at = pw.DateTimeField(index=True)
        user = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        action = pw.CharField(max_length=40, index=True)
        record_type = pw.CharField(max_length=40, default="", index=True)
        record_id = pw.CharField(max_length=40, default="")
        summary = pw.CharField(max_length=255, default="")

    database.create_tables([Team, User, UserRole, LoginSession, LoginFailure, AuditEvent])
