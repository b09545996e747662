"""The app as gunicorn serves it, plus routes only the benchmark has:
``GET /bench/hello``, a route that answers "hello" and nothing else (the app's
hooks still run, as for every route), the yardstick the busiest lists are compared
with; ``POST /bench/insert``, a bare insert of one contact row in its own transaction
(no login, no form), the yardstick the contact form POST is compared with;
``POST /bench/floor/<referral id>``, the contact form's framework steps and nothing of the
referral (a signed-in POST: the session and its user, the CSRF token, the same
WTForms form with its choices of intervention, the contact and its audit row in
one transaction, the flash and the redirect), so what the contact POST's own
checks add is measured apart from what any such POST costs; and
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

    @app.post("/bench/floor/<int:referral_id>")
    @allow(SIGNED_IN)
    def bench_floor(referral_id: int):
        from flask import flash, redirect, url_for
        from flask_login import current_user

        from peerapp import clock
        from peerapp.audit import audit
        from peerapp.referrals.forms import ContactForm
        from peerapp.referrals.models import Referral
        from peerapp.referrals.services import _NEW_CONTACT
        # The referral's choices of intervention, as the contact form offers them (one
        # query), but not the referral: who may see it is the contact POST's own check.
        form = ContactForm(referral=Referral(id=referral_id, referred_on=dt.date.min))
        if not form.validate_on_submit():
            return str(form.errors), 400
        with db.atomic():
            contact = _NEW_CONTACT(referral=referral_id, peer_role=None, recorded_by=current_user.id,
                                   recorded_at=clock.now(), contact_on=form.contact_on.data, minutes=form.minutes.data,
                                   intervention=form.intervention.data or None, setting=form.setting.data,
                                   attendance=form.attendance.data, cancelled_by="",
                                   summary=form.summary.data, debrief_on=None)
            audit("create", contact, summary="contact")
        flash("Contact recorded.", "success")
        return redirect(url_for("home.index"))

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
