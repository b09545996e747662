"""The app as gunicorn serves it, plus routes only the benchmark has:
``GET /bench/hello``, a route that answers "hello" and nothing else (the app's
hooks still run, as for every route), the yardstick the busiest lists are compared
with; ``POST /bench/insert``, a bare insert of one contact row in its own transaction
(no login, no form), the yardstick the contact form POST is compared with; and
``GET /bench/signed-in``, a signed-in route that does nothing, so what every
signed-in request pays (the session, the access check, the headers) is measured
alone (bench/cost.py)."""
from __future__ import annotations

import datetime as dt

from flask import Flask


def add_bench_routes(app: Flask) -> Flask:
    from peerapp import csrf
    from peerapp.access import PUBLIC, SIGNED_IN, allow
    from peerapp.db import db

    @app.get("/bench/hello")
    @allow(PUBLIC)
    def bench_hello():
        return "hello"

    @app.post("/bench/insert")
    @allow(PUBLIC)
    @csrf.exempt
    def bench_insert():
        from peerapp.referrals.models import Contact
        with db.atomic():
            Contact.insert(referral=1, contact_on=dt.date(2026, 11, 30), minutes=30, attendance="attended",
                           summary="bench", recorded_by=1, recorded_at=dt.datetime(2026, 11, 30, 9)).execute()
        return "ok"

    @app.get("/bench/signed-in")
    @allow(SIGNED_IN)
    def bench_signed_in():
        return "ok"

    return app


def __getattr__(name: str):
    """``bench.wsgi:app`` (gunicorn) makes the app on first use; bench/cost.py imports
    only ``add_bench_routes``."""
    if name != "app":
        raise AttributeError(name)
    from peerapp import create_app
    globals()["app"] = made = add_bench_routes(create_app())
    return made
