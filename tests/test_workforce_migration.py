"""m0020 upgrades a database made by the schema before it without losing anything,
and seeds the check types, the induction checklist and the supervision frequency."""
from __future__ import annotations

import pytest

import datetime as dt

import peewee as pw

from peerapp import migrations


@pytest.mark.sqlite_only(reason="upgrades a database built with raw SQL in SQLite's dialect; on PostgreSQL every migration runs from empty for the template")
def test_m0020_upgrades_a_training_era_database(tmp_path):
    database = pw.SqliteDatabase(str(tmp_path / "old.sqlite3"), pragmas={"foreign_keys": 1})
    before = [name for name in migrations.available() if name < "m0020"]
    migrations.upgrade(database, target=before[-1])
    assert not database.table_exists("peer_role")
    database.execute_sql("INSERT INTO team (name, base_address, active, created_at) VALUES ('Old Team', '', 1, ?)",
                         (dt.datetime(2026, 1, 1),))
    database.execute_sql("INSERT INTO user (email, name, team_id, password_hash, must_change_password, active, "
                         "created_at) VALUES ('lead@x.nhs.uk', 'Lead', 1, '', 0, 1, ?)", (dt.datetime(2026, 1, 1),))
    database.execute_sql("INSERT INTO candidate (name, preferred_name, pronouns, email, phone, team_id, "
                         "nominated_by_id, nominated_on, created_at) VALUES ('Kept Person', '', '', '', '', 1, 1, ?, ?)",
                         (dt.date(2026, 1, 2), dt.datetime(2026, 1, 2)))

    ran = migrations.upgrade(database, target="m0029")
    assert "m0020_workforce" in ran
    assert database.execute_sql("SELECT name FROM candidate").fetchall() == [("Kept Person",)]
    codes = [r[0] for r in database.execute_sql("SELECT code FROM check_type ORDER BY position")]
    assert codes[:2] == ["dbs", "confidentiality_agreement"] and "right_to_work" in codes
    assert database.execute_sql("SELECT count(*) FROM induction_item").fetchone()[0] == 5
    assert database.execute_sql("SELECT value FROM workforce_setting WHERE name='supervision_days'").fetchone() == ("30",)

    # The database itself refuses a second current role for one person in one team.
    insert = ("INSERT INTO peer_role (candidate_id, team_id, kind, hours_per_week, working_days, start_date, "
              "supervisor_id, max_caseload, interests, languages, areas, availability, gender, age_band, backgrounds, "
              "intervention_kinds, status, status_reason, created_at, updated_at) VALUES "
              "(1, 1, ?, 1, '', '2026-02-01', 1, 1, '', '', '', '', '', '', '', '', ?, '', '2026-02-01', '2026-02-01')")
    database.execute_sql(insert, ("volunteer", "active"))
    database.execute_sql(insert, ("paid", "offered"))  # an offer alongside is fine
    try:
        database.execute_sql(insert, ("paid", "paused"))
    except pw.IntegrityError:
        pass
    else:
        raise AssertionError("a second current role was stored")
    assert migrations.upgrade(database, target="m0029") == []  # applied once


@pytest.mark.sqlite_only(reason="builds the old database with raw SQL in SQLite's dialect")
def test_m0024_reports_two_pending_roles_and_stops_until_one_is_ended(tmp_path):
    """One pending (offered or onboarding) role per person per team: duplicates already
    stored are named by id and nothing changes until a person ends one."""
    from peerapp.migrations.m0011_training_unique import DuplicatesFound

    database = pw.SqliteDatabase(str(tmp_path / "old.sqlite3"), pragmas={"foreign_keys": 1})
    migrations.upgrade(database, target="m0023")
    database.execute_sql("INSERT INTO team (name, base_address, active, created_at) VALUES ('T', '', 1, ?)",
                         (dt.datetime(2026, 1, 1),))
    database.execute_sql("INSERT INTO user (email, name, team_id, password_hash, must_change_password, active, "
                         "created_at) VALUES ('lead@x.nhs.uk', 'Lead', 1, '', 0, 1, ?)", (dt.datetime(2026, 1, 1),))
    database.execute_sql("INSERT INTO candidate (name, preferred_name, pronouns, email, phone, team_id, "
                         "nominated_by_id, nominated_on, created_at) VALUES ('P', '', '', '', '', 1, 1, ?, ?)",
                         (dt.date(2026, 1, 2), dt.datetime(2026, 1, 2)))
    insert = ("INSERT INTO peer_role (candidate_id, team_id, kind, hours_per_week, working_days, start_date, "
              "supervisor_id, max_caseload, interests, languages, areas, availability, gender, age_band, backgrounds, "
              "intervention_kinds, status, status_reason, created_at, updated_at) VALUES "
              "(1, 1, ?, 1, '', '2026-02-01', 1, 1, '', '', '', '', '', '', '', '', ?, '', '2026-02-01', '2026-02-01')")
    database.execute_sql(insert, ("volunteer", "offered"))
    database.execute_sql(insert, ("paid", "onboarding"))
    with pytest.raises(DuplicatesFound, match=r"m0024.*id 1 \(2 records\)"):
        migrations.upgrade(database, target="m0024_peer_role_one_pending_offer")
    assert "m0024_peer_role_one_pending_offer" not in migrations.applied(database)
    database.execute_sql("UPDATE peer_role SET status = 'ended' WHERE id = 1")
    assert migrations.upgrade(database, target="m0024_peer_role_one_pending_offer") == ["m0024_peer_role_one_pending_offer"]
    with pytest.raises(pw.IntegrityError):
        database.execute_sql(insert, ("volunteer", "offered"))
