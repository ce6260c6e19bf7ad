"""Small `make_*` helpers for the plan tests: teams, scored assessments, released reviews.

Assessments go through the hiring services (a rater rates every work sample, so the result
is final); review results are written as the reviews service stores them, from `aggregate`.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.api import plans as plans_api
from app.assessments import service as assessment_service
from app.assessments.models import Assessment
from app.config import Settings
from app.db import utcnow
from app.reviews.aggregation import GivenRating, Group, aggregate
from app.reviews.models import ReviewCycle, ReviewRatee, ReviewResult, Team, TeamMember
from app.rubrics import service as rubric_service
from app.rubrics.loader import load_rubric
from app.web import plans as plans_pages
from tests.assessments.staff_helpers import (
    RUBRIC,
    levels,
    make_candidate,
    make_submitted,
    work_samples,
)
from tests.conftest import SHIPPED_RUBRIC

ROLE = "specialist"
_numbers = itertools.count(1)


def make_team(db: Session, lead: User, *members: User, name: str | None = None) -> Team:
    team = Team(name=name or f"团队 Team {next(_numbers)}", lead_id=lead.id, created_at=utcnow())
    db.add(team)
    db.flush()
    for member in members:
        db.add(TeamMember(team_id=team.id, user_id=member.id, role_id=ROLE, joined_at=utcnow()))
    db.flush()
    return team


def make_scored(
    db: Session,
    hr: User,
    settings: Settings,
    person: User,
    *,
    weak: Collection[str] = (),
    submitted_at: datetime | None = None,
    rate: bool = True,
) -> Assessment:
    """A hiring assessment of `person` (by email), scored final: strong except `weak`.

    `weak` competencies get the worst choice answers and the weakest work-sample levels, so
    they land at level 1; the rest at 5. Without `rate` the result stays provisional.
    """
    candidate = make_candidate(db, hr, name=person.name, email=person.email)
    assessment = make_submitted(db, hr, settings, role=ROLE, candidate=candidate, weak=weak)
    if rate:
        assessment_service.assign_rater(db, hr, assessment.id, hr.id)
        for item_id in work_samples(db, assessment):
            competency = (
                rubric_service.get_version(db, assessment.rubric_version)
                .item_index()[item_id]
                .competency
            )
            position = 0 if competency in weak else -1
            assessment_service.save_rating(
                db, hr, assessment.id, item_id, levels(db, assessment, item_id, position)
            )
    if submitted_at is not None:
        assessment.submitted_at = submitted_at
    db.flush()
    return assessment


@dataclass(frozen=True)
class Released:
    cycle: ReviewCycle
    ratee: ReviewRatee
    result: ReviewResult


def make_review(
    db: Session,
    settings: Settings,
    team: Team,
    person: User,
    manager_levels: Mapping[str, int],
    *,
    closed_at: datetime | None = None,
    self_level: int = 4,
    released: bool = True,
) -> Released:
    """A closed 360 cycle with `person` rated by their manager (and themself) as given."""
    loaded = rubric_service.get_current(settings.rubrics_dir, RUBRIC)
    rubric_service.pin(db, loaded)
    closed_at = closed_at or utcnow()
    cycle = ReviewCycle(
        team_id=team.id,
        name=f"360 · {next(_numbers)}",
        rubric_id=RUBRIC,
        rubric_version=loaded.version,
        role_id=ROLE,
        status="released" if released else "open",
        # An unreleased cycle is still open and not yet due (a due one would be closed on read).
        due_at=closed_at if released else closed_at + timedelta(days=14),
        min_raters={"peer": 3, "report": 3},
        group_weights={},
        comment_seed="seed",
        created_at=closed_at - timedelta(days=14),
        closed_at=closed_at if released else None,
    )
    db.add(cycle)
    db.flush()
    ratee = ReviewRatee(cycle_id=cycle.id, user_id=person.id)
    db.add(ratee)
    db.flush()
    ratings = [
        GivenRating("manager", Group.MANAGER, competency, level)
        for competency, level in manager_levels.items()
    ] + [
        GivenRating("self", Group.SELF, competency, self_level)
        for competency in loaded.rubric.role(ROLE).targets
    ]
    result = aggregate(loaded.rubric, loaded.version, ROLE, ratings)
    stored = ReviewResult(
        ratee_id=ratee.id,
        rubric_version=loaded.version,
        result=result.to_dict(),
        computed_at=closed_at,
    )
    db.add(stored)
    db.flush()
    return Released(cycle, ratee, stored)


def all_at(level: int, **overrides: int) -> dict[str, int]:
    """Manager levels: every competency of the role at `level`, except those overridden."""
    targets = load_rubric(SHIPPED_RUBRIC).role(ROLE).targets
    return {c: overrides.get(c, level) for c in targets}


@pytest.fixture
def plans_client(client: TestClient) -> TestClient:
    """The test client with the plan routers mounted (a no-op once the app includes them),
    not following redirects, so a test sees each 303 and where it points."""
    app = cast(FastAPI, client.app)
    paths = {getattr(route, "path", "") for route in app.routes}
    if "/api/v1/plans" not in paths:
        app.include_router(plans_api.router, prefix="/api/v1")
    if "/plans" not in paths:
        app.include_router(plans_pages.router)
    client.follow_redirects = False
    return client
