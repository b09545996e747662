"""The one database: SQLite in instance/ for a team, PostgreSQL by URL for a Trust.

Every write transaction starts IMMEDIATE (``lock_type``): with plain deferred
BEGIN, four processes doing read-then-write failed 657 of 800 times with
"database is locked" despite the busy timeout; with IMMEDIATE none failed.
"""
from __future__ import annotations

import os

import peewee
from flask import Flask

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
        _give_peewee_psycopg()
        from playhouse.db_url import connect as connect_url
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


def _give_peewee_psycopg() -> None:
    """peewee was imported without psycopg (peerapp/__init__.py: SQLite needs no
    PostgreSQL driver at start-up): set what its own import would have set."""
    if peewee.psycopg is not None:
        return
    import psycopg
    from psycopg.pq import TransactionStatus
    from psycopg.types.json import Json, Jsonb
    peewee.psycopg, peewee.TransactionStatus = psycopg, TransactionStatus
    peewee.Json_pg3, peewee.Jsonb_pg3 = Json, Jsonb
    adapter = peewee.Psycopg3Adapter
    adapter.txn_idle, adapter.txn_inerror, adapter.txn_unknown = (
        TransactionStatus.IDLE, TransactionStatus.INERROR, TransactionStatus.UNKNOWN)


def is_sqlite(database: peewee.Database | None = None) -> bool:
    database = database or db.obj
    return isinstance(database, peewee.SqliteDatabase)


class SqlOnce:
    """A select whose SQL text peewee builds once per engine instead of on every call.

    Turning a joined select into SQL costs peewee about a millisecond of Python,
    several times what SQLite takes to run it; the session lookup does it on every
    request. ``build(*values)`` makes the query; each value must reach the SQL
    unchanged as one parameter (a string or an integer compared with ``==``): the
    first call builds it with markers in their place to learn where they go.

    A query whose shape depends on more than its values (which doors a person's
    roles open) passes ``variant=`` (hashable): ``build(variant, *values)`` is then
    called, and each variant's SQL is built once.
    """

    def __init__(self, build):
        self.build = build
        self.shapes: dict[tuple, tuple[str, list, object]] = {}
        self.readers: dict[tuple, dict] = {}

    def _make(self, variant, values: list | tuple):
        return self.build(*values) if variant is None else self.build(variant, *values)

    def _shape(self, variant, count: int) -> tuple[str, list, object]:
        marks = [f"\x00peerapp-parameter-{n}" for n in range(count)]
        made = self._make(variant, marks)
        sql, params = made.sql()
        slots = [("value", marks.index(p)) if p in marks else ("constant", p) for p in params]
        assert sorted(i for kind, i in slots if kind == "value") == list(range(count)), "each value once, unchanged"
        return sql, slots, made

    def _run(self, values, variant):
        key = (type(db.obj), variant)
        if key not in self.shapes:
            self.shapes[key] = self._shape(variant, len(values))
        sql, slots, made = self.shapes[key]
        return key, made, db.execute_sql(sql, [values[i] if kind == "value" else i for kind, i in slots])

    def rows(self, *values, variant=None):
        """The driver's cursor for ``values``: rows as plain tuples of what the engine
        returns (no field converters: a DATE may come as text on SQLite)."""
        return self._run(values, variant)[2]

    def __call__(self, *values, variant=None):
        """The query for ``values``, already run: iterate it (and only that: it is a copy
        of the query built with markers, which tells peewee how to read the rows)."""
        key, made, cursor = self._run(values, variant)
        query = made.clone()
        query._cursor_wrapper = wrapper = query._get_cursor_wrapper(cursor)
        # How to turn the rows into objects (the columns' fields and converters, the
        # joined models) depends on the SQL only: worked out by the first call that
        # gets a row, then handed to the others.
        reader = self.readers.get(key)
        if reader is not None:
            wrapper.__dict__.update(reader)
            wrapper.initialized = True
        else:
            self._remember(wrapper, key)
        return query

    def _remember(self, wrapper, key) -> None:
        before = set(wrapper.__dict__)
        initialize = type(wrapper).initialize

        def first_row():
            initialize(wrapper)
            self.readers[key] = {k: v for k, v in wrapper.__dict__.items() if k not in before and k != "initialize"}
        wrapper.initialize = first_row


class InsertOnce:
    """``Model.create(**values)`` for a row written on a hot path (a contact, an audit row),
    with its INSERT built by peewee once per engine and set of fields instead of on every
    call (~0.15-0.25 ms of Python each). Fields left out get their defaults here, as
    ``create`` gives them; each value goes through its field's ``db_value`` as peewee's
    own insert does. Returns the saved instance."""

    def __init__(self, model: type[peewee.Model]):
        self.model = model
        self.shapes: dict[tuple, tuple[str, list[str]]] = {}

    def _shape(self, names: tuple[str, ...]) -> tuple[str, list[str]]:
        marks = {f"\x00peerapp-parameter-{name}": name for name in names}
        query = self.model.insert({self.model._meta.fields[n]: m for m, n in marks.items()})
        if db.obj.returning_clause:
            query = query.returning(self.model._meta.primary_key)
        sql, params = query.sql()
        assert sorted(params) == sorted(marks), "every value once, unchanged, and no other"
        return sql, [marks[p] for p in params]

    def __call__(self, **values) -> peewee.Model:
        fields = self.model._meta.fields
        for name, field in fields.items():
            if name not in values and field.default is not None and not field.primary_key:
                values[name] = field.default() if callable(field.default) else field.default
        key = (type(db.obj), tuple(sorted(values)))
        if key not in self.shapes:
            self.shapes[key] = self._shape(key[1])
        sql, order = self.shapes[key]
        cursor = db.execute_sql(sql, [fields[name].db_value(values[name]) for name in order])
        row = self.model(**values)
        row._pk = cursor.fetchone()[0] if db.obj.returning_clause else cursor.lastrowid
        row._dirty.clear()
        return row


def read_memo(name: str) -> dict | None:
    """A dict kept for the rest of this GET request, for an answer two panels of one
    page both need (worked out once, not once each); None outside a GET or HEAD
    request, where a write may change the answer between two asks."""
    from flask import g, has_request_context, request
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return None
    memos = g.setdefault("peerapp_read_memos", {})
    return memos.setdefault(name, {})


def self_check() -> dict[str, object]:
    """What the connection really runs with: the start-up check and a test read it."""
    if not is_sqlite():
        return {"engine": "postgresql"}
    found = {}
    for name in ("journal_mode", "foreign_keys", "synchronous", "secure_delete", "busy_timeout"):
        found[name] = db.execute_sql(f"PRAGMA {name}").fetchone()[0]
    return found


EXPECTED = {"journal_mode": "wal", "foreign_keys": 1, "synchronous": 2, "secure_delete": 1}


def private_files(path: str) -> None:
    """A database made before peerapp set its umask was 0644: make it and its
    WAL files readable by the service account only."""
    for suffix in ("", "-wal", "-shm"):
        try:
            os.chmod(path + suffix, 0o600)
        except OSError:
            pass  # not there yet (created 0600 under the umask) or not ours


def init_app(app: Flask) -> None:
    db.initialize(open_database(app.config["DATABASE"]))
    if is_sqlite():
        private_files(db.obj.database)
        # Start-up self-check: WAL silently falls back on some network file
        # systems, and then concurrent users would see "database is locked".
        with db.connection_context():
            found = self_check()
        wrong = {k: found[k] for k, v in EXPECTED.items() if found[k] != v}
        if wrong or found["busy_timeout"] < 5000:
            app.logger.warning("SQLite is not running as peerapp expects (%s): keep the database "
                               "on a local disk", wrong or found)

    app.before_request(_connect)
    app.teardown_request(_finish)
    app.after_request(_checkpoint_later)


# --- the connection a request uses ----------------------------------------------
#
# Each thread keeps its connection open between requests (peewee's connection
# state is per thread): opening one and setting the PRAGMAs cost ~2 ms a request,
# and closing the only connection made SQLite checkpoint the WAL inside the
# request (1-6.5 ms after a write). The request's connection turns SQLite's
# automatic checkpoint off; instead, once the response has been sent
# (``call_on_close``, which every WSGI server calls), a PASSIVE checkpoint runs
# when the WAL file has grown past ``WAL_CHECKPOINT_BYTES``. PASSIVE never waits
# for readers or writers.
# ``db.connection_context()`` (CLI, tests) still opens and closes as before.

WAL_CHECKPOINT_BYTES = 8 * 1024 * 1024
# After a checkpoint the next writer starts the WAL again from its beginning and
# cuts the file back to this size, so the file's size measures what is waiting.
WAL_KEEP_BYTES = 4 * 1024 * 1024


def _connect() -> None:
    if db.is_closed():
        db.connect()
        if is_sqlite():
            db.execute_sql("PRAGMA wal_autocheckpoint = 0")
            db.execute_sql(f"PRAGMA journal_size_limit = {WAL_KEEP_BYTES}")


def _finish(exc: BaseException | None) -> None:
    """Keep the connection for the thread's next request, but never a transaction."""
    if db.obj is None or db.is_closed():
        return
    if db.in_transaction():  # an error escaped a db.atomic() block's caller
        db.rollback()
        while db.in_transaction():
            db.pop_transaction()


def _wal_path() -> str | None:
    database = db.obj
    if not isinstance(database, peewee.SqliteDatabase) or database.database in ("", ":memory:"):
        return None
    return database.database + "-wal"


def checkpoint_if_large(path: str | None = None, limit: int = WAL_CHECKPOINT_BYTES) -> bool:
    """PASSIVE checkpoint when the WAL file is larger than ``limit`` bytes."""
    import os
    path = path or _wal_path()
    try:
        if path is None or os.stat(path).st_size <= limit:
            return False
    except OSError:
        return False
    if db.is_closed():
        return False
    db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")
    return True


def _checkpoint_later(response):
    path = _wal_path()
    if path is not None:
        response.call_on_close(lambda: checkpoint_if_large(path))
    return response


class counting_queries:
    """``with counting_queries() as counted: ...`` then ``counted.n`` (and
    ``counted.sql``): every statement this thread sends through peewee in the block.
    Used by tests/test_query_counts.py and bench/pages.py; never in a request."""

    def __init__(self) -> None:
        self.n = 0
        self.sql: list[str] = []
        self.params: list[tuple] = []

    def __enter__(self) -> "counting_queries":
        database = db.obj
        original = type(database).execute_sql

        def execute_sql(sql, params=None, *args, **kwargs):
            self.n += 1
            self.sql.append(sql)
            self.params.append(tuple(params or ()))
            return original(database, sql, params, *args, **kwargs)

        database.execute_sql = execute_sql
        self._database = database
        return self

    def __exit__(self, *exc) -> None:
        self._database.__dict__.pop("execute_sql", None)


def compact() -> str:
    """Make erased text unrecoverable from the file: secure_delete zeroes freed space,
    VACUUM rewrites the file, and a TRUNCATE checkpoint empties the write-ahead log
    (which still holds the old pages). PostgreSQL: VACUUM needs a maintenance window
    (README)."""
    if not is_sqlite():
        return "PostgreSQL: run VACUUM FULL in the next maintenance window (README)."
    try:
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute_sql("VACUUM")
        busy = db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except Exception as error:  # another connection is reading: try again later
        return f"The file could not be compacted now ({type(error).__name__}); run `flask compact-db` later."
    return "Compacted." if not busy else "Compacted; the log could not be emptied yet: run `flask compact-db` later."
