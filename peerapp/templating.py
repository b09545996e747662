"""What every template can use: the menu, the access check, dates in London time."""
from __future__ import annotations

import datetime as dt

from flask import Flask, request
from flask_login import current_user

from . import clock
from .access import may
from .forms import ActionForm, marked_optional
from .models import ROLES
from .navigation import banners_for, menu_for, sections_for


def init_app(app: Flask) -> None:
    @app.context_processor
    def globals_():
        return {
            "menu": (lambda: menu_for(current_user, request.endpoint)),
            "banners": (lambda: banners_for(current_user)),
            "sections": (lambda page: sections_for(page, current_user)),
            "may": may,
            "action_form": ActionForm,
            "ROLES": ROLES,
        }

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
