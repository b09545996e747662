"""Failed sign-ins remember the (hashed) address they came from: guessing is
slowed per account and address, so an attacker cannot keep the owner out; the
addresses an account signed in from before are remembered too."""
import peewee as pw

from . import snapshot_base


def upgrade(database, migrator):
    from playhouse.migrate import migrate

    Base = snapshot_base(database)

    class LoginSource(Base):
        email_hash = pw.CharField(max_length=64)
        source_hash = pw.CharField(max_length=64)
        last_at = pw.DateTimeField()

        class Meta:
            table_name = "login_source"
            indexes = ((("email_hash", "source_hash"), True),)

    database.create_tables([LoginSource])

    migrate(
        migrator.add_column("login_failure", "source_hash", pw.CharField(max_length=64, default="")),
        migrator.add_index("login_failure", ("email_hash", "source_hash", "at"), False),
    )
