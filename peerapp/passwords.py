"""Passwords per OWASP ASVS level 2: argon2id, 12 to 128 characters, no
composition rules, and the most common passwords refused."""
from __future__ import annotations

import functools
import re
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 128

# OWASP's argon2id parameters: t=2, m=19 MiB, p=1 (61 ms a login on this kind of machine).
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Verified against when the email is unknown, so both answers take as long.
# Written out (hasher.hash of a throw-away phrase) rather than hashed at each
# start, which cost 60 ms; tests/test_auth.py checks it has hasher's parameters.
DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$5pEKJL1Ain6NrfJ3Piywfw$xg1IVtJt1qr1u3D6USOTK7SFXQCZhP03B6bTYne8Rc8"


@functools.cache
def _common() -> frozenset[str]:
    # 49,233 breached passwords from a maintained list (see data/SOURCES.md).
    text = resources.files("peerapp.data").joinpath("breached-passwords.txt").read_text()
    return frozenset(line.lower() for line in text.splitlines() if line)


# Neighbours on a keyboard or in the alphabet: 'qwerty', 'abcd', '1234', '9870'.
_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz")


def _is_step(a: str, b: str) -> bool:
    if a == b:
        return True
    for row in _ROWS:
        i, j = row.find(a), row.find(b)
        if i >= 0 and j >= 0 and (abs(i - j) == 1 or {i, j} == {0, len(row) - 1} and row[0] == "1"):
            return True
    return False


def predictable(password: str) -> bool:
    """A unit repeated ('abcabcabcabc') or mostly runs of neighbours ('123456789012', 'qwertyuiop12')."""
    lowered = password.lower()
    if re.fullmatch(r"(.+?)\1+", lowered):
        return True
    pairs = list(zip(lowered, lowered[1:]))
    return bool(pairs) and sum(_is_step(a, b) for a, b in pairs) >= 0.75 * len(pairs)


def problems(password: str, *, name: str = "", email: str = "") -> list[str]:
    """Plain-English reasons a new password is refused (empty when it is fine)."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        found.append(f"Use no more than {MAX_LENGTH} characters.")
    lowered = password.lower()
    stem = re.sub(r"[\d\W_]+$", "", lowered)
    from .demo import DEMO_PASSWORD
    if DEMO_PASSWORD in lowered:
        found.append("This is the demo's published password. Choose your own.")
    elif lowered in _common() or (len(stem) >= 6 and stem in _common()) or len(set(lowered)) <= 2:
        found.append("This password is too common. Try a few unrelated words together.")
    elif predictable(password):
        found.append("This password is a repeated or sequential pattern (like abcabc or 12345). "
                     "Try a few unrelated words together.")
    elif len(local := email.split("@")[0].lower()) >= 4 and local in lowered:
        found.append("Do not base your password on your email address.")
    return found


def one_time_expiry():
    """When a one-time password issued now stops working (ONE_TIME_PASSWORD_HOURS, 72 by default)."""
    import datetime as dt

    from flask import current_app, has_app_context

    from . import clock
    hours = current_app.config["ONE_TIME_PASSWORD_HOURS"] if has_app_context() else 72
    return clock.now() + dt.timedelta(hours=hours)


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    try:
        return hasher.verify(stored_hash or DUMMY_HASH, password) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
