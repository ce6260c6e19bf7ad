"""Requests keep being answered when more of them wait for the database than there are threads.

A sync route's response is validated in the thread pool before the session dependency
commits, so a request holding the database must always find a free thread to finish on.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from app import migrations
from app.config import Settings, get_settings
from app.db import get_engine, get_sessionmaker
from app.deps import app_settings
from app.main import create_app
from tests.conftest import POSTGRES_URL, database_url

THREADS = 3
REQUESTS = 12  # four times the threads, all at once
CACHES = (get_settings, get_engine, get_sessionmaker)


@pytest.fixture(params=["sqlite", *(["postgresql"] if POSTGRES_URL else [])])
def app_client(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The app with its real session dependency over a private database, few threads."""
    with database_url(request.param, tmp_path, "sessions") as url:
        migrations.upgrade(url)
        monkeypatch.setenv("YARDSTICK_DATABASE_URL", url)
        for cache in CACHES:
            cache.cache_clear()
        settings = Settings(environment="test", database_url=url)
        application = create_app(settings)
        application.dependency_overrides[app_settings] = lambda: settings
        try:
            with TestClient(application) as client:
                client.portal.call(_limit_threads)
                yield client
        finally:
            get_engine().dispose()
            for cache in CACHES:
                cache.cache_clear()


async def _limit_threads() -> None:
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS


def test_a_json_route_answers_everyone_when_requests_outnumber_threads(
    app_client: TestClient,
) -> None:
    with ThreadPoolExecutor(REQUESTS) as callers:
        replies = list(callers.map(lambda _: app_client.get("/api/v1/health"), range(REQUESTS)))

    assert [r.status_code for r in replies] == [200] * REQUESTS
