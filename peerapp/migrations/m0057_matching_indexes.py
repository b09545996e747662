"""Indexes for matching pages (issue #17): a team's runs newest first, and a
run's proposals and unmatched referrals in the order the run page lists them.
Justified by EXPLAIN QUERY PLAN in docs/PERFORMANCE.md; same on PostgreSQL."""

INDEXES = (
    ("matching_run_team_started", "matching_run", "team_id, started_at, id"),
    ("run_proposal_run_id", "run_proposal", "run_id, id"),
    ("run_unmatched_run_id", "run_unmatched", "run_id, id"),
)


def upgrade(database, migrator):
    for name, table, columns in INDEXES:
        database.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns})')
