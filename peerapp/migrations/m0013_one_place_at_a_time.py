"""One cohort place at a time. A candidate holds at most one place across all
cohorts unless a facilitator marks the extra place a catch-up (they will catch up
sessions they missed elsewhere). A partial unique index holds the rule, so two
facilitators offering places at once cannot both win.

Existing extra places (made before the rule) become catch-ups rather than being
lost: the earliest place stays the ordinary one."""
import peewee as pw


def upgrade(database, migrator):
    from playhouse.migrate import migrate

    migrate(migrator.add_column("enrolment", "catch_up",
                                pw.BooleanField(default=False, constraints=[pw.SQL("DEFAULT FALSE")])))
    database.execute_sql(
        "UPDATE enrolment SET catch_up = TRUE WHERE status = 'place' AND id NOT IN "
        "(SELECT MIN(id) FROM enrolment WHERE status = 'place' GROUP BY candidate_id)")
    database.execute_sql(
        "CREATE UNIQUE INDEX enrolment_one_place_at_a_time ON enrolment (candidate_id) "
        "WHERE status = 'place' AND NOT catch_up")
