"""Questions an earlier part of peerapp asks a later area, answered by that area.

Areas depend one way (training -> workforce -> referrals -> matching; wrap ->
workforce; outcomes, presence, readiness, reports and rights on top), so an area
never imports one after it. Where it still needs an answer that only a later area
has (workforce shows a peer's caseload, which referrals count; the work-WRAP is
shared with the peer's supervisor, whom workforce knows), the earlier part declares
a ``Question`` and ``peerapp.connect_areas()`` plugs in the later area's answer: an
explicit list, like ``area_blueprints()``, never a look-up by name.
"""
from __future__ import annotations

from typing import Callable


class Unanswered(RuntimeError):
    """Asked before ``peerapp.connect_areas()`` plugged in the answer (a setup error)."""


class Question:
    def __init__(self, name: str, answered_by: str) -> None:
        self.name = name
        self.answered_by = answered_by
        self._answer: Callable | None = None

    def answer_with(self, answer: Callable) -> None:
        self._answer = answer

    def __call__(self, *args, **kwargs):
        if self._answer is None:
            raise Unanswered(f"{self.name} is answered by {self.answered_by}; "
                             "peerapp.connect_areas() plugs the answer in (create_app calls it)")
        return self._answer(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Question {self.name} answered by {self.answered_by}>"
