"""Fixtures every area's tests use: an app on a temp-file database, a user of
each role, and a logged-in client per role that sends CSRF tokens like a browser."""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from peerapp import create_app
from peerapp.cli import upgrade_schema
from peerapp.db import db
from peerapp.models import ROLES, LoginSession, Team, User

TEST_PASSWORD = "correct horse battery staple"

# `make test` runs the suite twice: on SQLite, then with PEERAPP_TEST_POSTGRES
# pointing at a throwaway PostgreSQL 15 cluster (tests/with_postgres.sh).
POSTGRES = os.environ.get("PEERAPP_TEST_POSTGRES")
ENGINE = "postgresql" if POSTGRES else "sqlite"


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(reason): tests SQLite itself (file, pragmas, backup); "
                                       "skipped on PostgreSQL with that reason")
    config.addinivalue_line("markers", "same_on_every_engine(reason): asserts what the Python code decides, "
                                       "whatever the database; run in the SQLite half only, with that reason")


def pytest_report_header(config):
    return f"database engine: {ENGINE}"


# A test that asks for none of these never touches a database.
DATABASE_FIXTURES = {"database_target", "empty_database", "postgres_databases"}


def pytest_collection_modifyitems(config, items):
    if not POSTGRES:
        return
    for item in items:
        if not DATABASE_FIXTURES & set(item.fixturenames):
            # Rules, forms and vendored files need no database: the SQLite half has run them.
            item.add_marker(pytest.mark.skip(reason="uses no database: run in the SQLite half"))
            continue
        marker = item.get_closest_marker("sqlite_only")
        if marker:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "SQLite only")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))
            continue
        marker = item.get_closest_marker("same_on_every_engine")
        if marker:
            reason = marker.kwargs.get("reason") or marker.args[0]
            item.add_marker(pytest.mark.skip(reason=f"same on every engine: {reason}"))


class PostgresDatabases:
    """Fresh PostgreSQL databases for tests. A template is migrated once per test
    process (migrating from empty costs seconds); one working database is cloned
    from it and, after each test, put back to the template's state: every table
    emptied, the template's rows and sequences restored (~20 ms). Cloning a
    database per test cost 0.5-0.8 s here (CREATE DATABASE checkpoints), which
    was half of the PostgreSQL half's time. A test that changed the schema gets
    its database dropped, and the next test a new clone."""

    def __init__(self, url: str):
        from playhouse.db_url import parse
        self.url = url
        self.params = parse(url)
        self.prefix = f"peerapp_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self.counter = itertools.count(1)
        self.made: list[str] = []
        self._admin = None
        self.working: str | None = None  # the reusable clone, when no test holds it
        self._pristine: "Pristine | None" = None

    def url_for(self, name: str) -> str:
        base, _, query = self.url.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")

    def admin(self):
        import psycopg
        if self._admin is None or self._admin.closed:
            params = {k: v for k, v in self.params.items() if k != "database"}
            self._admin = psycopg.connect(dbname="postgres", autocommit=True, **params)
        return self._admin

    def empty(self) -> str:
        name = f"{self.prefix}_{next(self.counter)}"
        self.admin().execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return self.url_for(name)

    def migrated(self) -> str:
        if self.working is not None:
            name, self.working = self.working, None
            return self.url_for(name)
        if self.template not in self.made:
            self._make_template()
        name = f"{self.prefix}_{next(self.counter)}"
        # FILE_COPY: 55 ms a database here against 90-140 ms for PostgreSQL 15's default
        # (WAL_LOG, which writes the whole template to the WAL); the cluster runs without fsync.
        self.admin().execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY')
        self.made.append(name)
        return self.url_for(name)

    def _make_template(self) -> None:
        self.admin().execute(f'CREATE DATABASE "{self.template}"')
        self.made.append(self.template)
        app = create_app({"TESTING": True, "DATABASE": self.url_for(self.template), "SECRET_KEY": "template"})
        with app.app_context():
            upgrade_schema()
        if not db.is_closed():
            db.close()

    def release(self, url: str) -> None:
        """A test is done with a migrated database: keep it for the next test, reset."""
        name = url.split("?", 1)[0].rsplit("/", 1)[1]
        if self.working is None:
            if self._pristine is None:
                self._pristine = Pristine(self.connect(self.template))
            if self._pristine.restore(self.connect(name)):
                self.working = name
                return
        self.drop(url)

    def connect(self, name: str):
        import psycopg
        params = {k: v for k, v in self.params.items() if k != "database"}
        return psycopg.connect(dbname=name, autocommit=True, **params)

    def drop(self, url: str) -> None:
        name = url.split("?", 1)[0].rsplit("/", 1)[1]
        self.admin().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.made:
            self.made.remove(name)

    def drop_all(self) -> None:
        for name in list(self.made):
            self.admin().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()
        if self._admin is not None:
            self._admin.close()


class Pristine:
    """What a just-migrated PostgreSQL database holds (its reference rows, sequence
    positions and schema), and how to put another database back to it."""

    SCHEMA = """SELECT md5(string_agg(c.relname || ':' || c.relkind::text || ':' ||
                  (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                     AND NOT a.attisdropped) || ':' ||
                  (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = c.oid), ',' ORDER BY c.relname))
                FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"""

    def __init__(self, template):
        with template:
            self.schema = template.execute(self.SCHEMA).fetchone()[0]
            self.tables = [name for (name,) in template.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
            self.rows: dict[str, bytes] = {}
            for table in self.tables:
                data = bytearray()
                with template.cursor().copy(f'COPY "{table}" TO STDOUT') as copy:
                    for chunk in copy:
                        data += chunk
                if data:
                    self.rows[table] = bytes(data)
            sequences = template.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'").fetchall()
        self.setvals = "SELECT " + ", ".join(
            f"setval('\"{name}\"', {value}, true)" if value is not None else f"setval('\"{name}\"', 1, false)"
            for name, value in sequences)

    def restore(self, connection) -> bool:
        """Empty every table and put the template's rows and sequences back; False
        (nothing done) when the test changed the schema."""
        with connection:
            # Connections the test left open (threads, a live server) would hold locks.
            connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            if connection.execute(self.SCHEMA).fetchone()[0] != self.schema:
                return False
            with connection.transaction():
                # Foreign keys unchecked while emptying: every table goes, in any order.
                connection.execute("SET LOCAL session_replication_role = replica")
                connection.execute("; ".join(f'DELETE FROM "{table}"' for table in self.tables))
                for table, data in self.rows.items():
                    with connection.cursor().copy(f'COPY "{table}" FROM STDIN') as copy:
                        copy.write(data)
                connection.execute(self.setvals)
        return True


@pytest.fixture(scope="session")
def postgres_databases():
    if not POSTGRES:
        yield None
        return
    databases = PostgresDatabases(POSTGRES)
    yield databases
    databases.drop_all()


def _remember_url_builders() -> None:
    """Every test makes its own app, and werkzeug compiles two Python functions for
    each of the ~190 routes each time: most of ``create_app``'s half second. The
    functions depend only on the rule's parts, so the test processes build each once.
    (Tests only: a served app is made once.)"""
    from werkzeug.routing.rules import Rule
    compile_builder = Rule._compile_builder
    built: dict = {}

    def remembered(self, append_unknown: bool = True):
        key = (tuple(self._trace), tuple(sorted((k, repr(v)) for k, v in (self.defaults or {}).items())),
               append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    Rule._compile_builder = remembered

    # Parsing each rule into its parts, converters and regexes was most of the rest
    # (~15 ms an app); the result depends only on the rule's text and the map's converters.
    compile_rule = Rule.compile
    parsed: dict = {}

    def compile_once(self) -> None:
        key = (self.rule, self.subdomain, self.host, self.merge_slashes, self.map.host_matching,
               tuple(sorted((k, id(v)) for k, v in self.map.converters.items())))
        if key not in parsed:
            compile_rule(self)
            parsed[key] = (list(self._parts), list(self._trace), dict(self._converters), set(self.arguments))
            return
        parts, trace, converters, arguments = parsed[key]
        self._parts, self._trace, self._converters = list(parts), list(trace), dict(converters)
        self.arguments |= arguments
        self._build = self._compile_builder(False).__get__(self, None)
        self._build_unknown = self._compile_builder(True).__get__(self, None)

    Rule.compile = compile_once


_remember_url_builders()


def _remember_compiled_templates() -> None:
    """Each test's app has its own Jinja environment, which compiled every template the
    test rendered again (~10 ms each; a walk of every page renders 130). The compiled
    code depends only on the template's source and the environment's settings, the
    same for every app here: the test processes compile each template once."""
    from flask import Flask
    from jinja2 import BytecodeCache

    class Remembered(BytecodeCache):
        def __init__(self):
            self.code: dict = {}

        def load_bytecode(self, bucket) -> None:
            bucket.code = self.code.get((bucket.key, bucket.checksum))

        def dump_bytecode(self, bucket) -> None:
            self.code[(bucket.key, bucket.checksum)] = bucket.code

    remembered = Remembered()
    create_environment = Flask.create_jinja_environment

    def create_jinja_environment(self):
        environment = create_environment(self)
        environment.bytecode_cache = remembered
        return environment

    Flask.create_jinja_environment = create_jinja_environment


_remember_compiled_templates()


@pytest.fixture(scope="session")
def sqlite_folder(tmp_path_factory):
    """Where the tests' SQLite files live: in memory (/dev/shm) where there is one.
    SQLite keeps synchronous=FULL as in production, but a commit costs 0.05 ms there
    against ~4 ms of fsync on this machine's disk, and the walks commit thousands."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("databases")
        return
    folder = Path(tempfile.mkdtemp(prefix="peerapp-tests-", dir=shm))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_template(sqlite_folder, postgres_databases):
    """A SQLite file migrated once per test process; each test gets a copy (a file
    copy costs a millisecond, migrating from empty about half a second)."""
    if postgres_databases is not None:
        return None
    path = sqlite_folder / "template.sqlite3"
    app = create_app({"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "template"})
    with app.app_context():
        upgrade_schema()
    if not db.is_closed():
        db.close()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists() or not path.with_name(path.name + "-wal").stat().st_size
    return path


@pytest.fixture
def database_target(sqlite_folder, postgres_databases, sqlite_template):
    """Where a test's app keeps its data: a migrated database of the engine under test."""
    if postgres_databases is None:
        folder = Path(tempfile.mkdtemp(dir=sqlite_folder))
        target = folder / "test.sqlite3"
        shutil.copyfile(sqlite_template, target)
        target.chmod(0o600)
        yield str(target)
        if not db.is_closed():
            db.close()
        shutil.rmtree(folder, ignore_errors=True)
        return
    url = postgres_databases.migrated()
    yield url
    if not db.is_closed():
        db.close()
    postgres_databases.release(url)


@pytest.fixture
def empty_database(tmp_path, postgres_databases):
    """An empty database of the engine under test (for migration tests): a target string."""
    if postgres_databases is None:
        yield str(tmp_path / "empty.sqlite3")
        return
    url = postgres_databases.empty()
    yield url
    postgres_databases.drop(url)
_HASH: dict[str, str] = {}


def password_hash() -> str:
    """argon2 costs ~60 ms a hash: compute the test password's once per run."""
    if not _HASH:
        from peerapp.passwords import hash_password
        _HASH["h"] = hash_password(TEST_PASSWORD)
    return _HASH["h"]


class Clock:
    """An injectable 'now' (naive UTC) that tests can freeze and move."""

    def __init__(self, start: dt.datetime | None = None):
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)

    def freeze(self, moment: dt.datetime) -> None:
        self.current = moment

    def advance(self, **delta) -> None:
        self.current = self() + dt.timedelta(**delta)


TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class BrowserLikeClient(FlaskClient):
    """Adds the page's CSRF token to every POST unless the test says csrf=False."""

    def csrf_token(self) -> str:
        """The token the server would put on its next page: signed from the session's
        own secret when it has one (what Flask-WTF does), else read from a page."""
        with self.session_transaction() as session:
            # A session without one gets a new secret, as Flask-WTF's generate_csrf
            # does when it renders a form (fetching a page for it cost ~50 ms a client).
            raw = session.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())
        secret = self.application.config.get("WTF_CSRF_SECRET_KEY") or self.application.secret_key
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)) and not kwargs.get("json"):
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)

    def htmx(self, method: str, url: str, **kwargs):
        """A request as htmx sends it: HX-Request header and the token as a header."""
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf_token(), **kwargs.pop("headers", {})}
        return self.open(url, method=method.upper(), headers=headers, **kwargs)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app(database_target, clock):
    app = create_app({
        "TESTING": True,
        "DATABASE": database_target,
        "SECRET_KEY": "test-secret",
        "CLOCK": clock,
        "SERVER_NAME": None,
        # Tests change data and read the report straight after: figures are worked out
        # each time (tests/test_reports.py turns keeping on to test it).
        "REPORT_FIGURES_SECONDS": 0,
    })
    app.test_client_class = BrowserLikeClient
    with app.app_context():
        upgrade_schema()
    yield app
    if not db.is_closed():
        db.close()


@contextlib.contextmanager
def connected():
    """The fixtures' writes on the connection the next request will use, left open
    as a server thread leaves it: ``connection_context`` closes it, and PostgreSQL
    starts a new server process for every connection (~4 ms each, 8+ a test)."""
    if db.is_closed():
        db.connect()
    yield


@pytest.fixture
def team(app):
    with connected():
        return Team.create(name="Test EIP Team", base_address="1 Test Street")


@pytest.fixture
def make_user(app, team):
    """make_user("peer_lead", name=..., team=...) -> User (committed)."""
    counter = {"n": 0}

    def make(*roles: str, name: str | None = None, email: str | None = None, team_=team, active=True) -> User:
        counter["n"] += 1
        with connected():
            user = User.create(email=email or f"{'-'.join(roles) or 'nobody'}{counter['n']}@test.nhs.uk",
                               name=name or f"Test {' '.join(roles)} {counter['n']}",
                               team=team_, password_hash=password_hash(), active=active)
            user.set_roles(roles)
        return user

    return make


@pytest.fixture
def users(make_user):
    """One user per role, keyed by role."""
    return {role: make_user(role) for role in ROLES}


@pytest.fixture
def login(app):
    """login(user) -> a client already signed in as that user (server session made directly)."""

    def sign_in(user: User) -> BrowserLikeClient:
        client = app.test_client()
        with connected():
            token = LoginSession.start(user)
        with client.session_transaction() as session:
            session["sid"] = token
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
        client.user = user
        return client

    return sign_in


@pytest.fixture
def client_for(users, login):
    """client_for("peer_lead") -> a signed-in client of that role."""
    cache: dict[str, BrowserLikeClient] = {}

    def get(role: str) -> BrowserLikeClient:
        if role not in cache:
            cache[role] = login(users[role])
        return cache[role]

    return get


@pytest.fixture
def anon(app) -> BrowserLikeClient:
    return app.test_client()
