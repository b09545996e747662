"""An anonymous concern is anonymous for real: after one is raised, no table, no
audit row, no session record, no byte of the database file or its WAL and no log
line holds the raiser's id, name, e-mail or the time to the second."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from peerapp.audit import AuditEvent
from peerapp.db import db, is_sqlite
from peerapp.models import LoginSession
from peerapp.readiness.models import Concern
from tests.conftest import TOKEN

RAISED_AT = dt.datetime(2026, 11, 30, 14, 37, 52, 123456)  # naive UTC, as stored
SIGNED_IN_AT = dt.datetime(2026, 11, 30, 14, 20, 0)
NAME = "Quillon Farthingale"
EMAIL = "quillon.farthingale@anon-test.nhs.uk"


def _rows() -> dict[str, tuple[list[str], set[tuple]]]:
    """Every table's column names and rows (both engines)."""
    found = {}
    with db.connection_context():
        for table in db.get_tables():
            cursor = db.execute_sql(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            rows = {tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cursor.fetchall()}
            found[table] = (names, rows)
    return found


def _user_columns() -> dict[str, list[str]]:
    """Per table, the columns that point at a user."""
    with db.connection_context():
        return {t: [fk.column for fk in db.get_foreign_keys(t) if fk.dest_table == "user"] for t in db.get_tables()}


def _file_bytes(app) -> bytes:
    path = Path(app.config["DATABASE"])
    data = path.read_bytes()
    for extra in (Path(str(path) + "-wal"), Path(str(path) + "-journal")):
        if extra.exists():
            data += extra.read_bytes()
    return data


def _moments(moment: dt.datetime) -> list[bytes]:
    """Every way the raise time could have been written, to the second (and minute)."""
    epoch = int(moment.replace(tzinfo=dt.timezone.utc).timestamp())
    return [s.encode() for s in (moment.strftime("%Y-%m-%d %H:%M:%S"), moment.strftime("%Y-%m-%dT%H:%M"),
                                 moment.strftime("%H:%M:%S"), moment.strftime("%H:%M"), str(epoch),
                                 str(epoch * 1000)[:10 + 1])]


def test_an_anonymous_concern_leaves_no_trace_of_who_or_when(app, clock, make_user, login, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    clock.freeze(SIGNED_IN_AT)
    for n in range(5):  # so the raiser's id is not 1, which every first row has
        make_user("clinician", name=f"Colleague {n}")
    raiser = make_user("clinician", name=NAME, email=EMAIL)
    lead = make_user("peer_lead")
    client = login(raiser)
    with db.connection_context():  # signed in at 14:20
        LoginSession.update(created_at=clock(), last_seen_at=clock(), confirmed_at=clock()).execute()
    client.get("/")

    clock.freeze(RAISED_AT - dt.timedelta(seconds=42))
    form_page = client.get("/readiness/concerns/new").get_data(as_text=True)
    assert "Your words may identify you" in form_page  # told what anonymity cannot do
    assert "not stored" in form_page
    token = TOKEN.search(form_page).group(1)  # from this page: fetching another would touch the session

    before_rows = _rows()
    before_bytes = _file_bytes(app) if is_sqlite() else b""
    clock.freeze(RAISED_AT)
    response = client.post("/readiness/concerns/new", data={
        "csrf_token": token, "theme": "team_culture", "anonymous": "y",
        "text": "People talk over the peer workers in the MDT meeting."}, csrf=False)  # token given above
    assert response.status_code == 302
    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "anonymous concern has been sent" in sent

    after_rows = _rows()
    # The concern is stored, with no raiser and the date only.
    with db.connection_context():
        concern = Concern.get()
        assert concern.anonymous and concern.raised_by_id is None and concern.raised_on == dt.date(2026, 11, 30)
        event = AuditEvent.get(AuditEvent.record_type == "concern")
        assert event.user_id is None
        assert event.at == dt.datetime(2026, 11, 30, 0, 0)
        assert event.summary == "an anonymous concern was raised"
        # Neither opening the form nor raising touched the session: still last seen at sign-in.
        assert LoginSession.get(LoginSession.user == raiser).last_seen_at == SIGNED_IN_AT

    # Every row written or changed by raising it: none points at the raiser, none holds the time.
    user_columns = _user_columns()
    written = {t: after_rows[t][1] - before_rows.get(t, ([], set()))[1] for t in after_rows}
    assert written["concern"] and written["audit_event"]
    for table, rows in written.items():
        positions = [after_rows[table][0].index(c) for c in user_columns[table]]
        for row in rows:
            assert all(row[i] != raiser.id for i in positions), (table, row)
            text = repr(row)
            assert NAME not in text and EMAIL not in text, (table, row)
            assert "14:37" not in text and "14:36" not in text, (table, row)

    # The bytes of the database and its WAL: no time of the raise, and the raiser's
    # name and e-mail exactly as often as before (their own user row only).
    if is_sqlite():  # on PostgreSQL the rows above are what is stored
        after_bytes = _file_bytes(app)
        for moment in _moments(RAISED_AT) + _moments(RAISED_AT - dt.timedelta(seconds=42)):
            assert moment not in after_bytes, moment
        for secret in (NAME.encode(), EMAIL.encode()):
            assert after_bytes.count(secret) == before_bytes.count(secret) >= 1, secret

    # Nor anything in the logs or on the console.
    captured = capsys.readouterr()
    for text in (caplog.text, captured.out, captured.err):
        for secret in (NAME, EMAIL, "14:37:52", f"user #{raiser.id}", f"user_id={raiser.id}"):
            assert secret not in text

    # The peer lead reads it as anonymous; the raiser's own page does not list it.
    lead_page = login(lead).get(f"/readiness/concerns/{concern.id}").get_data(as_text=True)
    assert "People talk over the peer workers" in lead_page and NAME not in lead_page
    assert "Anonymous" in lead_page
    assert "People talk over" not in client.get("/readiness/concerns/mine").get_data(as_text=True)


def test_the_database_refuses_an_anonymous_concern_with_a_raiser(app, team, make_user):
    import peewee as pw
    import pytest

    raiser = make_user("peer")
    with db.connection_context():
        with pytest.raises(pw.IntegrityError):
            with db.atomic():
                Concern.create(team=team, theme="other", text="x", anonymous=True, raised_by=raiser,
                               raised_on=dt.date(2026, 11, 30))
        with pytest.raises(pw.IntegrityError):
            with db.atomic():
                Concern.create(team=team, theme="other", text="x", anonymous=False, raised_by=None,
                               raised_on=dt.date(2026, 11, 30))
