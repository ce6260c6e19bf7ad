"""JSON API for development plans, team progress, the training catalogue and practice."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from app.api.errors import STAFF_ERRORS, refuse_nul_characters
from app.deps import ApiHr, ApiStaff, SessionDep, SettingsDep
from app.errors import NotFound
from app.ids import Id
from app.plans import catalogue as plan_catalogue
from app.plans import practice_service
from app.plans import progress as plan_progress
from app.plans import service as plan_service
from app.plans.schemas import (
    AnswerOut,
    CatalogueOut,
    EvidenceIn,
    FeedbackOut,
    ItemIn,
    ItemOut,
    ItemUpdateIn,
    NeedsOut,
    PlanIn,
    PlanningOut,
    PlanOut,
    PlanRowOut,
    PlanUpdateIn,
    PracticeAnswerIn,
    PracticeOverviewOut,
    PracticeSessionOut,
    PracticeStartIn,
    StatusIn,
    TeamOut,
    TeamRefOut,
)
from app.plans.views import PlanView

router = APIRouter(responses=STAFF_ERRORS, dependencies=[Depends(refuse_nul_characters)])


def _plan_out(session: SessionDep, staff: ApiStaff, plan_id: int) -> PlanOut:
    return PlanOut.model_validate(plan_progress.get_plan_view(session, staff.user, plan_id))


def _item_out(view: PlanView, item_id: int) -> ItemOut:
    for step in view.steps:
        for item in step.items:
            if item.id == item_id:
                return ItemOut.model_validate(item)
    raise NotFound("no such item in this plan")


# ── plans ───────────────────────────────────────────────────────────────────────────────


@router.get("/plans", response_model=list[PlanRowOut], tags=["plans"])
def list_plans(session: SessionDep, staff: ApiStaff, user_id: Id | None = None) -> list[PlanRowOut]:
    """Your plans; a lead also sees their teams' plans, HR every plan."""
    rows = plan_progress.list_plans(session, staff.user, user_id)
    return [PlanRowOut.model_validate(row) for row in rows]


@router.post("/plans", response_model=PlanOut, status_code=201, tags=["plans"])
def create_plan(body: PlanIn, session: SessionDep, staff: ApiStaff) -> PlanOut:
    """Make a plan from a scored assessment or a released review (HR, or the person's lead)."""
    plan = plan_service.create_plan(
        session, staff.user, body.source, body.source_id, body.hours_budget, body.title
    )
    return _plan_out(session, staff, plan.id)


@router.get("/plans/sources", response_model=PlanningOut, tags=["plans"])
def plan_sources(session: SessionDep, staff: ApiStaff, user_id: Id | None = None) -> PlanningOut:
    """Whom you may plan for and, with `user_id`, the results a plan can be made from."""
    return PlanningOut.model_validate(plan_progress.planning(session, staff.user, user_id))


@router.get("/plans/teams", response_model=list[TeamRefOut], tags=["plans"])
def list_teams(session: SessionDep, staff: ApiStaff) -> list[TeamRefOut]:
    return [TeamRefOut.model_validate(t) for t in plan_progress.list_teams(session, staff.user)]


@router.get("/plans/teams/{team_id}", response_model=TeamOut, tags=["plans"])
def team_progress(team_id: Id, session: SessionDep, staff: ApiStaff) -> TeamOut:
    """Per member: plan completion, overdue items, competencies still below target."""
    return TeamOut.model_validate(plan_progress.team_view(session, staff.user, team_id))


@router.get("/plans/{plan_id}", response_model=PlanOut, tags=["plans"])
def get_plan(plan_id: Id, session: SessionDep, staff: ApiStaff) -> PlanOut:
    return _plan_out(session, staff, plan_id)


@router.patch("/plans/{plan_id}", response_model=PlanOut, tags=["plans"])
def update_plan(plan_id: Id, body: PlanUpdateIn, session: SessionDep, staff: ApiStaff) -> PlanOut:
    plan_service.update_plan(session, staff.user, plan_id, body.title)
    return _plan_out(session, staff, plan_id)


@router.post("/plans/{plan_id}/items", response_model=ItemOut, status_code=201, tags=["plans"])
def add_item(plan_id: Id, body: ItemIn, session: SessionDep, staff: ApiStaff) -> ItemOut:
    """Add a catalogue module (the person's lead only)."""
    item = plan_service.add_item(
        session, staff.user, plan_id, body.module_id, body.competency, body.due_date, body.note
    )
    return _item_out(plan_progress.get_plan_view(session, staff.user, plan_id), item.id)


@router.patch("/plans/{plan_id}/items/{item_id}", response_model=ItemOut, tags=["plans"])
def update_item(
    plan_id: Id, item_id: Id, body: ItemUpdateIn, session: SessionDep, staff: ApiStaff
) -> ItemOut:
    """Set the due date and note (the person's lead only); fields not sent stay as they are."""
    sent = body.model_fields_set
    plan_service.update_item(
        session,
        staff.user,
        plan_id,
        item_id,
        due_date=body.due_date if "due_date" in sent else plan_service.KEEP,
        owner_note=(body.note or "") if "note" in sent else plan_service.KEEP,
    )
    return _item_out(plan_progress.get_plan_view(session, staff.user, plan_id), item_id)


@router.delete("/plans/{plan_id}/items/{item_id}", status_code=204, tags=["plans"])
def remove_item(plan_id: Id, item_id: Id, session: SessionDep, staff: ApiStaff) -> Response:
    plan_service.remove_item(session, staff.user, plan_id, item_id)
    return Response(status_code=204)


@router.put("/plans/{plan_id}/items/{item_id}/status", response_model=ItemOut, tags=["plans"])
def set_status(
    plan_id: Id, item_id: Id, body: StatusIn, session: SessionDep, staff: ApiStaff
) -> ItemOut:
    """Planned, in progress or done (the person the plan is for only)."""
    plan_service.set_status(session, staff.user, plan_id, item_id, body.status)
    return _item_out(plan_progress.get_plan_view(session, staff.user, plan_id), item_id)


@router.post(
    "/plans/{plan_id}/items/{item_id}/evidence",
    response_model=ItemOut,
    status_code=201,
    tags=["plans"],
)
def add_evidence(
    plan_id: Id, item_id: Id, body: EvidenceIn, session: SessionDep, staff: ApiStaff
) -> ItemOut:
    """Add an evidence note (the person the plan is for only)."""
    plan_service.add_evidence(session, staff.user, plan_id, item_id, body.text)
    return _item_out(plan_progress.get_plan_view(session, staff.user, plan_id), item_id)


# ── catalogue ───────────────────────────────────────────────────────────────────────────


@router.get("/catalogue", response_model=CatalogueOut, tags=["catalogue"])
def get_catalogue(
    settings: SettingsDep,
    staff: ApiStaff,
    rubric: str | None = None,
    competency: str | None = None,
    level: int | None = None,
) -> CatalogueOut:
    """Training modules by competency; `level` keeps those a person at that level takes next."""
    found = plan_catalogue.catalogue(settings, rubric, competency, level)
    return CatalogueOut.model_validate(found)


@router.get("/catalogue/needs", response_model=NeedsOut, tags=["catalogue"])
def catalogue_needs(session: SessionDep, settings: SettingsDep, staff: ApiHr) -> NeedsOut:
    """Open plan items per module and the most frequent gaps across the organisation (HR)."""
    return NeedsOut.model_validate(plan_catalogue.needs(session, staff.user, settings))


# ── practice ────────────────────────────────────────────────────────────────────────────


@router.get("/practice", response_model=PracticeOverviewOut, tags=["practice"])
def practice_overview(
    session: SessionDep, settings: SettingsDep, staff: ApiStaff
) -> PracticeOverviewOut:
    """Competencies you may practise (those in your plans) and your session history."""
    found = practice_service.overview(session, staff.user, settings)
    return PracticeOverviewOut.model_validate(found)


@router.post(
    "/practice/sessions", response_model=PracticeSessionOut, status_code=201, tags=["practice"]
)
def start_practice(
    body: PracticeStartIn, session: SessionDep, settings: SettingsDep, staff: ApiStaff
) -> PracticeSessionOut:
    """Start (or resume the unfinished) session of a competency in your plans."""
    run = practice_service.start(session, staff.user, settings, body.competency)
    view = practice_service.get_session_view(session, staff.user, run.id)
    return PracticeSessionOut.model_validate(view)


@router.get("/practice/sessions/{session_id}", response_model=PracticeSessionOut, tags=["practice"])
def get_practice(session_id: Id, session: SessionDep, staff: ApiStaff) -> PracticeSessionOut:
    view = practice_service.get_session_view(session, staff.user, session_id)
    return PracticeSessionOut.model_validate(view)


@router.post("/practice/sessions/{session_id}/answers", response_model=AnswerOut, tags=["practice"])
def answer_practice(
    session_id: Id, body: PracticeAnswerIn, session: SessionDep, staff: ApiStaff
) -> AnswerOut:
    """Answer one item: feedback at once (score, explanation, every option's worth)."""
    feedback = practice_service.answer(session, staff.user, session_id, body.item_id, body.selected)
    view = practice_service.get_session_view(session, staff.user, session_id)
    return AnswerOut(
        feedback=FeedbackOut.model_validate(feedback),
        session=PracticeSessionOut.model_validate(view),
    )
