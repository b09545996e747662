"""Workforce: at most one pending role (offered or onboarding) per person per team.

Offering a role refuses a second while one is offered or in onboarding ("carry on
with that one or end it first"), but two people offering at once could both pass
that check. This partial unique index stands behind the rule, beside m0020's one
current (active or paused) role per person per team. SQLite and PostgreSQL alike.

Duplicates already stored are reported by role id and the upgrade stops: a peer
lead ends the extra offer, nothing is guessed at or deleted.
"""
from __future__ import annotations

from .m0011_training_unique import refuse_duplicates


def upgrade(database, migrator):
    refuse_duplicates(
        database, "m0024", "people with two pending roles (offered or onboarding) in one team",
        "SELECT MIN(id), COUNT(*) FROM peer_role WHERE status IN ('offered', 'onboarding') "
        "GROUP BY candidate_id, team_id HAVING COUNT(*) > 1",
        "end the extra role (Workforce, the role's page, End) or record why it stays")
    database.execute_sql("CREATE UNIQUE INDEX peer_role_one_pending_per_team ON peer_role (candidate_id, team_id) "
                         "WHERE status IN ('offered', 'onboarding')")
