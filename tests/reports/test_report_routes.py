"""Report downloads (API) and previews (pages): who gets which report, headers, languages."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.api import reports as api_reports
from app.assessments.models import Assessment
from app.config import Settings
from app.reports import render
from app.reports import service as report_service
from app.reports.documents import Document, content_disposition, filename
from app.reviews.models import ReviewRatee
from app.web import reports as web_reports
from tests.conftest import MakeUser, SignIn
from tests.reports.report_helpers import released_review, scored_assessment
from tests.reviews.review_helpers import Team, make_team

TokenFor = Callable[[User], dict[str, str]]
VIEWERS = ["anonymous", "member", "other_lead", "ratee", "lead", "hr", "admin"]
# Who may see what: 200, or the status everyone else gets (403 for a role that may never
# see the report, 404 for an object the viewer may not see, 401 without credentials).
EXPECTED = {
    "candidate": {"member": 403, "other_lead": 403, "ratee": 403, "lead": 403},
    "feedback": {"member": 403, "other_lead": 403, "ratee": 403, "lead": 403},
    "review": {"member": 404, "other_lead": 404},
    "team": {"member": 403, "other_lead": 404, "ratee": 403},
}


@dataclass
class World:
    team: Team
    assessment_id: int
    ratee_id: int

    def viewer(self, name: str) -> User | None:
        return {
            "anonymous": None,
            "member": self.team.member(4),
            "other_lead": self.team.other_lead,
            "ratee": self.team.member(0),
            "lead": self.team.lead,
            "hr": self.team.hr,
            "admin": self.team.admin,
        }[name]

    def path(self, kind: str, api: bool = True) -> str:
        base, ext = ("/api/v1/reports", "pdf") if api else ("/staff/reports", "html")
        return {
            "candidate": f"{base}/candidates/{self.assessment_id}.{ext}",
            "feedback": f"{base}/candidates/{self.assessment_id}/feedback.{ext}",
            "review": f"{base}/reviews/{self.ratee_id}.{ext}",
            "team": f"{base}/teams/{self.team.id}.{ext}",
        }[kind]


@pytest.fixture
def app_client(client: TestClient) -> TestClient:
    """The client, with the report routers mounted if the app does not mount them yet."""
    paths = {getattr(route, "path", "") for route in client.app.routes}  # type: ignore[attr-defined]
    if "/api/v1/reports/teams/{team_id:int}.pdf" not in paths:
        client.app.include_router(api_reports.router, prefix="/api/v1")  # type: ignore[attr-defined]
        client.app.include_router(web_reports.router)  # type: ignore[attr-defined]
    return client


@pytest.fixture
def world(db: Session, settings: Settings, make_user: MakeUser) -> World:
    team = make_team(db, settings, make_user, names=["赵敏", "钱程", "孙悦", "李雷", "周舟"])
    assessment = scored_assessment(db, team.hr, settings, name="张伟")
    assessment.candidate_feedback = True
    review = released_review(db, settings, team, peers=(1, 2, 3))
    db.flush()
    return World(team, assessment.id, review.ratee_id)


@pytest.fixture
def rendered_documents(monkeypatch: pytest.MonkeyPatch) -> list[Document]:
    """Skip WeasyPrint where only authorization is under test: record what would render."""
    seen: list[Document] = []

    def fake_pdf(document: Document) -> bytes:
        seen.append(document)
        return b"%PDF-1.7 test"

    monkeypatch.setattr(report_service, "pdf", fake_pdf)
    return seen


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_api_downloads_follow_the_datas_own_authorization(
    app_client: TestClient,
    world: World,
    token_for: TokenFor,
    rendered_documents: list[Document],
    kind: str,
) -> None:
    for viewer in VIEWERS:
        user = world.viewer(viewer)
        rendered_documents.clear()

        response = app_client.get(world.path(kind), headers=token_for(user) if user else {})

        expected = 401 if user is None else EXPECTED[kind].get(viewer, 200)
        assert response.status_code == expected, (viewer, response.text)
        if expected == 200:
            assert response.headers["content-type"] == "application/pdf"
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["content-disposition"].startswith("attachment; filename=")
            assert len(rendered_documents) == 1
        else:
            assert rendered_documents == [], viewer
            code = response.json()["detail"]["code"]
            assert code in ("forbidden", "not_found", "unauthenticated"), viewer


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_previews_follow_the_same_authorization(
    app_client: TestClient, world: World, sign_in: SignIn, kind: str
) -> None:
    path = world.path(kind, api=False)
    for viewer in VIEWERS:
        user = world.viewer(viewer)
        app_client.cookies.clear()
        if user is not None:
            sign_in(user)

        response = app_client.get(path, follow_redirects=False)

        if user is None:
            assert response.status_code == 303
            assert response.headers["location"] == f"/login?next={quote(path)}"
            continue
        expected = EXPECTED[kind].get(viewer, 200)
        assert response.status_code == expected, viewer
        assert response.headers["cache-control"] == "no-store"
        if expected == 200:
            assert response.text.startswith("<!doctype html>")
            assert "<title>" in response.text


def test_candidate_pdf_download_is_a_real_chinese_pdf_with_a_safe_file_name(
    app_client: TestClient, world: World, token_for: TokenFor
) -> None:
    response = app_client.get(
        world.path("candidate") + "?lang=zh", headers=token_for(world.team.hr)
    )

    assert response.status_code == 200
    name = f"candidate-report-{world.assessment_id}-张伟.pdf"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="candidate-report-{world.assessment_id}-_.pdf"; '
        f"filename*=UTF-8''{quote(name)}"
    )
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    assert reader.metadata is not None
    assert reader.metadata.title == "候选人测评报告：张伟"


def test_language_comes_from_the_query_else_from_the_users_choice(
    app_client: TestClient,
    world: World,
    token_for: TokenFor,
    db: Session,
    rendered_documents: list[Document],
) -> None:
    hr = world.team.hr
    headers = token_for(hr)
    app_client.get(world.path("review"), headers=headers)
    hr.language = "zh"
    db.flush()
    app_client.get(world.path("review"), headers=headers)
    app_client.get(world.path("review") + "?lang=en", headers=headers)

    assert [d.lang for d in rendered_documents] == ["en", "zh", "en"]
    assert rendered_documents[1].title.startswith("360 度评估报告")


def test_an_unknown_language_is_an_input_error(
    app_client: TestClient, world: World, token_for: TokenFor
) -> None:
    response = app_client.get(world.path("team") + "?lang=fr", headers=token_for(world.team.lead))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "lang"]


def test_feedback_download_says_when_it_is_not_enabled(
    app_client: TestClient, world: World, token_for: TokenFor, db: Session
) -> None:
    assessment = db.get(Assessment, world.assessment_id)
    assert assessment is not None
    assessment.candidate_feedback = False
    db.flush()

    response = app_client.get(world.path("feedback"), headers=token_for(world.team.hr))

    assert response.status_code == 409
    assert "not enabled" in response.json()["detail"]["message"]


def test_preview_allows_exactly_its_inline_stylesheet_and_links_the_downloads(
    app_client: TestClient, world: World, sign_in: SignIn
) -> None:
    sign_in(world.team.lead)

    response = app_client.get(world.path("team", api=False) + "?lang=zh")

    csp = response.headers["content-security-policy"]
    assert f"style-src {render.preview_style_source()}" in csp
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    html = response.text
    assert "<style>" in html
    assert f'href="{world.path("team")}?lang=zh"' in html
    assert f'href="{world.path("team", api=False)}?lang=en"' in html
    assert '<html lang="zh-CN">' in html


def test_session_cookie_downloads_work_from_the_pages(
    app_client: TestClient, world: World, sign_in: SignIn, rendered_documents: list[Document]
) -> None:
    sign_in(world.team.member(0))

    response = app_client.get(world.path("review") + "?lang=zh")

    assert response.status_code == 200
    assert rendered_documents[0].context["title"] == "360 度评估报告：赵敏"


def test_review_preview_by_cycle_and_person_links_the_ratees_pdf(
    app_client: TestClient, world: World, sign_in: SignIn, db: Session
) -> None:
    ratee = world.team.member(0)
    cycle_id = db.scalar(select(ReviewRatee.cycle_id).where(ReviewRatee.id == world.ratee_id))
    path = f"/staff/reports/cycles/{cycle_id}/results/{ratee.id}.html"

    sign_in(world.team.outsider)
    assert app_client.get(path).status_code == 404
    sign_in(ratee)
    response = app_client.get(path + "?lang=en")

    assert response.status_code == 200
    assert f'href="/api/v1/reports/reviews/{world.ratee_id}.pdf?lang=en"' in response.text
    assert "<title>360° review report: 赵敏</title>" in response.text


def test_team_report_for_a_chosen_cycle(
    app_client: TestClient,
    world: World,
    token_for: TokenFor,
    db: Session,
    rendered_documents: list[Document],
) -> None:
    cycle_id = db.scalar(select(ReviewRatee.cycle_id).where(ReviewRatee.id == world.ratee_id))
    headers = token_for(world.team.lead)

    chosen = app_client.get(f"{world.path('team')}?cycle_id={cycle_id}", headers=headers)
    unknown = app_client.get(f"{world.path('team')}?cycle_id=999999", headers=headers)

    assert chosen.status_code == 200
    assert rendered_documents[0].context["member_count"] == 1
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["field"] == "cycle_id"


@pytest.mark.parametrize(
    ("name", "ascii_part", "full_part"),
    [
        ("张伟", "_", "%E5%BC%A0%E4%BC%9F"),
        ("Emily Zhao", "Emily-Zhao", None),
        ('a"b\r\nContent-Type: x; y', "a-b-Content-Type-x-y", None),
        ("../../etc/passwd", "etc-passwd", None),
    ],
)
def test_download_file_names_are_safe_in_the_header_and_on_disk(
    name: str, ascii_part: str, full_part: str | None
) -> None:
    header = content_disposition(filename("team-report-7", name))

    assert header.startswith(f'attachment; filename="team-report-7-{ascii_part}.pdf"')
    assert "\r" not in header
    assert "\n" not in header
    assert "/" not in header.split("filename=", 1)[1].split(";")[0]
    if full_part is None:
        assert "filename*" not in header
    else:
        assert header.endswith(f"; filename*=UTF-8''team-report-7-{full_part}.pdf")
