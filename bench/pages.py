"""Every page at two data sizes: p50/p95 time, bytes and queries, and what grows.

    python bench/pages.py [--small-scale 0.05] [--large-scale 1.0] [--repeat 30]
                          [--only REGEX] [--throughput] [--seconds 10]

Seeds (once, cached under bench/.data/) a database at each scale with
bench/seed.py, signs in as every demo login through the login form, then
requests every GET page found in app.url_map (demo ids, as every demo login
that may open it: 366 page-and-login pairs; ``--first-role``, the first only)
and the POST searches ``--repeat`` times one after another
(one connection, in-process through the WSGI app, so the figures are the app's
own time) and prints one line a page: p50/p95 in ms at each size, KB and
queries at each size. ``SLOW`` marks p95 over 50 ms at the large size, ``GROWS``
a query count that changes with the data.

``--throughput`` then serves the large database with gunicorn (2 sync workers)
and measures requests a second of the busiest list pages against a hello-world
route (/bench/hello), and of a write, the contact form POST, against a bare
insert route (both yardsticks added by bench/wsgi.py, never by the app): each
in turn with its yardstick, three rounds, the median round's share printed with
the spread. The same form is also posted to /bench/floor, which does only what
any signed-in form POST that saves a row must, for how near the contact POST is
to that floor.
It also times a cold start (process start to first response). This is a
benchmark run by hand; the suite keeps the deterministic part
(tests/test_query_counts.py).
"""
from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = ROOT / "bench" / ".data"
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
ROLE_ORDER = ("lead", "manager", "admin", "clinician", "facilitator", "peer", "volunteer", "viewer", "lead2")
# POST searches (names never go in URLs): endpoint, login, form data.
SEARCHES = [("referrals.search", "lead", {"q": "Ada"}), ("referrals.search", "clinician", {"q": "Shaw"}),
            ("admin.users", "admin", {"q": "Bench", "status": "all", "team": "0"}),
            ("admin.audit_log", "admin", {"who": "Bench", "action": "view"})]


# Filtered lists (non-identifying query parameters), measured like pages.
FILTERED = [("admin.audit_log", "/admin/audit?action=view"),
            ("admin.audit_log", "/admin/audit?record_type=referral&record_id=1"),
            ("admin.audit_log", "/admin/audit?user=1"),
            ("referrals.index", "/referrals/?state=closed"),
            ("referrals.closed", "/referrals/closed?state=declined")]


def seeded(scale: float) -> Path:
    """The seeded database for this scale (made once, copied for each run)."""
    DATA.mkdir(exist_ok=True)
    cached = DATA / f"trust-{scale:g}.sqlite3"
    if not cached.exists():
        import subprocess
        subprocess.run([sys.executable, str(ROOT / "bench" / "seed.py"), str(cached) + ".tmp",
                        "--scale", str(scale)], check=True)
        os.replace(str(cached) + ".tmp", cached)
    work = DATA / f"run-{scale:g}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    shutil.copyfile(cached, work)
    # The copy leaves ~0.8 GB of dirty pages for the kernel to write back; measured
    # meanwhile, every commit's fsync queues behind them (a server's disk is not
    # rewriting its whole database while it serves).
    os.sync()
    return work


class counting_queries:
    """peerapp.db.counting_queries where the code has it (the 'before' run may not)."""

    def __new__(cls):
        try:
            from peerapp.db import counting_queries as house
            return house()
        except ImportError:
            return super().__new__(cls)

    def __enter__(self):
        from peerapp.db import db
        self.n, self._database = 0, db.obj
        original = type(self._database).execute_sql

        def execute_sql(sql, params=None, *args, **kwargs):
            self.n += 1
            return original(self._database, sql, params, *args, **kwargs)
        self._database.execute_sql = execute_sql
        return self

    def __exit__(self, *exc):
        self._database.__dict__.pop("execute_sql", None)


def urls(app):
    yield from ((e, u) for e, u in FILTERED if e in app.view_functions)
    from werkzeug.routing import IntegerConverter
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        if any(not isinstance(rule._converters[a], IntegerConverter) for a in rule.arguments):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", "1", url)
        yield rule.endpoint, url


def sign_in(app, email: str):
    from peerapp.demo import DEMO_PASSWORD
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = TOKEN.search(page).group(1)
    answer = client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token})
    assert answer.status_code in (302, 303), (email, answer.status_code)
    return client


def worked_out_on_first_view(app) -> None:
    """What a period the figures sweep does not cover costs its first reader (all teams,
    every section, as the viewer's /reports/ shows them): printed beside the table."""
    from peerapp import clock
    from peerapp.models import Team
    from peerapp.reports import figures, periods
    with app.app_context():
        today = clock.today()
        teams = [tid for (tid,) in Team.select(Team.id).tuples()]
        for period in (periods.choices(today)[2], periods.choices(today)[8]):
            started = time.perf_counter()
            for work_out in figures.SECTIONS.values():
                work_out(period.start, period.end, teams, today)
            print(f"  (first view of {period.label}, all teams, every section, worked out: "
                  f"{(time.perf_counter() - started) * 1000:.0f} ms)", file=sys.stderr)


def measure(database: Path, repeat: int, only: str | None = None,
            first_role: bool = False) -> dict[tuple[str, str], dict]:
    from peerapp import create_app
    from peerapp.access import may
    from peerapp.cli import upgrade_schema
    from peerapp.demo import DEMO_USERS
    from peerapp.models import User

    # Reports as served: this quarter's figures worked out by the figures sweep, which
    # an install runs every 2 minutes (peerapp/reports/sweep.py); it runs here as often,
    # and what it takes is printed. Another period is worked out when first asked.
    app = create_app({"DATABASE": str(database), "SECRET_KEY": "bench", "TESTING": False,
                      "ALLOW_DEMO": True})  # the seeded database carries the demo logins
    logins = {}
    with app.app_context():
        upgrade_schema()  # a database seeded by older code gets this code's indexes
        for spec in DEMO_USERS:
            logins[spec["key"]] = (sign_in(app, spec["email"]), User.by_email(spec["email"]))
    found = {}
    swept = [0.0]

    def figures_sweep():
        if time.monotonic() - swept[0] < 120:
            return
        from peerapp.reports import sweep
        with app.app_context():
            done = sweep.run()
        swept[0] = time.monotonic()
        print(f"  (figures sweep: {done['stored']} sections of {done['periods']} in {done['seconds']:.1f} s)",
              file=sys.stderr)

    def run(key, label, call):
        if only and not re.search(only, label):
            return
        if "/reports" in label:
            figures_sweep()
        client = logins[key][0]
        times, cpu = [], []
        for _ in range(repeat):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = call(client)
            times.append((time.perf_counter() - started) * 1000)
            response.close()  # after the response, as a WSGI server does: runs call_on_close
            cpu.append((time.process_time() - cpu_started) * 1000)
        # Two requests in a row, the fewer queries: the session's last-seen time is written
        # at most once a minute, so one of them may carry it (a slow page took 20 s here).
        counts = []
        for _ in range(2):
            with counting_queries() as counted:
                response = call(client)
            counts.append(counted.n)
        times.sort()
        found[(label, key)] = {"status": response.status_code, "bytes": len(response.get_data()),
                               "queries": min(counts), "p50": statistics.median(times),
                               "cpu": statistics.median(cpu),
                               "p95": times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]}

    for endpoint, url in sorted(set(urls(app)), key=lambda e: e[1]):
        with app.test_request_context():
            keys = [k for k in ROLE_ORDER if may(endpoint, logins[k][1])]
        # A page shows each role something else (the viewer's reports cover every
        # team, the manager's one): each role that may open it is measured, unless
        # --first-role asks for the first only. lead2 is a second team's lead: the
        # same page as lead's, so measured only where lead may not go.
        keys = [k for k in keys if k != "lead2" or "lead" not in keys]
        for key in (keys[:1] if first_role else keys) or ["lead"]:  # public pages: as lead
            run(key, url, lambda c, url=url: c.get(url))
    if not only or re.search(only, "/reports/"):
        worked_out_on_first_view(app)
    for endpoint, key, data in SEARCHES:
        if endpoint not in app.view_functions:
            continue
        with app.test_request_context():
            from flask import url_for
            url = url_for(endpoint)

        def search(c, url=url, data=data):
            page = c.get(url).get_data(as_text=True)
            found_token = TOKEN.search(page)
            return c.post(url, data={**data, "csrf_token": found_token.group(1) if found_token else ""})
        run(key, f"POST {url} (search)", search)
    return found


BIG_TABLES = ("audit_event", "referral", "referral_event", "contact", "service_user", "assignment",
              "matching_run", "run_proposal", "run_unmatched", "attendance", "enrolment", "candidate",
              "supervision", "login_session", "peer_role", "recruitment_check")


def _timed(db, sql, params) -> float:
    started = time.perf_counter()
    db.execute_sql(sql, params).fetchall()
    return (time.perf_counter() - started) * 1000


def plans(database: Path) -> list[str]:
    """EXPLAIN QUERY PLAN for every SELECT every page sends (SQLite, the large
    database). A finding: a full scan of a big table (an index walked in order
    under a LIMIT is a page, not a scan), a temporary sort that costs over 2 ms,
    or any query over 10 ms."""
    from peerapp import create_app
    from peerapp.access import may
    from peerapp.demo import DEMO_USERS
    from peerapp.models import User

    from peerapp.cli import upgrade_schema
    from peerapp.db import db
    app = create_app({"DATABASE": str(database), "SECRET_KEY": "bench", "TESTING": False,
                      "ALLOW_DEMO": True,  # the seeded database carries the demo logins
                      "REPORT_FIGURES_SECONDS": 0})  # every report's queries sent, none kept
    with app.app_context():
        upgrade_schema()
        logins = {spec["key"]: (sign_in(app, spec["email"]), User.by_email(spec["email"])) for spec in DEMO_USERS}
    seen, out, bad = set(), ["| page | query | finding in the plan | ms |", "|---|---|---|---|"], 0
    for endpoint, url in sorted(set(urls(app)), key=lambda e: e[1]):
        with app.test_request_context():
            keys = [k for k in ROLE_ORDER if may(endpoint, logins[k][1])] or ["lead"]
        sent = []
        for key in keys:  # each role's queries: the viewer's reports are not the manager's
            with counting_queries() as counted:
                logins[key][0].get(url)
            sent += zip(counted.sql, counted.params)
        for sql, params in sent:
            if not sql.lstrip().upper().startswith("SELECT") or sql in seen:
                continue
            seen.add(sql)
            aliases = dict((alias, table) for table, alias in re.findall(r'"(\w+)" AS "(t\d+)"', sql))
            with app.app_context():
                rows = db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
                best = min(_timed(db, sql, params) for _ in range(3))
            details = [re.sub(r"\b(t\d+)\b", lambda m: aliases.get(m.group(1), m.group(1)), r[-1]) for r in rows]
            limited = " LIMIT " in sql.upper()
            flagged = []
            for d in details:
                scanned = re.match(r"SCAN (\w+)( USING (COVERING )?INDEX)?", d)
                if scanned and scanned.group(1) in BIG_TABLES and not (scanned.group(2) and limited):
                    flagged.append(d)
                elif "TEMP B-TREE" in d and best > 2:
                    flagged.append(d)
            if flagged or best > 10:
                bad += 1
                short = re.sub(r"\s+", " ", sql)[:160].replace("|", "/")
                out.append(f"| {url} | `{short}` | {'; '.join(flagged) or 'slow'} | {best:.1f} |")
    out.append(f"\n{bad} queries with a finding "
               f"(of {len(seen)} distinct SELECTs).")
    return out


def table(small: dict, large: dict, sizes: tuple[str, str]) -> list[str]:
    lines = [f"| page | login | p50 ms {sizes[0]} | p95 ms {sizes[0]} | p50 ms {sizes[1]} | p95 ms {sizes[1]} "
             f"| CPU ms {sizes[1]} | KB | queries {sizes[0]} | queries {sizes[1]} | flags |", "|---" * 11 + "|"]
    slow = grows = 0
    for key in sorted(large):
        a, b = small.get(key), large[key]
        flags = []
        if b["status"] != 200:
            flags.append(str(b["status"]))
        if b["p95"] > 50:
            flags.append("SLOW")
            slow += 1
        if a and a["status"] == b["status"] == 200 and a["queries"] != b["queries"]:
            flags.append("GROWS")
            grows += 1
        lines.append(f"| {key[0]} | {key[1]} | {a['p50'] if a else 0:.1f} | {a['p95'] if a else 0:.1f} | "
                     f"{b['p50']:.1f} | {b['p95']:.1f} | {b.get('cpu', 0):.1f} | {b['bytes'] / 1024:.0f} | {a['queries'] if a else '-'} | "
                     f"{b['queries']} | {' '.join(flags)} |")
    lines.append(f"\n{len(large)} pages and logins; {slow} with p95 > 50 ms at {sizes[1]}; "
                 f"{grows} whose query count grows.")
    return lines


# --- gunicorn: throughput and cold start -------------------------------------------------

def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(database: Path, workers: int = 2):
    import subprocess
    import urllib.request
    port = _free_port()
    env = {**os.environ, "PEERAPP_DATABASE": str(database), "PEERAPP_ALLOW_DEMO": "true", "PYTHONPATH": str(ROOT)}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    # As installed: byte-compiled (PYTHONDONTWRITEBYTECODE, set on this machine,
    # would otherwise have every start compile peerapp's 110 modules, ~0.4 s).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "peerapp"), str(ROOT / "bench")],
                   check=True, stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    process = subprocess.Popen([str(gunicorn), "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}",
                                "--log-level", "warning", "bench.wsgi:app"], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).read()
            break
        except OSError:
            if time.perf_counter() - started > 60 or process.poll() is not None:
                process.kill()
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.02)
    return process, url, time.perf_counter() - started


def _rate(url: str, seconds: float, clients: int, make_request) -> float:
    """Requests a second with ``clients`` keep-alive connections for ``seconds``."""
    import http.client
    import threading
    from urllib.parse import urlsplit
    host = urlsplit(url)
    done = [0] * clients
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    def loop(i):
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        while time.perf_counter() < stop:
            method, path, body, headers = make_request()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status >= 400:
                errors.append(f"{path}: {response.status}")
                break
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
            done[i] += 1
        connection.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    return sum(done) / (time.perf_counter() - started)


def _paired(url: str, seconds: float, yardstick, measured, rounds: int = 3) -> tuple[float, float, list[float]]:
    """(yardstick's req/s, the measured route's, each round's share): the two taken in
    turn, ``seconds / rounds`` each, so a change in this shared machine's speed falls on
    both sides of a round instead of on one side of the whole comparison."""
    slices = [(_rate(url, seconds / rounds, 2, yardstick), _rate(url, seconds / rounds, 2, measured))
              for _ in range(rounds)]
    shares = sorted(m / y for y, m in slices)
    return (statistics.median(y for y, _ in slices), statistics.median(m for _, m in slices), shares)


def _open_referral(database: Path) -> int:
    """The first referral the demo peer lead may record a contact on (active, in their team)."""
    import sqlite3

    from peerapp.referrals.states import ACTIVE
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT r.id FROM referral r JOIN user u ON u.team_id = r.team_id "
            "WHERE u.email = 'lead@demo.peerapp' AND r.state = ? ORDER BY r.id LIMIT 1", (ACTIVE,)).fetchone()[0]


def _prefilled(page: str) -> dict[str, str]:
    """Every text, date, number and hidden input's value as the page offers it."""
    found = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        if attributes.get("name") and attributes.get("type", "text") in ("text", "date", "number", "hidden"):
            found[attributes["name"]] = attributes.get("value", "")
    return found


def _check_saved(url: str, path: str, body: str, cookie: str) -> None:
    """One contact POST must save (303/302 to the next page), or the rate below measures a refusal."""
    import http.client
    from urllib.parse import urlsplit
    host = urlsplit(url)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    connection.request("POST", path, body=body, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded", "Referer": url + path})
    response = connection.getresponse()
    page = response.read().decode()
    connection.close()
    if response.status not in (302, 303):
        errors = re.findall(r'error-message[^>]*>(?:<span[^>]*>[^<]*</span>)?\s*([^<]+)', page)
        raise RuntimeError(f"the contact POST answers {response.status}: {errors or page[:300]}")


def throughput(database: Path, seconds: float, busiest: str) -> list[str]:
    import http.cookiejar
    import urllib.parse
    import urllib.request
    from peerapp import create_app
    from peerapp.cli import upgrade_schema
    from peerapp.demo import DEMO_PASSWORD

    with create_app({"DATABASE": str(database), "SECRET_KEY": "bench", "TESTING": False,
                     "ALLOW_DEMO": True}).app_context():
        upgrade_schema()  # as measure() does: a database seeded by older code gets this code's indexes
    process, url, cold = _serve(database)
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(url + "/login").read().decode()
        token = TOKEN.search(page).group(1)
        opener.open(url + "/login", urllib.parse.urlencode(
            {"email": "lead@demo.peerapp", "password": DEMO_PASSWORD, "csrf_token": token}).encode()).read()
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        contact_path = f"/referrals/{_open_referral(database)}/contacts/new"
        form = opener.open(url + contact_path).read().decode()
        options = re.findall(r'<option value="(\d+)"', form)
        # What the page fills in itself (the token, the contact's date, and the debrief's
        # date when the peer is a volunteer), then what a peer lead chooses.
        written = itertools.count(1)

        def contact() -> str:  # each a new contact: the same one twice is kept once (a double tap)
            return urllib.parse.urlencode({
                **_prefilled(form), "minutes": "30", "attendance": "attended", "setting": "community",
                "summary": f"Bench write {next(written)}.", "cancelled_by": "",
                "intervention": options[1] if len(options) > 1 else "0"})

        def get(path):
            return lambda: ("GET", path, None, {"Cookie": cookie})

        def post(path, body):
            return lambda: ("POST", path, body() if callable(body) else body,
                            {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
                             "Referer": url + path})
        # Hello world is a route that does nothing (/bench/hello); /healthz also asks the
        # database SELECT 1, so it is shown beside it but is not the yardstick. Each page
        # is measured in turn with its yardstick (three rounds): the share is the median
        # round's, and the spread of the rounds is printed.
        health = _rate(url, seconds / 3, 2, get("/healthz"))
        lines = [f"cold start to first response (gunicorn, 2 workers): {cold:.2f} s"]
        for path in busiest.split(","):
            hello, rate, shares = _paired(url, seconds, get("/bench/hello"), get(path))
            lines.append(f"{path}: {rate:.0f} req/s = {shares[1]:.3f} of hello world /bench/hello "
                         f"({hello:.0f} req/s; rounds {shares[0]:.3f}-{shares[-1]:.3f})")
        lines.append(f"/healthz (SELECT 1): {health:.0f} req/s")
        try:  # the reads stand on their own when the write form has moved on
            _check_saved(url, contact_path, contact(), cookie)
            bare, writes, shares = _paired(url, seconds, post("/bench/insert", "x=1"), post(contact_path, contact))
            lines.append(f"bare insert route: {bare:.0f} req/s; contact POST: {writes:.0f} req/s "
                         f"= {shares[1]:.2f} of the bare insert (rounds {shares[0]:.2f}-{shares[-1]:.2f})")
            # The same form to a route that does only what any signed-in form POST that
            # saves a row must (bench/wsgi.py): how near the contact POST is to that.
            floor_path = contact_path.replace("/referrals/", "/bench/floor/").replace("/contacts/new", "")
            bare, floor, shares = _paired(url, seconds, post("/bench/insert", "x=1"), post(floor_path, contact))
            lines.append(f"the same form to /bench/floor (session, CSRF, form, insert and audit row, flash): "
                         f"{floor:.0f} req/s = {shares[1]:.2f} of the bare insert "
                         f"(rounds {shares[0]:.2f}-{shares[-1]:.2f})")
        except Exception as error:
            lines.append(f"writes not measured: {error!r}")
        return lines
    except Exception as error:  # the page table is already printed; say what failed
        return [f"throughput not measured: {error!r}"]
    finally:
        process.terminate()
        try:
            process.wait(60)
        except Exception:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small-scale", type=float, default=0.05)
    parser.add_argument("--large-scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--throughput", action="store_true")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--busiest", default="/referrals/,/referrals/screening")
    parser.add_argument("--only", help="measure only the pages whose URL matches this regular expression "
                                       "(e.g. '^/reports/$|^/workforce/roles/1$')")
    parser.add_argument("--first-role", action="store_true",
                        help="each page as the first role that may open it only (about 2.4x quicker)")
    parser.add_argument("--out", help="also write the table to this file")
    parser.add_argument("--plans", action="store_true", help="only EXPLAIN every page's queries (large size)")
    args = parser.parse_args()

    import logging
    logging.getLogger("peerapp").setLevel(logging.ERROR)
    if args.plans:
        text = "\n".join(plans(seeded(args.large_scale)))
        print(text)
        if args.out:
            Path(args.out).write_text(text + "\n")
        return
    small_db, large_db = seeded(args.small_scale), seeded(args.large_scale)
    small = measure(small_db, args.repeat, args.only, args.first_role)
    large = measure(large_db, args.repeat, args.only, args.first_role)
    lines = table(small, large, (f"x{args.small_scale:g}", f"x{args.large_scale:g}"))
    print("\n".join(lines), flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    if args.throughput:
        more = ["", *throughput(seeded(args.large_scale), args.seconds, args.busiest)]
        print("\n".join(more))
        lines += more
        if args.out:
            Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
