"""Who may use which route: declared on the route, enforced in one place.

    @bp.get("/cohorts")
    @allow("facilitator", "peer_lead", "manager")
    def cohorts(): ...

A route without a declaration refuses everyone (deny by default); a test walks
``app.url_map`` for every role against these declarations. Roles only open the
door: views still check *which* records a person may see, and answer 404 for
records that are not theirs so ids cannot be probed.
"""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort, current_app, request
from flask_login import current_user

from .models import ROLES

PUBLIC = "public"          # no login: /login, /healthz, static files
SIGNED_IN = "signed_in"    # any active user, whatever their roles


def allow(*roles: str):
    """Declare the roles that may use a view (or PUBLIC / SIGNED_IN)."""
    unknown = [r for r in roles if r not in ROLES and r not in (PUBLIC, SIGNED_IN)]
    if unknown or not roles:
        raise ValueError(f"unknown roles in @allow: {unknown or roles}")

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)

        wrapper.allowed_roles = frozenset(roles)
        return wrapper

    return decorate


def allowed_roles(endpoint: str | None, app: Flask | None = None) -> frozenset[str]:
    app = app or current_app
    if endpoint == "static":
        return frozenset({PUBLIC})
    view = app.view_functions.get(endpoint or "")
    return getattr(view, "allowed_roles", frozenset())


def may(endpoint: str, user=None) -> bool:
    """May this user open this endpoint? Used by navigation and templates."""
    user = user if user is not None else current_user
    roles = allowed_roles(endpoint)
    if PUBLIC in roles:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return SIGNED_IN in roles or user.has_role(*roles)


def require_role(*roles: str) -> None:
    """For finer checks inside a view (e.g. only a peer lead may approve)."""
    if not current_user.is_authenticated or not current_user.has_role(*roles):
        abort(403)


def recent_login(view=None, *, also_get: bool = False):
    """For sensitive changes (roles, passwords, exports, sharing a work-WRAP): the
    password must have been typed in the last RECENT_LOGIN_MINUTES, else it is
    asked for again and the action continues afterwards (typed text kept).
    Reading a page (GET) is not asked, unless ``also_get`` (an export is a GET)."""
    if view is None:
        return lambda v: recent_login(v, also_get=also_get)

    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.method in ("GET", "HEAD") and not also_get:
            return view(*args, **kwargs)
        import datetime as dt

        from flask import session

        from . import clock
        from .models import LoginSession
        record = LoginSession.for_token(session.get("sid"))
        window = dt.timedelta(minutes=current_app.config["RECENT_LOGIN_MINUTES"])
        if record is None or record.confirmed_at is None or clock.now() - record.confirmed_at > window:
            raise NeedsConfirmation()
        return view(*args, **kwargs)

    wrapper.allowed_roles = getattr(view, "allowed_roles", frozenset())
    return wrapper


def leaves_no_trace(view):
    """For pages whose use must not be timed (raising an anonymous concern): the
    session's last-seen time is not touched by this request. Put it under @allow."""
    view.leaves_no_trace = True
    return view


def accepts_upload(max_bytes: int):
    """For the few routes that take a file (an SOP's PDF): their body may be up to
    ``max_bytes`` instead of MAX_CONTENT_LENGTH. Applied before the CSRF check reads
    the form (see create_app). Put it under @allow."""
    def decorate(view):
        view.max_content_length = max_bytes
        return view
    return decorate


# Signed in with a one-time password: only these are open until it is changed.
WHILE_CHANGING_PASSWORD = frozenset({"auth.password", "auth.logout", "auth.sign_out_everywhere"})


class MustChangePassword(Exception):
    """Answered by sending the person to choose their own password."""


class NeedsConfirmation(Exception):
    """Answered by asking for the password again (auth.confirm)."""


class Denied(Exception):
    """Raised by the access hook; the app answers it with 401 (login) or 403."""

    def __init__(self, needs_login: bool):
        self.needs_login = needs_login


def check_request() -> None:
    """before_request: refuse anything the route does not explicitly allow."""
    if request.endpoint is None:  # 404/405 are answered by Flask itself
        return
    roles = allowed_roles(request.endpoint)
    if PUBLIC in roles:
        return
    if not current_user.is_authenticated:
        raise Denied(needs_login=True)
    if current_user.must_change_password and request.endpoint not in WHILE_CHANGING_PASSWORD:
        raise MustChangePassword()
    if not roles:
        abort(403)
    if SIGNED_IN not in roles and not current_user.has_role(*roles):
        abort(403)
