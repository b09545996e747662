"""The house's own tables: teams, the people who log in, and their sessions.

Each area of the product keeps its tables in ``peerapp/<area>/models.py`` and
subclasses ``BaseModel``; areas answer each other through model methods.
"""
from __future__ import annotations

import hashlib
import secrets

import peewee as pw

from . import clock
from .db import SqlOnce, db

ROLES = {
    "admin": "Administrator",
    "manager": "Team manager",
    "peer_lead": "Peer lead",
    "clinician": "Clinician",
    "facilitator": "Training facilitator",
    "peer": "Peer worker",
    "viewer": "Viewer (reports only)",
}


class BaseModel(pw.Model):
    class Meta:
        database = db
        legacy_table_names = False


class Team(BaseModel):
    name = pw.CharField(max_length=120, unique=True)
    base_address = pw.TextField(default="")
    active = pw.BooleanField(default=True)
    created_at = pw.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def listed(cls):
        return cls.select().order_by(cls.active.desc(), cls.name)


TITLES = {"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sir", "dame", "rev", "revd"}


class User(BaseModel):
    """Anyone who logs in. Service users never do; candidates may never get an account."""

    email = pw.CharField(max_length=254, unique=True)  # stored lower-case
    name = pw.CharField(max_length=120)
    team = pw.ForeignKeyField(Team, null=True, backref="members", on_delete="RESTRICT")
    password_hash = pw.CharField(max_length=255, default="")
    # Set when an admin gives a one-time password: the next login must replace it.
    must_change_password = pw.BooleanField(default=False)
    # An unused one-time password stops working then; using it once clears this.
    one_time_expires_at = pw.DateTimeField(null=True)
    active = pw.BooleanField(default=True)
    created_at = pw.DateTimeField(default=clock.now)
    password_changed_at = pw.DateTimeField(null=True)

    # Flask-Login protocol
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def get_id(self) -> str:
        return str(self.id)

    def __str__(self) -> str:
        return self.name

    @property
    def greeting_name(self) -> str:
        """What to call them: the first name, not a title ("Dr Hannah Cole" -> "Hannah")."""
        words = self.name.split()
        while len(words) > 1 and words[0].rstrip(".").lower() in TITLES:
            words = words[1:]
        return words[0] if words else ""

    @staticmethod
    def normalise_email(email: str) -> str:
        return (email or "").strip().lower()

    @classmethod
    def by_email(cls, email: str) -> "User | None":
        return cls.get_or_none(cls.email == cls.normalise_email(email))

    @classmethod
    def with_role(cls, role: str, team: Team | None = None):
        query = cls.select().join(UserRole).where(UserRole.role == role, cls.active == True)  # noqa: E712
        if team is not None:
            query = query.where(cls.team == team)
        return query.order_by(cls.name)

    @property
    def roles(self) -> set[str]:
        cached = self.__dict__.get("_roles")
        if cached is None:
            cached = {r.role for r in UserRole.select(UserRole.role).where(UserRole.user == self)}
            self.__dict__["_roles"] = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def set_roles(self, roles) -> None:
        """The only way roles change; every change is audited as a role change.
        Callers: the admin's user pages (password asked again) and the CLI."""
        from .audit import audit
        wanted = {r for r in roles if r in ROLES}
        self.__dict__.pop("_roles", None)
        before = set(self.roles)
        with db.atomic():
            UserRole.delete().where(UserRole.user == self, UserRole.role.not_in(wanted)).execute()
            for role in wanted - before:
                UserRole.create(user=self, role=role)
            if wanted != before:
                audit("role_change", self, summary="roles: " + (", ".join(sorted(before)) or "none")
                      + " -> " + (", ".join(sorted(wanted)) or "none"))
        self.__dict__.pop("_roles", None)

    @classmethod
    def active_admins(cls) -> int:
        return cls.with_role("admin").count()

    def role_names(self) -> list[str]:
        return [ROLES[r] for r in ROLES if r in self.roles]

    def end_sessions(self) -> int:
        """Sign out everywhere: every session of this user stops at its next request."""
        return LoginSession.delete().where(LoginSession.user == self).execute()


class UserRole(BaseModel):
    user = pw.ForeignKeyField(User, backref="role_rows", on_delete="CASCADE")
    role = pw.CharField(max_length=20)

    class Meta:
        indexes = ((("user", "role"), True),)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginSession(BaseModel):
    """Server-side session: the cookie carries a random token; we keep its hash.

    Logout deletes the row, so a cookie captured before logout is refused after it.
    """

    token_hash = pw.CharField(max_length=64, unique=True)
    user = pw.ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created_at = pw.DateTimeField(default=clock.now)
    last_seen_at = pw.DateTimeField(default=clock.now)
    confirmed_at = pw.DateTimeField(null=True)  # when the password was last typed

    @classmethod
    def start(cls, user: User) -> str:
        token = secrets.token_urlsafe(32)
        now = clock.now()
        cls.create(token_hash=_digest(token), user=user, created_at=now, last_seen_at=now, confirmed_at=now)
        return token

    @classmethod
    def for_token(cls, token: str | None) -> "LoginSession | None":
        if not token:
            return None
        return cls.get_or_none(cls.token_hash == _digest(token))

    @classmethod
    def with_user(cls, token: str | None) -> "LoginSession | None":
        """The session, its user, their team and roles in one query (every request
        asks this; separate queries cost ~3 ms a page). ``record.user.roles`` is
        filled and ``record.user.team`` needs no query of its own."""
        if not token:
            return None
        record, roles = None, set()
        for row in _SESSION_WITH_USER(_digest(token)):
            record = record or row
            joined = row.user.__dict__.pop("userrole", None)
            if joined is not None and joined.role:
                roles.add(joined.role)
        if record is None:
            return None
        record.user.__dict__["_roles"] = roles
        return record

    @classmethod
    def confirm(cls, token: str | None) -> None:
        """The password was typed again just now (see access.recent_login)."""
        if token:
            cls.update(confirmed_at=clock.now()).where(cls.token_hash == _digest(token)).execute()

    @classmethod
    def end(cls, token: str | None) -> None:
        if token:
            cls.delete().where(cls.token_hash == _digest(token)).execute()


class LoginFailure(BaseModel):
    """Failed logins counted per account in the database, so the throttle holds
    across worker processes. The email is kept only as a hash."""

    email_hash = pw.CharField(max_length=64, index=True)
    source_hash = pw.CharField(max_length=64, default="")  # keyed hash of the address
    at = pw.DateTimeField(default=clock.now, index=True)

    class Meta:
        indexes = ((("email_hash", "source_hash", "at"), False),)

    @staticmethod
    def key(email: str) -> str:
        return _digest(User.normalise_email(email))


class LoginSource(BaseModel):
    """An address (keyed hash) that has signed in to an account before: when an
    account is flooded with failures from many addresses, these still get in."""

    email_hash = pw.CharField(max_length=64)
    source_hash = pw.CharField(max_length=64)
    last_at = pw.DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("email_hash", "source_hash"), True),)


HOUSE_MODELS = [Team, User, UserRole, LoginSession, LoginFailure, LoginSource]


# Built into SQL once per engine (db.SqlOnce): it runs on every request.
_SESSION_WITH_USER = SqlOnce(lambda token_hash: (
    LoginSession.select(LoginSession, User, Team, UserRole.role)
    .join(User)
    .join(Team, pw.JOIN.LEFT_OUTER, on=(User.team == Team.id))
    .switch(User)
    .join(UserRole, pw.JOIN.LEFT_OUTER, on=(UserRole.user == User.id))
    .where(LoginSession.token_hash == token_hash)))
