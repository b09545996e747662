"""Sessions remember when the password was last typed, for actions that need a
recent login (changing someone's roles, exports, sharing a work-WRAP)."""
import peewee as pw


def upgrade(database, migrator):
    from playhouse.migrate import migrate

    migrate(migrator.add_column("login_session", "confirmed_at", pw.DateTimeField(null=True)))
    database.execute_sql("UPDATE login_session SET confirmed_at = created_at")
