"""HR's pages: staff home, candidate list with exports, new invitations, one assessment."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.accounts.secrets import hash_token
from app.assessments import candidate as candidate_service
from app.assessments import service as assessment_service
from app.assessments.models import Assessment, Candidate, RaterAssignment
from app.assessments.states import Status
from app.config import Settings
from app.db import utcnow
from tests.assessments.staff_helpers import Quality, answer_all, make_assessment, make_candidate
from tests.conftest import MakeUser, Signed, SignIn

LINK = re.compile(r"https://yardstick\.example/take/([A-Za-z0-9_-]+)")

HR_PAGES = [
    "/staff/assessments",
    "/staff/assessments/new",
    "/staff/assessments/export.csv",
    "/staff/assessments/export.xlsx",
    "/staff/assessments/{id}",
    "/staff/assessments/{id}/result",
    "/staff/campaigns",
]


@pytest.fixture
def hr(make_user: MakeUser) -> User:
    return make_user(Role.HR, name="Hana HR")


def submitted(
    db: Session,
    hr: User,
    settings: Settings,
    *,
    role: str = "assistant",
    name: str = "张伟",
    quality: Quality = "best",
) -> Assessment:
    """A sitting the candidate started, answered and submitted (work samples then wait)."""
    candidate = make_candidate(db, hr, name=name)
    assessment, _ = make_assessment(db, hr, settings, role=role, candidate=candidate)
    candidate_service.start(db, assessment, utcnow())
    answer_all(db, assessment, quality=quality)
    candidate_service.submit(db, assessment, utcnow())
    return assessment


def form_data(signed: Signed, **fields: str) -> dict[str, str]:
    return {"csrf_token": signed.csrf, **fields}


def count(db: Session, model: type[Candidate] | type[Assessment]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


# ── who may see what ────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("role", [Role.MEMBER, Role.LEAD])
@pytest.mark.parametrize("path", HR_PAGES)
def test_hr_pages_are_refused_to_leads_and_members(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    make_user: MakeUser,
    sign_in: SignIn,
    role: Role,
    path: str,
) -> None:
    assessment = submitted(db, hr, settings)
    rater = make_user(role)
    # Even as this assessment's rater: the HR pages are not theirs.
    assessment_service.assign_rater(db, hr, assessment.id, rater.id)
    sign_in(rater)

    response = client.get(path.format(id=assessment.id))

    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]


@pytest.mark.parametrize("path", [*HR_PAGES, "/staff", "/staff/ratings", "/staff/ratings/1/x"])
def test_signed_out_visitors_are_sent_to_login(client: TestClient, path: str) -> None:
    target = path.format(id=1)
    response = client.get(target, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={target}"


@pytest.mark.parametrize("role", [Role.MEMBER, Role.LEAD])
def test_hr_forms_are_refused_to_leads_and_members_and_change_nothing(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    make_user: MakeUser,
    sign_in: SignIn,
    role: Role,
) -> None:
    assessment, _ = make_assessment(db, hr, settings)
    signed = sign_in(make_user(role))
    candidates = count(db, Candidate)

    created = client.post(
        "/staff/assessments/new",
        data=form_data(
            signed, name="Li", email="li@example.com", role="new_media_operator:assistant"
        ),
    )
    revoked = client.post(f"/staff/assessments/{assessment.id}/revoke", data=form_data(signed))
    assigned = client.post(
        f"/staff/assessments/{assessment.id}/raters",
        data=form_data(signed, user_id=str(signed.user.id)),
    )

    assert (created.status_code, revoked.status_code, assigned.status_code) == (403, 403, 403)
    db.refresh(assessment)
    assert assessment.status == Status.INVITED
    assert count(db, Candidate) == candidates
    assert db.scalar(select(func.count()).select_from(RaterAssignment)) == 0


@pytest.mark.parametrize("token", [None, "forged"])
def test_forms_without_the_session_csrf_token_are_refused_and_change_nothing(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    sign_in: SignIn,
    token: str | None,
) -> None:
    assessment, _ = make_assessment(db, hr, settings)
    sign_in(hr)
    candidates = count(db, Candidate)
    csrf = {} if token is None else {"csrf_token": token}

    created = client.post(
        "/staff/assessments/new",
        data={
            "name": "Li",
            "email": "li@example.com",
            "role": "new_media_operator:assistant",
            **csrf,
        },
    )
    revoked = client.post(f"/staff/assessments/{assessment.id}/revoke", data=csrf)
    extended = client.post(f"/staff/assessments/{assessment.id}/extend", data={"days": "5", **csrf})

    assert (created.status_code, revoked.status_code, extended.status_code) == (403, 403, 403)
    assert count(db, Candidate) == candidates
    expiry = assessment.link_expires_at
    db.refresh(assessment)
    assert assessment.status == Status.INVITED
    assert assessment.link_expires_at == expiry


# ── staff home ──────────────────────────────────────────────────────────────────────────


def test_hr_home_counts_assessments_by_status_and_links_the_work(
    client: TestClient, db: Session, settings: Settings, hr: User, sign_in: SignIn
) -> None:
    make_assessment(db, hr, settings)
    make_assessment(db, hr, settings)
    submitted(db, hr, settings)
    sign_in(hr)

    page = client.get("/staff")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert re.search(r'status=invited"><span class="tile-number">2<', text)
    assert re.search(r'status=submitted"><span class="tile-number">1<', text)
    for link in (
        "/staff/assessments",
        "/staff/assessments/new",
        "/staff/ratings",
        "/staff/campaigns",
    ):
        assert f'href="{link}"' in text


def test_a_member_home_is_their_rating_queue(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    make_user: MakeUser,
    sign_in: SignIn,
) -> None:
    assessment = submitted(db, hr, settings, name="Secret Name")
    member = make_user(Role.MEMBER)
    assessment_service.assign_rater(db, hr, assessment.id, member.id)
    sign_in(member)

    page = client.get("/staff")

    assert page.status_code == 200
    assert f"/staff/ratings/{assessment.id}/" in page.text
    assert "Secret Name" not in page.text
    assert "/staff/assessments/new" not in page.text


# ── invitations ─────────────────────────────────────────────────────────────────────────


def test_hr_invites_a_candidate_and_sees_the_link_once(
    client: TestClient, db: Session, hr: User, sign_in: SignIn
) -> None:
    signed = sign_in(hr)
    form = client.get("/staff/assessments/new")
    assert form.status_code == 200
    assert 'value="new_media_operator:specialist"' in form.text

    response = client.post(
        "/staff/assessments/new",
        data=form_data(
            signed,
            name="王芳",
            email="Wang.Fang@Example.com",
            note="referred by 李雷",
            role="new_media_operator:specialist",
            time_limit_minutes="45",
            link_valid_days="10",
        ),
        follow_redirects=False,
    )

    assert response.status_code == 201
    assert "location" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    links = set(LINK.findall(response.text))
    assert len(links) == 1
    token = links.pop()
    assert "shown this once" in response.text
    assert 'data-copy="#invite-url"' in response.text

    assessment = db.scalars(select(Assessment).order_by(Assessment.id.desc())).first()
    assert assessment is not None
    candidate = db.get(Candidate, assessment.candidate_id)
    assert candidate is not None
    assert candidate.name == "王芳"
    assert candidate.email == "wang.fang@example.com"
    assert (assessment.role_id, assessment.time_limit_minutes) == ("specialist", 45)
    assert assessment.token_hash == hash_token(token) != token

    detail = client.get(f"/staff/assessments/{assessment.id}")
    assert detail.status_code == 200
    assert token not in detail.text
    assert not LINK.search(detail.text)
    assert "王芳" in detail.text
    assert "referred by 李雷" in detail.text


def test_invalid_invitation_is_shown_again_with_messages_and_what_was_typed(
    client: TestClient, db: Session, hr: User, sign_in: SignIn
) -> None:
    signed = sign_in(hr)
    candidates, assessments = count(db, Candidate), count(db, Assessment)

    response = client.post(
        "/staff/assessments/new",
        data=form_data(
            signed,
            name="<b>Ann</b>",
            email="not-an-email",
            role="new_media_operator:astronaut",
            time_limit_minutes="forty",
            link_valid_days="400",
        ),
    )

    assert response.status_code == 422
    text = response.text
    assert re.search(r'id="field-email-error">Give a valid email address', text)
    assert re.search(r'id="field-role-error">Choose a role', text)
    assert re.search(r'id="field-time_limit_minutes-error">Give a whole number of minutes', text)
    assert re.search(r'id="field-link_valid_days-error">Give a whole number of days', text)
    assert 'value="not-an-email"' in text
    assert 'value="forty"' in text
    assert 'value="400"' in text
    assert 'value="&lt;b&gt;Ann&lt;/b&gt;"' in text
    assert LINK.search(text) is None
    assert (count(db, Candidate), count(db, Assessment)) == (candidates, assessments)


def test_a_valid_candidate_is_not_kept_when_the_assessment_part_is_wrong(
    client: TestClient, db: Session, hr: User, sign_in: SignIn
) -> None:
    signed = sign_in(hr)
    candidates = count(db, Candidate)

    response = client.post(
        "/staff/assessments/new",
        data=form_data(
            signed,
            name="Ann",
            email="ann@example.com",
            role="new_media_operator:assistant",
            time_limit_minutes="0",
        ),
        headers={"accept-language": "zh-CN"},
    )

    assert response.status_code == 422
    assert "请填写 1–600 之间的整数分钟数" in response.text
    assert 'value="ann@example.com"' in response.text
    assert count(db, Candidate) == candidates


# ── the candidate list ──────────────────────────────────────────────────────────────────


def test_list_shows_level_fit_recommendation_and_provisional_state(
    client: TestClient, db: Session, settings: Settings, hr: User, sign_in: SignIn
) -> None:
    assessment = submitted(db, hr, settings, name="Provisional Pat")
    row = assessment_service.list_assessments(db, hr)[0]
    assert row.overall_level is not None
    assert row.fit is not None
    assert row.final is False
    sign_in(hr)

    page = client.get("/staff/assessments")

    assert page.status_code == 200
    cells = page.text.split(f'href="/staff/assessments/{assessment.id}">Provisional Pat')[1]
    cells = cells.split("</tr>")[0]
    assert f">{row.overall_level:.1f}<" in cells
    assert f">{row.fit * 100:.0f}%<" in cells
    assert row.recommendation_label is not None
    assert str(escape(row.recommendation_label["en"])) in cells
    assert "badge-provisional" in cells
    assert "badge-submitted" in cells


def names_in_order(text: str) -> list[str]:
    return re.findall(r'<a href="/staff/assessments/\d+">([^<]+)</a>', text)


def test_list_filters_by_role_status_and_search_and_sorts_by_column(
    client: TestClient, db: Session, settings: Settings, hr: User, sign_in: SignIn
) -> None:
    make_assessment(db, hr, settings, candidate=make_candidate(db, hr, name="Bea"))
    make_assessment(
        db, hr, settings, role="specialist", candidate=make_candidate(db, hr, name="Cai")
    )
    submitted(db, hr, settings, name="Abe")
    submitted(db, hr, settings, name="Dee", role="specialist", quality="worst")
    sign_in(hr)

    by_role = client.get("/staff/assessments", params={"role": "specialist"})
    by_status = client.get("/staff/assessments", params={"status": "submitted"})
    by_search = client.get("/staff/assessments", params={"search": "be"})
    by_name = client.get("/staff/assessments", params={"sort": "name", "descending": "0"})
    by_name_desc = client.get("/staff/assessments", params={"sort": "name", "descending": "1"})
    by_level = client.get("/staff/assessments", params={"sort": "level", "descending": "1"})

    assert sorted(names_in_order(by_role.text)) == ["Cai", "Dee"]
    assert sorted(names_in_order(by_status.text)) == ["Abe", "Dee"]
    assert sorted(names_in_order(by_search.text)) == ["Abe", "Bea"]
    assert names_in_order(by_name.text) == ["Abe", "Bea", "Cai", "Dee"]
    assert names_in_order(by_name_desc.text) == ["Dee", "Cai", "Bea", "Abe"]
    # Best level first; rows without a level go last.
    assert names_in_order(by_level.text)[:2] == ["Abe", "Dee"]
    # The sorted column says so, and its link turns the order round.
    assert 'aria-sort="ascending"' in by_name.text
    assert "sort=name&amp;descending=1" in by_name.text
    # The filter form keeps what was chosen.
    assert '<option value="specialist" selected>' in by_role.text


def test_an_unknown_status_filter_is_explained_not_crashed_on(
    client: TestClient, hr: User, sign_in: SignIn
) -> None:
    sign_in(hr)

    page = client.get("/staff/assessments", params={"status": "hired"})

    assert page.status_code == 422
    assert re.search(r'id="field-status-error">Unknown status', page.text)


def test_list_comes_in_pages_whose_links_keep_filters_and_sort(
    client: TestClient, db: Session, settings: Settings, hr: User, sign_in: SignIn
) -> None:
    for name in ["Eve", "Abe", "Dee", "Bea", "Cai"]:
        make_assessment(db, hr, settings, candidate=make_candidate(db, hr, name=name))
    make_assessment(db, hr, settings, role="lead", candidate=make_candidate(db, hr, name="Zed"))
    sign_in(hr)
    query = {"role": "assistant", "sort": "name", "descending": "0", "size": "2"}

    first = client.get("/staff/assessments", params=query)
    last = client.get("/staff/assessments", params={**query, "page": "3"})

    assert names_in_order(first.text) == ["Abe", "Bea"]
    assert names_in_order(last.text) == ["Eve"]
    assert "5 assessment(s)" in first.text
    assert "Showing 1–2, page 1 of 3" in first.text
    assert "Showing 5–5, page 3 of 3" in last.text
    links = dict(re.findall(r'<a class="button[^"]*" rel="(prev|next)" href="([^"]+)"', first.text))
    assert set(links) == {"next"}
    assert html.unescape(links["next"]) == (
        "/staff/assessments?role=assistant&sort=name&descending=0&size=2&page=2"
    )
    assert re.search(r'aria-current="page" href="[^"]*page=3"', last.text)
    assert 'rel="prev"' in last.text
    assert 'rel="next"' not in last.text
    # The size stays chosen; sorting by another column starts again at page 1.
    assert '<option value="2" selected>2</option>' in first.text
    assert "page=" not in html.unescape(re.findall(r'href="([^"]*sort=level[^"]*)"', last.text)[0])


def test_a_page_past_the_end_says_so_and_links_to_the_last(
    client: TestClient, db: Session, settings: Settings, hr: User, sign_in: SignIn
) -> None:
    for _ in range(3):
        make_assessment(db, hr, settings)
    sign_in(hr)

    page = client.get("/staff/assessments", params={"size": "2", "page": "9"})

    assert page.status_code == 200
    assert names_in_order(page.text) == []
    assert "the list has 2 page(s)" in page.text
    last = re.findall(r'<a href="([^"]+)">Go to the last page', page.text)
    assert [html.unescape(url) for url in last] == [
        "/staff/assessments?sort=created&descending=1&size=2&page=2"
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "0"}, "The page number must be a whole number from 1"),
        ({"page": "two"}, "The page number must be a whole number from 1"),
        ({"size": "500"}, "Rows per page must be a whole number from 1 to 200"),
        ({"size": "-5"}, "Rows per page must be a whole number from 1 to 200"),
    ],
)
def test_a_bad_page_or_size_is_explained_not_crashed_on(
    client: TestClient, hr: User, sign_in: SignIn, params: dict[str, str], message: str
) -> None:
    sign_in(hr)

    page = client.get("/staff/assessments", params=params)

    assert page.status_code == 422
    assert message in page.text
    assert 'class="error-summary"' in page.text


@pytest.mark.parametrize(
    ("suffix", "content_type"),
    [
        ("csv", "text/csv; charset=utf-8"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_export_downloads_the_filtered_list(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    sign_in: SignIn,
    suffix: str,
    content_type: str,
) -> None:
    make_assessment(db, hr, settings, candidate=make_candidate(db, hr, name="Bea"))
    make_assessment(
        db, hr, settings, role="specialist", candidate=make_candidate(db, hr, name="=Cai")
    )
    submitted(db, hr, settings, name="张伟", role="specialist")
    sign_in(hr)
    page = client.get("/staff/assessments", params={"role": "specialist"})
    link = re.search(rf'href="(/staff/assessments/export\.{suffix}\?[^"]+)"', page.text)
    assert link is not None

    response = client.get(html.unescape(link.group(1)))

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert 'filename="candidates-specialist-' in response.headers["content-disposition"]
    if suffix == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = [
            [str(c) if c is not None else "" for c in r] for r in sheet.iter_rows(values_only=True)
        ]
    assert rows[0][:2] == ["Assessment", "Candidate"]
    assert sorted(r[1] for r in rows[1:]) == (
        ["'=Cai", "张伟"] if suffix == "csv" else ["=Cai", "张伟"]
    )


# ── one assessment ──────────────────────────────────────────────────────────────────────


def test_hr_assigns_and_removes_raters(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    make_user: MakeUser,
    sign_in: SignIn,
) -> None:
    assessment, _ = make_assessment(db, hr, settings)
    rater = make_user(Role.LEAD, name="Lin Lead")
    signed = sign_in(hr)
    page = client.get(f"/staff/assessments/{assessment.id}")
    assert f'<option value="{rater.id}">Lin Lead (lead)' in page.text

    added = client.post(
        f"/staff/assessments/{assessment.id}/raters",
        data=form_data(signed, user_id=str(rater.id), adjudicator="on"),
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"/staff/assessments/{assessment.id}?notice=rater_added"
    shown = client.get(added.headers["location"])
    assert "The rater was added." in shown.text
    assert "Adjudicator</span>" in shown.text
    assert [r.adjudicator for r in assessment_service.list_raters(db, hr, assessment.id)] == [True]

    again = client.post(
        f"/staff/assessments/{assessment.id}/raters", data=form_data(signed, user_id=str(rater.id))
    )
    assert again.status_code == 409
    assert re.search(r'id="field-user_id-error">This user already rates', again.text)

    removed = client.post(
        f"/staff/assessments/{assessment.id}/raters/{rater.id}/remove",
        data=form_data(signed),
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert assessment_service.list_raters(db, hr, assessment.id) == []


def test_hr_revokes_and_extends_the_link(
    client: TestClient, db: Session, settings: Settings, hr: User, sign_in: SignIn
) -> None:
    assessment, _ = make_assessment(db, hr, settings)
    signed = sign_in(hr)
    expiry = assessment.link_expires_at
    assert expiry is not None

    bad = client.post(
        f"/staff/assessments/{assessment.id}/extend", data=form_data(signed, days="lots")
    )
    assert bad.status_code == 422
    assert re.search(r'id="field-days-error">Give a whole number of days', bad.text)
    assert 'value="lots"' in bad.text

    extended = client.post(
        f"/staff/assessments/{assessment.id}/extend", data=form_data(signed, days="3")
    )
    assert extended.status_code == 200
    assert "The link&#39;s expiry was extended." in extended.text
    db.refresh(assessment)
    assert assessment.link_expires_at is not None
    assert round((assessment.link_expires_at - expiry).total_seconds()) == 3 * 86400

    revoked = client.post(f"/staff/assessments/{assessment.id}/revoke", data=form_data(signed))
    assert revoked.status_code == 200
    db.refresh(assessment)
    assert assessment.status == Status.REVOKED
    assert "badge-revoked" in revoked.text
    # Once revoked there is nothing left to revoke or extend.
    assert f"/staff/assessments/{assessment.id}/revoke" not in revoked.text

    refused = client.post(f"/staff/assessments/{assessment.id}/revoke", data=form_data(signed))
    assert refused.status_code == 409
    assert "cannot be revoked now" in refused.text


def test_reissuing_shows_the_new_link_once_and_the_old_one_stops_working(
    client: TestClient, db: Session, settings: Settings, hr: User, sign_in: SignIn
) -> None:
    assessment, old_url = make_assessment(db, hr, settings)
    signed = sign_in(hr)

    response = client.post(
        f"/staff/assessments/{assessment.id}/reissue", data=form_data(signed, link_valid_days="")
    )

    assert response.status_code == 200
    links = set(LINK.findall(response.text))
    assert len(links) == 1
    token = links.pop()
    assert token not in old_url
    db.refresh(assessment)
    assert assessment.token_hash == hash_token(token)
    assert assessment.link_expires_at is None
    assert "the old one stopped working" in response.text


def test_an_unknown_assessment_is_404_for_hr(client: TestClient, hr: User, sign_in: SignIn) -> None:
    sign_in(hr)

    assert client.get("/staff/assessments/999999").status_code == 404
    assert client.get("/staff/assessments/not-a-number").status_code == 404
