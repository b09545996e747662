"""Team-size load on loopback: N users with 1-3 s think time for a bounded time.

    python bench/load.py [--users 40] [--seconds 30] [--server waitress|gunicorn]

Seeds the demo data into a temporary database, starts the server on 127.0.0.1,
signs each simulated user in as a demo peer lead, then loops: home page, the
referrals list, a referral record (each record view writes an audit row, so
views are also writes). Prints p50/p95/max latency, errors, and checks that
every audited view is in the database (no lost writes). Traffic stays on this
machine and stops by itself.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--server", choices=["waitress", "gunicorn"], default="waitress")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="peerapp-load-")
    database = os.path.join(workdir, "load.sqlite3")
    env = {**os.environ, "PEERAPP_DATABASE": database}
    flask = [sys.executable, "-m", "flask", "--app", "peerapp"]
    subprocess.run([*flask, "init-db"], env=env, check=True, cwd=ROOT, capture_output=True)
    subprocess.run([*flask, "demo-data"], env=env, check=True, cwd=ROOT, capture_output=True)
    port = free_port()
    bin_dir = Path(sys.executable).parent
    if args.server == "gunicorn":
        command = [str(bin_dir / "gunicorn"), "-w", "3", "-b", f"127.0.0.1:{port}", "peerapp:create_app()"]
    else:
        command = [str(bin_dir / "waitress-serve"), "--host=127.0.0.1", f"--port={port}", "--threads=8",
                   "--call", "peerapp:create_app"]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)

    referral_ids = [row[0] for row in sqlite3.connect(database).execute("SELECT id FROM referral")]
    audit_before = sqlite3.connect(database).execute("SELECT count(*) FROM audit_event").fetchone()[0]
    latencies: list[float] = []
    timeline: list[tuple[float, float, str]] = []
    errors: list[str] = []
    record_views = [0]
    lock = threading.Lock()
    ready = threading.Barrier(args.users, action=lambda: stop_at_box.append(time.time() + args.seconds))
    stop_at_box: list[float] = []

    def user(number: int) -> None:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(base + "/login", timeout=10).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        email = "lead@demo.peerapp" if number % 2 else "lead2@demo.peerapp"
        data = urllib.parse.urlencode({"csrf_token": token, "email": email,
                                       "password": "demo-peer-support-2026"}).encode()
        opener.open(base + "/login", data=data, timeout=10).read()
        # Everyone signs in first (argon2 is deliberately slow); then the timed part.
        ready.wait()
        rng = random.Random(number)
        while time.time() < stop_at_box[0]:
            path = rng.choice(["/", "/referrals/", "/referrals/awaiting-match"] +
                              [f"/referrals/{rid}" for rid in referral_ids[:8]])
            started = time.perf_counter()
            try:
                response = opener.open(base + path, timeout=10)
                response.read()
                ok = response.status == 200 and "/login" not in response.url
            except Exception as error:  # noqa: BLE001 - a bench counts every failure
                ok, response = False, error
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                timeline.append((time.time(), took, path))
                if not ok:
                    errors.append(f"{path}: {response}")
                elif re.fullmatch(r"/referrals/\d+", path):
                    record_views[0] += 1
            time.sleep(rng.uniform(1, 3))

    threads = [threading.Thread(target=user, args=(n,)) for n in range(args.users)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    server.terminate()
    server.wait(10)

    audit_after = sqlite3.connect(database).execute(
        "SELECT count(*) FROM audit_event WHERE action = 'view' AND record_type = 'referral'").fetchone()[0]
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else float("nan")
    print(f"{args.server}: {args.users} users x {args.seconds} s, {len(latencies)} requests "
          f"({len(latencies) / args.seconds:.1f} req/s)")
    print(f"latency p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms; errors {len(errors)}")
    print(f"referral views answered {record_views[0]}, audit rows for them {audit_after} "
          f"(lost writes: {max(0, record_views[0] - audit_after)}); audit rows before {audit_before}")
    slowest = sorted(timeline, key=lambda row: -row[1])[:5]
    first = timeline[0][0] if timeline else 0
    print("slowest:", ", ".join(f"{path} {took * 1000:.0f} ms at +{at - first:.0f} s" for at, took, path in slowest))
    for error in errors[:5]:
        print("  error:", error)


if __name__ == "__main__":
    main()
