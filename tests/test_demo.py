"""`yardstick demo` loads believable data at every stage, and loading twice changes nothing."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import demo
from app.accounts.models import User
from app.assessments.models import Assessment, AssessmentResult
from app.config import Settings
from app.plans.models import PlanItem
from app.reviews.models import ReviewCycle, ReviewResult


def test_demo_covers_every_stage_and_loads_once(db: Session, settings: Settings) -> None:
    lines = demo.load(db, settings)

    assert any("hr@demo.yardstick" in line for line in lines)
    assert sum("/take/" in line for line in lines) == 3
    statuses = Counter(db.scalars(select(Assessment.status)))
    assert set(statuses) == {"invited", "in_progress", "submitted", "scored", "expired", "revoked"}
    assert {a.role_id for a in db.scalars(select(Assessment))} == {"specialist", "assistant"}
    flags = [
        flag["code"]
        for result in db.scalars(select(AssessmentResult.result))
        for flag in result["flags"]
    ]
    assert "needs_adjudication" in flags
    recommendations = set(db.scalars(select(AssessmentResult.recommendation)))
    assert len(recommendations) >= 2

    cycles = Counter(db.scalars(select(ReviewCycle.status)))
    assert cycles == {"released": 2, "open": 1}
    withheld = [r["withheld"] for r in db.scalars(select(ReviewResult.result))]
    assert any("peer" in w for w in withheld)
    statuses = set(db.scalars(select(PlanItem.status)))
    assert {"done", "in_progress", "planned"} <= statuses

    users = db.scalar(select(func.count()).select_from(User))
    again = demo.load(db, settings)
    assert again[0] == "demo data already loaded"
    assert db.scalar(select(func.count()).select_from(User)) == users
