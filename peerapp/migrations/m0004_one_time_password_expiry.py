"""One-time passwords expire: an unused one stops working after
ONE_TIME_PASSWORD_HOURS (72 by default), and using it once clears it."""
import datetime as dt

import peewee as pw


def upgrade(database, migrator):
    from playhouse.migrate import migrate

    migrate(migrator.add_column("user", "one_time_expires_at", pw.DateTimeField(null=True)))
    # One-time passwords issued before this step get the default 72 hours from now.
    expires = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(hours=72)
    database.execute_sql('UPDATE "user" SET one_time_expires_at = %s WHERE must_change_password = %s'
                         % (database.param, database.param), (expires, True))
