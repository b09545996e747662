"""Indexes for the referral lists and a referral's own page (issue #17): a team's
referrals newest first (all, or in one state), a clinician's, the queues oldest
first, a referral's contacts, events and assignments, and a peer's caseload.
Each is justified by EXPLAIN QUERY PLAN on the seeded Trust database in
docs/PERFORMANCE.md. The same statements run on PostgreSQL."""

INDEXES = (
    ("referral_team_referred", "referral", "team_id, referred_on, id"),
    ("referral_team_state_referred", "referral", "team_id, state, referred_on, id"),
    ("referral_team_state_changed", "referral", "team_id, state, state_changed_at, id"),
    ("referral_referrer_referred", "referral", "referrer_id, referred_on, id"),
    ("contact_referral_on", "contact", "referral_id, contact_on, id"),
    ("referral_event_referral_at", "referral_event", "referral_id, at, id"),
    ("assignment_role_open", "assignment", "peer_role_id, ended_at"),
    ("assignment_referral_open", "assignment", "referral_id, ended_at"),
)


def upgrade(database, migrator):
    for name, table, columns in INDEXES:
        database.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns})')
