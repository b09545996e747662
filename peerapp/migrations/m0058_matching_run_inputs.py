"""A matching run keeps its inputs, not every pair's explanation (issue #17).

Runs stored every peer's "why not" for every referral as JSON: 150 MB a run at a
Trust's size. From now on a run keeps the engine's inputs, compressed, in
``run_inputs`` (with its peer ids in order), each proposal the peers eligible
for it as two-byte positions (``eligible_peers``), and "why not" is worked out
for the one referral a peer lead opens.

Runs already stored keep what they explained: each row's ``excluded_json`` is
compressed into ``explained`` (the pages read it as before), then the column goes.
"""
import zlib

import peewee as pw

from . import existing, snapshot_base

BATCH = 500


def _compress_explanations(database, table: str) -> None:
    last = 0
    while True:
        rows = database.execute_sql(
            f'SELECT id, excluded_json FROM "{table}" WHERE id > %s ORDER BY id LIMIT {BATCH}'
            .replace("%s", database.param), (last,)).fetchall()
        if not rows:
            return
        for row_id, text in rows:
            if text and text.strip() not in ("", "[]"):
                database.execute_sql(f'UPDATE "{table}" SET explained = {database.param} WHERE id = {database.param}',
                                     (zlib.compress(text.encode(), 6), row_id))
        last = rows[-1][0]


def upgrade(database, migrator):
    from playhouse.migrate import migrate

    Base = snapshot_base(database)
    MatchingRun = existing(Base, "matching_run")

    class RunInputs(Base):
        run = pw.ForeignKeyField(MatchingRun, unique=True, backref="+", on_delete="CASCADE")
        peer_ids = pw.BlobField()
        data = pw.BlobField()

    database.create_tables([RunInputs])
    migrate(
        migrator.add_column("run_proposal", "explained", pw.BlobField(null=True)),
        migrator.add_column("run_unmatched", "explained", pw.BlobField(null=True)),
        migrator.add_column("run_proposal", "eligible_peers", pw.BlobField(null=True)),
    )
    for table in ("run_proposal", "run_unmatched"):
        _compress_explanations(database, table)
    migrate(
        migrator.drop_column("run_proposal", "excluded_json"),
        migrator.drop_column("run_unmatched", "excluded_json"),
    )
