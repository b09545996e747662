"""The database keeps its promises: settings, concurrency, append-only audit, migrations."""
from __future__ import annotations

import multiprocessing
import sqlite3

import peewee as pw
import pytest

from peerapp import migrations
from peerapp.audit import AuditEvent, audit
from peerapp.db import db, open_database, self_check


@pytest.mark.sqlite_only(reason="SQLite's own pragmas")
def test_sqlite_runs_with_wal_full_sync_foreign_keys_secure_delete_and_a_busy_timeout(app):
    found = self_check()
    assert found["journal_mode"] == "wal"
    assert found["foreign_keys"] == 1
    assert found["synchronous"] == 2  # FULL
    assert found["secure_delete"] == 1
    assert found["busy_timeout"] >= 5000


@pytest.mark.sqlite_only(reason="SQLite's BEGIN IMMEDIATE")
def test_write_transactions_begin_immediate(app):
    assert db.obj._lock_type == "IMMEDIATE"


def test_foreign_keys_are_enforced(app):
    with pytest.raises(pw.IntegrityError):
        db.execute_sql("INSERT INTO user_role (user_id, role) VALUES (424242, 'admin')")


def test_a_database_url_selects_postgresql_through_the_same_models():
    database = open_database("postgresql://peerapp:secret@localhost:5432/peerapp")
    assert isinstance(database, pw.PostgresqlDatabase)
    assert open_database("/tmp/x.sqlite3").__class__ is pw.SqliteDatabase


def test_a_server_on_sqlite_starts_without_loading_the_postgresql_driver(tmp_path):
    # psycopg is 70 modules and 0.2 s of every start (peerapp/__init__.py, cold start < 0.5 s).
    import subprocess
    import sys
    script = ("import sys\nfrom peerapp import create_app\n"
              f"app = create_app({{'DATABASE': {str(tmp_path / 'a.sqlite3')!r}, 'SECRET_KEY': 'x'}})\n"
              "assert app.test_client().get('/healthz').status_code == 200\n"
              "print(sorted(m for m in sys.modules if m.startswith(('psycopg', 'markdown_it'))))\n")
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]", found.stdout


def _writer(path: str, rounds: int, queue) -> None:
    database = open_database(path)
    failures = 0
    for _ in range(rounds):
        try:
            with database.atomic():
                count = database.execute_sql("SELECT count(*) FROM team").fetchone()[0]
                database.execute_sql("INSERT INTO team (name, base_address, active, created_at) "
                                     "VALUES (?, '', 1, '2026-01-01')", (f"team {count}-{id(database)}-{_}",))
        except pw.OperationalError:
            failures += 1
    database.close()
    queue.put(failures)


@pytest.mark.sqlite_only(reason="SQLite's file locking")
def test_concurrent_read_then_write_never_reports_database_locked(app, tmp_path):
    """4 processes x 40 read-then-write transactions: with IMMEDIATE, none fail."""
    path = app.config["DATABASE"]
    db.close()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_writer, args=(path, 40, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    failures = sum(queue.get(timeout=5) for _ in workers)
    assert failures == 0
    assert sqlite3.connect(path).execute("SELECT count(*) FROM team").fetchone()[0] == 160


def test_audit_rows_cannot_be_changed_or_deleted(app):
    event = audit("view", record_type="test", record_id=1, summary="looked")
    with pytest.raises(pw.IntegrityError):
        AuditEvent.update(summary="rewritten").where(AuditEvent.id == event.id).execute()
    with pytest.raises(pw.IntegrityError):
        AuditEvent.delete().where(AuditEvent.id == event.id).execute()
    assert AuditEvent.get_by_id(event.id).summary == "looked"


@pytest.mark.sqlite_only(reason="raw SQL in SQLite's dialect; on PostgreSQL every migration runs from empty for the template")
def test_upgrade_from_the_first_migration_keeps_the_data(tmp_path):
    database = open_database(str(tmp_path / "old.sqlite3"))
    database.connect()
    assert migrations.upgrade(database, target="m0001_house") == ["m0001_house"]
    database.execute_sql("INSERT INTO team (name, base_address, active, created_at) VALUES ('Old Team', 'Here', 1, '2025-01-01')")
    database.execute_sql("INSERT INTO user (email, name, team_id, password_hash, must_change_password, active, created_at) "
                         "VALUES ('old@x.nhs.uk', 'Old User', 1, 'h', 0, 1, '2025-01-01')")
    database.execute_sql("INSERT INTO audit_event (at, user_id, action, record_type, record_id, summary) "
                         "VALUES ('2025-01-01', 1, 'login', 'user', '1', 'signed in')")
    ran = migrations.upgrade(database)
    assert ran == [name for name in migrations.available() if name != "m0001_house"]
    assert database.execute_sql("SELECT name, base_address FROM team").fetchall() == [("Old Team", "Here")]
    assert database.execute_sql("SELECT email, name FROM user").fetchall() == [("old@x.nhs.uk", "Old User")]
    assert database.execute_sql("SELECT count(*) FROM audit_event").fetchone()[0] == 1
    # Upgrading again is a no-op.
    assert migrations.upgrade(database) == []
    assert migrations.applied(database) == migrations.available()
    database.close()


def test_every_migration_has_an_upgrade_function():
    import importlib
    for name in migrations.available():
        module = importlib.import_module(f"peerapp.migrations.{name}")
        assert callable(module.upgrade), name


def test_the_same_models_and_migrations_run_from_empty_on_each_engine(empty_database):
    from peerapp import create_app
    from peerapp.cli import upgrade_schema
    from peerapp.models import Team

    app = create_app({"TESTING": True, "DATABASE": empty_database, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade_schema()
        name = f"Postgres Team {__import__('uuid').uuid4().hex[:8]}"  # the server's database may be reused
        with db.atomic():
            team = Team.create(name=name)
        assert Team.get_by_id(team.id).name == name
        event = audit("view", team, summary="checked")
        with pytest.raises(pw.DatabaseError, match="append-only"):
            with db.atomic():
                AuditEvent.delete().where(AuditEvent.id == event.id).execute()


def test_the_session_lookup_reads_user_team_and_roles_in_one_query_built_once(app, make_user, team):
    """Every request looks its session up: one query, whose SQL peewee builds once per
    engine (SqlOnce), and the page's ``current_user.team`` needs no query of its own."""
    from peerapp.db import counting_queries
    from peerapp.models import _SESSION_WITH_USER, LoginSession, User

    with app.app_context():
        user = make_user("peer", "manager")
        token = LoginSession.start(user)
        with counting_queries() as counted:
            record = LoginSession.with_user(token)
            assert (record.user.id, record.user.roles, record.user.team.name) == (user.id, {"peer", "manager"},
                                                                                   team.name)
        assert counted.n == 1
        assert (type(db.obj), None) in _SESSION_WITH_USER.shapes  # built once, then reused
        with counting_queries() as counted:
            assert LoginSession.with_user(token).user.roles == {"peer", "manager"}
        assert counted.n == 1 and counted.sql[0] == _SESSION_WITH_USER.shapes[type(db.obj), None][0]
        # No team and no role; a wrong token; a token with a quote in it.
        loner = User.create(email="loner@test.nhs.uk", name="Lone", team=None, password_hash="x")
        record = LoginSession.with_user(LoginSession.start(loner))
        assert (record.user.team, record.user.roles) == (None, set())
        assert LoginSession.with_user("not a token") is None
        assert LoginSession.with_user("x' OR '1'='1") is None


def test_an_insert_built_once_saves_each_row_with_its_own_defaults(app, clock, make_user):
    """audit() and the contact POST write through InsertOnce: each row gets its own id and
    its own defaults (the time is asked for each row, not kept from the first), reads back
    as written, and a row given fewer fields gets its own SQL."""
    import datetime as dt

    from peerapp.db import InsertOnce

    with app.app_context(), db.connection_context():
        user = make_user("admin")
        insert = InsertOnce(AuditEvent)
        clock.freeze(dt.datetime(2026, 5, 1, 9))
        first = insert(user=user, action="view", record_type="referral", record_id="7", summary="first")
        clock.freeze(dt.datetime(2026, 5, 1, 10))
        second = insert(user=user.id, action="view", record_type="referral", record_id="8", summary="it's")
        bare = insert(action="login")
        assert first.id and second.id == first.id + 1 and bare.id == second.id + 1
        assert not first.is_dirty()
        stored = {e.id: (e.at, e.user_id, e.record_id, e.summary) for e in AuditEvent.select()}
        assert stored[first.id] == (dt.datetime(2026, 5, 1, 9), user.id, "7", "first")
        assert stored[second.id] == (dt.datetime(2026, 5, 1, 10), user.id, "8", "it's")
        assert stored[bare.id] == (dt.datetime(2026, 5, 1, 10), None, "", "")
        assert len(insert.shapes) == 2  # with and without a user


def test_a_query_built_once_reads_its_rows_the_same_every_time(app, make_user, team):
    """SqlOnce keeps how the first rows were read (fields, converters, joined models) and
    hands it to later calls: each call still reads its own rows, joined models included."""
    from peerapp.models import LoginSession

    with app.app_context(), db.connection_context():
        people = [make_user("peer"), make_user("manager", "peer_lead"), make_user("clinician")]
        tokens = [LoginSession.start(person) for person in people]
        for _ in range(2):
            for person, token in zip(people, tokens):
                record = LoginSession.with_user(token)
                assert (record.user.id, record.user.roles, record.user.team.name) == (
                    person.id, person.roles, team.name)
                assert record.user.created_at == person.created_at  # converted, not a string


def test_a_read_memo_lasts_one_get_request_and_never_a_write(app):
    """Two panels of one page share an answer (db.read_memo); a POST, which may change
    the answer between two asks, and the next request always work it out again."""
    from peerapp.db import read_memo
    with app.test_request_context("/", method="GET"):
        read_memo("answers")["team 1"] = 7
        assert read_memo("answers") == {"team 1": 7}
    with app.test_request_context("/", method="GET"):
        assert read_memo("answers") == {}
    with app.test_request_context("/", method="POST"):
        assert read_memo("answers") is None
    with app.app_context():
        assert read_memo("answers") is None


def test_rows_written_on_every_view_and_contact_carry_no_index_a_wider_one_gives(app):
    """Each index on the audit log, contacts and referral events is written and fsynced
    with every row: none may repeat the first columns of a wider index on its table
    (m0113 dropped six that did). The wider ones are all still there, on each engine."""
    with db.connection_context():
        for table, wider in (("audit_event", {"audit_event_action_at", "audit_event_record_at",
                                              "audit_event_user_at", "audit_event_at_id"}),
                             ("contact", {"contact_referral_on_kind"}),
                             ("referral_event", {"referral_event_referral_at"})):
            indexes = {index.name: index.columns for index in db.get_indexes(table)}
            assert wider <= set(indexes), (table, sorted(indexes))
            covered = [(name, other) for name, columns in indexes.items() for other, longer in indexes.items()
                       if other != name and len(longer) > len(columns) and longer[:len(columns)] == columns]
            assert covered == [], table
