"""Every command an installer uses: init-db, create-user, demo-data, backup, restore."""
from __future__ import annotations

import multiprocessing
import sqlite3
import time

import pytest

from peerapp.demo import DEMO_USERS
from peerapp.models import Team, User


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_init_db_creates_then_reports_up_to_date(runner, tmp_path):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0 and "up to date" in result.output


@pytest.mark.sqlite_only(reason="SQLite's pragmas")
def test_check_db_prints_the_real_settings(runner):
    result = runner.invoke(args=["check-db"])
    assert "journal_mode: wal" in result.output and "synchronous: 2" in result.output


def test_create_user_makes_the_first_admin(runner):
    result = runner.invoke(args=["create-user", "--email", "First.Admin@Trust.nhs.uk", "--name", "First Admin",
                                 "--role", "admin", "--team", "New Team", "--password", "a long admin passphrase"])
    assert result.exit_code == 0, result.output
    user = User.by_email("first.admin@trust.nhs.uk")
    assert user.roles == {"admin"} and user.team.name == "New Team"
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_create_user_prompts_for_the_password(runner):
    result = runner.invoke(args=["create-user", "--email", "p@trust.nhs.uk", "--name", "P", "--role", "peer_lead"],
                           input="prompted passphrase ok\nprompted passphrase ok\n")
    assert result.exit_code == 0, result.output
    assert User.by_email("p@trust.nhs.uk").roles == {"peer_lead"}


def test_create_user_with_several_roles(runner):
    result = runner.invoke(args=["create-user", "--email", "m@trust.nhs.uk", "--name", "M", "--role", "manager",
                                 "--role", "peer_lead", "--password", "a long manager passphrase"])
    assert result.exit_code == 0 and User.by_email("m@trust.nhs.uk").roles == {"manager", "peer_lead"}


@pytest.mark.parametrize("args, message", [
    (["--role", "superuser", "--password", "a long enough passphrase"], "unknown role"),
    (["--role", "admin", "--password", "password1234"], "too common"),
    (["--role", "admin", "--password", "short"], "at least 12"),
])
def test_create_user_refuses_bad_input(runner, args, message):
    result = runner.invoke(args=["create-user", "--email", "x@trust.nhs.uk", "--name", "X", *args])
    assert result.exit_code != 0 and message in result.output
    assert User.by_email("x@trust.nhs.uk") is None


def test_create_user_refuses_a_duplicate_email(runner):
    args = ["create-user", "--email", "d@trust.nhs.uk", "--name", "D", "--role", "admin", "--password", "a long admin passphrase"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=[*args[:2], "D@TRUST.nhs.uk", *args[3:]])
    assert again.exit_code != 0 and "already exists" in again.output


def test_demo_data_fills_an_empty_database_only(runner):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    for spec in DEMO_USERS:
        assert spec["email"] in result.output
        assert User.by_email(spec["email"]).roles == set(spec["roles"])
    assert Team.select().count() >= 1
    again = runner.invoke(args=["demo-data"])
    assert again.exit_code != 0
    quiet = runner.invoke(args=["demo-data", "--if-empty"])
    assert quiet.exit_code == 0 and "left as it is" in quiet.output


def _keep_writing(path: str, seconds: float, queue) -> None:
    from peerapp.db import open_database
    database = open_database(path)
    written = 0
    # The clock starts once this process is up: a spawned interpreter can take
    # seconds to start on a busy machine.
    queue.put("writing")
    stop_at = time.time() + seconds
    while time.time() < stop_at:
        with database.atomic():
            database.execute_sql("INSERT INTO team (name, base_address, active, created_at) VALUES (?, '', 1, '2026-01-01')",
                                 (f"writer {written}",))
        written += 1
    database.close()
    queue.put(written)


@pytest.mark.sqlite_only(reason="backup and restore copy the SQLite file; a PostgreSQL install uses pg_dump")
def test_backup_while_another_process_writes_then_restore(app, runner, tmp_path):
    with app.app_context():
        for n in range(50):
            Team.create(name=f"Committed {n}")
    path = app.config["DATABASE"]
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    writer = context.Process(target=_keep_writing, args=(path, 4, queue))
    writer.start()
    assert queue.get(timeout=60) == "writing"
    time.sleep(0.5)  # the writer is busy now
    started = time.perf_counter()
    result = runner.invoke(args=["backup", str(tmp_path / "copy.sqlite3")])
    took = time.perf_counter() - started
    writer.join(30)
    assert queue.get(timeout=5) > 0
    assert result.exit_code == 0, result.output
    assert took < 60
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    names = {row[0] for row in copy.execute("SELECT name FROM team")}
    assert {f"Committed {n}" for n in range(50)} <= names
    in_backup = copy.execute("SELECT count(*) FROM team").fetchone()[0]
    copy.close()

    # Refuses to overwrite an existing file.
    assert runner.invoke(args=["backup", str(tmp_path / "copy.sqlite3")]).exit_code != 0

    with app.app_context():
        Team.create(name="Made after the backup")
    restored = runner.invoke(args=["restore", str(tmp_path / "copy.sqlite3"), "--yes"])
    assert restored.exit_code == 0, restored.output
    live = sqlite3.connect(path)
    assert live.execute("SELECT count(*) FROM team").fetchone()[0] == in_backup
    assert live.execute("SELECT count(*) FROM team WHERE name = 'Made after the backup'").fetchone()[0] == 0
    assert live.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.sqlite_only(reason="restore takes a SQLite file")
def test_restore_refuses_a_damaged_file(runner, tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    result = runner.invoke(args=["restore", str(bad), "--yes"])
    assert result.exit_code != 0


def test_a_real_install_is_never_shown_demo_logins(runner):
    runner.invoke(args=["create-user", "--email", "real@trust.nhs.uk", "--name", "Real", "--role", "admin",
                        "--password", "a long admin passphrase"])
    result = runner.invoke(args=["demo-data", "--if-empty"])
    assert result.exit_code == 0 and "left as it is" in result.output
    assert "demo.peerapp" not in result.output
    assert User.by_email("admin@demo.peerapp") is None
