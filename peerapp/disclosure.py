"""NHS disclosure control for counts shown to the viewer role and in reports:
numbers of 1 to SMALL_NUMBER_LIMIT people are suppressed, others rounded to 5,
so nobody can be singled out from an aggregate."""
from __future__ import annotations

from flask import current_app, has_app_context

SUPPRESSED = "*"


def disclose(number: int, limit: int | None = None) -> str | int:
    if limit is None:
        limit = current_app.config["SMALL_NUMBER_LIMIT"] if has_app_context() else 7
    if number == 0:
        return 0
    if 1 <= number <= limit:
        return SUPPRESSED
    return int(5 * round(number / 5))
