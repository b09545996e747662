"""The one database: SQLite in instance/ for a team, PostgreSQL by URL for a Trust.

Every write transaction starts IMMEDIATE (``lock_type``): with plain deferred
BEGIN, four processes doing read-then-write failed 657 of 800 times with
"database is locked" despite the busy timeout; with IMMEDIATE none failed.
"""
from __future__ import annotations

import peewee
from flask import Flask
from playhouse.db_url import connect as connect_url

# Models bind to this proxy; create_app points it at the configured database.
db = peewee.DatabaseProxy()

SQLITE_PRAGMAS = (
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("synchronous", "full"),  # a committed write survives power loss
    ("secure_delete", "on"),  # deleted text does not linger in the file
    ("busy_timeout", 10_000),
    ("cache_size", -16_000),
)


def open_database(target: str) -> peewee.Database:
    """A file path means SQLite; a URL (postgresql://...) means that server."""
    if "://" in target and not target.startswith("sqlite"):
        return connect_url(target)
    path = target.split("://", 1)[1].lstrip("/") if target.startswith("sqlite") else target
    if target.startswith("sqlite:////"):
        path = "/" + path
    return peewee.SqliteDatabase(
        path,
        pragmas=SQLITE_PRAGMAS,
        lock_type="IMMEDIATE",
        timeout=10,
        check_same_thread=False,
    )


def is_sqlite(database: peewee.Database | None = None) -> bool:
    database = database or db.obj
    return isinstance(database, peewee.SqliteDatabase)


def self_check() -> dict[str, object]:
    """What the connection really runs with: the start-up check and a test read it."""
    if not is_sqlite():
        return {"engine": "postgresql"}
    found = {}
    for name in ("journal_mode", "foreign_keys", "synchronous", "secure_delete", "busy_timeout"):
        found[name] = db.execute_sql(f"PRAGMA {name}").fetchone()[0]
    return found


EXPECTED = {"journal_mode": "wal", "foreign_keys": 1, "synchronous": 2, "secure_delete": 1}


def init_app(app: Flask) -> None:
    db.initialize(open_database(app.config["DATABASE"]))
    if is_sqlite():
        # Start-up self-check: WAL silently falls back on some network file
        # systems, and then concurrent users would see "database is locked".
        with db.connection_context():
            found = self_check()
        wrong = {k: found[k] for k, v in EXPECTED.items() if found[k] != v}
        if wrong or found["busy_timeout"] < 5000:
            app.logger.warning("SQLite is not running as peerapp expects (%s): keep the database "
                               "on a local disk", wrong or found)

    @app.before_request
    def _connect() -> None:
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        if not db.is_closed():
            db.close()
