"""Signing in and out, and changing one's own password."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from .. import clock, passwords
from ..access import PUBLIC, SIGNED_IN, allow
from ..audit import audit
from ..db import db
from ..forms import ActionForm
from ..models import LoginSession, User
from . import throttle
from ..pages import render_form, safe_next
from .forms import ConfirmPasswordForm, LoginForm, PasswordChangeForm

bp = Blueprint("auth", __name__)

REFUSED = "Your email address or password is not right. Check them and try again."
ONE_TIME_SPENT = ("That one-time password has expired or has already been used. "
                  "Ask the administrator for a new one.")


def _limits() -> throttle.Limits:
    cfg = current_app.config
    return throttle.Limits(max_failures=cfg["LOGIN_MAX_FAILURES"],
                           max_delay=dt.timedelta(minutes=cfg["LOGIN_MAX_DELAY_MINUTES"]),
                           account_per_hour=cfg["LOGIN_ACCOUNT_MAX_PER_HOUR"])


def _source() -> str:
    return throttle.source_key(request.remote_addr, current_app.secret_key)


def _wait_message(wait: dt.timedelta) -> str:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return (f"Too many wrong passwords were tried from this device. Wait {minutes} "
            f"minute{'s' if minutes != 1 else ''} and try again, or ask the administrator.")


def _wrong_reauthentication(user: User, what: str):
    """A wrong password typed while signed in counts with the login failures;
    past the limit the session ends (someone may be guessing at an open tablet).
    Returns a response when the session was ended, else None."""
    now = clock.now()
    with db.atomic():
        throttle.record(user.email, _source(), now)
        audit("password_confirm_failed", user, summary=f"wrong password ({what})")
        stop = throttle.wait(user.email, _source(), now, _limits()) > dt.timedelta(0)
        if stop:
            LoginSession.end(session.get("sid"))
            audit("logout", user, summary="session ended after too many wrong passwords")
    if not stop:
        return None
    logout_user()
    session.clear()
    flash("Too many wrong passwords: you have been signed out. Sign in again to go on.", "error")
    return redirect(url_for("auth.login"))


def start_session(user: User) -> None:
    """A fresh server-side session for this login; the old cookie is dropped."""
    session.clear()
    g.pop("csrf_token", None)  # a token made for the old session must not reach the next page
    session["sid"] = LoginSession.start(user)
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login():
    """Anyone: sign in with email and password. Failures are throttled per account."""
    form = LoginForm()
    next_path = safe_next(request.values.get("next"), url_for("home.index"))
    # Text typed before a lapsed session, carried through this form (see pages.py).
    resume = [(key, value) for key, values in request.form.lists() for value in values
              if key.startswith("resume:")]
    if form.validate_on_submit():
        email = User.normalise_email(form.email.data)
        now, source = clock.now(), _source()
        refusal = REFUSED
        with db.atomic():
            user = User.by_email(email)
            wait = throttle.wait(email, source, now, _limits())
            if wait:
                # Not even checked: this address has to wait; the owner's own does not.
                audit("login_failed", record_type="user", record_id=user.id if user else "",
                      summary="delayed: too many failures from one address", user=user)
                ok, refusal = False, _wait_message(wait)
            else:
                ok = passwords.verify(user.password_hash if user else None, form.password.data)
                if not ok or not user or not user.active:
                    throttle.record(email, source, now)
                    audit("login_failed", record_type="user", record_id=user.id if user else "",
                          summary="wrong email or password", user=user)
                    ok = False
                elif user.must_change_password and (user.one_time_expires_at is None
                                                    or user.one_time_expires_at < now):
                    audit("login_failed", user, summary="one-time password expired or used", user=user)
                    ok, refusal = False, ONE_TIME_SPENT
                else:
                    if passwords.needs_rehash(user.password_hash):
                        user.password_hash = passwords.hash_password(form.password.data)
                    # A one-time password works once: this session must replace it.
                    user.one_time_expires_at = None
                    user.save()
                    throttle.succeeded(email, source, now)
                    start_session(user)
                    audit("login", user, summary="signed in", user=user)
        if ok:
            if user.must_change_password:
                flash("Please choose a new password before you go on.", "info")
                return redirect(url_for("auth.password"))
            resume_to = safe_next(request.form.get("resume_to"), "")
            if resume_to and resume:
                return render_template("resume.html", resume_to=resume_to,
                                       resume=[(k.removeprefix("resume:"), v) for k, v in resume],
                                       message="You are signed in again. Check what you entered and send it.")
            return redirect(next_path)
        form.password.errors.append(refusal)
    elif request.method == "POST" and not form.errors:
        form.email.errors.append("Enter your email address")
    return render_form("auth/login.html", form, next_path=next_path,
                       resume_to=request.form.get("resume_to"),
                       resume=[(k.removeprefix("resume:"), v) for k, v in resume])


@bp.post("/logout")
@allow(SIGNED_IN)
def logout():
    """Signed-in users: end this session on the server, not only in the browser."""
    if ActionForm().validate_on_submit():
        with db.atomic():
            audit("logout", current_user._get_current_object(), summary="signed out")
            LoginSession.end(session.get("sid"))
        logout_user()
        session.clear()
        flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@allow(SIGNED_IN)
def password():
    """Signed-in users: change their own password; every other session ends."""
    user = current_user._get_current_object()
    form = PasswordChangeForm(user=user)
    if user.must_change_password:
        # Signed in with the one-time password moments ago, and it is spent now.
        del form.current_password
    if form.validate_on_submit():
        with db.atomic():
            user.password_hash = passwords.hash_password(form.new_password.data)
            user.must_change_password = False
            user.one_time_expires_at = None
            user.password_changed_at = clock.now()
            user.save()
            user.end_sessions()
            audit("password_changed", user, summary="changed own password")
            start_session(user)
        flash("Your password has been changed. You have been signed out everywhere else.", "success")
        return redirect(url_for("home.index"))
    if getattr(form, "wrong_current", False):
        ended = _wrong_reauthentication(user, "current password on password change")
        if ended:
            return ended
    return render_form("auth/password.html", form)


@bp.route("/account/confirm", methods=["GET", "POST"])
@allow(SIGNED_IN)
def confirm():
    """Signed-in users: type the password again before a sensitive action."""
    form = ConfirmPasswordForm()
    user = current_user._get_current_object()
    next_path = safe_next(request.values.get("next"), url_for("home.index"))
    resume = [(key.removeprefix("resume:"), value) for key, values in request.form.lists()
              for value in values if key.startswith("resume:")]
    if form.validate_on_submit():
        if passwords.verify(user.password_hash, form.password.data):
            with db.atomic():
                LoginSession.confirm(session.get("sid"))
                audit("password_confirmed", user, summary="for a sensitive action")
            resume_to = safe_next(request.form.get("resume_to"), "")
            if resume_to and resume:
                return render_template("resume.html", resume_to=resume_to, resume=resume,
                                       message="Thank you. Check the details and send them.")
            return redirect(next_path)
        ended = _wrong_reauthentication(user, "password asked again")
        if ended:
            return ended
        form.password.errors.append("That password is not right")
    return render_form("auth/confirm.html", form, next_path=next_path,
                       resume_to=request.form.get("resume_to"), resume=resume)


@bp.post("/account/sign-out-everywhere")
@allow(SIGNED_IN)
def sign_out_everywhere():
    """Signed-in users: end all their sessions, this one included (a lost tablet)."""
    if ActionForm().validate_on_submit():
        user = current_user._get_current_object()
        with db.atomic():
            audit("signed_out_everywhere", user, summary="by the user")
            user.end_sessions()
        logout_user()
        session.clear()
        flash("You have been signed out on every device.", "success")
    return redirect(url_for("auth.login"))
