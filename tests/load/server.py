"""A real `uvicorn` server in a subprocess over a given database, for load and crash tests.

Started, stopped, restarted on the same port or killed with SIGKILL; with `workers > 1`
uvicorn's supervisor process forks the app processes, found through /proc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SECRET = "load-test-secret-key-0123456789abcdefghijklmn"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def children(pid: int) -> list[int]:
    """The direct child processes of `pid` (as `pgrep -P` lists them)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.extend(int(child) for child in task.read_text().split())
        except FileNotFoundError:  # the thread ended while we looked
            continue
    return sorted(found)


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


_ESTABLISHED, _LISTEN = "01", "0A"  # TCP states in /proc/net/tcp


def _sockets(port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets in `state` whose local end is `port` (IPv4)."""
    found: set[str] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == state:
            found.add(fields[9])
    return found


def listening_sockets(port: int) -> int:
    """How many sockets listen on `port`: one per app process (`app.serving`)."""
    return len(_sockets(port, _LISTEN))


def open_connections(pid: int, port: int) -> int:
    """How many established client connections to `port` process `pid` holds open."""
    inodes = _sockets(port, _ESTABLISHED)
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed while we looked
            target = os.readlink(fd)
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held += 1
    return held


class ServerFailed(RuntimeError):
    pass


class Server:
    """`uvicorn --workers N` over `database_url`, with its output kept in `log_path`."""

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        *,
        workers: int = 1,
        app: str = "app.main:create_app",
        app_dir: Path | None = None,
        port: int | None = None,
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.workers = workers
        self.app = app
        self.app_dir = app_dir
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "YARDSTICK_ENVIRONMENT": "test",
            "YARDSTICK_DATABASE_URL": self.database_url,
            "YARDSTICK_RUBRICS_DIR": str(ROOT / "rubrics"),
            "YARDSTICK_PUBLIC_BASE_URL": self.base_url,
            "YARDSTICK_SECRET_KEY": SECRET,
        }

    def start(self) -> None:
        # Served as `yardstick serve` serves it (`app.serving`), with the app given here.
        app_dir = None if self.app_dir is None else str(self.app_dir)
        script = (
            "from app.serving import run\n"
            f"run({self.app!r}, host='127.0.0.1', port={self.port}, workers={self.workers}, "
            f"app_dir={app_dir!r}, log_level='warning', access_log=False)"
        )
        command = [sys.executable, "-c", script]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.wait_until_up()

    def wait_until_up(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ServerFailed(f"the server exited early:\n{self.log()}")
            try:
                up = httpx.get(f"{self.base_url}/api/v1/health", timeout=2).status_code == 200
            except httpx.TransportError:
                up = False
            # Every app process listens on a socket of its own: wait for all of them, so
            # that the clients' connections are spread over all from the start.
            if up and listening_sockets(self.port) >= self.workers:
                return
            time.sleep(0.1)
        raise ServerFailed(f"the server did not answer within {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server is not running"
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The app processes forked by uvicorn's supervisor (not multiprocessing's helpers)."""
        return [p for p in children(self.pid) if "spawn_main" in _command_line(p)]

    def busiest_worker(self) -> int:
        """The app process holding the most client connections (the kernel spreads them by
        their addresses, not evenly)."""
        held = {pid: open_connections(pid, self.port) for pid in self.worker_pids()}
        busiest = max(held, key=held.__getitem__)
        assert held[busiest] > 0, f"no worker holds a client connection: {held}"
        return busiest

    def kill(self) -> None:
        """SIGKILL the server: no shutdown handler, no flush, no goodbye."""
        os.kill(self.pid, signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        workers = self.worker_pids() if self.workers > 1 else []
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for pid in workers:  # left behind only if the supervisor could not stop them
            if "spawn_main" in _command_line(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.process = None
