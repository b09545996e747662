"""The screening queue (issue #17): a team's referrals in the three screening
states, oldest first, 50 a page. Ordered by date, SQLite walked the team's
referrals in ``referral_team_referred`` order and skipped the ~1,900 that are
not waiting (3.2 ms at 2,000 a team); with ``referral_team_state_referred`` it
would sort. A partial index holding only the queue, in queue order, answers it
in 0.1 ms. ``Referral.screening_queue`` names the states as these same literals,
because neither engine can match a partial index's WHERE to bound parameters
when it plans (tests/test_query_counts.py checks the two agree and the plan
uses it). The same statement runs on PostgreSQL."""


def upgrade(database, migrator):
    database.execute_sql('CREATE INDEX IF NOT EXISTS "referral_screening_queue" ON "referral" (team_id, referred_on, id) '
                         "WHERE state IN ('submitted', 'screening', 'more information requested')")
