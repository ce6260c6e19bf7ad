"""A candidate's sitting for the page tests: invited, and started through the invite link."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.assessments.models import Assessment
from app.config import Settings
from tests.assessments.test_candidate_service import make_invited_assessment


@pytest.fixture
def invited(db: Session, settings: Settings) -> tuple[Assessment, str]:
    return make_invited_assessment(db, settings, time_limit_minutes=45)


@pytest.fixture
def started(client: TestClient, invited: tuple[Assessment, str]) -> tuple[Assessment, str]:
    assessment, raw = invited
    response = client.post(f"/take/{raw}/start", data={"consent": "yes"}, follow_redirects=False)
    assert response.status_code == 303
    return assessment, raw
