"""CPU per request in one process: the fixed cost, and the contact POST against a bare insert.

    python bench/cost.py DATABASE [--n 500] [--only NAME,...] [--profile NAME] [--rounds 1]

Copies DATABASE (a seeded one: bench/seed.py) to a scratch file, makes the app with
bench/wsgi.py's two extra routes, signs in as the demo peer lead through the login
form and sends each request ``--n`` times through the WSGI app (Flask's test
client, no server), closing each response as a server does. Prints, per request,
the median and mean CPU time of this process (``time.process_time``, steadier
than wall-clock on a shared machine), the wall-clock median and the statements
sent. The requests:

- ``healthz``: anonymous hello world (/healthz);
- ``signed-in``: a signed-in route that does nothing (/bench/signed-in): the
  session, the access check and the response headers, nothing else;
- ``page``: the cheapest real signed-in page, /account/confirm (base.html with the menu);
- ``insert``: the bare insert route (POST /bench/insert, public, no form);
- ``contact``: the contact form POST of a lead on an active referral, a new contact each time;
- ``floor``: the same form posted to /bench/floor/<the referral's id>, which does
  only what any such POST must (session, CSRF, the form, the contact and its audit
  row, the flash), so ``contact`` minus ``floor`` is what the contact's own checks cost;
- any path (``--only /referrals/screening``): that page, GET by the lead.

``--profile NAME`` runs cProfile over that request's ``--n`` sends and prints the
top functions by own and cumulative time.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The form helpers bench/pages.py uses for the same contact POST.
from pages import TOKEN, _open_referral, _prefilled  # noqa: E402

LEAD = "lead@demo.peerapp"


def requests(app, database: Path, extra=()) -> dict:
    """name -> a function sending that request once (through a signed-in or anonymous client)."""
    from peerapp.demo import DEMO_PASSWORD
    anonymous = app.test_client()
    lead = app.test_client()
    page = lead.get("/login").get_data(as_text=True)
    answer = lead.post("/login", data={"email": LEAD, "password": DEMO_PASSWORD,
                                       "csrf_token": TOKEN.search(page).group(1)})
    assert answer.status_code in (302, 303), answer.status_code
    contact_path = f"/referrals/{_open_referral(database)}/contacts/new"
    form = lead.get(contact_path).get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)"', form)
    filled = _prefilled(form)
    written = iter(range(1, 10**9))
    # The same cookie each time, as bench/pages.py's gunicorn run sends it: the
    # "Contact recorded." message would otherwise pile up in the session (a browser
    # follows the redirect, which shows and removes it).
    signed_in = lead.get_cookie("peerapp_session").value

    def posted(path):
        def send():
            lead.set_cookie("peerapp_session", signed_in)
            response = lead.post(path, data={
                **filled, "minutes": "30", "attendance": "attended", "setting": "community",
                "summary": f"Bench write {next(written)}.", "cancelled_by": "",
                "intervention": options[1] if len(options) > 1 else "0"})
            assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:2000])
            return response
        return send

    def checked(client, method, path, status=200):
        def send():
            response = client.open(path, method=method)
            assert response.status_code == status, (path, response.status_code)
            return response
        return send

    return {"healthz": checked(anonymous, "GET", "/healthz"),
            "signed-in": checked(lead, "GET", "/bench/signed-in"),
            "page": checked(lead, "GET", "/account/confirm"),
            "insert": checked(anonymous, "POST", "/bench/insert"),
            "contact": posted(contact_path),
            "floor": posted(contact_path.replace("/referrals/", "/bench/floor/").replace("/contacts/new", "")),
            **{path: checked(lead, "GET", path) for path in extra}}


def timed(send, n: int) -> dict:
    from peerapp.db import counting_queries
    for _ in range(min(20, n)):  # warm: templates compiled, URL builders made
        send().close()
    cpu, wall = [], []
    for _ in range(n):
        started, cpu_started = time.perf_counter(), time.process_time()
        send().close()  # close runs call_on_close, as a WSGI server does
        cpu.append((time.process_time() - cpu_started) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    with counting_queries() as counted:
        send().close()
    return {"cpu": statistics.median(cpu), "mean": statistics.fmean(cpu), "wall": statistics.median(wall),
            "queries": counted.n, "sql": counted.sql}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--only", default="healthz,signed-in,page,insert,floor,contact")
    parser.add_argument("--profile")
    parser.add_argument("--callees", nargs="*", help="with --profile: what these functions call")
    parser.add_argument("--sql", action="store_true", help="print the statements each request sends")
    args = parser.parse_args()

    import logging
    scratch = Path(tempfile.mkdtemp(prefix="peerapp-cost-"))
    database = scratch / "cost.sqlite3"
    shutil.copyfile(args.database, database)
    try:
        from bench.wsgi import add_bench_routes
        from peerapp import create_app
        from peerapp.cli import upgrade_schema
        app = add_bench_routes(create_app({"DATABASE": str(database), "SECRET_KEY": "bench",
                                           "TESTING": False, "ALLOW_DEMO": True}))
        logging.getLogger("peerapp").setLevel(logging.ERROR)
        with app.app_context():
            upgrade_schema()
        extra = [name for name in args.only.split(",") if name.startswith("/")]
        sends = requests(app, database, extra)
        print(f"load average {os.getloadavg()[0]:.2f}; n={args.n}")
        for name in args.only.split(","):
            if args.profile == name:
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(args.n):
                    sends[name]().close()
                profile.disable()
                stats = pstats.Stats(profile).strip_dirs()
                stats.sort_stats("tottime").print_stats(35)
                stats.sort_stats("cumulative").print_stats(60)
                stats.print_callees(*args.callees) if args.callees else None
                continue
            found = timed(sends[name], args.n)
            print(f"{name:10} CPU median {found['cpu']:6.2f} ms  mean {found['mean']:6.2f} ms  "
                  f"wall median {found['wall']:6.2f} ms  statements {found['queries']}", flush=True)
            if args.sql:
                for sql in found["sql"]:
                    print("    ", sql[:300])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
