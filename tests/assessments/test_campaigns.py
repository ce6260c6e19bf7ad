"""Rater agreement per campaign (rubric + role): Krippendorff's alpha over work-sample ratings."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments import campaigns
from app.assessments import service as assessment_service
from app.assessments.models import Assessment
from app.config import Settings
from app.errors import Forbidden, NotFound
from tests.assessments.staff_helpers import RUBRIC, levels, make_submitted, work_samples
from tests.conftest import MakeUser

LOWEST, HIGHEST = 0, -1


@pytest.fixture
def hr(make_user: MakeUser) -> User:
    return make_user(Role.HR)


@pytest.fixture
def raters(make_user: MakeUser) -> tuple[User, User, User]:
    """Two raters and an adjudicator."""
    return make_user(Role.MEMBER), make_user(Role.LEAD), make_user(Role.LEAD)


def rate(
    db: Session,
    hr: User,
    assessment: Assessment,
    given: list[tuple[User, int]],
    adjudicator: tuple[User, int] | None = None,
) -> None:
    """Rate the content-creation work sample: each rater at a level position on every criterion."""
    item_id = work_samples(db, assessment, "content_creation")[0]
    for user, position in given:
        assessment_service.assign_rater(db, hr, assessment.id, user.id)
        assessment_service.save_rating(
            db, user, assessment.id, item_id, levels(db, assessment, item_id, position)
        )
    if adjudicator is not None:
        user, position = adjudicator
        assessment_service.assign_rater(db, hr, assessment.id, user.id, adjudicator=True)
        assessment_service.save_rating(
            db, user, assessment.id, item_id, levels(db, assessment, item_id, position)
        )


def test_hand_computed_alpha_leaves_out_adjudications_single_ratings_and_other_roles(
    db: Session, hr: User, settings: Settings, raters: tuple[User, User, User]
) -> None:
    first, second, adjudicator = raters
    # Shares of the item maximum per unit: (1, 1), (0, 0), (1, 0).
    rate(db, hr, make_submitted(db, hr, settings), [(first, HIGHEST), (second, HIGHEST)])
    rate(db, hr, make_submitted(db, hr, settings), [(first, LOWEST), (second, LOWEST)])
    rate(
        db,
        hr,
        make_submitted(db, hr, settings),
        [(first, HIGHEST), (second, LOWEST)],
        adjudicator=(adjudicator, HIGHEST),
    )
    # A unit with one rating is not pairable; another role is another campaign.
    rate(db, hr, make_submitted(db, hr, settings), [(first, 1)])
    rate(
        db,
        hr,
        make_submitted(db, hr, settings, role="specialist"),
        [(first, HIGHEST), (second, LOWEST)],
    )

    found = campaigns.get_agreement(db, hr, RUBRIC, "assistant", settings)

    # n = 6 values, three 1s and three 0s. Coincidences within units: o_11 = o_00 = 2,
    # o_10 = o_01 = 1, so D_o = (1 + 1) / 6 = 1/3. D_e = (3·3 + 3·3) / (6·5) = 3/5.
    # alpha = 1 − (1/3) / (3/5) = 4/9.
    assert found.alpha == pytest.approx(4 / 9)
    assert found.is_low is True
    assert (found.assessments, found.rated_items, found.doubly_rated_items) == (4, 4, 3)
    assert found.ratings == 7
    assert "Low agreement" in found.message["en"]
    assert found.role_name["zh"] == "新媒体运营助理"


def test_perfect_agreement_is_not_low(
    db: Session, hr: User, settings: Settings, raters: tuple[User, User, User]
) -> None:
    first, second, _ = raters
    rate(db, hr, make_submitted(db, hr, settings), [(first, HIGHEST), (second, HIGHEST)])
    rate(db, hr, make_submitted(db, hr, settings), [(first, LOWEST), (second, LOWEST)])

    found = campaigns.get_agreement(db, hr, RUBRIC, "assistant", settings)

    assert found.alpha == 1.0
    assert found.is_low is False
    assert found.doubly_rated_items == 2


def test_without_doubly_rated_items_there_is_not_enough_data(
    db: Session, hr: User, settings: Settings, raters: tuple[User, User, User]
) -> None:
    first, _, _ = raters
    rate(db, hr, make_submitted(db, hr, settings), [(first, HIGHEST)])

    found = campaigns.get_agreement(db, hr, RUBRIC, "assistant", settings)

    assert found.alpha is None
    assert found.is_low is False
    assert found.doubly_rated_items == 0
    assert found.message["en"].startswith("Not enough data")


def test_a_role_without_assessments_yet_reports_not_enough_data(
    db: Session, hr: User, settings: Settings
) -> None:
    found = campaigns.get_agreement(db, hr, RUBRIC, "lead", settings)
    assert (found.assessments, found.alpha) == (0, None)


@pytest.mark.parametrize(("rubric_id", "role_id"), [(RUBRIC, "astronaut"), ("nope", "lead")])
def test_an_unknown_campaign_is_not_found(
    db: Session, hr: User, settings: Settings, rubric_id: str, role_id: str
) -> None:
    with pytest.raises(NotFound):
        campaigns.get_agreement(db, hr, rubric_id, role_id, settings)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.LEAD])
def test_agreement_is_for_hr(
    db: Session, settings: Settings, make_user: MakeUser, role: Role
) -> None:
    with pytest.raises(Forbidden):
        campaigns.get_agreement(db, make_user(role), RUBRIC, "assistant", settings)
