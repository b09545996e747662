"""m0058: runs stored before runs kept their inputs keep what they explained. Each
row's "why not" JSON is compressed into ``explained`` (the pages read it as before)
and the old text column goes."""
from __future__ import annotations

import datetime as dt
import json
import zlib

import peewee as pw
import pytest

from peerapp import migrations
from peerapp.matching.models import RunProposal, RunUnmatched

WHY = [{"peer": 7, "name": "Pat Urdu", "reason": "eligible (score 3.10), but ...", "eligible": True},
       {"peer": 9, "name": "Robin Paid", "reason": "must have a woman peer", "eligible": False}]


@pytest.mark.sqlite_only(reason="builds the old rows with raw SQL in SQLite's dialect, foreign keys off")
def test_m0058_keeps_stored_explanations_compressed(tmp_path):
    database = pw.SqliteDatabase(str(tmp_path / "old.sqlite3"))  # foreign keys off: rows stand alone
    migrations.upgrade(database, target="m0057_matching_indexes")
    database.execute_sql(
        "INSERT INTO matching_run (team_id, started_by_id, started_at, settings_json, method, total_score, "
        "referral_count, peer_count, proposal_count, unmatched_count) VALUES (1, 1, ?, '{}', 'optimal', 3.1, 2, 2, 1, 1)",
        (dt.datetime(2026, 5, 1, 9),))
    database.execute_sql(
        "INSERT INTO run_proposal (excluded_json, run_id, referral_id, peer_role_id, score, reasons, alternatives, "
        "status, override_reason) VALUES (?, 1, 11, 5, 3.1, 'both speak Urdu', '', 'proposed', '')", (json.dumps(WHY),))
    database.execute_sql("INSERT INTO run_unmatched (excluded_json, run_id, referral_id, reason) "
                         "VALUES ('[]', 1, 12, 'no peer free')")

    ran = migrations.upgrade(database, target="m0058_matching_run_inputs")
    assert ran == ["m0058_matching_run_inputs"]
    columns = {c.name for c in database.get_columns("run_proposal")}
    assert "excluded_json" not in columns and {"explained", "eligible_peers"} <= columns
    assert "excluded_json" not in {c.name for c in database.get_columns("run_unmatched")}
    assert database.table_exists("run_inputs")

    (blob,) = database.execute_sql("SELECT explained FROM run_proposal").fetchone()
    assert json.loads(zlib.decompress(blob)) == WHY
    assert database.execute_sql("SELECT explained FROM run_unmatched").fetchone() == (None,)
    # The model reads the stored explanation, and the eligible peers from it, as the pages do.
    proposal = RunProposal(explained=blob, peer_role=5, referral=11)
    assert proposal.excluded == WHY and proposal.eligible_peer_ids() == [7]
    assert RunUnmatched(explained=zlib.compress(b"[]")).excluded == []
    assert migrations.upgrade(database, target="m0058_matching_run_inputs") == []
