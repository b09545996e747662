"""Presence: a double-tapped "Plan the visit" stores one visit, not two (the same
worker, leaving at the same time, while still planned)."""


def upgrade(database, migrator):
    database.execute_sql("CREATE UNIQUE INDEX visit_one_plan_per_start ON visit (worker_id, starts_at) "
                         "WHERE state = 'planned'")
