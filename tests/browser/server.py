"""What the browser tests share: a real `uvicorn` over a migrated temporary SQLite database,
and Debian's Chromium driven through Playwright (Playwright's own browser download is unused).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright
from sqlalchemy import Engine

from app import migrations
from app.config import Settings
from app.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET = "browser-test-secret-key-0123456789abcdefghij"


@dataclass
class Server:
    base_url: str
    engine: Engine
    settings: Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited early:\n{log.read_text(encoding='utf-8')}")
        try:
            if httpx.get(f"{base_url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer within 30 s:\n{log.read_text(encoding='utf-8')}")


@contextmanager
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing at /usr/bin/chromium: `make test` installs the Debian "
            "package `chromium` (as root; otherwise run `sudo apt-get install -y chromium`)",
            pytrace=False,
        )
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def running_server(tmp_path: Path, app: str = "app.main:create_app") -> Iterator[Server]:
    """`uvicorn --factory app` on a free port over a new, migrated SQLite file in `tmp_path`."""
    database_url = f"sqlite:///{tmp_path / 'browser.db'}"
    migrations.upgrade(database_url)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        environment="test",
        database_url=database_url,
        rubrics_dir=ROOT / "rubrics",
        public_base_url=base_url,
        secret_key=SECRET,
    )
    env = {
        **os.environ,
        "YARDSTICK_ENVIRONMENT": "test",
        "YARDSTICK_DATABASE_URL": database_url,
        "YARDSTICK_RUBRICS_DIR": str(settings.rubrics_dir),
        "YARDSTICK_PUBLIC_BASE_URL": base_url,
        "YARDSTICK_SECRET_KEY": SECRET,
    }
    log_path = tmp_path / "server.log"
    engine = make_engine(database_url)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", app, "--factory"),
                *("--host", "127.0.0.1", "--port", str(port)),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(base_url, process, log_path)
            yield Server(base_url, engine, settings)
        finally:
            process.terminate()
            process.wait(timeout=10)
            engine.dispose()
