"""What every template can use: the menu, the access check, dates in London time."""
from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, has_request_context, request, url_for
from flask_login import current_user

from . import clock
from .access import may
from .forms import ActionForm, marked_optional
from .models import ROLES
from .navigation import banners_for, menu_for, sections_for, tabs_for
from .pages import here


_MARK = 918273645546372  # an id no table reaches, to find where ids go in the URL


def row_url(record_id: int, endpoint: str) -> str:
    """``{{ referral.id|row_url("referrals.show") }}``: ``url_for(endpoint, <its one id>=
    record_id)`` for a link on every row of a list. The URL's shape is built once per
    endpoint and mount point, then each row's id is put in (Werkzeug took ~30 us a link,
    50-150 links a page). A filter, not a global: Jinja calls a global through its
    context (~4 us more a link, ~0.4 ms of a 50-card queue)."""
    app = current_app._get_current_object()
    # (endpoint, mount point) -> the URL with "{}" where the id goes, kept on the app
    shapes = app.extensions.setdefault("peerapp_row_urls", {})
    key = (endpoint, request.script_root)
    shape = shapes.get(key)
    if shape is None:
        (name,) = next(app.url_map.iter_rules(endpoint)).arguments  # exactly one id
        shape = url_for(endpoint, **{name: _MARK}).replace("{", "{{").replace("}", "}}")
        assert shape.count(str(_MARK)) == 1, endpoint
        shape = shapes[key] = shape.replace(str(_MARK), "{}")
    return shape.format(int(record_id))


def fixed_url(endpoint: str, **values) -> str:
    """Templates' ``url_for``. A URL with no values (a menu entry, a form's action) or a
    static file's is the same on every request to where the app is mounted: it is built
    once (Werkzeug took ~15 us each; a list page asked for ~19). Any other URL is
    built each time, as ``url_for`` builds it."""
    if (not has_request_context() or endpoint.startswith(".")
            or (values and (endpoint != "static" or set(values) != {"filename"}))):
        return url_for(endpoint, **values)
    fixed = current_app.extensions.setdefault("peerapp_fixed_urls", {})
    key = (endpoint, values.get("filename"), request.script_root)
    url = fixed.get(key)
    if url is None:
        url = fixed[key] = url_for(endpoint, **values)
    return url


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(url_for=fixed_url, here=here)

    @app.context_processor
    def globals_():
        return {
            "menu": (lambda: menu_for(current_user, request.endpoint)),
            "banners": (lambda: banners_for(current_user)),
            "sections": (lambda page: sections_for(page, current_user)),
            "tabs": (lambda tabs: tabs_for(current_user, tabs)),
            "may": may,
            "action_form": ActionForm,
            "ROLES": ROLES,
        }

    app.add_template_filter(row_url)

    @app.template_filter("when")
    def when(value) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, dt.datetime):
            return clock.local(value).strftime("%-d %b %Y, %H:%M")
        if isinstance(value, dt.date):
            return value.strftime("%-d %b %Y")
        return str(value)

    # A test, not a global: macros imported without context can use it.
    app.jinja_env.tests["marked_optional"] = marked_optional

    @app.template_filter("reject_page")
    def reject_page(args: dict) -> dict:
        return {k: v for k, v in args.items() if k != "page"}

    @app.template_filter("day")
    def day(value) -> str:
        if isinstance(value, dt.datetime):
            value = clock.local(value).date()
        return value.strftime("%-d %b %Y") if value else ""
