"""JSON API for 360 reviews: teams, cycles, rating forms, released results, heat map, trends.

Routes are thin: the review service decides who may see what (403 for a role that may never
use a route, 404 for an object the caller may not see) and never reveals who gave a rating.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from app.api.errors import STAFF_ERRORS, refuse_nul_characters
from app.deps import ApiHr, ApiStaff, SessionDep, SettingsDep
from app.ids import Id
from app.privacy import audit
from app.reviews import service as review_service
from app.reviews.schemas import (
    AddRaterIn,
    AnswersIn,
    CycleAgreementOut,
    CycleBriefOut,
    CycleIn,
    CycleOut,
    CycleResultsOut,
    HeatMapOut,
    MemberIn,
    NominationIn,
    PersonTrendOut,
    RatingFormOut,
    RemindersOut,
    ReviewResultOut,
    SubmitIn,
    TaskOut,
    TeamDetailOut,
    TeamIn,
    TeamUpdateIn,
)


async def _no_store(response: Response) -> None:
    # Every answer here is about people: never kept by a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"


router = APIRouter(
    dependencies=[Depends(_no_store), Depends(refuse_nul_characters)], responses=STAFF_ERRORS
)


# ── teams ───────────────────────────────────────────────────────────────────────────────


@router.post("/teams", response_model=TeamDetailOut, status_code=201, tags=["teams"])
def create_team(
    body: TeamIn, session: SessionDep, settings: SettingsDep, staff: ApiHr
) -> TeamDetailOut:
    team = review_service.create_team(session, staff.user, body.name, body.lead_id, settings)
    return TeamDetailOut.model_validate(team)


@router.get("/teams", response_model=list[TeamDetailOut], tags=["teams"])
def list_teams(session: SessionDep, settings: SettingsDep, staff: ApiStaff) -> list[TeamDetailOut]:
    """HR: every team; a lead: the teams they lead or belong to; a member: their own teams."""
    teams = review_service.list_teams(session, staff.user, settings)
    return [TeamDetailOut.model_validate(team) for team in teams]


@router.get("/teams/{team_id}", response_model=TeamDetailOut, tags=["teams"])
def get_team(
    team_id: Id, session: SessionDep, settings: SettingsDep, staff: ApiStaff
) -> TeamDetailOut:
    return TeamDetailOut.model_validate(
        review_service.get_team(session, staff.user, team_id, settings)
    )


@router.patch("/teams/{team_id}", response_model=TeamDetailOut, tags=["teams"])
def update_team(
    team_id: Id, body: TeamUpdateIn, session: SessionDep, settings: SettingsDep, staff: ApiHr
) -> TeamDetailOut:
    team = review_service.update_team(
        session, staff.user, team_id, settings, name=body.name, lead_id=body.lead_id
    )
    return TeamDetailOut.model_validate(team)


@router.post(
    "/teams/{team_id}/members", response_model=TeamDetailOut, status_code=201, tags=["teams"]
)
def add_member(
    team_id: Id, body: MemberIn, session: SessionDep, settings: SettingsDep, staff: ApiHr
) -> TeamDetailOut:
    team = review_service.add_member(
        session, staff.user, team_id, body.user_id, body.role_id, settings
    )
    return TeamDetailOut.model_validate(team)


@router.delete(
    "/teams/{team_id}/members/{user_id}",
    response_model=TeamDetailOut,
    tags=["teams"],
    summary="Remove a member; returns the team as it is now",
)
def remove_member(
    team_id: Id, user_id: Id, session: SessionDep, settings: SettingsDep, staff: ApiHr
) -> TeamDetailOut:
    team = review_service.remove_member(session, staff.user, team_id, user_id, settings)
    return TeamDetailOut.model_validate(team)


@router.get("/teams/{team_id}/heat-map", response_model=HeatMapOut, tags=["review results"])
def team_heat_map(
    team_id: Id, session: SessionDep, staff: ApiStaff, cycle_id: Id | None = None
) -> HeatMapOut:
    """Members × competencies (Others vs target) of the latest released cycle, or `cycle_id`."""
    found = review_service.team_heat_map(session, staff.user, team_id, cycle_id)
    return HeatMapOut.model_validate(found)


# ── cycles ──────────────────────────────────────────────────────────────────────────────


@router.post(
    "/teams/{team_id}/review-cycles",
    response_model=CycleOut,
    status_code=201,
    tags=["review cycles"],
    summary="Open a review cycle for some members of the team (its lead, or HR)",
)
def open_cycle(
    team_id: Id, body: CycleIn, session: SessionDep, settings: SettingsDep, staff: ApiStaff
) -> CycleOut:
    cycle = review_service.open_cycle(
        session,
        staff.user,
        team_id,
        settings,
        name=body.name,
        due_at=body.due_at,
        ratees=[ratee.to_spec() for ratee in body.ratees],
        role_id=body.role_id,
        rubric_id=body.rubric_id,
        min_raters=body.min_raters,
        group_weights=body.group_weights,
    )
    return CycleOut.model_validate(cycle)


@router.get("/review-cycles", response_model=list[CycleBriefOut], tags=["review cycles"])
def list_cycles(
    session: SessionDep, staff: ApiStaff, team_id: Id | None = None
) -> list[CycleBriefOut]:
    found = review_service.list_cycles(session, staff.user, team_id=team_id)
    return [CycleBriefOut.model_validate(cycle) for cycle in found]


@router.get("/review-cycles/{cycle_id}", response_model=CycleOut, tags=["review cycles"])
def get_cycle(cycle_id: Id, session: SessionDep, staff: ApiStaff) -> CycleOut:
    return CycleOut.model_validate(review_service.get_cycle(session, staff.user, cycle_id))


@router.post(
    "/review-cycles/{cycle_id}/raters",
    response_model=CycleOut,
    status_code=201,
    tags=["review cycles"],
    summary="Ask someone to rate a ratee as manager, peer or direct report (lead or HR)",
)
def add_rater(cycle_id: Id, body: AddRaterIn, session: SessionDep, staff: ApiStaff) -> CycleOut:
    cycle = review_service.add_rater(
        session, staff.user, cycle_id, body.ratee_id, body.rater_id, body.group
    )
    return CycleOut.model_validate(cycle)


@router.post(
    "/review-cycles/{cycle_id}/nominations",
    response_model=CycleOut,
    status_code=201,
    tags=["review cycles"],
    summary="Nominate a teammate as a peer for your own review; the lead approves",
)
def nominate(cycle_id: Id, body: NominationIn, session: SessionDep, staff: ApiStaff) -> CycleOut:
    cycle = review_service.nominate(session, staff.user, cycle_id, body.rater_id)
    return CycleOut.model_validate(cycle)


@router.post(
    "/review-requests/{request_id}/approve", response_model=CycleOut, tags=["review cycles"]
)
def approve(request_id: Id, session: SessionDep, staff: ApiStaff) -> CycleOut:
    cycle = review_service.decide(session, staff.user, request_id, approve=True)
    return CycleOut.model_validate(cycle)


@router.post(
    "/review-requests/{request_id}/decline", response_model=CycleOut, tags=["review cycles"]
)
def decline(request_id: Id, session: SessionDep, staff: ApiStaff) -> CycleOut:
    cycle = review_service.decide(session, staff.user, request_id, approve=False)
    return CycleOut.model_validate(cycle)


@router.get(
    "/review-cycles/{cycle_id}/reminders",
    response_model=RemindersOut,
    tags=["review cycles"],
    summary="Who has not answered yet (names of pending raters, never any answer)",
)
def reminders(cycle_id: Id, session: SessionDep, staff: ApiStaff) -> RemindersOut:
    return RemindersOut.model_validate(review_service.reminders(session, staff.user, cycle_id))


@router.post(
    "/review-cycles/{cycle_id}/close",
    response_model=CycleOut,
    tags=["review cycles"],
    summary="Close the cycle and release its results",
)
def close_cycle(cycle_id: Id, session: SessionDep, staff: ApiStaff) -> CycleOut:
    return CycleOut.model_validate(review_service.close_cycle(session, staff.user, cycle_id))


# ── rating ──────────────────────────────────────────────────────────────────────────────


@router.get("/review-tasks", response_model=list[TaskOut], tags=["review ratings"])
def list_tasks(session: SessionDep, staff: ApiStaff) -> list[TaskOut]:
    """Your rating requests: to do first, then done and closed ones."""
    return [TaskOut.model_validate(t) for t in review_service.list_tasks(session, staff.user)]


@router.get(
    "/review-requests/{request_id}/form", response_model=RatingFormOut, tags=["review ratings"]
)
def get_form(request_id: Id, session: SessionDep, staff: ApiStaff) -> RatingFormOut:
    """Your rating form with your own answers; anyone else's form is 404."""
    return RatingFormOut.model_validate(review_service.get_form(session, staff.user, request_id))


@router.put(
    "/review-requests/{request_id}/answers",
    response_model=RatingFormOut,
    tags=["review ratings"],
    summary="Autosave: store the answers given; the others stay as they were",
)
def save_answers(
    request_id: Id, body: AnswersIn, session: SessionDep, staff: ApiStaff
) -> RatingFormOut:
    form = review_service.save_answers(session, staff.user, request_id, body.to_inputs())
    return RatingFormOut.model_validate(form)


@router.post(
    "/review-requests/{request_id}/submit",
    response_model=RatingFormOut,
    tags=["review ratings"],
    summary="Submit once (optionally saving answers first); a repeat returns the same form",
)
def submit(
    request_id: Id, session: SessionDep, staff: ApiStaff, body: SubmitIn | None = None
) -> RatingFormOut:
    answers = body.to_inputs() if body else None
    form = review_service.submit(session, staff.user, request_id, answers)
    return RatingFormOut.model_validate(form)


# ── results ─────────────────────────────────────────────────────────────────────────────


@router.get("/review-results/mine", response_model=list[CycleBriefOut], tags=["review results"])
def list_my_results(session: SessionDep, staff: ApiStaff) -> list[CycleBriefOut]:
    """The released cycles you were reviewed in, newest first."""
    found = review_service.list_my_results(session, staff.user)
    return [CycleBriefOut.model_validate(cycle) for cycle in found]


@router.get(
    "/review-cycles/{cycle_id}/my-result", response_model=ReviewResultOut, tags=["review results"]
)
def my_result(cycle_id: Id, session: SessionDep, staff: ApiStaff) -> ReviewResultOut:
    found = review_service.get_result(session, staff.user, cycle_id, staff.user.id)
    audit.review_event(session, staff.user, "review.result_viewed", cycle_id, staff.id, via="api")
    return ReviewResultOut.model_validate(found)


@router.get(
    "/review-cycles/{cycle_id}/results", response_model=CycleResultsOut, tags=["review results"]
)
def list_results(cycle_id: Id, session: SessionDep, staff: ApiStaff) -> CycleResultsOut:
    """Every ratee's summary once the cycle is released (its lead and HR)."""
    found = review_service.list_results(session, staff.user, cycle_id)
    audit.record(session, staff.user, "review.results_listed", "review_cycle", cycle_id, via="api")
    return CycleResultsOut.model_validate(found)


@router.get(
    "/review-cycles/{cycle_id}/results/{user_id}",
    response_model=ReviewResultOut,
    tags=["review results"],
)
def get_result(cycle_id: Id, user_id: Id, session: SessionDep, staff: ApiStaff) -> ReviewResultOut:
    """One ratee's released result: for the ratee, the cycle's lead and HR."""
    found = review_service.get_result(session, staff.user, cycle_id, user_id)
    audit.review_event(session, staff.user, "review.result_viewed", cycle_id, user_id, via="api")
    return ReviewResultOut.model_validate(found)


@router.get(
    "/review-cycles/{cycle_id}/agreement",
    response_model=CycleAgreementOut,
    tags=["review results"],
)
def get_agreement(cycle_id: Id, session: SessionDep, staff: ApiStaff) -> CycleAgreementOut:
    """Krippendorff's alpha across the released cycle, overall and per competency."""
    found = review_service.get_cycle_agreement(session, staff.user, cycle_id)
    return CycleAgreementOut.model_validate(found)


@router.get("/people/{user_id}/trend", response_model=PersonTrendOut, tags=["review results"])
def person_trend(user_id: Id, session: SessionDep, staff: ApiStaff) -> PersonTrendOut:
    """Competency levels over time (reviews and hiring assessments), with rubric versions."""
    found = review_service.person_trend(session, staff.user, user_id)
    return PersonTrendOut.model_validate(found)
