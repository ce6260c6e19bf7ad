"""PDF downloads render after the request's transaction has ended, holding no database slot.

Against a real, migrated SQLite file and the app's own sessions (no test transaction), so
what the request wrote is visible to another connection only once it has committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.accounts import service as account_service
from app.accounts.models import Role
from app.api import reports as report_routes
from app.db import get_sessionmaker
from app.main import create_app
from app.privacy.models import AuditEvent
from app.reports.documents import Document
from tests.conftest import app_database
from tests.reports.report_helpers import make_settings, make_staff, scored_assessment

VIEWED = "assessment.report_viewed"


@pytest.fixture
def committed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, str]]:
    """A scored assessment and an HR API token, committed; the app reads the environment."""
    with app_database(f"sqlite:///{tmp_path / 'reports.db'}", monkeypatch):
        settings = make_settings(tmp_path)
        with get_sessionmaker().begin() as session:
            hr = make_staff(session, Role.HR, "王芳")
            assessment = scored_assessment(session, hr, settings, name="张伟")
            raw, _ = account_service.create_token(session, hr, "downloads")
            found = (assessment.id, raw)
        yield found


def _views_committed() -> int:
    with get_sessionmaker()() as session:
        return session.scalar(select(func.count()).where(AuditEvent.action == VIEWED)) or 0


def test_a_pdf_is_rendered_once_the_request_has_committed(
    committed: tuple[int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assessment_id, token = committed
    seen_at_render: list[int] = []
    render = report_routes.report_service.pdf

    def watched(document: Document) -> bytes:
        # Another connection sees the request's audit record: its transaction is over, so
        # the render keeps no database slot (nor SQLite's write lock) from other requests.
        seen_at_render.append(_views_committed())
        return render(document)

    monkeypatch.setattr(report_routes.report_service, "pdf", watched)
    with TestClient(create_app()) as client:
        reply = client.get(
            f"/api/v1/reports/candidates/{assessment_id}.pdf?lang=zh",
            headers={"Authorization": f"Bearer {token}"},
        )

    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/pdf"
    assert reply.content.startswith(b"%PDF-")
    assert int(reply.headers["content-length"]) == len(reply.content)
    assert seen_at_render == [1]
