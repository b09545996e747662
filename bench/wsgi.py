"""The app as gunicorn serves it, plus one route only the benchmark has:
``POST /bench/insert``, a bare insert of one contact row in its own transaction
(no login, no form), the yardstick the contact form POST is compared with."""
from __future__ import annotations

import datetime as dt

from peerapp import create_app, csrf
from peerapp.access import PUBLIC, allow
from peerapp.db import db

app = create_app()


@app.post("/bench/insert")
@allow(PUBLIC)
@csrf.exempt
def bench_insert():
    from peerapp.referrals.models import Contact
    with db.atomic():
        Contact.insert(referral=1, contact_on=dt.date(2026, 11, 30), minutes=30, attendance="attended",
                       summary="bench", recorded_by=1, recorded_at=dt.datetime(2026, 11, 30, 9)).execute()
    return "ok"
