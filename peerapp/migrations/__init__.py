"""Numbered schema migrations, applied in order by ``flask --app peerapp init-db``.

Each module ``mNNNN_<what>.py`` has ``upgrade(database, migrator)``. A migration
describes tables as they were at that step (a snapshot), never by importing the
live models: the models move on, a migration must not. Numbers per area:
0001-0009 house, 0010s training, 0020s workforce, 0030s work-WRAP,
0040s referrals, 0050s matching, 0060s+ later areas.
"""
from __future__ import annotations

import datetime as dt
import importlib
import pkgutil

import peewee as pw


def available() -> list[str]:
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("m")]
    return sorted(names)


def snapshot_base(database: pw.Database) -> type[pw.Model]:
    """A base class for the frozen model snapshots a migration creates tables with."""

    class Snapshot(pw.Model):
        class Meta:
            legacy_table_names = False

    Snapshot._meta.set_database(database)
    return Snapshot


def existing(base: type[pw.Model], table: str) -> type[pw.Model]:
    """A stand-in for a table an earlier migration made, for foreign keys to point at."""
    name = "".join(part.capitalize() for part in table.split("_"))
    return type(name, (base,), {"Meta": type("Meta", (), {"table_name": table}), "__module__": __name__})


def _ledger(database: pw.Database) -> type[pw.Model]:
    class SchemaMigration(pw.Model):
        name = pw.CharField(max_length=120, primary_key=True)
        applied_at = pw.DateTimeField()

        class Meta:
            table_name = "schema_migration"

    SchemaMigration._meta.set_database(database)
    return SchemaMigration


def applied(database: pw.Database) -> list[str]:
    ledger = _ledger(database)
    if not ledger.table_exists():
        return []
    return [row.name for row in ledger.select().order_by(ledger.name)]


def upgrade(database: pw.Database, target: str | None = None) -> list[str]:
    """Apply every migration not yet applied, up to and including ``target``."""
    # Here, not at the top: playhouse.migrate imports PostgreSQL's driver, which a
    # server on SQLite never needs (cold start, peerapp/__init__.py).
    from playhouse.migrate import PostgresqlMigrator, SqliteMigrator
    ledger = _ledger(database)
    database.create_tables([ledger], safe=True)
    done = set(applied(database))
    migrator = (SqliteMigrator(database) if isinstance(database, pw.SqliteDatabase)
                else PostgresqlMigrator(database))
    ran = []
    for name in available():
        if target is not None and name > target:
            break
        if name in done:
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        with database.atomic():
            module.upgrade(database, migrator)
            ledger.create(name=name, applied_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
        ran.append(name)
    return ran
