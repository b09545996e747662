"""What the viewer and a volunteer are shown, walked over every GET route with real
ids from the demo data. The walk that proves a GET changes nothing is in
tests/test_roles_walk.py, sharing its crawl with the roles check; the helpers
here (every GET URL, a digest of every table) serve both."""
from __future__ import annotations

import hashlib
import re

import pytest
from werkzeug.routing import IntegerConverter

from peerapp.db import db
from peerapp.demo import DEMO_USERS, load_demo
from peerapp.models import LoginSession, User


def _fingerprint() -> dict[str, str]:
    """A digest of every table's rows, to prove a GET changed nothing."""
    found = {}
    for table in db.get_tables():
        rows = db.execute_sql(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
        found[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return found


def _urls(app, ids=(1, 2, 3)):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        if any(not isinstance(rule._converters[a], IntegerConverter) for a in rule.arguments):
            continue
        for n in ids if rule.arguments else (None,):
            url = rule.rule
            for name in rule.arguments:
                url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", str(n), url)
            yield url


@pytest.mark.same_on_every_engine("what a role is shown is decided in Python")
def test_the_viewer_never_sees_a_person_on_any_page(app):
    """Aggregate only: no service user's, candidate's or peer's name on any page a viewer opens."""
    from peerapp.referrals.models import ServiceUser
    from peerapp.training.models import Candidate

    with app.app_context():
        load_demo()
        viewer = User.by_email("viewer@demo.peerapp")
        token = LoginSession.start(viewer)
        names = {s.name for s in ServiceUser.select()} | {c.name for c in Candidate.select()}
    client = app.test_client()
    with client.session_transaction() as session:
        session["sid"], session["_user_id"] = token, str(viewer.id)
    assert len(names) > 20
    for url in sorted(set(_urls(app))):
        text = client.get(url).get_data(as_text=True)
        shown = [name for name in names if name in text]
        assert shown == [], (url, shown)


@pytest.mark.same_on_every_engine("what a role is shown is decided in Python")
def test_a_volunteer_never_sees_notes_on_any_page(app):
    """No electronic records for volunteers: contact summaries, service users' own
    words, goals and screening notes never reach them, whatever id they try."""
    from peerapp.referrals.models import Contact, Referral

    with app.app_context():
        load_demo()
        volunteer = User.by_email("volunteer@demo.peerapp")
        token = LoginSession.start(volunteer)
        # A planted canary in every clinician's risk summary: the volunteer's own cards included.
        for r in Referral.select():
            Referral.update(risk_summary=f"RISK-SUMMARY-CANARY-{r.id} {r.risk_summary}").where(
                Referral.id == r.id).execute()
        Referral.update(safety_note="Meet in the café, not at home; call Priya if worried.").execute()
        notes = ({c.summary for c in Contact.select()} |
                 {t for r in Referral.select() for t in (r.own_words, r.goals, r.screening_reasons, r.closing_summary,
                                                         r.risk_considerations, r.risk_summary)})
        notes = {n for n in notes if len(n) > 15}
    client = app.test_client()
    with client.session_transaction() as session:
        session["sid"], session["_user_id"] = token, str(volunteer.id)
    assert len(notes) > 10
    caseload = client.get("/referrals/caseload").get_data(as_text=True)
    assert "How to contact" in caseload and "Agreed intervention" in caseload  # the card, and only the card
    # What a volunteer needs to stay safe is there: the level and the peer lead's note for them.
    assert "Staying safe" in caseload and "Meet in the café, not at home" in caseload
    for url in sorted(set(_urls(app, ids=range(1, 16)))):
        text = client.get(url).get_data(as_text=True)
        shown = [n[:40] for n in notes if n in text]
        assert shown == [], (url, shown)
        assert "RISK-SUMMARY-CANARY" not in text, url
