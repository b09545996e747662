"""NHS numbers: ten digits, the last a modulus 11 check digit (NHS Data Dictionary)."""
from __future__ import annotations


def normalise(text: str | None) -> str:
    """'943 476 5919' -> '9434765919'; spaces and dashes are how people write it."""
    return "".join(ch for ch in (text or "") if ch not in " -\t")


def problem(text: str | None) -> str | None:
    """None when valid, else a plain-English message."""
    digits = normalise(text)
    if not digits.isdigit() or not digits.isascii():
        return "An NHS number has only digits, for example 943 476 5919"
    if len(digits) != 10:
        return f"An NHS number has 10 digits; this has {len(digits)}"
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        return "This NHS number's check digit is wrong: check it against a letter or the record"
    return None


def is_valid(text: str | None) -> bool:
    return problem(text) is None


def formatted(digits: str | None) -> str:
    """'9434765919' -> '943 476 5919'."""
    d = normalise(digits)
    return f"{d[:3]} {d[3:6]} {d[6:]}" if len(d) == 10 else d
