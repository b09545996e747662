"""peerapp: a peer support programme inside an NHS mental-health team."""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import os
import secrets
import sys
import threading
from pathlib import Path


@contextlib.contextmanager
def _starting_up():
    """Loading the modules and making the app creates ~60,000 containers (classes,
    functions, dicts) that live as long as the process, and the cyclic collector
    walked them again and again: 0.05-0.1 s of every start. It is off while they
    are made, then as it was."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


with _starting_up():
    # peewee imports PostgreSQL's driver as it is imported (psycopg: ~70 modules,
    # 0.2 s of every start), even to serve SQLite. Its import is refused for that
    # moment only; peerapp.db.open_database hands psycopg to peewee when the
    # configured database is a postgresql:// URL.
    if "peewee" not in sys.modules and "psycopg" not in sys.modules:
        sys.modules["psycopg"] = None  # `import psycopg` raises ImportError while this stands
        try:
            import peewee  # noqa: F401
        finally:
            del sys.modules["psycopg"]

    from flask import Flask, Request, request, session
    from flask_login import LoginManager
    from flask_wtf import CSRFProtect
    from werkzeug.exceptions import RequestEntityTooLarge
    from werkzeug.routing import IntegerConverter, Rule

    from . import clock


class BoundedInt(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


class LazyRule(Rule):
    """Werkzeug writes and compiles two URL builders for every rule as it is added
    (0.2 s of every start for ~200 rules), though a worker builds URLs of few of
    them: each builder is compiled the first time a URL of its rule is built.

    Werkzeug compiles them while the app is made, in one thread; here it happens while
    serving, and waitress serves in several threads. Compiling Python syntax trees in
    two threads at once raised SystemError in CPython 3.11 (once, a 500 in a race
    test): one thread compiles at a time, and a rule's builder is compiled once."""

    def _compile_builder(self, append_unknown: bool = True):
        compile_now = super()._compile_builder
        name = "_build_unknown" if append_unknown else "_build"

        def build(rule, **values):
            with _COMPILING:
                compiled = rule.__dict__.get(name)
                if getattr(compiled, "__func__", None) is build:  # still this lazy one
                    compiled = compile_now(append_unknown).__get__(rule, None)
                    setattr(rule, name, compiled)
            return compiled(**values)
        return build


_COMPILING = threading.Lock()


class LimitedRequest(Request):
    """Every body is bounded before it is parsed, whatever its content type.

    Werkzeug bounds multipart bodies by MAX_FORM_PARTS only; an urlencoded body
    of 2 MiB made of 300,000 fields was parsed in full. Here the body is read
    (at most MAX_CONTENT_LENGTH bytes, else 413) and its fields counted before
    any parsing: more than MAX_FORM_FIELDS is 413 too, with the friendly page.
    """

    def _load_form_data(self) -> None:
        from flask import current_app

        if "form" in self.__dict__:
            return
        limit = self.max_content_length  # the config's, or a route's own (access.accepts_upload)
        if self.content_length is not None and limit is not None and self.content_length > limit:
            raise RequestEntityTooLarge()
        if self.mimetype == "application/x-www-form-urlencoded":
            body = self.get_data(cache=True)  # Werkzeug stops reading past the limit (413)
            if body.count(b"&") + body.count(b";") + 1 > current_app.config["MAX_FORM_FIELDS"]:
                raise RequestEntityTooLarge()
        super()._load_form_data()


def _refuse_demo_accounts(app: Flask) -> None:
    """The production way of serving refuses a database holding the published
    demo logins, unless the config says ALLOW_DEMO (``make run`` is the demo)."""
    if app.config.get("ALLOW_DEMO") or os.environ.get("FLASK_RUN_FROM_CLI"):
        return  # the flask command is how an admin removes them
    from .db import db
    from .demo import demo_accounts
    with db.connection_context():
        found = demo_accounts()
    if found:
        raise RuntimeError(
            "peerapp will not serve: this database has the demo accounts, whose password is published ("
            + ", ".join(found) + "). Deactivate or delete them (or start from a new database), "
            "or set ALLOW_DEMO = True in instance/config.py if this really is a demonstration.")


csrf = CSRFProtect()
login_manager = LoginManager()


def _secret_key(instance: Path) -> str:
    """Generated on first run and kept in instance/ (git-ignored), never committed."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def area_blueprints() -> list:
    """Every area's blueprint, in the order of the domain map. Areas depend one way
    (training -> workforce -> referrals -> matching; wrap -> workforce), so each
    imports only those before it. A new area adds its import here and its name below."""
    from .admin.views import bp as admin
    from .auth.views import bp as auth
    from .home.views import bp as home
    from .matching.views import bp as matching
    from .outcomes.views import bp as outcomes
    from .presence.views import bp as presence
    from .readiness.views import bp as readiness
    from .referrals.views import bp as referrals
    from .reports.views import bp as reports
    from .rights.views import bp as rights
    from .training.views import bp as training
    from .workforce.views import bp as workforce
    from .wrap.views import bp as wrap
    return [home, auth, admin, training, workforce, wrap, referrals, matching, outcomes, presence, readiness,
            reports, rights]


def connect_areas() -> None:
    """Answers an earlier part asks of a later area (``peerapp.providers``), plugged in
    here: an explicit list, like ``area_blueprints()``; an earlier area never imports
    a later one. Each line: who asks <- who answers."""
    from . import personal
    from .referrals.models import caseload, caseloads
    from .rights.registry import load_areas
    from .training.rights import peer_account
    from .workforce import models as workforce
    from .wrap import sharing as wrap
    workforce.caseload_of.answer_with(caseload)                       # workforce <- referrals
    workforce.caseloads_of.answer_with(caseloads)                     # workforce <- referrals
    wrap.supervisor_id_of.answer_with(workforce.current_supervisor_id)  # work-WRAP <- workforce
    personal.peer_account.answer_with(peer_account)                   # subject access <- training
    load_areas()  # each area's rights module says who may read its records' history


def create_app(test_config: dict | None = None) -> Flask:
    with _starting_up():
        return _make_app(test_config)


def _make_app(test_config: dict | None) -> Flask:
    # Records are confidential: the database, its WAL and every backup are
    # readable by the service account only (0600), in the app and the CLI alike.
    os.umask(0o077)
    app = Flask(__name__, instance_relative_config=True,
                template_folder="../templates", static_folder="../static")
    app.request_class = LimitedRequest
    # An id too large for SQLite's integers is simply not a route (404), never a 500.
    app.url_map.converters["int"] = BoundedInt
    app.url_rule_class = LazyRule
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)

    app.config.from_mapping(
        DATABASE=str(instance / "peerapp.sqlite3"),
        SESSION_COOKIE_NAME="peerapp_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,  # set True behind the Trust's HTTPS proxy
        IDLE_TIMEOUT_MINUTES=30,      # tablets are shared
        ABSOLUTE_TIMEOUT_HOURS=12,
        RECENT_LOGIN_MINUTES=15,      # roles, exports, sharing a work-WRAP
        LOGIN_MAX_FAILURES=5,
        LOGIN_WINDOW_MINUTES=15,
        WTF_CSRF_TIME_LIMIT=None,     # tied to the session: a tablet left open still works
        WTF_CSRF_SSL_STRICT=True,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        MAX_FORM_PARTS=1000,
        MAX_FORM_FIELDS=1000,         # urlencoded fields, counted before parsing
        ONE_TIME_PASSWORD_HOURS=72,   # an unused one-time password expires
        LOGIN_MAX_DELAY_MINUTES=60,   # the longest wait one address is made to take
        LOGIN_ACCOUNT_MAX_PER_HOUR=100,  # failures per account from all addresses (NIST 800-63B)
        ALLOW_DEMO=False,             # `make run` sets it: the demo logins are published
        SMALL_NUMBER_LIMIT=7,         # aggregates of 1-7 people are suppressed
        DISCLOSURE_ROUNDING=5,        # other counts rounded to the nearest 5 (1: not rounded)
        REPORT_FIGURES_SECONDS=300,   # a report's figures are kept this long (peerapp/reports/kept.py)
        CLOCK=None,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("PEERAPP")
    else:
        app.config.from_mapping(test_config)
    if os.environ.get("PEERAPP_DATABASE"):
        app.config["DATABASE"] = os.environ["PEERAPP_DATABASE"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
    if app.config["SESSION_COOKIE_SECURE"]:
        app.config.setdefault("PREFERRED_URL_SCHEME", "https")

    # peewee logs every query with its parameters at DEBUG: personal data must
    # never reach a log, whatever level someone sets the root logger to.
    logging.getLogger("peewee").setLevel(logging.WARNING)

    from . import db, pages
    db.init_app(app)

    @app.before_request
    def _route_body_limit() -> None:
        # Before CSRFProtect reads the form: a route that takes a file says how big (access.accepts_upload).
        limit = getattr(app.view_functions.get(request.endpoint or ""), "max_content_length", None)
        if limit:
            request.max_content_length = limit

    csrf.init_app(app)
    _init_login(app)
    pages.init_app(app)

    from .access import check_request
    app.before_request(check_request)

    for blueprint in area_blueprints():
        app.register_blueprint(blueprint)
    connect_areas()

    from .cli import register_commands
    register_commands(app)
    _refuse_demo_accounts(app)

    from . import templating
    templating.init_app(app)
    return app


def _init_login(app: Flask) -> None:
    from .models import LoginSession

    login_manager.init_app(app)
    # The server-side session record below is the real guard; Flask-Login's own
    # "strong" mode weakens silently for permanent sessions, so we do not rely on it.
    login_manager.session_protection = None

    @login_manager.user_loader
    def load_user(user_id: str):
        record = LoginSession.with_user(session.get("sid"))
        if record is None or str(record.user_id) != str(user_id):
            return None
        now = clock.now()
        idle = dt.timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"])
        absolute = dt.timedelta(hours=app.config["ABSOLUTE_TIMEOUT_HOURS"])
        user = record.user
        if now - record.last_seen_at > idle or now - record.created_at > absolute or not user.active:
            record.delete_instance()
            session.pop("sid", None)
            session.pop("_user_id", None)
            return None
        # Touch at most once a minute: a write per request would cost every page.
        # Pages that must leave no time behind (an anonymous concern) never touch it.
        view = app.view_functions.get(request.endpoint or "")
        if now - record.last_seen_at > dt.timedelta(seconds=60) and not getattr(view, "leaves_no_trace", False):
            LoginSession.update(last_seen_at=now).where(LoginSession.id == record.id).execute()
        return user
