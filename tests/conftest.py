"""Fixtures every area's tests use: an app on a temp-file database, a user of
each role, and a logged-in client per role that sends CSRF tokens like a browser."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask.testing import FlaskClient

from peerapp import create_app
from peerapp.cli import upgrade_schema
from peerapp.db import db
from peerapp.models import ROLES, LoginSession, Team, User

TEST_PASSWORD = "correct horse battery staple"
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
        page = self.get("/login" if not getattr(self, "user", None) else "/account/password")
        found = TOKEN.search(page.get_data(as_text=True))
        assert found, "no CSRF token on the page"
        return found.group(1)

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
def app(tmp_path, clock):
    app = create_app({
        "TESTING": True,
        "DATABASE": str(tmp_path / "test.sqlite3"),
        "SECRET_KEY": "test-secret",
        "CLOCK": clock,
        "SERVER_NAME": None,
    })
    app.test_client_class = BrowserLikeClient
    with app.app_context():
        upgrade_schema()
    yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def team(app):
    with db.connection_context():
        return Team.create(name="Test EIP Team", base_address="1 Test Street")


@pytest.fixture
def make_user(app, team):
    """make_user("peer_lead", name=..., team=...) -> User (committed)."""
    counter = {"n": 0}

    def make(*roles: str, name: str | None = None, email: str | None = None, team_=team, active=True) -> User:
        counter["n"] += 1
        with db.connection_context():
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
        with db.connection_context():
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
