"""System tests: Walkaway as it ships, seen from outside.

These tests start real processes (gunicorn with the production settings and, for outages, a
PostgreSQL of their own) and talk to them over HTTP on 127.0.0.1 the way a browser would. The
server is another process, so it cannot see pytest-django's test database (nor an uncommitted
test transaction): its data lives in databases these tests create, migrate and drop themselves.
Everything they check afterwards is read straight from PostgreSQL with psycopg, not through the
ORM, so a bug in the app's own reading code cannot hide a bug in its writing code.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

import dj_database_url
import psycopg
import pytest
from psycopg import sql

from deals.erosion import assess
from tests.conftest import require_postgres

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
# Fresh for every run, so a test can prove the secret never reaches a page.
SECRET_KEY = "system-tests-" + secrets.token_hex(24)
PASSWORD = "Walkaway-system-" + secrets.token_hex(8)
SETTINGS_MODULE = "walkaway_system_settings"
SESSION_COOKIE = "__Host-sessionid"
# Every wait in these tests is bounded by one of these.
HTTP_TIMEOUT = 30
START_TIMEOUT = 30
COMMAND_TIMEOUT = 120


def wait_until(condition, *, timeout: float, interval: float = 0.1, what: str):
    """Poll `condition` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def find(pattern: str, text: str, what: str) -> str:
    match = re.search(pattern, text)
    assert match, f"{what} not found in:\n{text[:2000]}"
    return match.group(1)


def money_shown(text: str) -> Decimal:
    """Money as a page shows it ("$1,234.50"), back to a Decimal."""
    return Decimal(re.sub(r"[^0-9.\-]", "", text))


# PostgreSQL ------------------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """The newest installed PostgreSQL's `name`: a newer pg_dump reads every older server."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1])
    found = shutil.which(name)
    if not found:
        pytest.fail(f"the PostgreSQL tool {name} is not installed")
    return found


@dataclass
class PgServer:
    """A PostgreSQL server on 127.0.0.1 on which these tests may create and drop databases."""

    port: int
    user: str = "postgres"
    password: str = ""

    def url(self, dbname: str) -> str:
        auth = quote(self.user, safe="") + (
            f":{quote(self.password, safe='')}" if self.password else ""
        )
        return f"postgres://{auth}@{HOST}:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host=HOST,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=dbname,
            connect_timeout=10,
            autocommit=True,
        )

    def create_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def tool_args(self) -> list[str]:
        return ["-h", HOST, "-p", str(self.port), "-U", self.user]

    def tool_env(self) -> dict[str, str]:
        env = base_env()
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def unique_name(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def main_postgres() -> PgServer:
    """The machine's PostgreSQL, from DATABASE_URL. Skips on SQLite runs (fails when
    REQUIRE_POSTGRES=1). Only ever used to create and drop databases of our own."""
    require_postgres()
    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if config.get("HOST") not in {"127.0.0.1", "localhost"}:
        pytest.fail(
            "system tests create and drop databases, so they only run against a PostgreSQL on "
            f"127.0.0.1; DATABASE_URL points at {config.get('HOST')!r}"
        )
    return PgServer(
        port=int(config.get("PORT") or 5432),
        user=config.get("USER") or "postgres",
        password=config.get("PASSWORD") or "",
    )


@pytest.fixture(scope="session")
def migrated_template(main_postgres, app):
    """One database migrated with manage.py migrate; the tests' databases are copies of it."""
    name = unique_name("walkaway_system_template")
    main_postgres.create_database(name)
    try:
        app.migrate(main_postgres.url(name))
        yield name
    finally:
        main_postgres.drop_database(name)


# CI (.ci/run) names a file here: the databases these tests wrote are then kept, their names
# appended to it, so that `manage.py check_ledger` can be run on what the tests left (and the
# databases dropped) after the suite. Without it, every database is dropped at once.
KEEP_FOR_LEDGER_CHECK = "WALKAWAY_SYSTEM_DATABASES_FILE"


@pytest.fixture
def fresh_database(main_postgres, migrated_template):
    """make() -> the name of a new, migrated database on the main server (empty with
    migrated=False); every one is dropped afterwards whatever happens, unless CI asked to keep
    them for check_ledger (KEEP_FOR_LEDGER_CHECK)."""
    created: list[str] = []

    def make(prefix: str = "walkaway_system", *, migrated: bool = True) -> str:
        name = unique_name(prefix)
        template = migrated_template if migrated else "template0"
        with main_postgres.connect() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        created.append(name)
        return name

    yield make
    keep = os.environ.get(KEEP_FOR_LEDGER_CHECK)
    if keep:
        with open(keep, "a") as names:
            names.writelines(f"{name}\n" for name in created)
        return
    for name in created:
        main_postgres.drop_database(name)


class PrivatePostgres(PgServer):
    """A throwaway PostgreSQL cluster in a temporary directory, ours to stop and crash.

    The machine's own cluster serves other tests, so outages are only ever staged here.
    """

    def __init__(self, root: Path):
        super().__init__(port=free_port())
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"

    def _as_postgres(self, *command: str, timeout: float = COMMAND_TIMEOUT) -> None:
        # PostgreSQL refuses to run as root; as root we hand the work to the postgres user.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(
            [*prefix, *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=base_env(),
            cwd=self.root,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(
                f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}\n{self.log_tail()}"
            )

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres", group="postgres")
        self._as_postgres(
            pg_tool("initdb"),
            "-D",
            str(self.data),
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )

    def start(self) -> None:
        # fsync off: this cluster only ever crashes as a process, never as a machine, and the
        # kernel keeps what was written. synchronous_commit stays on, so a 200 means committed.
        options = f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c fsync=off"
        self._as_postgres(
            pg_tool("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", str(START_TIMEOUT), "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(
            pg_tool("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", str(START_TIMEOUT),
            "stop",
        )  # fmt: skip

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def cleanup(self) -> None:
        if self.is_running():
            with contextlib.suppress(BaseException):
                self.stop("immediate")
        if self.is_running():
            # pg_ctl failed us; the postmaster is the process we started, by its own pid file.
            with contextlib.suppress(Exception):
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


# The app's processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def base_env() -> dict[str, str]:
    """Only what a process needs to run: nothing from this test run's own configuration."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
    return {k: os.environ[k] for k in keep if k in os.environ}


@dataclass
class App:
    """The app's own processes (manage.py, gunicorn), run with the production settings."""

    settings_dir: Path

    def env(self, database_url: str, **extra: str) -> dict[str, str]:
        env = base_env()
        env.update(
            {
                "PYTHONPATH": f"{self.settings_dir}{os.pathsep}{REPO}",
                "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
                "DATABASE_URL": database_url,
                "SECRET_KEY": SECRET_KEY,
                "DEBUG": "0",
                "ALLOWED_HOSTS": HOST,
                "SITE_URL": f"http://{HOST}",
                # No TLS in front of a test server; everything else stays as in production.
                "SECURE_SSL_REDIRECT": "0",
                # Alert emails go to the server's log, never to the network.
                "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra)
        return env

    def manage(self, env: dict[str, str], *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(
                f"manage.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done.stdout

    def migrate(self, database_url: str) -> None:
        self.manage(self.env(database_url), "migrate", "--no-input", "-v", "0")

    def run_script(self, database_url: str, code: str, **extra_env: str) -> dict:
        """Run Python inside the app (manage.py shell); it reports back with a RESULT line."""
        out = self.manage(self.env(database_url, **extra_env), "shell", "-c", code)
        for line in out.splitlines():
            if line.startswith("RESULT "):
                return json.loads(line.removeprefix("RESULT "))
        pytest.fail(f"the script printed no RESULT line:\n{out}")


@pytest.fixture(scope="session")
def app(tmp_path_factory) -> App:
    """walkaway.settings, with STATIC_ROOT moved to a temporary directory: nothing else."""
    settings_dir = tmp_path_factory.mktemp("settings")
    (settings_dir / f"{SETTINGS_MODULE}.py").write_text(
        "from walkaway.settings import *  # noqa: F403\n\n"
        f"STATIC_ROOT = {str(settings_dir / 'static')!r}\n"
    )
    return App(settings_dir=settings_dir)


@pytest.fixture(scope="session")
def served_app(app: App) -> App:
    """The app after collectstatic, as a deployment runs it: the production settings' manifest
    storage will not render a page without it."""
    unused = f"sqlite:///{app.settings_dir / 'unused.sqlite3'}"
    app.manage(app.env(unused), "collectstatic", "--no-input", "-v", "0")
    return app


SEED_TEAM = """
import json, os
from django.contrib.auth import get_user_model
from deals import services
from deals.models import Membership, Team

spec = json.loads(os.environ["SYSTEM_SEED"])
team = Team.objects.create(name=spec["team"])
users = {}
for name, role in spec["people"].items():
    users[name] = get_user_model().objects.create_user(
        username=name, password=os.environ["SYSTEM_PASSWORD"], email=f"{name}@example.com"
    )
    Membership.objects.create(user=users[name], team=team, role=role)
deals = {}
for key, d in spec["deals"].items():
    deals[key] = services.deal_create(
        user=users[d["owner"]], team=team, title=d["title"], customer="System test customer",
        currency="USD", opening_price=d["opening_price"], floor=d["floor"],
    ).pk
print("RESULT " + json.dumps(deals))
"""


def seed_team(
    app: App, database_url: str, *, people: dict[str, str], deals: dict
) -> dict[str, int]:
    """A team with `people` (username: role) and `deals` (key: owner, title, opening_price,
    floor), built through deals.services; returns each deal's id by its key."""
    spec = {"team": "System test team", "people": people, "deals": deals}
    return app.run_script(
        database_url, SEED_TEAM, SYSTEM_SEED=json.dumps(spec), SYSTEM_PASSWORD=PASSWORD
    )


class Gunicorn:
    """gunicorn serving walkaway.wsgi on a free port of 127.0.0.1."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 3, threads: int = 4):
        self.env = env
        self.log = log
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> Gunicorn:
        command = [
            str(VENV_BIN / "gunicorn"),
            "walkaway.wsgi:application",
            "--bind", f"{HOST}:{self.port}",
            "--workers", str(self.workers),
            "--worker-class", "gthread",
            "--threads", str(self.threads),
            "--timeout", "30",
            "--graceful-timeout", "5",
            "--access-logfile", "-",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.wait_ready()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def worker_pids(self) -> set[int]:
        """The master's children: gunicorn's workers."""
        pids = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name may hold spaces or parentheses; the fields after it do not.
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.pid:
                pids.add(int(entry.name))
        return pids

    def answers(self) -> bool:
        if not self.alive():
            pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
        try:
            return Browser(self.port).get("/accounts/login/", timeout=5).status == 200
        except OSError:
            return False

    def wait_ready(self) -> None:
        wait_until(
            lambda: self.answers() and len(self.worker_pids()) == self.workers,
            timeout=START_TIMEOUT,
            interval=0.2,
            what=f"gunicorn on port {self.port} with {self.workers} workers",
        )

    def stop(self) -> None:
        if not self.alive():
            return
        workers = self.worker_pids()
        # QUIT is gunicorn's quick shutdown: nothing is left to finish once a test is over.
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            for pid in [*workers, self.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.wait(timeout=15)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def serve(tmp_path):
    """Start gunicorn with an environment; stopped at the end of the test whatever happens."""
    servers: list[Gunicorn] = []

    def start(env: dict[str, str], **options) -> Gunicorn:
        server = Gunicorn(env, tmp_path / f"gunicorn-{len(servers)}.log", **options)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


# HTTP ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: str


class Browser:
    """One person's cookie jar and CSRF token, sending what a browser running htmx would.

    With DEBUG off the cookies are Secure and __Host- prefixed, which a real browser would only
    send back over https; the jar here sends them back over plain http to the test server.
    """

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.csrf_token = ""
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        *,
        data: dict | None = None,
        htmx: bool = False,
        timeout: float = HTTP_TIMEOUT,
    ) -> Reply:
        headers = {"Accept": "text/html", "User-Agent": "walkaway-system-tests"}
        with self._lock:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if method != "GET":
            headers["Origin"] = f"http://{HOST}:{self.port}"
        if htmx:
            headers["HX-Request"] = "true"
            if self.csrf_token:
                headers["X-CSRFToken"] = self.csrf_token
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        self._remember(response.msg.get_all("Set-Cookie") or [])
        return Reply(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=raw.decode("utf-8", errors="replace"),
        )

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> Reply:
        return self.request("POST", path, data=data, **kwargs)

    def _remember(self, set_cookies: list[str]) -> None:
        with self._lock:
            for header in set_cookies:
                jar = SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value

    def login(self, username: str, password: str = PASSWORD) -> Browser:
        page = self.get("/accounts/login/")
        assert page.status == 200, page.body[:500]
        token = find(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body, "the login form's token"
        )
        reply = self.post(
            "/accounts/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": ""},
        )
        assert reply.status == 302, (
            f"login as {username} answered {reply.status}:\n{reply.body[:1000]}"
        )
        assert SESSION_COOKIE in self.cookies, f"no {SESSION_COOKIE} cookie: {reply.headers}"
        home = self.get("/")
        assert home.status == 200, home.body[:500]
        # Where htmx takes it from: the hx-headers on <body>.
        self.csrf_token = find(r'"x-csrftoken": "([^"]+)"', home.body, "the page's CSRF token")
        return self


def concession(key: str, amount: str, *, kind: str = "price_discount", got: str = "") -> dict:
    return {
        "kind": kind,
        "amount": amount,
        "description": f"System test give {key[:8]}",
        "got_in_return": got,
        "form_key": key,
    }


def new_key() -> str:
    return secrets.token_hex(16)


FRIENDLY_503 = "Walkaway is briefly unavailable"
LEAKS = ("Traceback", "SECRET_KEY", "DATABASES", SECRET_KEY, "psycopg", "OperationalError")


def assert_friendly_503(reply: Reply) -> None:
    assert reply.status == 503, (
        f"expected the friendly 503, got {reply.status}:\n{reply.body[:1000]}"
    )
    assert FRIENDLY_503 in reply.body, reply.body[:1000]
    assert reply.headers.get("retry-after"), reply.headers
    for leak in LEAKS:
        assert leak not in reply.body, f"the 503 page shows {leak!r}"


# The ledger, read straight from PostgreSQL -------------------------------------------------------


def ledger(conn: psycopg.Connection, deal_id: int) -> list[tuple]:
    """(id, amount, form_key) of the deal's concessions, oldest first."""
    return conn.execute(
        "SELECT id, amount, form_key FROM deals_concession WHERE deal_id = %s ORDER BY id",
        [deal_id],
    ).fetchall()


def ledger_problems(conn: psycopg.Connection, deal_id: int) -> list[str]:
    """Everything that disagrees between a deal, its concessions and its events.

    For deals whose history is only "created" and gives (no retractions, floor changes or
    exceptions), which is all these tests write: the event log must then replay the ledger
    exactly, one concession_logged event per concession, each followed by a level_changed
    event exactly when the running total moved the deal to another level.
    """
    problems = []
    opening, floor, conceded, level = conn.execute(
        "SELECT opening_price, floor, conceded, level FROM deals_deal WHERE id = %s", [deal_id]
    ).fetchone()
    concessions = ledger(conn, deal_id)
    events = conn.execute(
        "SELECT kind, concession_id, data FROM deals_dealevent WHERE deal_id = %s ORDER BY id",
        [deal_id],
    ).fetchall()
    total = sum((amount for _, amount, _ in concessions), Decimal("0.00"))
    if conceded != total:
        problems.append(
            f"deal {deal_id}: conceded is {conceded}, its concessions add up to {total}"
        )
    keys = [key for _, _, key in concessions if key is not None]
    if len(keys) != len(set(keys)):
        problems.append(f"deal {deal_id}: a form key was logged twice: {sorted(keys)}")
    approved = conn.execute(
        "SELECT count(*) FROM deals_exceptionrequest WHERE deal_id = %s AND status = 'approved'",
        [deal_id],
    ).fetchone()[0]
    if opening - conceded < floor and not approved:
        problems.append(f"deal {deal_id}: net {opening - conceded} is below the floor {floor}")

    expected: list[tuple] = [("created",)]
    running = Decimal("0.00")
    current = assess(opening_price=opening, floor=floor, conceded=running).level
    for concession_id, amount, _ in concessions:
        expected.append(("concession_logged", concession_id, str(amount)))
        running += amount
        after = assess(opening_price=opening, floor=floor, conceded=running).level
        if after != current:
            expected.append(("level_changed", current.value, after.value))
            current = after
    found: list[tuple] = []
    for kind, concession_id, data in events:
        if kind == "concession_logged":
            found.append((kind, concession_id, data.get("amount")))
        elif kind == "level_changed":
            found.append((kind, data.get("from"), data.get("to")))
        else:
            found.append((kind,))
    if found != expected:
        problems.append(
            f"deal {deal_id}: the event log does not replay the ledger.\n"
            f"  expected {expected}\n  found    {found}"
        )
    if level != current.value:
        problems.append(f"deal {deal_id}: level is {level}, the ledger says {current.value}")
    return problems


def deal_page_figures(page: Reply) -> tuple[Decimal, int]:
    """What the deal page shows: the "Conceded" figure and the meter's aria-valuenow."""
    conceded = money_shown(find(r"<dt>Conceded</dt><dd>([^<]+)</dd>", page.body, "Conceded"))
    meter = int(find(r'role="meter"[^>]*aria-valuenow="(-?\d+)"', page.body, "the meter"))
    return conceded, meter


def pid_with_local_port(pids: set[int], port: int) -> int | None:
    """Which of `pids` holds the TCP socket whose local port is `port` (a database client's
    port, as pg_stat_activity shows it), read from /proc."""
    inodes_by_port: dict[int, set[int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                inodes_by_port.setdefault(local_port, set()).add(int(fields[9]))
    wanted = inodes_by_port.get(port, set())
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:[") and int(target[8:-1]) in wanted:
                        return pid
    return None
