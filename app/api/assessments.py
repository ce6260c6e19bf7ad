"""JSON API for HR and raters: candidates, assessments, invite links, ratings, results, exports."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.api.errors import STAFF_ERRORS, refuse_nul_characters
from app.assessments import campaigns, exports
from app.assessments import service as assessment_service
from app.assessments.schemas import (
    AgreementOut,
    AssessmentIn,
    AssessmentOut,
    AssessmentPageOut,
    AssessmentRowOut,
    CandidateDetailOut,
    CandidateFeedbackIn,
    CandidateIn,
    CandidateOut,
    ExtendIn,
    InviteOut,
    OwnRatingOut,
    QueueEntryOut,
    RaterIn,
    RaterOut,
    RatingTaskOut,
    ReissueIn,
    ResultOut,
    WorkSampleRatingIn,
)
from app.db import utcnow
from app.deps import ApiHr, ApiStaff, SessionDep, SettingsDep
from app.ids import Id
from app.privacy import audit

router = APIRouter(responses=STAFF_ERRORS, dependencies=[Depends(refuse_nul_characters)])


Language = Literal["zh", "en"]
Sort = assessment_service.SortKey


# ── candidates ──────────────────────────────────────────────────────────────────────────


@router.post(
    "/candidates",
    response_model=CandidateOut,
    status_code=201,
    tags=["candidates"],
)
def create_candidate(body: CandidateIn, session: SessionDep, staff: ApiHr) -> CandidateOut:
    candidate = assessment_service.create_candidate(
        session, staff.user, body.name, body.email, body.note
    )
    return CandidateOut.model_validate(
        assessment_service.get_candidate(session, staff.user, candidate.id).candidate
    )


@router.get("/candidates", response_model=list[CandidateOut], tags=["candidates"])
def list_candidates(
    session: SessionDep, staff: ApiHr, search: str | None = None
) -> list[CandidateOut]:
    found = assessment_service.list_candidates(session, staff.user, search)
    return [CandidateOut.model_validate(c) for c in found]


@router.get("/candidates/{candidate_id}", response_model=CandidateDetailOut, tags=["candidates"])
def get_candidate(candidate_id: Id, session: SessionDep, staff: ApiHr) -> CandidateDetailOut:
    detail = assessment_service.get_candidate(session, staff.user, candidate_id)
    return CandidateDetailOut.model_validate(detail)


# ── assessments and their links ─────────────────────────────────────────────────────────


@router.post(
    "/assessments",
    response_model=InviteOut,
    status_code=201,
    tags=["assessments"],
    summary="Invite a candidate; the invite URL is returned only here",
)
def create_assessment(
    body: AssessmentIn, session: SessionDep, settings: SettingsDep, staff: ApiHr
) -> InviteOut:
    assessment, url = assessment_service.create_assessment(
        session,
        staff.user,
        body.candidate_id,
        body.rubric_id,
        body.role_id,
        body.time_limit_minutes,
        body.link_valid_days,
        settings,
    )
    view = assessment_service.get_assessment_view(session, staff.user, assessment.id)
    return InviteOut(assessment=AssessmentOut.model_validate(view), invite_url=url)


@router.get(
    "/assessments",
    response_model=AssessmentPageOut,
    tags=["assessments"],
    summary="One page of the candidate list, with the number of matching rows",
)
def list_assessments(
    session: SessionDep,
    staff: ApiHr,
    rubric: str | None = None,
    role: str | None = None,
    status: str | None = None,
    search: str | None = None,
    sort: Sort = "created",
    descending: bool = False,
    page: Annotated[
        int,
        Query(ge=1, le=assessment_service.PAGE_MAX, description="1-based; past the last is empty"),
    ] = 1,
    size: Annotated[
        int, Query(ge=1, le=assessment_service.PAGE_SIZE_MAX, description="rows per page")
    ] = assessment_service.PAGE_SIZE,
) -> AssessmentPageOut:
    found = assessment_service.page_assessments(
        session,
        staff.user,
        rubric_id=rubric,
        role_id=role,
        status=status,
        search=search,
        sort=sort,
        descending=descending,
        page=page,
        size=size,
    )
    return AssessmentPageOut(
        items=[AssessmentRowOut.model_validate(row) for row in found.rows],
        total=found.total,
        page=found.page,
        size=found.size,
        pages=found.pages,
    )


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/assessments/export.{fmt}",
    response_class=Response,
    responses={
        200: {
            "content": {media: {} for media in exports.MEDIA_TYPES.values()},
            "description": "CSV (UTF-8 with BOM) or XLSX of the candidate list",
        }
    },
    tags=["exports"],
)
def export_assessments(
    fmt: exports.ExportFormat,
    session: SessionDep,
    staff: ApiHr,
    role: str | None = None,
    rubric: str | None = None,
    status: str | None = None,
    search: str | None = None,
    sort: Sort = "created",
    descending: bool = False,
    lang: Annotated[Language, Query()] = "en",
) -> Response:
    rows = assessment_service.list_assessments(
        session,
        staff.user,
        rubric_id=rubric,
        role_id=role,
        status=status,
        search=search,
        sort=sort,
        descending=descending,
    )
    audit.record(
        session,
        staff.user,
        "assessment.list_exported",
        "assessment_list",
        format=fmt,
        rows=len(rows),
    )
    return _download(
        exports.export(rows, fmt, lang),
        exports.MEDIA_TYPES[fmt],
        exports.filename(role, fmt, utcnow().date()),
    )


@router.get("/assessments/{assessment_id}", response_model=AssessmentOut, tags=["assessments"])
def get_assessment(assessment_id: Id, session: SessionDep, staff: ApiStaff) -> AssessmentOut:
    view = assessment_service.get_assessment_view(session, staff.user, assessment_id)
    return AssessmentOut.model_validate(view)


@router.post(
    "/assessments/{assessment_id}/revoke", response_model=AssessmentOut, tags=["assessments"]
)
def revoke(assessment_id: Id, session: SessionDep, staff: ApiHr) -> AssessmentOut:
    assessment_service.revoke(session, staff.user, assessment_id)
    view = assessment_service.get_assessment_view(session, staff.user, assessment_id)
    return AssessmentOut.model_validate(view)


@router.put(
    "/assessments/{assessment_id}/candidate-feedback",
    response_model=AssessmentOut,
    tags=["assessments"],
)
def set_candidate_feedback(
    assessment_id: Id, body: CandidateFeedbackIn, session: SessionDep, staff: ApiHr
) -> AssessmentOut:
    assessment_service.set_candidate_feedback(session, staff.user, assessment_id, body.enabled)
    view = assessment_service.get_assessment_view(session, staff.user, assessment_id)
    return AssessmentOut.model_validate(view)


@router.post(
    "/assessments/{assessment_id}/extend", response_model=AssessmentOut, tags=["assessments"]
)
def extend(assessment_id: Id, body: ExtendIn, session: SessionDep, staff: ApiHr) -> AssessmentOut:
    assessment_service.extend(session, staff.user, assessment_id, body.days)
    view = assessment_service.get_assessment_view(session, staff.user, assessment_id)
    return AssessmentOut.model_validate(view)


@router.post(
    "/assessments/{assessment_id}/reissue",
    response_model=InviteOut,
    tags=["assessments"],
    summary="Replace the invite link; the old one stops working and the new URL is shown once",
)
def reissue(
    assessment_id: Id,
    body: ReissueIn,
    session: SessionDep,
    settings: SettingsDep,
    staff: ApiHr,
) -> InviteOut:
    _, url = assessment_service.reissue_link(
        session, staff.user, assessment_id, body.link_valid_days, settings
    )
    view = assessment_service.get_assessment_view(session, staff.user, assessment_id)
    return InviteOut(assessment=AssessmentOut.model_validate(view), invite_url=url)


# ── raters and ratings ──────────────────────────────────────────────────────────────────


@router.post(
    "/assessments/{assessment_id}/raters",
    response_model=list[RaterOut],
    status_code=201,
    tags=["raters"],
)
def assign_rater(
    assessment_id: Id, body: RaterIn, session: SessionDep, staff: ApiHr
) -> list[RaterOut]:
    assessment_service.assign_rater(
        session, staff.user, assessment_id, body.user_id, body.adjudicator
    )
    raters = assessment_service.list_raters(session, staff.user, assessment_id)
    return [RaterOut.model_validate(r) for r in raters]


@router.delete(
    "/assessments/{assessment_id}/raters/{user_id}",
    response_model=list[RaterOut],
    tags=["raters"],
    summary="Remove a rater; returns the raters that remain",
)
def unassign_rater(
    assessment_id: Id, user_id: Id, session: SessionDep, staff: ApiHr
) -> list[RaterOut]:
    assessment_service.unassign_rater(session, staff.user, assessment_id, user_id)
    raters = assessment_service.list_raters(session, staff.user, assessment_id)
    return [RaterOut.model_validate(r) for r in raters]


@router.get("/ratings/queue", response_model=list[QueueEntryOut], tags=["ratings"])
def rating_queue(session: SessionDep, staff: ApiStaff) -> list[QueueEntryOut]:
    queue = assessment_service.rating_queue(session, staff.user)
    return [QueueEntryOut.model_validate(entry) for entry in queue]


@router.get(
    "/assessments/{assessment_id}/items/{item_id}/rating-task",
    response_model=RatingTaskOut,
    tags=["ratings"],
)
def get_rating_task(
    assessment_id: Id, item_id: str, session: SessionDep, staff: ApiStaff
) -> RatingTaskOut:
    task = assessment_service.get_rating_task(session, staff.user, assessment_id, item_id)
    return RatingTaskOut.model_validate(task)


@router.put(
    "/assessments/{assessment_id}/items/{item_id}/rating",
    response_model=OwnRatingOut,
    tags=["ratings"],
    summary="Save your rating of a work sample (replaces your earlier one)",
)
def save_rating(
    assessment_id: Id,
    item_id: str,
    body: WorkSampleRatingIn,
    session: SessionDep,
    staff: ApiStaff,
) -> OwnRatingOut:
    saved = assessment_service.save_rating(
        session, staff.user, assessment_id, item_id, body.criteria, body.note
    )
    return OwnRatingOut.model_validate(saved)


# ── results ─────────────────────────────────────────────────────────────────────────────


@router.get("/assessments/{assessment_id}/result", response_model=ResultOut, tags=["results"])
def get_result(assessment_id: Id, session: SessionDep, staff: ApiHr) -> ResultOut:
    found = assessment_service.get_result_view(session, staff.user, assessment_id)
    audit.assessment_event(
        session, staff.user, "assessment.result_viewed", assessment_id, via="api"
    )
    return ResultOut.model_validate(found)


@router.get(
    "/campaigns/{rubric_id}/{role_id}/agreement", response_model=AgreementOut, tags=["results"]
)
def get_agreement(
    rubric_id: str, role_id: str, session: SessionDep, settings: SettingsDep, staff: ApiHr
) -> AgreementOut:
    found = campaigns.get_agreement(session, staff.user, rubric_id, role_id, settings)
    return AgreementOut.model_validate(found)
