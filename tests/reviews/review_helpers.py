"""Small `make_*` helpers for the review service tests: a team, an open cycle, answered forms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.api import reviews as reviews_api
from app.config import Settings
from app.db import utcnow
from app.reviews import service as review_service
from app.reviews.models import ReviewCycle, ReviewRatee, ReviewRequest
from app.reviews.views import CycleView
from app.rubrics import service as rubric_service
from tests.conftest import MakeUser

ROLE = "specialist"


def competencies(settings: Settings, role: str = ROLE) -> list[str]:
    """The role's competencies in rubric order (what every rating form asks about)."""
    loaded = rubric_service.current_rubrics(settings.rubrics_dir)["new_media_operator"]
    targets = loaded.rubric.role(role).targets
    return [c.id for _, c in loaded.rubric.competencies() if c.id in targets]


def in_days(days: float) -> datetime:
    return utcnow() + timedelta(days=days)


@dataclass
class Team:
    """A team led by `lead` with members m[0]…; HR, an admin and an outsider team around it."""

    id: int
    hr: User
    admin: User
    lead: User
    members: list[User]
    other_lead: User
    other_team_id: int
    outsider: User
    extra: dict[str, User] = field(default_factory=dict)

    def member(self, n: int) -> User:
        return self.members[n]


def make_team(
    db: Session,
    settings: Settings,
    make_user: MakeUser,
    *,
    size: int = 5,
    role: str = ROLE,
    names: Sequence[str] = (),
) -> Team:
    hr, admin = make_user(Role.HR), make_user(Role.ADMIN)
    lead = make_user(Role.LEAD, name="王主管")
    members = [
        make_user(Role.MEMBER, name=names[n] if n < len(names) else None) for n in range(size)
    ]
    team = review_service.create_team(db, hr, "内容运营组", lead.id, settings)
    for member in members:
        review_service.add_member(db, hr, team.id, member.id, role, settings)
    other_lead = make_user(Role.LEAD)
    other = review_service.create_team(db, hr, "平台运营组", other_lead.id, settings)
    outsider = make_user(Role.MEMBER)
    review_service.add_member(db, hr, other.id, outsider.id, role, settings)
    return Team(team.id, hr, admin, lead, members, other_lead, other.id, outsider)


def open_cycle(
    db: Session,
    settings: Settings,
    team: Team,
    ratees: Sequence[review_service.RateeSpec],
    *,
    actor: User | None = None,
    name: str = "2026 上半年 360 评估",
    due_at: datetime | None = None,
    **options: Any,
) -> CycleView:
    return review_service.open_cycle(
        db,
        actor or team.lead,
        team.id,
        settings,
        name=name,
        due_at=due_at or in_days(14),
        ratees=ratees,
        **options,
    )


def request_of(db: Session, cycle_id: int, ratee: User, rater: User) -> ReviewRequest:
    found = db.scalar(
        select(ReviewRequest)
        .join(ReviewRatee, ReviewRatee.id == ReviewRequest.ratee_id)
        .where(
            ReviewRatee.cycle_id == cycle_id,
            ReviewRatee.user_id == ratee.id,
            ReviewRequest.rater_id == rater.id,
        )
    )
    assert found is not None, f"{rater.name} was not asked to rate {ratee.name}"
    return found


def answers(
    settings: Settings,
    levels: int | Mapping[str, int | None] | None,
    comment: str | Mapping[str, str] = "",
) -> dict[str, review_service.AnswerInput]:
    """An answer for every competency; a level of None means "not observed"."""
    found = {}
    for competency in competencies(settings):
        level = levels.get(competency, 3) if isinstance(levels, Mapping) else levels
        text = comment.get(competency, "") if isinstance(comment, Mapping) else comment
        found[competency] = review_service.AnswerInput(
            level=level, not_observed=level is None, comment=text
        )
    return found


def rate(
    db: Session,
    settings: Settings,
    cycle_id: int,
    ratee: User,
    rater: User,
    levels: int | Mapping[str, int | None] | None = 3,
    comment: str | Mapping[str, str] = "",
) -> None:
    """`rater` answers every competency for `ratee` and submits."""
    request = request_of(db, cycle_id, ratee, rater)
    review_service.submit(db, rater, request.id, answers(settings, levels, comment))


def make_due(db: Session, cycle_id: int) -> None:
    """Move the cycle's due date into the past, as time passing would."""
    cycle = db.get(ReviewCycle, cycle_id)
    assert cycle is not None
    cycle.due_at = utcnow() - timedelta(seconds=1)
    db.flush()


def with_reviews_router(client: TestClient) -> TestClient:
    """The test client, with the review API mounted under /api/v1 if the app does not yet."""
    app = cast(FastAPI, client.app)
    paths = {getattr(route, "path", "") for route in app.routes}
    if "/api/v1/review-tasks" not in paths:
        app.include_router(reviews_api.router, prefix="/api/v1")
    return client
