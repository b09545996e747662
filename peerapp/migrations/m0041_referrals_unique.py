"""'Only one' rules of referrals, kept by the database so concurrent submissions
cannot store two (issue 10, item 6):

- a service user is recorded once per team: same team, name and date of birth;
- a service user has at most one open referral (not declined or closed) to a team.

Existing duplicates are reported first, by record id only, and the upgrade stops
with what to do: the indexes are never half made and nothing is deleted.
"""
from __future__ import annotations

from .m0011_training_unique import refuse_duplicates

FINISHED = ("declined", "closed")


def upgrade(database, migrator):
    refuse_duplicates(
        database, "m0041", "service users recorded twice in one team (same name and date of birth)",
        "SELECT MIN(id), COUNT(*) FROM service_user WHERE date_of_birth IS NOT NULL "
        "GROUP BY team_id, name, date_of_birth HAVING COUNT(*) > 1",
        "merge each pair (move the referrals to one record) or correct the name or date of birth")
    refuse_duplicates(
        database, "m0041", "service users with two open referrals to the same team",
        "SELECT MIN(id), COUNT(*) FROM referral WHERE state NOT IN ('declined', 'closed') "
        "GROUP BY service_user_id, team_id HAVING COUNT(*) > 1",
        "close the extra referral with outcome 'other'")
    database.execute_sql("CREATE UNIQUE INDEX service_user_once_per_team "
                         "ON service_user (team_id, name, date_of_birth)")
    database.execute_sql("CREATE UNIQUE INDEX referral_one_open_per_team ON referral (service_user_id, team_id) "
                         "WHERE state NOT IN ('declined', 'closed')")
