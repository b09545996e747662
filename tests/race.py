"""Race N requests on one record: every thread reads the record, then all write at once.

A view reads its record through a loader (``referral_or_404`` ...). ``race`` wraps
that loader so each POST waits, after reading, until every thread has read: the
classic lost update (two people open the same page, both press the button) happens
every run instead of by luck. The database is a file and each thread has its own
connection and client, as in production.
"""
from __future__ import annotations

import threading

from flask import request


def race(monkeypatch, module, loader: str, requests: list) -> list:
    """Run each callable in ``requests`` (one client request each) in its own thread,
    all after reading through ``module.loader``; return their responses in order."""
    barrier = threading.Barrier(len(requests), timeout=10)
    original = getattr(module, loader)

    def read_then_wait(*args, **kwargs):
        found = original(*args, **kwargs)
        if request.method == "POST":
            try:
                barrier.wait()
            except threading.BrokenBarrierError:  # a thread refused before reading: go on
                pass
        return found

    monkeypatch.setattr(module, loader, read_then_wait)
    results: list = [None] * len(requests)
    errors: list = []

    def run(i: int) -> None:
        try:
            results[i] = requests[i]()
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


def outcome(responses, refusal: str) -> tuple[int, int]:
    """(winners, refused): a loser is told ``refusal`` (follow redirects to see a flashed one);
    a winner is not; nobody gets a 500."""
    bodies = [r.get_data(as_text=True) for r in responses]
    assert all(r.status_code < 500 for r in responses), [r.status_code for r in responses]
    refused = sum(refusal in body for body in bodies)
    winners = sum(r.status_code in (200, 302, 303) and refusal not in body for r, body in zip(responses, bodies))
    return winners, refused
