"""A nomination is recorded once: the same person (name and email) nominated by
the same team on the same day is one candidate, whoever taps the button twice or
at the same moment (issue 10, item 6). Existing duplicates are reported first."""
from __future__ import annotations


class DuplicatesFound(RuntimeError):
    """An 'only one' index cannot be made while duplicates exist: the upgrade stops."""


def refuse_duplicates(database, step: str, what: str, sql: str, advice: str) -> None:
    """Report duplicates (first record id and how many, no personal data) and stop."""
    rows = database.execute_sql(sql).fetchall()
    if rows:
        listed = ", ".join(f"id {first} ({count} records)" for first, count in rows[:50])
        raise DuplicatesFound(
            f"Migration {step} stopped before changing anything: {len(rows)} group(s) of {what}: {listed}"
            + (" and more" if len(rows) > 50 else "")
            + f". To go on, {advice}; then run `flask --app peerapp init-db` again.")


def upgrade(database, migrator):
    refuse_duplicates(
        database, "m0011", "candidates nominated twice (same team, name, email and day)",
        "SELECT MIN(id), COUNT(*) FROM candidate GROUP BY team_id, name, email, nominated_on HAVING COUNT(*) > 1",
        "correct or remove the extra nomination")
    database.execute_sql("CREATE UNIQUE INDEX candidate_nominated_once "
                         "ON candidate (team_id, name, email, nominated_on)")
