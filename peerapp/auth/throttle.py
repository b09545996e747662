"""Password guessing is slowed per account AND source address, never locked.

The design (OWASP ASVS 5.0 V6.3.1, NIST SP 800-63B 5.2.2): a hard lock after N
failures let anyone keep a peer lead out for hours with one wrong password
every 3 minutes. Here each (account, address) pair may fail ``max_failures``
times in 24 hours freely; after that it must wait before each further try, the
wait doubling (1, 2, 4 ... minutes, at most ``max_delay``). The owner, coming
from their own address, is not slowed by someone else's guesses. To stop many
addresses sharing the work, an account takes at most ``account_per_hour``
failures an hour (NIST's 100); past that, only addresses the account has
signed in from before still get in. A success clears its own address only.
Failed re-authentication ("password again", "current password") counts here
too. Admins see accounts under attack on Admin -> Sign-in failures.

No Flask here: the caller passes the hashed email and address.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from ..models import LoginFailure, LoginSource, User

MEMORY = dt.timedelta(hours=24)   # failures older than this are forgotten


@dataclass(frozen=True)
class Limits:
    max_failures: int = 5
    max_delay: dt.timedelta = dt.timedelta(minutes=60)
    account_per_hour: int = 100


def source_key(address: str | None, secret: str) -> str:
    """The address is kept only as a keyed hash."""
    return hmac.new(secret.encode(), (address or "unknown").encode(), hashlib.sha256).hexdigest()


def record(email: str, source: str, now: dt.datetime) -> None:
    LoginFailure.create(email_hash=LoginFailure.key(email), source_hash=source, at=now)


def succeeded(email: str, source: str, now: dt.datetime) -> None:
    """A right password from this address: its failures go, and it is remembered."""
    key = LoginFailure.key(email)
    LoginFailure.delete().where(LoginFailure.email_hash == key, LoginFailure.source_hash == source).execute()
    known = LoginSource.update(last_at=now).where(LoginSource.email_hash == key,
                                                  LoginSource.source_hash == source).execute()
    if not known:
        LoginSource.insert(email_hash=key, source_hash=source, last_at=now).on_conflict_ignore().execute()


def wait(email: str, source: str, now: dt.datetime, limits: Limits) -> dt.timedelta:
    """How long this address must wait before trying this account again (zero: it may try)."""
    key = LoginFailure.key(email)
    mine = [f.at for f in LoginFailure.select(LoginFailure.at)
            .where(LoginFailure.email_hash == key, LoginFailure.source_hash == source,
                   LoginFailure.at >= now - MEMORY).order_by(LoginFailure.at)]
    longest = dt.timedelta(0)
    if len(mine) >= limits.max_failures:
        delay = min(dt.timedelta(minutes=2 ** (len(mine) - limits.max_failures)), limits.max_delay)
        longest = max(longest, mine[-1] + delay - now)
    hour = now - dt.timedelta(hours=1)
    known = LoginSource.select().where(LoginSource.email_hash == key, LoginSource.source_hash == source).exists()
    if not known:
        recent = [f.at for f in LoginFailure.select(LoginFailure.at)
                  .where(LoginFailure.email_hash == key, LoginFailure.at >= hour)
                  .order_by(LoginFailure.at.desc()).limit(limits.account_per_hour)]
        if len(recent) >= limits.account_per_hour:
            longest = max(longest, recent[-1] + dt.timedelta(hours=1) - now)
    return max(longest, dt.timedelta(0))


@dataclass
class UnderAttack:
    email: str          # the account's email, or "(no such account)"
    name: str
    failures: int
    addresses: int
    last_at: dt.datetime


def under_attack(now: dt.datetime, minimum: int = 3) -> list[UnderAttack]:
    """Accounts with at least ``minimum`` failed sign-ins in the last 24 hours, most first."""
    import peewee as pw
    rows = (LoginFailure.select(LoginFailure.email_hash, pw.fn.COUNT(LoginFailure.id).alias("n"),
                                pw.fn.COUNT(LoginFailure.source_hash.distinct()).alias("sources"),
                                pw.fn.MAX(LoginFailure.at).alias("last_at"))
            .where(LoginFailure.at >= now - MEMORY).group_by(LoginFailure.email_hash)
            .having(pw.fn.COUNT(LoginFailure.id) >= minimum).order_by(pw.SQL("n").desc()).limit(100))
    rows = list(rows.dicts())
    if not rows:
        return []
    names = {LoginFailure.key(u.email): u for u in User.select(User.email, User.name)}
    found = []
    for row in rows:
        user = names.get(row["email_hash"])
        last_at = row["last_at"]
        if isinstance(last_at, str):  # SQLite hands MAX() of a datetime back as text
            last_at = dt.datetime.fromisoformat(last_at)
        found.append(UnderAttack(email=user.email if user else "(no such account)",
                                 name=user.name if user else "", failures=row["n"],
                                 addresses=row["sources"], last_at=last_at))
    return found
