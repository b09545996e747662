"""The presence sweep: e-mail for each escalation step sent once (two sweeps racing
included), a mail server that is down and then up delivers once, failures shown on
the board, forgotten sign-outs written down, places blanked after the set days."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from peerapp.audit import AuditEvent
from peerapp.db import db
from peerapp.presence import services, sweep
from peerapp.presence.models import BaseSignIn, Notification, PresenceSettings, Visit, VisitEvent
from tests.smtp_server import TinySMTP, free_port
from tests.test_presence import T0, in_app, people, started  # noqa: F401  (fixtures)


@pytest.fixture
def smtp():
    server = TinySMTP()
    yield server
    server.stop()


def mail_on(app, port):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="peerapp@test.nhs.uk",
                      BASE_URL="https://peerapp.test")


def sweep_once(app):
    with db.connection_context():
        return sweep.run(app.config)


def test_each_step_is_e_mailed_once_to_the_right_people(app, people, clock, smtp):
    mail_on(app, smtp.port)
    started(people["peer"], people["peer"], place="Flat 9, Secret Street")
    clock.freeze(T0 + dt.timedelta(minutes=46))
    assert sweep_once(app)["sent"] == 1
    clock.freeze(T0 + dt.timedelta(minutes=66))
    assert sweep_once(app)["sent"] == 1
    assert sweep_once(app)["sent"] == 0  # nothing twice
    clock.freeze(T0 + dt.timedelta(minutes=96))
    assert sweep_once(app)["sent"] == 1
    sweep_once(app)
    steps = [(sorted(to), mail["Subject"]) for to, mail in smtp.messages]
    assert len(steps) == 3
    assert steps[0][0] == [people["peer"].email] and "due to end soon" in steps[0][1]
    assert sorted(steps[1][0]) == sorted([people["lead"].email, people["lead2"].email]) and "overdue" in steps[1][1]
    assert steps[2][0] == [people["manager"].email] and "ESCALATED" in steps[2][1]
    bodies = "".join(mail.get_payload() for _, mail in smtp.messages)
    assert "Secret Street" not in bodies  # the place never leaves peerapp
    assert "https://peerapp.test/presence/board" in bodies


def test_an_acknowledged_step_is_not_e_mailed(app, people, clock, smtp):
    mail_on(app, smtp.port)
    visit = started(people["peer"], people["peer"])
    clock.freeze(T0 + dt.timedelta(minutes=66))
    with db.connection_context():
        services.acknowledge(visit.id, by=people["lead"], step="peer_lead")
    sweep_once(app)
    assert [m["Subject"] for _, m in smtp.messages if "overdue" in m["Subject"]] == []


def test_two_sweeps_racing_send_each_message_once(app, people, clock, smtp):
    mail_on(app, smtp.port)
    for worker in ("peer", "other"):
        started(people[worker], people[worker])
    clock.freeze(T0 + dt.timedelta(minutes=96))  # overdue and escalated for both: 4 e-mails (no late "due soon")
    barrier, errors = threading.Barrier(3), []

    def one():
        try:
            with app.app_context():
                barrier.wait()
                sweep_once(app)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    subjects = sorted(m["Subject"] for _, m in smtp.messages)
    assert len(subjects) == 4 and len(set(subjects)) == 4
    with db.connection_context():
        assert Notification.select().where(Notification.sent_at.is_null(False)).count() == 4
    # The claim itself: whoever holds it, nobody else may take it.
    with db.connection_context():
        first = Notification.select().first()
        Notification.update(sent_at=None).where(Notification.id == first.id).execute()
        assert sweep._claim(first.id, "a") is True and sweep._claim(first.id, "b") is False


def test_mail_server_down_then_up_delivers_once_and_the_board_says_so(app, people, clock, login):
    port = free_port()
    mail_on(app, port)
    started(people["peer"], people["peer"])
    clock.freeze(T0 + dt.timedelta(minutes=66))
    found = sweep_once(app)
    assert found["sent"] == 0 and found["failed"] == 1  # the overdue e-mail
    with db.connection_context():
        note = Notification.get(Notification.step == "overdue")
        assert note.attempts == 1 and note.last_error == "mail server not reachable" and note.sent_at is None
    board = login(people["lead"]).get("/presence/board").get_data(as_text=True)
    assert "not sent" in board and "mail server not reachable" in board and "retrying" in board
    assert sweep_once(app)["failed"] == 0  # not retried before its time: backoff
    server = TinySMTP(port)
    try:
        clock.advance(minutes=1)
        assert sweep_once(app)["sent"] == 1
        clock.advance(minutes=1)
        assert sweep_once(app)["sent"] == 0
        assert [m["Subject"] for _, m in server.messages] == ["peerapp: Sam Peer is overdue back from a visit"]
    finally:
        server.stop()
    board = login(people["lead"]).get("/presence/board").get_data(as_text=True)
    assert "not sent" not in board and "sent" in board


def test_without_a_mail_server_nothing_is_queued_and_the_board_says_the_board_is_the_alarm(app, people, clock, login):
    started(people["peer"], people["peer"])
    clock.freeze(T0 + dt.timedelta(minutes=66))
    assert sweep_once(app)["queued"] == 0
    assert "E-mail alerts are off" in login(people["lead"]).get("/presence/board").get_data(as_text=True)


def test_a_resolved_visit_gets_no_late_e_mail(app, people, clock, smtp):
    mail_on(app, smtp.port)
    visit = started(people["peer"], people["peer"])
    clock.freeze(T0 + dt.timedelta(minutes=66))
    with db.connection_context():
        sweep.queue()
        services.check_out(visit.id, by=people["peer"], version=2)
        sweep.send_due(app.config)
    assert smtp.messages == []


def test_the_sweep_writes_down_forgotten_sign_outs(app, people, clock):
    with db.connection_context():
        services.sign_in(people["peer"], by=people["peer"])
    clock.freeze(dt.datetime(2026, 11, 30, 20, 1))
    assert sweep_once(app)["closed"] == 1
    with db.connection_context():
        stay = BaseSignIn.get(BaseSignIn.user == people["peer"].id)
        assert stay.auto_closed and stay.signed_out_at == dt.datetime(2026, 11, 30, 20)
        assert AuditEvent.select().where(AuditEvent.summary.contains("forgotten sign-out")).count() == 1
    assert sweep_once(app)["closed"] == 0


def test_places_are_blanked_after_the_set_days_and_the_timeline_stays(app, people, clock, team):
    old = started(people["peer"], people["peer"], place="Old place")
    with db.connection_context():
        services.check_out(old.id, by=people["peer"], version=2)
    recent = started(people["other"], people["other"], place="Recent place")
    clock.freeze(T0 + dt.timedelta(days=20))
    with db.connection_context():
        services.check_out(recent.id, by=people["other"], version=2)
    clock.freeze(T0 + dt.timedelta(days=30, minutes=1))
    assert sweep_once(app)["blanked"] == 1
    with db.connection_context():
        assert Visit.get_by_id(old.id).place == "" and Visit.get_by_id(old.id).place_blanked_at is not None
        assert Visit.get_by_id(recent.id).place == "Recent place"
        kinds = [e.kind for e in VisitEvent.select().where(VisitEvent.visit == old.id).order_by(VisitEvent.id)]
        assert kinds == ["planned", "started", "checked_out", "place_blanked"]
        assert AuditEvent.select().where(AuditEvent.summary == "visit place blanked after 30 days").count() == 1
        PresenceSettings.create(team=team, keep_place_days=7)
    assert sweep_once(app)["blanked"] == 1


def test_the_command_runs_once(app, people, clock):
    result = app.test_cli_runner().invoke(args=["presence-sweep"])
    assert result.exit_code == 0 and "presence sweep:" in result.output
