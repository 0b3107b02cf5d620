#!/usr/bin/env python3
"""Load run (issue 10): N concurrent clients for S seconds against a portal on this machine.

Each client is a thread sending one request after another (a new connection each time, as a
browser behind a proxy would to gunicorn's sync workers): the partners' pages (home, tier
page, deals) and API reads
with signed-in partner sessions, the sign-in page and the health check anonymously. Partner
sessions are signed in once, through the real sign-in form, and shared by the clients.

Prints the request count, throughput, status counts, latency percentiles and, with
--database-url, the most connections PostgreSQL held for the portal's database while it ran.
Exits 1 on any 5xx or connection failure.

Only loopback addresses are accepted and a run lasts at most 120 seconds. The figures and the
command that produced them: docs/PERFORMANCE.md ("Load run"). For the pages one by one against
a trivial view at the vendor's scale, see `bench/load.py` (issue 13).

    python scripts/load_run.py --base-url http://127.0.0.1:8010 --clients 50 --seconds 30 \\
        --database-url postgres://postgres@127.0.0.1:5432/pp_load
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import random
import re
import socket
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

DEMO_PASSWORD = "portal-demo-2026"  # noqa: S105 (the published demo credential, seed_demo)
PARTNER_USERS = [
    "admin@northwind.example",
    "member@northwind.example",
    "admin@bluepeak.example",
    "member@bluepeak.example",
    "admin@atlas.example",
]
MAX_SECONDS = 120


@dataclass
class Target:
    host: str
    port: int
    https_proxy: bool = True  # production settings: behave as the TLS proxy in front would

    @property
    def origin(self) -> str:
        # With production settings the portal sits behind "a proxy" (X-Forwarded-Proto), so
        # its origin is https even though this script speaks plain HTTP on loopback.
        return f"{'https' if self.https_proxy else 'http'}://{self.host}:{self.port}"


@dataclass
class Session:
    email: str
    cookies: dict[str, str]
    organisation: int | None = None


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[str] = field(default_factory=Counter)
    by_path: Counter[tuple[str, int]] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def record(self, label: str, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[str(status)] += 1
            self.by_path[(label, status)] += 1
            self.latencies.append(seconds)

    def fail(self, label: str, error: BaseException) -> None:
        with self.lock:
            self.statuses["connection error"] += 1
            self.failures.append(f"{label}: {error!r}")


def loopback_only(url: str) -> Target:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise SystemExit("--base-url must be http://<loopback address>:<port>")
    addresses = {str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, parts.port or 80)}
    if not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise SystemExit(f"{parts.hostname} is not a loopback address: this script stays local")
    return Target(parts.hostname, parts.port or 80)


def request(
    target: Target,
    method: str,
    path: str,
    *,
    cookies: dict[str, str] | None = None,
    body: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    headers = {
        "Host": f"{target.host}:{target.port}",
        "Connection": "close",
        "User-Agent": "portal-load-run",
    }
    if target.https_proxy:
        headers["X-Forwarded-Proto"] = "https"
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    data = None
    if body is not None:
        data = urlencode(body).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = target.origin
        headers["Referer"] = f"{target.origin}{path}"
    connection = http.client.HTTPConnection(target.host, target.port, timeout=30)
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        content = response.read()
        set_cookies = {}
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                set_cookies[name] = morsel.value
        return response.status, set_cookies, content
    finally:
        connection.close()


def sign_in(target: Target, email: str) -> Session:
    """The real sign-in form: GET for the CSRF cookie and token, POST the credentials."""
    status, cookies, page = request(target, "GET", "/accounts/login/")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or match is None:
        raise SystemExit(f"the sign-in page answered {status}")
    status, more, _ = request(
        target,
        "POST",
        "/accounts/login/",
        cookies=cookies,
        body={
            "csrfmiddlewaretoken": match.group(1).decode(),
            "login": email,
            "password": DEMO_PASSWORD,
        },
    )
    cookies.update(more)
    if status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"signing in {email} failed ({status}): is the demo data loaded?")
    session = Session(email, {"sessionid": cookies["sessionid"]})
    status, _, body = request(target, "GET", "/api/v1/partners/", cookies=session.cookies)
    if status == 200:
        partners = [p for p in json.loads(body).get("results") or [] if p["kind"] == "partner"]
        session.organisation = partners[0]["id"] if partners else None  # a provider has no tier
    return session


def routes(session: Session) -> list[tuple[str, str, dict[str, str] | None]]:
    """(label, path, cookies) of what a client asks for, in proportion."""
    signed_in = session.cookies
    mix: list[tuple[str, str, dict[str, str] | None]] = [
        ("home page (partner)", "/", signed_in),
        ("home page (partner)", "/", signed_in),
        ("my deals page", "/deals/", signed_in),
        ("API partners", "/api/v1/partners/", signed_in),
        ("API registrations", "/api/v1/registrations/", signed_in),
        ("sign-in page (anonymous)", "/accounts/login/", None),
        ("health check", "/healthz", None),
    ]
    if session.organisation is not None:
        mix.append(("API tier", f"/api/v1/partners/{session.organisation}/tier/", signed_in))
        # A partner's Home is its dashboard; its tier page has its own address (issue 13).
        mix.append(("tier page (partner)", f"/partners/{session.organisation}/tier/", signed_in))
    return mix


def client(
    target: Target, sessions: list[Session], stop_at: float, results: Results, seed: int
) -> None:
    rng = random.Random(seed)  # noqa: S311 - a load mix, not a secret
    session = sessions[seed % len(sessions)]
    mix = routes(session)
    while time.monotonic() < stop_at:
        label, path, cookies = rng.choice(mix)
        started = time.perf_counter()
        try:
            status, _, _ = request(target, "GET", path, cookies=cookies)
        except (OSError, http.client.HTTPException) as exc:
            results.fail(label, exc)
            continue
        results.record(label, status, time.perf_counter() - started)


def watch_connections(database_url: str, stop: threading.Event, peak: list[int]) -> None:
    """The most connections PostgreSQL holds for the database during the run, every 0.2 s."""
    import psycopg

    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(database_url, autocommit=True) as connection:
        while not stop.is_set():
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                "pg_backend_pid()",
                (name,),
            ).fetchone()
            peak[0] = max(peak[0], int(row[0]) if row else 0)
            stop.wait(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--database-url", help="sample PostgreSQL's connections to this database")
    parser.add_argument(
        "--https-proxy",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send X-Forwarded-Proto: https as the TLS proxy would (production settings); "
        "--no-https-proxy for the development server",
    )
    args = parser.parse_args()
    if not 0 < args.seconds <= MAX_SECONDS or not 0 < args.clients <= 200:
        raise SystemExit(f"at most {MAX_SECONDS} seconds and 200 clients")
    target = loopback_only(args.base_url)
    target.https_proxy = args.https_proxy

    sessions = [sign_in(target, email) for email in PARTNER_USERS]
    results = Results()
    stop = threading.Event()
    peak = [0]
    watcher = None
    if args.database_url:
        watcher = threading.Thread(
            target=watch_connections, args=(args.database_url, stop, peak), daemon=True
        )
        watcher.start()
    started = time.monotonic()
    stop_at = started + args.seconds
    threads = [
        threading.Thread(target=client, args=(target, sessions, stop_at, results, n))
        for n in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    stop.set()
    if watcher is not None:
        watcher.join(timeout=5)

    total = sum(results.statuses.values())
    latencies = sorted(results.latencies)

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    print(f"{args.clients} clients for {elapsed:.1f} s against {args.base_url}")
    print(f"requests: {total} ({total / elapsed:.1f}/s)")
    print("statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(results.statuses.items())))
    if latencies:
        print(
            f"latency ms: median {statistics.median(latencies) * 1000:.0f}, "
            f"p95 {percentile(0.95):.0f}, p99 {percentile(0.99):.0f}, "
            f"max {latencies[-1] * 1000:.0f}"
        )
    for (label, status), count in sorted(results.by_path.items()):
        print(f"  {label:<28} {status}  {count}")
    if args.database_url:
        print(f"most PostgreSQL connections to the database during the run: {peak[0]}")
    server_errors = sum(v for k, v in results.statuses.items() if k.startswith("5"))
    for failure in results.failures[:10]:
        print(f"  failure: {failure}")
    if server_errors or results.failures:
        print(f"FAILED: {server_errors} server errors, {len(results.failures)} connection errors")
        return 1
    print("OK: no server error, no connection error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
