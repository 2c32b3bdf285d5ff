"""`make bench`: Walkaway under load on a large PostgreSQL database (bench/README.md).

1. creates a separate database (walkaway_bench), migrates it and seeds it with bench/seed.py;
2. collects the static files and starts gunicorn with the production settings (DEBUG off),
   plus WALKAWAY_BENCH=1 for the baseline view and the per-request query count;
3. writes a session for every rep, manager, the director and staff, checks that no page's
   query count grows with the data, then drives each scenario with wrk (bench/scenario.lua):
   a plan of requests, each as a given person, at a fixed concurrency; the dashboards and the
   approvals in rounds, with concessions logged between them;
4. writes bench/results/latest.json, prints the table and PASS/FAIL for each target.

Exit status: 0 when every target holds, 1 when one does not, 2 when the run itself failed.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"  # logs and raw wrk output; not committed
RESULTS = BENCH / "results"
LUA = BENCH / "scenario.lua"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/walkaway_bench"
MB = 1024 * 1024


class BenchError(Exception):
    """The run could not be carried out (as opposed to a target that was missed)."""


def say(message: str) -> None:
    print(message, flush=True)


# Database ---------------------------------------------------------------------------------------


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def _db_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name or ""):
        raise BenchError(f"The benchmark database name must be a plain identifier; got {name!r}.")
    return name


def _seeded(url: str) -> dict | None:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT value FROM bench_meta WHERE key = 'seed'").fetchone()
            return row[0] if row else None
    except psycopg.Error:
        return None


def create_database(url: str) -> None:
    import psycopg

    name = _db_name(url)
    try:
        with psycopg.connect(_admin_url(url), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as e:
        raise BenchError(
            f"Cannot reach PostgreSQL at {_admin_url(url)}: {e}. Start it (see .ci/run) or set "
            "BENCH_DATABASE_URL."
        ) from None


def _server_facts(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        shared = conn.execute("SHOW shared_buffers").fetchone()[0]
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {"postgresql": version, "shared_buffers": shared, "database_mb": round(size / MB)}


def _data_size(url: str) -> dict:
    """What the database holds now (a reused one also holds earlier runs' logged concessions)."""
    import psycopg

    with psycopg.connect(url) as conn:
        return {
            name: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for name, table in (
                ("deals", "deals_deal"),
                ("concessions", "deals_concession"),
                ("events", "deals_dealevent"),
                ("exception_requests", "deals_exceptionrequest"),
            )
        }


def _check_seed(url: str) -> None:
    """The invariants the seeder promises, checked on the real data before measuring."""
    import psycopg

    with psycopg.connect(url) as conn:
        wrong = conn.execute(
            "SELECT count(*) FROM deals_deal d LEFT JOIN ("
            " SELECT deal_id, sum(amount) AS total FROM deals_concession GROUP BY deal_id"
            ") c ON c.deal_id = d.id WHERE d.conceded <> coalesce(c.total, 0)"
        ).fetchone()[0]
    if wrong:
        raise BenchError(f"{wrong} seeded deals have a conceded total that is not their ledger's.")


# The app ----------------------------------------------------------------------------------------


def app_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="walkaway.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="http://127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        WALKAWAY_BENCH="1",
        DATABASE_URL=url,
        LOG_LEVEL="INFO",
        # Alerts must never leave this machine during a benchmark.
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    workers: int
    log: Path

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_gunicorn(env: dict, workers: int) -> Server:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    port = _free_port()
    log = DATA / "gunicorn.log"
    log_file = log.open("w")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "walkaway.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "300",
        ],
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    server = Server(process=process, port=port, workers=workers, log=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited at start; see {log}.")
        with contextlib.suppress(OSError):
            status, _, _ = Client(port).request("GET", "/accounts/login/")
            if status == 200 and len(server.worker_pids()) == workers:
                return server
        time.sleep(0.3)
    server.stop()
    raise BenchError(f"gunicorn did not answer within a minute; see {log}.")


class Client:
    """A few single requests (the query checks, the concessions logged between rounds); the
    load itself is wrk's."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = self.cookie_header()
        if body is not None:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                if val and "max-age=0" not in value.lower():
                    self.cookies[key.strip()] = val.strip()
                else:
                    self.cookies.pop(key.strip(), None)
        return response.status, dict(response.getheaders()), data

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    @property
    def csrf(self) -> str:
        return next((v for k, v in self.cookies.items() if k.endswith("csrftoken")), "")


def sessions(env: dict, port: int, usernames: list[str]) -> dict[str, Client]:
    """A logged-in client for each user, from sessions written straight into the session store
    (bench/sessions.py): far cheaper than a login per user through the form and django-axes.
    All share one CSRF secret, sent as the cookie and, as htmx does, as X-CSRFToken."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.sessions", *usernames],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    csrf = secrets.token_hex(16)  # a CSRF secret: 32 characters from [0-9a-f]
    clients = {}
    for username, key in found["sessions"].items():
        client = Client(port)
        client.cookies = {found["session_cookie"]: key, found["csrf_cookie"]: csrf}
        clients[username] = client
    return clients


# Memory of the gunicorn workers ---------------------------------------------------------------


def _status_kb(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no {field_name}.")


class PeakMemory:
    """Each worker's resident memory before, and its peak during, a block (Linux only).

    Writing 5 to clear_refs resets the kernel's peak (VmHWM) to the current size, so VmHWM
    afterwards is the exact peak of the block, not a sample.
    """

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.before: dict[int, int] = {}
        self.growth_kb: dict[int, int] = {}

    def __enter__(self):
        for pid in self.pids:
            self.before[pid] = _status_kb(pid, "VmRSS")
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        return self

    def __exit__(self, *exc):
        for pid in self.pids:
            self.growth_kb[pid] = _status_kb(pid, "VmHWM") - self.before[pid]

    @property
    def max_growth_mb(self) -> float:
        return round(max(self.growth_kb.values()) / 1024, 1)


# CPU accounting ---------------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _ticks(pid: int) -> int | None:
    """utime + stime of a process, in clock ticks; None once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def machine_busy(seconds: float = 2.0) -> float:
    busy0, total0 = _machine_ticks()
    time.sleep(seconds)
    busy1, total1 = _machine_ticks()
    return (busy1 - busy0) / max(1, total1 - total0)


class CpuMeter:
    """Where the CPU went during a scenario: the gunicorn workers, the PostgreSQL backends
    serving them, wrk, and everything else on the machine.

    Latency and throughput depend on whatever else the machine is doing; CPU time per request
    hardly does, so it is the figure to compare across runs. Backends that close during the
    scenario (CONN_MAX_AGE) take their last moments with them: the database figure is a floor.
    A scenario in rounds enters the meter once per round: what happens between the rounds (the
    concessions logged there) is not counted.
    """

    def __init__(self, server: Server, url: str):
        self.server, self.url = server, url
        self.totals = {"app": 0, "db": 0, "wrk": 0.0, "busy": 0, "total": 0}

    def _backends(self) -> list[int]:
        import psycopg

        with psycopg.connect(self.url) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchall()
        return [pid for (pid,) in rows]

    def _snapshot(self) -> dict:
        import resource

        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "app": {pid: _ticks(pid) for pid in self.server.worker_pids()},
            "db": {pid: _ticks(pid) for pid in self._backends()},
            "wrk": (children.ru_utime + children.ru_stime) * TICKS,
            "machine": _machine_ticks(),
        }

    @staticmethod
    def _delta(before: dict, after: dict) -> int:
        return sum(
            ticks - (before.get(pid) or 0) for pid, ticks in after.items() if ticks is not None
        )

    def __enter__(self):
        self.before = self._snapshot()
        return self

    def __exit__(self, *exc):
        after, before = self._snapshot(), self.before
        self.totals["app"] += self._delta(before["app"], after["app"])
        self.totals["db"] += self._delta(before["db"], after["db"])
        self.totals["wrk"] += after["wrk"] - before["wrk"]
        self.totals["busy"] += after["machine"][0] - before["machine"][0]
        self.totals["total"] += after["machine"][1] - before["machine"][1]

    def per_request(self, requests: int) -> dict:
        t = self.totals
        others = max(0.0, t["busy"] - t["app"] - t["db"] - t["wrk"])
        ms = 1000 / TICKS / max(1, requests)
        return {
            "app_cpu_ms": round(t["app"] * ms, 2),
            "db_cpu_ms": round(t["db"] * ms, 2),
            "other_cpu_percent": round(100 * others / max(1, t["total"])),
        }


# Scenarios --------------------------------------------------------------------------------------
#
# A per-process cache keeps the pages people look at again (a deal's ledger, a deals list, a
# dashboard's figures): a scenario that asks for the same few pages over and over measures the
# cache, not the app. So every scenario but the baseline and one warm deal page, kept for
# reference, asks each request as a different person or for a different page, and the
# dashboards and approvals go in rounds with concessions logged between them, so that nothing
# kept from one round is still current in the next.

AMOUNTS = ("1", "12", "125", "1250", "1250.5")  # a rep typing 1250.5 into the amount field
GIVE = "kind=price_discount&amount=0.01&description=Bench+give&got_in_return=A+reference"
LIST_FILTERS = ("", "status=open", "level=caution", "status=won")
PER_APPROVALS_PAGE = 50  # deals/views/approvals.py REQUESTS_PER_PAGE


@dataclass(frozen=True)
class Req:
    """One request, as one person (a username of the benchmark's sessions)."""

    user: str
    path: str
    method: str = "GET"


@dataclass
class Scenario:
    name: str
    description: str
    # Measured: one wrk run per round (most scenarios have a single round).
    rounds: list[list[Req]]
    warmup: list[Req]
    concurrency: int
    body: str = ""
    htmx: bool = False
    # Consecutive requests that one connection sends in a row (the keystrokes of one typist).
    group: int = 1
    # After each round but the last: concessions logged (as the owner, deal pk), so that what
    # the next round asks for has changed since this one.
    between: list[list[tuple[str, int]]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(r) for r in self.rounds)


@dataclass
class Picks:
    """What the scenarios ask for, chosen from the seeded data (see pick())."""

    reps: list[str]  # every rep's username
    rep_ids: list[int]  # and their user ids (the dashboard's rep filter)
    cold_warmup: list[int]  # other deals of the first team, to warm up on
    staff_deals: list[int]  # deals of the other teams with cold_sizes concessions
    open_deals: list[tuple[str, int]]  # (owner, pk): open deals with room, owners in turn
    by_team: dict[int, list[tuple[str, int]]]  # the rest of those, per team
    team_of: dict[str, int]  # each team manager's team
    shown_pending: dict[int, list[tuple[str, int]]]  # per team: deals on its approvals page
    shown_pending_pages: dict[int, list[tuple[str, int]]]  # per page of every team's requests
    pending: dict[int, int]  # pending requests per team
    pending_pages: int  # pages of every team's pending requests (staff, the director)


def pick(url: str, meta: dict) -> Picks:
    """Choose, by SQL on the seeded data, the deals and people the scenarios ask for."""
    import psycopg

    low, high = meta["cold_sizes"]
    cold = meta["cold_deals"]
    probes = [pk for pks in meta["probes"].values() for pk in pks]
    with psycopg.connect(url) as conn:
        reps = conn.execute(
            "SELECT u.username, u.id FROM auth_user u JOIN deals_membership m ON m.user_id = u.id"
            " WHERE m.role = 'rep' ORDER BY u.username"
        ).fetchall()
        team_of = dict(
            conn.execute(
                "SELECT u.username, m.team_id FROM auth_user u "
                "JOIN deals_membership m ON m.user_id = u.id "
                "WHERE m.role = 'manager' AND u.username = ANY(%s)",
                [meta["managers"]],
            ).fetchall()
        )
        first_team = conn.execute("SELECT team_id FROM deals_deal WHERE id = %s", [cold[0]])
        first_team = first_team.fetchone()[0]
        cold_warmup = conn.execute(
            "SELECT id FROM deals_deal WHERE team_id = %s AND id <> ALL(%s) ORDER BY id LIMIT 100",
            [first_team, cold],
        ).fetchall()
        staff_deals = conn.execute(
            "SELECT d.id FROM deals_deal d JOIN ("
            " SELECT deal_id FROM deals_concession GROUP BY deal_id"
            " HAVING count(*) BETWEEN %s AND %s) c ON c.deal_id = d.id"
            " WHERE d.team_id <> %s ORDER BY md5(d.id::text) LIMIT 600",
            [low, high, first_team],
        ).fetchall()
        # Open deals with room for a 0.01 give, every owner's first, then every owner's second...
        open_deals = conn.execute(
            "SELECT u.username, d.id, d.team_id FROM deals_deal d"
            " JOIN auth_user u ON u.id = d.owner_id"
            " WHERE d.status = 'open' AND d.opening_price - d.floor - d.conceded >= 1"
            " AND d.id <> ALL(%s)"
            " ORDER BY row_number() OVER (PARTITION BY d.owner_id ORDER BY d.id), d.owner_id"
            " LIMIT 4000",
            [cold + probes],
        ).fetchall()
        # Pending requests in the approvals page's order, per team and for every team.
        pending = conn.execute(
            "SELECT u.username, d.id, d.team_id,"
            " d.status = 'open' AND d.opening_price - d.floor - d.conceded >= 1,"
            " row_number() OVER (PARTITION BY d.team_id ORDER BY r.created_at, r.id),"
            " row_number() OVER (ORDER BY r.created_at, r.id)"
            " FROM deals_exceptionrequest r JOIN deals_deal d ON d.id = r.deal_id"
            " JOIN auth_user u ON u.id = d.owner_id WHERE r.status = 'pending'"
        ).fetchall()
    taken = 1600  # the log's and the preview's (scenarios())
    by_team: dict[int, list[tuple[str, int]]] = {}
    for owner, pk, team in open_deals[taken:]:
        by_team.setdefault(team, []).append((owner, pk))
    shown: dict[int, list[tuple[str, int]]] = {}
    shown_pages: dict[int, list[tuple[str, int]]] = {}
    counts: dict[int, int] = {}
    for owner, pk, team, room, team_rank, rank in pending:
        counts[team] = counts.get(team, 0) + 1
        if room and team_rank <= PER_APPROVALS_PAGE:
            shown.setdefault(team, []).append((owner, pk))
        if room:
            page = (rank - 1) // PER_APPROVALS_PAGE + 1
            shown_pages.setdefault(page, []).append((owner, pk))
    return Picks(
        reps=[name for name, _ in reps],
        rep_ids=[pk for _, pk in reps],
        cold_warmup=[pk for (pk,) in cold_warmup],
        staff_deals=[pk for (pk,) in staff_deals],
        open_deals=[(owner, pk) for owner, pk, _ in open_deals[:taken]],
        by_team=by_team,
        team_of=team_of,
        shown_pending=shown,
        shown_pending_pages=shown_pages,
        pending=counts,
        pending_pages=-(-len(pending) // PER_APPROVALS_PAGE),
    )


def _cycle(items: list, count: int) -> list:
    return [items[i % len(items)] for i in range(count)] if items else []


def scenarios(meta: dict, picks: Picks, concurrency: int, factor: float) -> list[Scenario]:
    def n(requests: int) -> int:
        return max(10, int(requests * factor))

    def rounds(count: int) -> int:
        return max(2, int(count * factor))

    rep, staff, director = meta["rep"], meta["staff"], meta["director"]
    managers = meta["managers"]
    cold_manager = managers[0]
    low, high = meta["cold_sizes"]
    biggest = max(meta["probes"], key=int)
    warm_deal = meta["probes"][biggest][0]
    ping = [Req(rep, "/bench/ping/")]

    def one_per_team(round_index: int) -> list[tuple[str, int]]:
        """A different open deal of each team for each round."""
        return [deals[round_index % len(deals)] for deals in picks.by_team.values()]

    # The log's deals, then the preview's: all different (pick() keeps 1,600 for them).
    log_deals, preview_deals = picks.open_deals[:1100], picks.open_deals[1100:1600]
    log_n = min(n(500), len(log_deals) - 100)
    preview_n = min(n(400), len(preview_deals) - 20)

    # Managers whose approvals page is full (50 cards), in turn.
    full = [m for m in managers if picks.pending.get(picks.team_of[m], 0) >= PER_APPROVALS_PAGE]
    if not full:
        raise BenchError(f"No manager has {PER_APPROVALS_PAGE} pending requests to approve.")

    def approvals_between(round_index: int) -> list[tuple[str, int]]:
        # A deal on each manager's page changes: every card of it shows the deal's figures.
        return [
            deals[round_index % len(deals)]
            for m in full
            if (deals := picks.shown_pending.get(picks.team_of[m]))
        ]

    staff_pages = min(20, picks.pending_pages)

    def staff_approvals_between(round_index: int) -> list[tuple[str, int]]:
        return [
            deals[round_index % len(deals)]
            for page in range(1, staff_pages + 1)
            if (deals := picks.shown_pending_pages.get(page))
        ]

    list_pages = max(1, n(200) // len(LIST_FILTERS))
    dashboard_rounds, staff_rounds = rounds(10), rounds(3)
    return [
        Scenario(
            "baseline",
            "one INSERT in a transaction, tiny page",
            [ping * n(2000)],
            ping * 100,
            concurrency,
        ),
        Scenario(
            "preview",
            f"what-if preview while typing, {preview_n} deals, each as its owner (htmx GET)",
            [
                [
                    Req(owner, f"/deals/{pk}/preview/?amount={amount}")
                    for owner, pk in preview_deals[20 : 20 + preview_n]
                    for amount in AMOUNTS
                ]
            ],
            [
                Req(owner, f"/deals/{pk}/preview/?amount={amount}")
                for owner, pk in preview_deals[:20]
                for amount in AMOUNTS
            ],
            concurrency,
            htmx=True,
            group=len(AMOUNTS),
        ),
        Scenario(
            "deal_page_warm",
            f"one deal page ({biggest} concessions) again and again: for reference",
            [[Req(rep, f"/deals/{warm_deal}/")] * n(500)],
            [Req(rep, f"/deals/{warm_deal}/")] * 50,
            concurrency,
        ),
        Scenario(
            "deal_page",
            f"a manager opening {min(n(1000), len(meta['cold_deals']))} different deals "
            f"({low} to {high} concessions) in turn",
            [[Req(cold_manager, f"/deals/{pk}/") for pk in meta["cold_deals"][: n(1000)]]],
            [Req(cold_manager, f"/deals/{pk}/") for pk in picks.cold_warmup],
            concurrency,
        ),
        Scenario(
            "deals_list",
            f"deals lists, each request a different rep of the {len(picks.reps)} "
            f"({meta['deals'] // meta['reps']:,} deals each)",
            [
                [
                    Req(name, "/" + (f"?{query}" if query else ""))
                    for query in ("", "page=2", "status=open", "level=caution")
                    for name in picks.reps
                ][: n(800)]
            ],
            [Req(name, "/?page=3") for name in picks.reps[:100]],
            concurrency,
        ),
        Scenario(
            "dashboard",
            f"the dashboards of the {len(managers)} managers in turn, {dashboard_rounds} rounds, "
            "a concession logged in each team between rounds",
            [[Req(m, "/dashboard/") for m in managers] for _ in range(dashboard_rounds)],
            [Req(m, "/dashboard/?status=won") for m in managers],
            concurrency,
            between=[one_per_team(r) for r in range(dashboard_rounds)],
        ),
        Scenario(
            "approvals",
            f"the approvals pages ({PER_APPROVALS_PAGE} cards) of {len(full)} managers in turn, "
            "a deal on each page changed between rounds",
            [[Req(m, "/approvals/") for m in full] for _ in range(rounds(10))],
            [Req(m, "/approvals/?page=2") for m in full],
            concurrency,
            between=[approvals_between(r) for r in range(rounds(10))],
        ),
        Scenario(
            "deal_page_staff",
            f"staff opening {min(n(300), len(picks.staff_deals) - 50)} different deals "
            f"({low} to {high} concessions) in turn",
            [[Req(staff, f"/deals/{pk}/") for pk in picks.staff_deals[50 : 50 + n(300)]]],
            [Req(staff, f"/deals/{pk}/") for pk in picks.staff_deals[:50]],
            concurrency,
        ),
        Scenario(
            "deals_list_staff",
            f"staff's deals list ({meta['deals']:,} deals), a different page or filter each "
            "request",
            [
                [
                    Req(staff, "/?" + "&".join(filter(None, (query, f"page={page}"))))
                    for page in range(1, list_pages + 1)
                    for query in LIST_FILTERS
                ]
            ],
            [Req(staff, f"/?status=lost&page={page}") for page in range(1, 41)],
            concurrency,
        ),
        Scenario(
            "dashboard_staff",
            f"staff's dashboard ({meta['deals']:,} deals), a different rep's list each request, "
            f"{staff_rounds} rounds, a concession logged in each team between rounds",
            [
                [
                    Req(staff, f"/dashboard/?rep={rep_id}")
                    for rep_id in _cycle(picks.rep_ids, 20 * (r + 1))[20 * r :]
                ]
                for r in range(staff_rounds)
            ],
            [Req(staff, f"/dashboard/?status=won&rep={rep_id}") for rep_id in picks.rep_ids[:8]],
            concurrency,
            between=[one_per_team(dashboard_rounds + r) for r in range(staff_rounds)],
        ),
        Scenario(
            "approvals_staff",
            f"staff's approvals, pages 1 to {staff_pages} in turn ({PER_APPROVALS_PAGE} cards "
            "each), a deal on each page changed between rounds",
            [
                [Req(staff, f"/approvals/?page={page}") for page in range(1, staff_pages + 1)]
                for _ in range(rounds(5))
            ],
            [Req(staff, f"/approvals/?page={staff_pages + 1 + page}") for page in range(8)],
            concurrency,
            between=[staff_approvals_between(r) for r in range(rounds(5))],
        ),
        # Late: it adds a concession to each of its deals.
        Scenario(
            "log_concession",
            f"log a concession from the page (htmx POST), each on a different open deal "
            f"({log_n}), as its owner, a fresh form key each",
            [
                [
                    Req(owner, f"/deals/{pk}/concessions/", "POST")
                    for owner, pk in log_deals[100 : 100 + log_n]
                ]
            ],
            [Req(owner, f"/deals/{pk}/concessions/", "POST") for owner, pk in log_deals[:100]],
            concurrency,
            body=GIVE + "&form_key={key}",
            htmx=True,
        ),
        Scenario(
            "export_csv",
            f"CSV export of all {meta['deals']:,} deals (streamed)",
            [[Req(director, "/dashboard/deals.csv?status=any")] * 3],
            [Req(director, "/dashboard/deals.csv?status=any")],
            1,
        ),
        # The baseline again: how far the machine drifted during the run.
        Scenario(
            "baseline_end",
            "the baseline again, at the end",
            [ping * n(2000)],
            ping * 100,
            concurrency,
        ),
    ]


def _plans(requests: list[Req], threads: int, group: int) -> list[list[Req]]:
    """Each wrk thread's requests: groups of `group` consecutive ones, dealt out in turn."""
    plans: list[list[Req]] = [[] for _ in range(threads)]
    for g, start in enumerate(range(0, len(requests), group)):
        plans[g % threads].extend(requests[start : start + group])
    return plans


def run_wrk(
    port: int, scenario: Scenario, requests: list[Req], people: dict[str, Client], tag: str
) -> dict:
    groups = -(-len(requests) // scenario.group)
    threads = max(1, min(scenario.concurrency, groups))
    plan_dir = DATA / f"plan-{scenario.name}"
    shutil.rmtree(plan_dir, ignore_errors=True)
    plan_dir.mkdir()
    for i, plan in enumerate(_plans(requests, threads, scenario.group), start=1):
        lines = []
        for req in plan:
            client = people[req.user]
            lines.append(f"{req.method}\t{req.path}\t{client.cookie_header()}\t{client.csrf}\n")
        (plan_dir / f"{i}.tsv").write_text("".join(lines))
    out = plan_dir / "out.json"
    env = dict(os.environ)
    env.update(
        BENCH_PLAN_DIR=str(plan_dir),
        BENCH_THREADS=str(threads),
        BENCH_BODY=scenario.body,
        BENCH_HTMX="1" if scenario.htmx else "0",
        BENCH_PAD="/bench/ping/",
        BENCH_OUT=str(out),
    )
    # One connection per thread: each thread's plan goes out in order, and its responses pair
    # up with its requests for the latency.
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{threads}",
        "-d300s",  # a ceiling; the script stops once every plan is done
        "--timeout",
        "120s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
    ]
    completed = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    (DATA / f"wrk-{scenario.name}-{tag}.txt").write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0 or not out.exists():
        raise BenchError(f"wrk failed for {scenario.name}: {completed.stderr.strip()}")
    return json.loads(out.read_text())


def log_concessions(people: dict[str, Client], deals: list[tuple[str, int]]) -> None:
    """Log a concession on each deal, as its owner, as the page's form does (four at a time)."""

    def log(deal: tuple[str, int]) -> None:
        owner, pk = deal
        client = people[owner]
        body = f"{GIVE}&form_key=bench-between-{secrets.token_hex(8)}"
        headers = {"X-CSRFToken": client.csrf, "HX-Request": "true"}
        status, _, _ = client.request("POST", f"/deals/{pk}/concessions/", body, headers)
        if status != 200:
            raise BenchError(f"Logging a concession on deal {pk} between rounds answered {status}.")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(log, deals))


def _percentile(ordered: list[int], p: float) -> int:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not ordered:
        return 0
    return ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)]


def measure(server: Server, scenario: Scenario, people: dict[str, Client], url: str) -> dict:
    run_wrk(server.port, scenario, scenario.warmup, people, "warmup")
    cpu = CpuMeter(server, url)
    latencies: list[int] = []
    totals = dict.fromkeys(
        (
            "requests",
            "duration_us",
            "bytes",
            "errors_connect",
            "errors_read",
            "errors_write",
            "errors_timeout",
            "bad_status",
        ),
        0,
    )
    q_min, q_max = -1, -1
    for index, requests in enumerate(scenario.rounds):
        with cpu:
            raw = run_wrk(server.port, scenario, requests, people, "measured")
        for name in totals:
            totals[name] += raw[name]
        latencies.extend(raw["latencies_us"])
        if raw["queries_min"] >= 0:
            q_min = raw["queries_min"] if q_min < 0 else min(q_min, raw["queries_min"])
        q_max = max(q_max, raw["queries_max"])
        if index < len(scenario.between) and index < len(scenario.rounds) - 1:
            log_concessions(people, scenario.between[index])
    latencies.sort()
    errors = sum(totals[name] for name in totals if name.startswith(("errors", "bad")))
    errors += scenario.requests - len(latencies)  # answers that never came
    seconds = totals["duration_us"] / 1e6
    return {
        "name": scenario.name,
        "description": scenario.description,
        "requests": totals["requests"],
        "rounds": len(scenario.rounds),
        "concurrency": scenario.concurrency,
        "rps": round(totals["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(_percentile(latencies, 50) / 1000, 1),
        "p95_ms": round(_percentile(latencies, 95) / 1000, 1),
        "p99_ms": round(_percentile(latencies, 99) / 1000, 1),
        "max_ms": round(latencies[-1] / 1000, 1) if latencies else 0.0,
        "queries": q_max,
        "queries_min": q_min,
        "errors": errors,
        "bytes_per_request": round(totals["bytes"] / totals["requests"])
        if totals["requests"]
        else 0,
        **cpu.per_request(totals["requests"]),
    }


def streamed_queries(log: Path, path: str) -> int | None:
    """The last query count the middleware logged for a streamed response of `path`."""
    found = re.findall(rf"streamed {re.escape(path)}: (\d+) queries", log.read_text())
    return int(found[-1]) if found else None


# Query checks -----------------------------------------------------------------------------------


def query_checks(server: Server, clients: dict, meta: dict) -> list[dict]:
    """The same page for little and for much data must cost the same number of queries."""
    probes = meta["probes"]
    small, big = probes[min(probes, key=int)][0], probes[max(probes, key=int)][0]
    rep, manager, director = clients["rep"], clients["manager"], clients["director"]
    htmx = {"HX-Request": "true"}
    pairs = [
        (
            "deal page",
            (rep, f"/deals/{small}/", {}),
            (rep, f"/deals/{big}/", {}),
            f"deal with {min(probes, key=int)} vs {max(probes, key=int)} concessions",
        ),
        (
            "preview",
            (rep, f"/deals/{small}/preview/?amount=5", htmx),
            (rep, f"/deals/{big}/preview/?amount=5", htmx),
            "same, htmx",
        ),
        (
            "deals list",
            (manager, "/", {}),
            (director, "/", {}),
            f"{meta['deals'] // meta['teams']:,} vs {meta['deals']:,} visible deals",
        ),
        (
            "dashboard",
            (manager, "/dashboard/", {}),
            (director, "/dashboard/", {}),
            f"{meta['deals'] // meta['teams']:,} vs {meta['deals']:,} managed deals",
        ),
        (
            "approvals",
            (manager, "/approvals/", {}),
            (director, "/approvals/", {}),
            "one team's pending requests vs every team's",
        ),
    ]
    checks = []
    for name, (c1, p1, h1), (c2, p2, h2), what in pairs:
        counts = []
        for client, path, headers in ((c1, p1, h1), (c2, p2, h2)):
            status, response_headers, _ = client.request("GET", path, headers=headers)
            if status != 200:
                raise BenchError(f"GET {path} answered {status} during the query checks.")
            counts.append(int(response_headers.get("X-Queries", "-1")))
        checks.append({"page": name, "compared": what, "queries": counts})
    # The export streams: its count is logged when the last row has left.
    counts, rows = [], 0
    for client in (manager, director):
        status, _, body = client.request("GET", "/dashboard/deals.csv?status=any")
        if status != 200:
            raise BenchError(f"The CSV export answered {status}.")
        time.sleep(0.2)
        counts.append(streamed_queries(server.log, "/dashboard/deals.csv"))
        rows = body.count(b"\n") - 1  # the director's, last: every deal
    checks.append(
        {
            "page": "CSV export",
            "compared": f"{meta['deals'] // meta['teams']:,} vs {meta['deals']:,} deals",
            "queries": counts,
            "rows": rows,
        }
    )
    return checks


# Report -----------------------------------------------------------------------------------------


def machine_facts(workers: int) -> dict:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with contextlib.suppress(OSError, IndexError, ValueError):
        memory_kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
    import django
    import gunicorn

    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "gunicorn_workers": workers,
        "gunicorn_worker_class": "sync",
        "wrk": wrk_version[1] if len(wrk_version) > 1 else "",
    }


# p95 at most this many times the baseline's p95, measured in the same run.
P95_TARGETS = {
    "deal_page": 4,
    "deal_page_staff": 4,
    "log_concession": 5,
    "deals_list": 3,
    "deals_list_staff": 3,
    "dashboard": 6,
    "dashboard_staff": 6,
    "approvals": 4,
    "approvals_staff": 4,
}


def targets(results: dict[str, dict], checks: list[dict], export: dict) -> list[dict]:
    base = results["baseline"]
    found = []

    def rps_target(name: str, minimum: float) -> None:
        if name not in results:
            return
        ratio = results[name]["rps"] / base["rps"]
        found.append(
            {
                "target": f"{name}: throughput >= {minimum}x baseline",
                "value": f"{ratio:.2f}x ({results[name]['rps']} vs {base['rps']} req/s)",
                "pass": ratio >= minimum and results[name]["errors"] == 0,
            }
        )

    def p95_target(name: str, maximum: float) -> None:
        if name not in results:
            return
        ratio = results[name]["p95_ms"] / base["p95_ms"]
        found.append(
            {
                "target": f"{name}: p95 <= {maximum}x baseline p95",
                "value": f"{ratio:.2f}x ({results[name]['p95_ms']} vs {base['p95_ms']} ms)",
                "pass": ratio <= maximum and results[name]["errors"] == 0,
            }
        )

    rps_target("preview", 0.8)
    # Each staff page has the target of its non-staff twin.
    for name, maximum in P95_TARGETS.items():
        p95_target(name, maximum)
    if export:
        found.append(
            {
                "target": "export_csv: all deals streamed, worker memory growth < 50 MB",
                "value": f"{export['rows']:,} rows, +{export['peak_memory_growth_mb']} MB peak, "
                f"{export['seconds']} s",
                "pass": export["rows"] == export["expected_rows"]
                and export["peak_memory_growth_mb"] < 50,
            }
        )
    steady = [c for c in checks if len(set(c["queries"])) == 1 and -1 not in c["queries"]]
    value = "; ".join(f"{c['page']} {'/'.join(map(str, c['queries']))}" for c in checks)
    passed = len(steady) == len(checks)
    if "log_concession" in results:
        log = results["log_concession"]
        value += f"; log concession {log['queries_min']}..{log['queries']}"
        passed = passed and log["queries_min"] == log["queries"]
    found.append(
        {
            "target": "queries per request independent of the data's size",
            "value": value,
            "pass": passed,
        }
    )
    return found


def table(report: dict) -> str:
    m, d = report["machine"], report["data"]
    lines = [
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, PostgreSQL "
        f"{report['database']['postgresql']}, gunicorn {m['gunicorn_workers']} sync workers, "
        f"wrk {m['wrk']}",
        f"Data: {d['deals']:,} deals, {d['concessions']:,} concessions, {d['events']:,} events, "
        f"{d['teams']} teams, {d['reps']} reps",
        "",
        f"| {'scenario':<16} | {'requests':>8} | {'conc.':>5} | {'req/s':>7} | {'p50 ms':>7} | "
        f"{'p95 ms':>7} | {'p99 ms':>7} | {'queries':>7} | {'errors':>6} | "
        f"{'req/s vs base':>13} | {'p95 vs base':>11} | {'app CPU ms':>10} | {'db CPU ms':>9} | "
        f"{'others':>6} |",
        f"|{'-' * 18}|{'-' * 9}:|{'-' * 6}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|"
        f"{'-' * 8}:|{'-' * 7}:|{'-' * 14}:|{'-' * 12}:|{'-' * 11}:|{'-' * 10}:|{'-' * 7}:|",
    ]
    base = next(s for s in report["scenarios"] if s["name"] == "baseline")
    for s in report["scenarios"]:
        lines.append(
            f"| {s['name']:<16} | {s['requests']:>8} | {s['concurrency']:>5} | {s['rps']:>7.1f} | "
            f"{s['p50_ms']:>7.1f} | {s['p95_ms']:>7.1f} | {s['p99_ms']:>7.1f} | "
            f"{s['queries']:>7} | {s['errors']:>6} | "
            f"{s['rps'] / base['rps']:>12.2f}x | {s['p95_ms'] / base['p95_ms']:>10.2f}x | "
            f"{s['app_cpu_ms']:>10.2f} | {s['db_cpu_ms']:>9.2f} | {s['other_cpu_percent']:>5}% |"
        )
    export = report["export"]
    noisy = max(s["other_cpu_percent"] for s in report["scenarios"])
    lines += [
        "",
        "app CPU ms, db CPU ms: CPU time of the gunicorn workers and of the PostgreSQL backends "
        "per request;",
        "others: share of the machine's CPU taken by other processes during the scenario.",
    ]
    if noisy > 20:
        lines.append(
            f"WARNING: other processes took up to {noisy}% of the CPU during this run: latency "
            "and throughput are unreliable, the CPU columns less so."
        )
    end = next((s for s in report["scenarios"] if s["name"] == "baseline_end"), None)
    if end:
        drift = end["rps"] / base["rps"] - 1
        lines.append(
            f"Baseline drift over the run: {base['rps']} then {end['rps']} req/s ({drift:+.0%})."
        )
    if export:
        lines += [
            "",
            f"CSV export: {export['rows']:,} rows, {export['mb']} MB in {export['seconds']} s, "
            f"worker peak memory +{export['peak_memory_growth_mb']} MB, "
            f"{export['queries']} queries while streaming",
        ]
    return "\n".join(lines)


class QuietWait:
    """Waits, before each scenario, for other processes to leave the CPU, within one budget of
    seconds for the whole run.

    On a shared machine a test suite running beside the benchmark takes the CPU it measures;
    the figures would say more about that suite than about Walkaway.
    """

    def __init__(self, budget: int, threshold: float = 0.25):
        self.deadline = time.monotonic() + budget
        self.threshold = threshold

    def __call__(self) -> float:
        busy = machine_busy()
        while busy > self.threshold and time.monotonic() < self.deadline:
            say(f"    the machine is {busy:.0%} busy with other work; waiting for it to settle...")
            time.sleep(10)
            busy = machine_busy()
        if busy > self.threshold:
            say(f"    still {busy:.0%} busy: measuring anyway (see the CPU per request columns)")
        return busy


# Main -------------------------------------------------------------------------------------------


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("wrk is missing: apt-get install -y wrk")
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update"], check=False)
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=False)
    if not shutil.which("wrk"):
        raise BenchError("wrk is needed: install it with `apt-get install -y wrk` (Debian).")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark Walkaway (bench/README.md).")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--reuse", action="store_true", help="keep an already seeded database of the same size"
    )
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--concessions", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--requests-factor", type=float, default=1.0, help="scale every scenario's request count"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenarios to run (the baseline always runs), e.g. preview,deals_list",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where the figures go; bench/results/latest.json for a full run, "
        "bench/data/partial.json with --only",
    )
    parser.add_argument(
        "--quiet-wait",
        type=int,
        default=300,
        help="seconds, in all, to wait for other processes to leave the CPU before scenarios",
    )
    args = parser.parse_args(argv)
    if args.out is None:
        # Only a full run replaces the committed results.
        args.out = DATA / "partial.json" if args.only else RESULTS / "latest.json"

    started = time.monotonic()
    DATA.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    ensure_wrk()
    url = args.database_url
    env = app_env(url)

    meta = _seeded(url) if args.reuse else None
    if meta and (meta["deals"], meta["concessions"]) != (args.deals, args.concessions):
        meta = None
    if meta and "cold_deals" not in meta:
        say("The seeded database predates the cold scenarios (no staff, no cold deals): seeding.")
        meta = None
    if meta:
        size = f"{meta['deals']:,} deals, {meta['concessions']:,} concessions"
        say(f"Reusing {_db_name(url)}: {size}.")
        manage(env, "migrate", "--no-input", "-v0")
    else:
        say(f"Creating database {_db_name(url)} and migrating it...")
        create_database(url)
        manage(env, "migrate", "--no-input", "-v0")
        say(f"Seeding {args.deals:,} deals and {args.concessions:,} concessions (COPY)...")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.seed",
                "--deals",
                str(args.deals),
                "--concessions",
                str(args.concessions),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        meta = _seeded(url)
    _check_seed(url)
    size = _data_size(url)
    say("Collecting static files...")
    manage(env, "collectstatic", "--no-input", "-v0")

    say(f"Starting gunicorn ({args.workers} workers, production settings)...")
    server = start_gunicorn(env, args.workers)
    try:
        picks = pick(url, meta)
        say(f"Sessions for {len(picks.reps)} reps, {len(meta['managers'])} managers and staff...")
        people = sessions(
            env, server.port, [*picks.reps, *meta["managers"], meta["director"], meta["staff"]]
        )
        status, _, _ = people[meta["rep"]].request("GET", "/")
        if status != 200:
            raise BenchError(f"A session written for {meta['rep']} does not open the deals list.")
        clients = {
            "rep": people[meta["rep"]],
            "manager": people[meta["manager"]],
            "director": people[meta["director"]],
        }
        quiet = QuietWait(args.quiet_wait)
        busy = quiet()
        say("Checking query counts against the data's size...")
        checks = query_checks(server, clients, meta)
        results: dict[str, dict] = {}
        export: dict = {}
        chosen = scenarios(meta, picks, args.concurrency, args.requests_factor)
        if args.only:
            wanted = {"baseline", "baseline_end", *args.only.split(",")}
            unknown = wanted - {s.name for s in chosen}
            if unknown:
                raise BenchError(f"No such scenario: {', '.join(sorted(unknown))}.")
            chosen = [s for s in chosen if s.name in wanted]
        for scenario in chosen:
            in_rounds = f" in {len(scenario.rounds)} rounds" if len(scenario.rounds) > 1 else ""
            say(
                f"  {scenario.name}: {scenario.requests} requests{in_rounds} at concurrency "
                f"{scenario.concurrency}..."
            )
            busy_before = quiet()
            if scenario.name == "export_csv":
                with PeakMemory(server.worker_pids()) as memory:
                    result = measure(server, scenario, people, url)
                time.sleep(0.2)
                export = {
                    "rows": checks[-1]["rows"],
                    "expected_rows": meta["deals"],
                    "seconds": round(result["p50_ms"] / 1000, 2),
                    "mb": round(result["bytes_per_request"] / MB, 1),
                    "peak_memory_growth_mb": memory.max_growth_mb,
                    "queries": streamed_queries(server.log, "/dashboard/deals.csv"),
                }
                result["queries"] = export["queries"]
                result["peak_memory_growth_mb"] = export["peak_memory_growth_mb"]
            else:
                result = measure(server, scenario, people, url)
            result["busy_before_percent"] = round(100 * busy_before)
            results[scenario.name] = result
    finally:
        server.stop()

    facts = machine_facts(args.workers)
    facts["busy_before_percent"] = round(100 * busy)
    report = {
        "machine": facts,
        "database": _server_facts(url),
        "data": {
            **size,
            "teams": meta["teams"],
            "reps": meta["reps"],
        },
        "scenarios": list(results.values()),
        "export": export,
        "query_checks": checks,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started),
    }
    report["targets"] = targets(results, checks, export)
    args.out.write_text(json.dumps(report, indent=2) + "\n")

    say("")
    say(table(report))
    say("")
    say("Query checks (small vs large data):")
    for c in checks:
        say(f"  {c['page']:<12} {c['compared']:<48} {' vs '.join(map(str, c['queries']))}")
    say("")
    say("Targets:")
    for t in report["targets"]:
        say(f"  {'PASS' if t['pass'] else 'FAIL'}  {t['target']}: {t['value']}")
    say("")
    say(f"Written to {args.out} in {report['seconds']} s.")
    return 0 if all(t["pass"] for t in report["targets"]) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        sys.exit(2)
    except subprocess.CalledProcessError as e:
        print(f"bench: {' '.join(map(str, e.cmd))} failed ({e.returncode}).", file=sys.stderr)
        sys.exit(2)
