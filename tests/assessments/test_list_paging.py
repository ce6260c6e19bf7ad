"""The candidate list in pages: service and API, counts by status, and a fixed number of queries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments import service as assessment_service
from app.assessments.models import Assessment
from app.assessments.service import FieldErrors
from app.config import Settings
from app.errors import Forbidden, InvalidInput
from tests.assessments.staff_helpers import make_assessment, make_candidate, make_submitted
from tests.conftest import MakeUser

API = "/api/v1"
NAMES = ["Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gus"]


@pytest.fixture
def hr(make_user: MakeUser) -> User:
    return make_user(Role.HR)


@pytest.fixture
def invited(db: Session, settings: Settings, hr: User) -> list[Assessment]:
    """Seven invitations, specialists every third one, in the order of NAMES."""
    return [
        make_assessment(
            db,
            hr,
            settings,
            role="specialist" if n % 3 == 0 else "assistant",
            candidate=make_candidate(db, hr, name=name),
        )[0]
        for n, name in enumerate(NAMES)
    ]


@contextmanager
def statements(db: Session) -> Iterator[list[str]]:
    """The SQL statements sent through the test's connection while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = db.get_bind().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def names(page: Any) -> list[str]:
    return [row.candidate_name for row in page.rows]


def test_pages_split_the_sorted_list_and_count_every_row(
    db: Session, hr: User, invited: list[Assessment]
) -> None:
    pages = [
        assessment_service.page_assessments(db, hr, sort="name", page=n, size=3) for n in (1, 2, 3)
    ]

    assert [names(p) for p in pages] == [NAMES[0:3], NAMES[3:6], NAMES[6:]]
    assert {(p.total, p.pages, p.size) for p in pages} == {(7, 3, 3)}
    assert [p.first_number for p in pages] == [1, 4, 7]
    whole = assessment_service.list_assessments(db, hr, sort="name")
    assert [row for p in pages for row in p.rows] == whole


def test_filters_and_sorting_apply_before_paging(
    db: Session, hr: User, invited: list[Assessment]
) -> None:
    first = assessment_service.page_assessments(
        db, hr, role_id="assistant", sort="name", descending=True, page=1, size=2
    )
    second = assessment_service.page_assessments(
        db, hr, role_id="assistant", sort="name", descending=True, page=2, size=2
    )
    found = assessment_service.page_assessments(db, hr, search="GU", size=10)

    assistants = sorted((n for i, n in enumerate(NAMES) if i % 3), reverse=True)
    assert names(first) + names(second) == assistants[:4]
    assert first.total == len(assistants) == 4
    assert (names(found), found.total) == (["Gus"], 1)


def test_a_page_past_the_end_is_empty_but_still_counts(
    db: Session, hr: User, invited: list[Assessment]
) -> None:
    page = assessment_service.page_assessments(db, hr, page=5, size=3)

    assert page.rows == ()
    assert (page.total, page.pages) == (7, 3)


def test_an_empty_list_has_one_empty_page(db: Session, hr: User) -> None:
    page = assessment_service.page_assessments(db, hr)

    assert (page.rows, page.total, page.pages, page.size) == ((), 0, 1, 50)


@pytest.mark.parametrize(
    ("page", "size", "fields"),
    [
        (0, 50, {"page"}),
        (1, 0, {"size"}),
        (1, 201, {"size"}),
        (-1, 1000, {"page", "size"}),
        (10**12, 50, {"page"}),
    ],
)
def test_page_and_size_out_of_range_are_refused_by_name(
    db: Session, hr: User, page: int, size: int, fields: set[str]
) -> None:
    with pytest.raises(FieldErrors) as refused:
        assessment_service.page_assessments(db, hr, page=page, size=size)

    assert set(refused.value.errors) == fields


def test_unknown_sort_or_status_is_refused_in_pages_too(db: Session, hr: User) -> None:
    with pytest.raises(InvalidInput) as sort:
        assessment_service.page_assessments(db, hr, sort="salary")
    with pytest.raises(InvalidInput) as status:
        assessment_service.page_assessments(db, hr, status="hired")

    assert (sort.value.field, status.value.field) == ("sort", "status")


def test_only_hr_may_list_or_count(db: Session, make_user: MakeUser) -> None:
    lead = make_user(Role.LEAD)

    with pytest.raises(Forbidden):
        assessment_service.page_assessments(db, lead)
    with pytest.raises(Forbidden):
        assessment_service.status_counts(db, lead)


def test_a_page_takes_the_same_statements_for_few_rows_and_for_many(
    db: Session, settings: Settings, hr: User
) -> None:
    make_submitted(db, hr, settings)
    make_assessment(db, hr, settings)
    assessment_service.page_assessments(db, hr)  # the rubric version is now parsed

    with statements(db) as few:
        small = assessment_service.page_assessments(db, hr, sort="level")
    for n in range(30):
        make_assessment(db, hr, settings, role="lead" if n % 2 else "assistant")
    with statements(db) as many:
        large = assessment_service.page_assessments(db, hr, sort="level", size=25)

    assert (len(small.rows), len(large.rows), large.total) == (2, 25, 32)
    assert len(few) == len(many) == 2  # the count and the page


def test_status_counts_agree_with_the_list(
    db: Session, settings: Settings, hr: User, invited: list[Assessment]
) -> None:
    make_submitted(db, hr, settings)
    assessment_service.revoke(db, hr, invited[0].id)
    rows = assessment_service.list_assessments(db, hr)

    with statements(db) as sent:
        counts = assessment_service.status_counts(db, hr)

    assert len(sent) == 1
    assert {k: v for k, v in counts.by_status.items() if v} == Counter(r.status for r in rows)
    assert counts.total == len(rows) == 8
    assert counts.provisional == sum(1 for r in rows if r.final is False) == 1


# ── the API ─────────────────────────────────────────────────────────────────────────────


def test_api_lists_one_page_with_the_total(
    client: TestClient,
    hr: User,
    invited: list[Assessment],
    token_for: Callable[[User], dict[str, str]],
) -> None:
    headers = token_for(hr)

    reply = client.get(
        f"{API}/assessments",
        params={"sort": "name", "descending": "true", "page": 2, "size": 3},
        headers=headers,
    )

    assert reply.status_code == 200
    body = reply.json()
    assert [r["candidate_name"] for r in body["items"]] == sorted(NAMES, reverse=True)[3:6]
    assert {k: body[k] for k in ("total", "page", "size", "pages")} == {
        "total": 7,
        "page": 2,
        "size": 3,
        "pages": 3,
    }
    default = client.get(f"{API}/assessments", headers=headers).json()
    assert (len(default["items"]), default["size"], default["page"]) == (7, 50, 1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"page": 10**7}, "page"),
        ({"size": 0}, "size"),
        ({"size": 201}, "size"),
    ],
)
def test_api_refuses_bad_paging_naming_the_parameter(
    client: TestClient,
    hr: User,
    token_for: Callable[[User], dict[str, str]],
    params: dict[str, Any],
    field: str,
) -> None:
    reply = client.get(f"{API}/assessments", params=params, headers=token_for(hr))

    assert reply.status_code == 422
    assert [e["loc"] for e in reply.json()["detail"]] == [["query", field]]
