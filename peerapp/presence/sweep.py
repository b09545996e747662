"""The presence sweep (``flask --app peerapp presence-sweep``, every minute from
cron or a systemd timer): writes down forgotten sign-outs, blanks old visit
places, and sends the e-mails the escalation ladder owes.

Pages never wait for it: status is read from the clock. The sweep only adds what
cannot be derived on read: e-mail, and forgetting places.

Idempotent, even with two sweeps at once: a notification is queued once (unique
visit + step, INSERT ... ON CONFLICT DO NOTHING) and sent by whoever claims it
(a compare-and-set on the row, outside which no one sends). A failed send keeps
its row with the attempt count and error and is retried by the next sweeps; the
board shows it until it is sent. A sweep killed between sending and recording may
send once more after the claim lapses (at least once, never silently never).
"""
from __future__ import annotations

import datetime as dt
import secrets
import smtplib
import socket
from email.message import EmailMessage

from .. import clock
from ..audit import audit
from ..db import db
from ..models import Team, User, UserRole
from . import services
from .models import Notification, PresenceSettings, Visit, VisitEvent

CLAIM_SECONDS = 120
SMTP_TIMEOUT = 20  # well inside the claim


def run(config: dict) -> dict[str, int]:
    """One sweep. ``config`` is the app's config (MAIL_* keys)."""
    found = {"closed": 0, "blanked": 0, "queued": 0, "sent": 0, "failed": 0}
    with db.atomic():
        found["closed"] = services._close_forgotten()
    found["blanked"] = blank_places()
    if config.get("MAIL_SERVER"):
        found["queued"] = queue()
        sent, failed = send_due(config)
        found["sent"], found["failed"] = sent, failed
    return found


# --- places are kept no longer than needed ---------------------------------------------

def blank_places() -> int:
    now = clock.now()
    blanked = 0
    for team in list(Team.select(Team.id)):  # lists: no read left open under a write (WAL)
        keep = PresenceSettings.for_team(team.id).keep_place_days
        cutoff = now - dt.timedelta(days=keep)
        finished = ((Visit.state.in_(("ended", "cancelled")) & (Visit.ended_at <= cutoff)) |
                    ((Visit.state == "planned") & (Visit.starts_at <= cutoff)))
        for visit in list(Visit.select(Visit.id).where(Visit.team == team.id, Visit.place != "", finished)):
            with db.atomic():
                changed = (Visit.update(place="", place_blanked_at=now)
                           .where(Visit.id == visit.id, Visit.place != "").execute())
                if changed:
                    VisitEvent.create(visit=visit.id, at=now, by=None, kind="place_blanked",
                                      note=f"after {keep} days")
                    audit("update", record_type="visit", record_id=visit.id,
                          summary=f"visit place blanked after {keep} days", user=None)
                    blanked += 1
    return blanked


# --- e-mail -------------------------------------------------------------------------------

def queue() -> int:
    """A row for each step the clock has reached and nobody has acknowledged yet."""
    now = clock.now()
    steps = {
        "due_soon": (Visit.due_soon_at <= now) & (Visit.overdue_at > now),
        "overdue": (Visit.overdue_at <= now) & Visit.lead_ack_at.is_null(),
        "escalated": (Visit.escalate_at <= now) & Visit.manager_ack_at.is_null(),
    }
    before = Notification.select().count()
    for step, condition in steps.items():
        for visit in list(Visit.select(Visit.id).where(Visit.state == "started", condition)):
            with db.atomic():  # a second sweep's identical row is ignored by the unique (visit, step)
                (Notification.insert(visit=visit.id, step=step, created_at=now, next_attempt_at=now)
                 .on_conflict_ignore().execute())
    return Notification.select().count() - before


def _claim(note_id: int, token: str) -> bool:
    now = clock.now()
    with db.atomic():
        changed = (Notification.update(claim=token, claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
                   .where(Notification.id == note_id, Notification.sent_at.is_null(),
                          Notification.next_attempt_at <= now,
                          Notification.claimed_until.is_null() | (Notification.claimed_until < now))
                   .execute())
    return changed == 1


def recipients(visit: Visit, step: str) -> list[str]:
    active = User.select(User.email).where(User.active == True, User.team == visit.team_id)  # noqa: E712
    if step == "due_soon":
        return [u.email for u in User.select(User.email).where(User.id == visit.worker_id, User.active == True)]  # noqa: E712
    role = "peer_lead" if step == "overdue" else "manager"
    return [u.email for u in active.where(User.id.in_(UserRole.select(UserRole.user).where(UserRole.role == role)))
            .order_by(User.email)]


def message(visit: Visit, step: str, config: dict) -> EmailMessage:
    """Says who and when, never where: the place stays in peerapp."""
    back = clock.local(visit.expected_return_at).strftime("%H:%M")
    board = (config.get("BASE_URL") or "").rstrip("/") + "/presence/board"
    subject, text = {
        "due_soon": ("peerapp: your visit is due to end soon",
                     f"You are due back at {back}. Check out safe in peerapp, or extend the visit if you need longer."),
        "overdue": (f"peerapp: {visit.worker.name} is overdue back from a visit",
                    f"{visit.worker.name} was due back at {back} and has not checked out.\n"
                    f"A peer lead must call them now and press \"I am calling them\" on the overdue board:\n{board}"),
        "escalated": (f"peerapp: ESCALATED - {visit.worker.name} is still not back from a visit",
                      f"{visit.worker.name} was due back at {back}. The visit is not resolved and is now escalated "
                      f"to you as manager. Acknowledge it on the overdue board and follow the procedure:\n{board}"),
    }[step]
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = config.get("MAIL_FROM") or "peerapp@localhost"
    mail.set_content(text + "\n\nThis is a buddy-and-escalation log run by your team, not an alarm-receiving service.\n")
    return mail


def deliver(mail: EmailMessage, to: list[str], config: dict) -> None:
    host, port = config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25)
    factory = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    with factory(host, port, timeout=SMTP_TIMEOUT) as smtp:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        del mail["To"]
        mail["To"] = ", ".join(to)
        smtp.send_message(mail)


def _error_text(error: Exception) -> str:
    """What went wrong, without any address or personal data (kept on the board)."""
    if isinstance(error, (ConnectionRefusedError, socket.timeout, TimeoutError, OSError)) and \
            not isinstance(error, smtplib.SMTPException):
        return "mail server not reachable"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "mail server refused the recipients"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "mail server refused the login"
    if isinstance(error, smtplib.SMTPException):
        return f"mail server error ({type(error).__name__})"
    return type(error).__name__


def send_due(config: dict) -> tuple[int, int]:
    now = clock.now()
    sent = failed = 0
    token = secrets.token_hex(8)
    due = list(Notification.select().where(Notification.sent_at.is_null(), Notification.next_attempt_at <= now,
                                           Notification.claimed_until.is_null() | (Notification.claimed_until < now))
               .order_by(Notification.created_at, Notification.id))
    for note in due:
        if not _claim(note.id, token):
            continue  # another sweep has it
        Worker = User.alias()
        visit = (Visit.select(Visit, Worker).join(Worker, on=(Visit.worker == Worker.id))
                 .where(Visit.id == note.visit_id).get())
        if visit.state != "started":
            with db.atomic():  # resolved before we got to it: nothing to say any more
                Notification.delete().where(Notification.id == note.id, Notification.claim == token).execute()
            continue
        try:
            to = recipients(visit, note.step)
            if not to:
                raise LookupError("nobody with this role in the team to e-mail")
            deliver(message(visit, note.step, config), to, config)
        except Exception as error:  # noqa: BLE001 - every failure is kept and retried, never lost
            attempts = note.attempts + 1
            text = str(error) if isinstance(error, LookupError) else _error_text(error)
            with db.atomic():
                (Notification.update(attempts=attempts, last_error=text[:200], claimed_until=None, claim="",
                                     next_attempt_at=clock.now() + dt.timedelta(minutes=min(attempts, 5)))
                 .where(Notification.id == note.id, Notification.claim == token).execute())
            failed += 1
            continue
        with db.atomic():
            (Notification.update(sent_at=clock.now(), attempts=note.attempts + 1, claimed_until=None, last_error="")
             .where(Notification.id == note.id, Notification.claim == token).execute())
            audit("create", record_type="visit", record_id=visit.id,
                  summary=f"{note.step.replace('_', ' ')} e-mail sent", user=None)
        sent += 1
    return sent, failed

