"""How every response leaves the app: full page or htmx fragment, security
headers, friendly error pages, and typed text that survives an expired page.
"""
from __future__ import annotations

import traceback
from urllib.parse import urlsplit

from flask import Flask, Response, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .access import Denied, MustChangePassword, NeedsConfirmation

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")

ERROR_TEXT = {
    400: ("Something in that request was not right",
          "Go back, check what you entered and try again."),
    403: ("You do not have access to this page",
          "If you think you should, ask your team manager or the administrator."),
    404: ("Page not found",
          "The address may be wrong, or the record is not one you can see."),
    405: ("That action is not available here", "Go back and use the buttons on the page."),
    413: ("That was too much to send at once", "Shorten the text or send it in parts."),
    500: ("Sorry, something went wrong",
          "Nothing you had already saved has been lost. Try again, and tell the administrator if it keeps happening."),
}


def is_fragment_request() -> bool:
    """An htmx request that wants a fragment (boosted requests want whole pages)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render(page: str, fragment: str | None = None, /, status: int = 200, **context) -> Response:
    """One URL, full page or fragment: htmx gets ``fragment``, everyone else ``page``."""
    template = fragment if fragment and is_fragment_request() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def render_form(page: str, form, /, fragment: str | None = None, **context) -> Response:
    """Re-show a form: 422 with its errors for plain posts, 200 for htmx (htmx 2
    does not swap 4xx responses by default, and the errors must be seen)."""
    status = 422 if request.method == "POST" and form.errors and not is_fragment_request() else 200
    return render(page, fragment, status=status, form=form, **context)


def render_stale(page: str, form, /, fragment: str | None = None, **context) -> Response:
    """A save from a stale page: 409, the message, and the person's typed text kept."""
    from .changes import STALE_EDIT
    flash(STALE_EDIT, "error")
    return render(page, fragment, status=409 if not is_fragment_request() else 200, form=form, **context)


def here(with_query: bool = False) -> str:
    """This request's path as the browser asked for it: under the path the app is
    served at (waitress --url-prefix, a proxy's SCRIPT_NAME), which ``request.path``
    leaves out."""
    return request.script_root + (request.full_path.rstrip("?") if with_query else request.path)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only ever an internal path: refuses https://evil, //evil and /\\evil."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return default
    return target


def resume_fields() -> list[tuple[str, str]]:
    """What the person typed, minus tokens, to be offered back after a lapse."""
    return [(key, value) for key, values in request.form.lists() for value in values
            if key not in ("csrf_token", "password")]


def _own_token() -> bool:
    """Was the refused token issued to this session (not missing, forged or another's)?"""
    from flask import current_app, session
    from itsdangerous import BadData, URLSafeTimedSerializer
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRFToken") or ""
    if not sent or not session.get("csrf_token"):
        return False
    try:
        raw = URLSafeTimedSerializer(current_app.secret_key, salt="wtf-csrf-token").loads(sent)
    except BadData:
        return False
    import hmac
    return hmac.compare_digest(str(raw), str(session["csrf_token"]))


def _error(status: int, message: str | None = None) -> Response:
    title, advice = ERROR_TEXT.get(status, ERROR_TEXT[500])
    if is_fragment_request():
        # Shown in the page's alert region (see htmx-config in base.html).
        response = make_response(render_template("_alert.html", title=title, text=message or advice), status)
        response.headers["HX-Retarget"] = "#page-alert"
        response.headers["HX-Reswap"] = "innerHTML"
    else:
        response = make_response(render_template("error.html", status=status, title=title,
                                                 text=message or advice), status)
    return response


def init_app(app: Flask) -> None:
    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.vary.add("HX-Request")
        if request.endpoint != "static":
            # Records must not linger in a shared tablet's cache or history.
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response

    @app.errorhandler(Denied)
    def needs_login(error: Denied):
        if request.method == "POST" and request.form:
            # The session lapsed with a form open: ask for the password, then
            # offer the typed text back, so nothing is lost.
            from .auth.forms import LoginForm
            form = LoginForm(formdata=None)
            response = make_response(render_template(
                "auth/login.html", form=form, resume_to=here(),
                resume=resume_fields(), expired=True), 401)
            if is_fragment_request():
                response = make_response("", 401)
                response.headers["HX-Redirect"] = url_for("auth.login", next=here(with_query=True))
            return response
        if is_fragment_request():
            response = make_response("", 401)
            response.headers["HX-Redirect"] = url_for("auth.login", next=here(with_query=True))
            return response
        flash("Please sign in to continue.", "info")
        return redirect(url_for("auth.login", next=safe_next(here(with_query=True))))

    @app.errorhandler(MustChangePassword)
    def must_change_password(error: MustChangePassword):
        target = url_for("auth.password")
        if is_fragment_request():
            response = make_response("", 403)
            response.headers["HX-Redirect"] = target
            return response
        flash("Please choose a new password before you go on.", "info")
        return redirect(target)

    @app.errorhandler(NeedsConfirmation)
    def needs_confirmation(error: NeedsConfirmation):
        from .auth.forms import ConfirmPasswordForm
        if is_fragment_request():
            response = make_response("", 401)
            response.headers["HX-Redirect"] = url_for("auth.confirm", next=here(with_query=True))
            return response
        if request.method == "POST":
            return make_response(render_template(
                "auth/confirm.html", form=ConfirmPasswordForm(formdata=None), resume_to=here(),
                resume=resume_fields(), next_path=here()), 401)
        return redirect(url_for("auth.confirm", next=safe_next(here(with_query=True))))

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError):
        # Typed text comes back only when the token was this very session's own
        # (e.g. refused for its age or Referer): a forged post has no token or
        # someone else's, and echoing its fields with a fresh token would turn
        # it into a one-click post. Even then the fields are shown to be read
        # and sent by the person, never as hidden inputs.
        if is_fragment_request() or not request.form or not current_user.is_authenticated or not _own_token():
            return _error(400, "This page had expired, so that was not sent. "
                               "Go back, reload the page and try again.")
        message = ("This page had expired, so your form was not sent. "
                   "Check what you entered below, change it if needed, and send it only if you meant to.")
        return make_response(render_template(
            "resume.html", message=message, resume_to=here(), resume=resume_fields(),
            visible=True), 400)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in ERROR_TEXT:
            return _error(error.code)
        return error

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        # Log the type and the code path only: exception messages may quote personal data.
        frames = "".join(traceback.format_tb(error.__traceback__))
        app.logger.error("Unhandled %s at %s %s\n%s", type(error).__name__, request.method,
                         request.endpoint, frames)
        return _error(500)
