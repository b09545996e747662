"""Commands for whoever installs and runs peerapp (``flask --app peerapp ...``)."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Callable

import click
from flask import Flask

from . import migrations, passwords
from .db import db, is_sqlite, self_check


def run_repeatedly(every: int, name: str, once: Callable[[], str]) -> None:
    """A sweep's command: ``once()`` in its own connection, printing what it says
    (stamped with the time); with ``every``, again every that many seconds until
    stopped. A failure in the loop is printed and tried again: a loop that died
    silently would stop the e-mails, or leave report readers waiting."""
    from . import clock
    while True:
        try:
            with db.connection_context():
                said = once()
            click.echo(f"{clock.local(clock.now()):%H:%M:%S} {name}: {said}")
        except Exception as error:  # noqa: BLE001
            if not every:
                raise
            click.echo(f"{name} failed ({type(error).__name__}); trying again in {every} s", err=True)
        if not every:
            return
        try:
            time.sleep(every)
        except KeyboardInterrupt:
            return


def register_commands(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)
    app.cli.add_command(demo_data)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(check_db)


def upgrade_schema() -> list[str]:
    with db.connection_context():
        return migrations.upgrade(db.obj)


@click.command("init-db")
def init_db():
    """Create the database, or upgrade it to the newest schema. Keeps all data."""
    ran = upgrade_schema()
    click.echo(f"Applied {len(ran)} migration(s): {', '.join(ran)}" if ran else "Schema is up to date.")


@click.command("check-db")
def check_db():
    """Print the settings the database really runs with (WAL, FULL sync, ...)."""
    with db.connection_context():
        for key, value in self_check().items():
            click.echo(f"{key}: {value}")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", required=True, multiple=True, help="Repeat for several roles.")
@click.option("--team", default=None, help="Team name; created if it does not exist.")
@click.option("--password", default=None, help="Prompted for when left out.")
def create_user(email, name, roles, team, password):
    """Create a user, e.g. the first admin of a real install."""
    from .audit import audit
    from .models import ROLES, Team, User

    roles = [r for chunk in roles for r in chunk.split(",") if r]
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise click.BadParameter(f"unknown role(s) {', '.join(bad)}; choose from {', '.join(ROLES)}")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    found = passwords.problems(password, email=email)
    if found:
        raise click.BadParameter(" ".join(found), param_hint="--password")
    upgrade_schema()
    with db.connection_context(), db.atomic():
        if User.by_email(email):
            raise click.ClickException("A user with that email address already exists.")
        team_row = Team.get_or_create(name=team)[0] if team else None
        user = User.create(email=User.normalise_email(email), name=name, team=team_row,
                           password_hash=passwords.hash_password(password))
        user.set_roles(roles)
        audit("create", user, summary=f"created from the command line with roles {', '.join(sorted(roles))}")
    click.echo(f"Created {user.email} ({', '.join(sorted(roles))}).")


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Only when the database has no users yet.")
def demo_data(if_empty):
    """Fill the database with fictional people for a first look. Never on a real install."""
    from .demo import DEMO_USERS, load_demo
    from .models import User

    upgrade_schema()
    with db.connection_context():
        if User.select().exists():
            if if_empty:
                click.echo("The database already has users; demo data left as it is.")
                if User.by_email(DEMO_USERS[0]["email"]):  # a demo database: remind of the logins
                    _print_logins()
                return
            raise click.ClickException("The database already has users: demo data goes only into an empty one.")
        started = time.perf_counter()
        logins = load_demo()
    click.echo(f"Demo data loaded in {time.perf_counter() - started:.1f} s.")
    _print_logins(logins)


def _print_logins(logins=None) -> None:
    from .demo import DEMO_PASSWORD, DEMO_USERS
    logins = logins or [(u["email"], u["label"]) for u in DEMO_USERS]
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, label in logins:
        click.echo(f"  {email:<26} {label}")


def _sqlite_path() -> str:
    if not is_sqlite():
        raise click.ClickException("backup and restore handle SQLite; use pg_dump for PostgreSQL.")
    return db.obj.database


@click.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False))
def backup(dest):
    """Copy the live database to DEST in one consistent step, while the app runs."""
    source_path = _sqlite_path()
    dest_path = Path(dest)
    if dest_path.exists():
        raise click.ClickException(f"{dest} already exists; choose a new file name.")
    started = time.perf_counter()
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(dest_path)
    try:
        # pages=-1: one step. Small steps restart whenever another process writes.
        source.backup(target, pages=-1)
        ok = target.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        target.close()
        source.close()
    dest_path.chmod(0o600)  # confidential records: the service account only
    if ok != "ok":
        raise click.ClickException(f"The copy failed its integrity check: {ok}")
    click.echo(f"Backed up to {dest} in {time.perf_counter() - started:.2f} s (integrity ok).")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(src, yes):
    """Replace the database with the backup SRC. Stop the server first."""
    target_path = _sqlite_path()
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    try:
        ok = source.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise click.ClickException(f"{src} failed its integrity check: {ok}")
        if not yes:
            click.confirm(f"Replace {target_path} with {src}? Everything since that backup is lost", abort=True)
        target = sqlite3.connect(target_path, timeout=30)
        try:
            source.backup(target, pages=-1)
        finally:
            target.close()
    finally:
        source.close()
    upgrade_schema()
    click.echo(f"Restored {src} into {target_path}; schema checked.")
