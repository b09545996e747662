"""Referrals: at most one open assignment per referral, enforced by the database.

Two people assigning the same waiting referral at once could each leave an open
assignment (both read "awaiting match" before either wrote). The service now
changes state by compare-and-set; this partial unique index stands behind it, so
even a forgotten guard cannot store two. Works on SQLite and PostgreSQL alike.

Duplicates already stored are reported, not guessed at: the migration stops and
names the referrals (by number only) so a peer lead can end the wrong assignment.
"""


class DuplicatesFound(RuntimeError):
    pass


def upgrade(database, migrator):
    rows = database.execute_sql(
        "SELECT referral_id, COUNT(*) FROM assignment WHERE ended_at IS NULL "
        "GROUP BY referral_id HAVING COUNT(*) > 1 ORDER BY referral_id").fetchall()
    if rows:
        listed = ", ".join(f"referral #{rid} ({n} open)" for rid, n in rows)
        raise DuplicatesFound(
            "Some referrals have more than one open assignment, so the rule 'one peer at a time' cannot be "
            f"enforced yet: {listed}. End the wrong assignment of each (set ended_at), then run init-db again. "
            "Nothing was changed.")
    database.execute_sql("CREATE UNIQUE INDEX assignment_one_open_per_referral "
                         "ON assignment (referral_id) WHERE ended_at IS NULL")
