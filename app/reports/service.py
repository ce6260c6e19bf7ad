"""Reports behind the same object-level authorization as the data they show: load through the
domain services, build the document, render it as PDF or as the HTML preview.

Candidate and feedback reports: HR and admins. Review report: the person reviewed, the
cycle's lead and HR. Team report: the team's lead and HR. Anyone else gets what the domain
service gives them: 403 for a role that may never see it, 404 for an object they may not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments import service as assessment_service
from app.config import Settings
from app.errors import Conflict, NotFound
from app.plans import progress as plan_progress
from app.plans.views import PlanView
from app.reports import data, render
from app.reports.candidate import candidate_document, feedback_document
from app.reports.documents import LANGS, Document
from app.reports.review import review_document
from app.reports.team import team_document
from app.reviews import service as review_service
from app.rubrics import service as rubric_service

AUTHOR = "Yardstick"


def command_line_operator() -> User:
    """The actor of `yardstick report`: whoever runs it holds the database already, so it
    reads with an administrator's rights. A transient object, never added to a session."""
    return User(id=0, email="command-line@localhost", name="yardstick", role=Role.ADMIN.value)


def default_lang(user: User) -> str:
    """The user's chosen language, else English (the pages' default too)."""
    return user.language if user.language in LANGS else "en"


def candidate_report(session: Session, actor: User, assessment_id: int, lang: str) -> Document:
    result = assessment_service.get_result_view(session, actor, assessment_id)
    rubric = rubric_service.get_version(session, result.rubric_version)
    return candidate_document(result, rubric, lang)


def feedback_report(session: Session, actor: User, assessment_id: int, lang: str) -> Document:
    """Only when feedback is enabled for the assessment and its result is final."""
    result = assessment_service.get_result_view(session, actor, assessment_id)
    assessment = assessment_service.get_for(session, actor, assessment_id)
    if not assessment.candidate_feedback:
        raise Conflict("candidate feedback is not enabled for this assessment")
    if not result.final:
        raise Conflict("the result is provisional; feedback is available once it is final")
    rubric = rubric_service.get_version(session, result.rubric_version)
    return feedback_document(result, rubric, lang)


def _saved_plan(session: Session, actor: User, user_id: int, ratee_id: int) -> PlanView | None:
    """The development plan made from this review, if `actor` may see it."""
    for row in plan_progress.list_plans(session, actor, user_id=user_id):
        if row.source.kind == "review" and row.source.id == ratee_id:
            return plan_progress.get_plan_view(session, actor, row.id)
    return None


def find_ratee_id(session: Session, actor: User, cycle_id: int, user_id: int) -> int:
    """The ratee id of `user_id` in `cycle_id`, if `actor` may see that result."""
    review_service.get_result(session, actor, cycle_id, user_id)
    found = data.ratee_id(session, cycle_id, user_id)
    if found is None:
        raise NotFound("no such result")
    return found


def review_report(session: Session, actor: User, ratee_id: int, lang: str) -> Document:
    ref = data.ratee_ref(session, ratee_id)
    if ref is None:
        raise NotFound("no such result")
    cycle_id, user_id = ref
    result = review_service.get_result(session, actor, cycle_id, user_id)
    rubric = rubric_service.get_version(session, result.rubric_version)
    plan = _saved_plan(session, actor, user_id, ratee_id)
    return review_document(result, rubric, lang, ratee_id=ratee_id, plan=plan)


def team_report(
    session: Session,
    actor: User,
    team_id: int,
    lang: str,
    settings: Settings,
    on: date | None = None,
    cycle_id: int | None = None,
) -> Document:
    """The heat map of a released cycle (default: the latest) and plan progress on `on`
    (default: today)."""
    heat = review_service.team_heat_map(session, actor, team_id, cycle_id)
    team = review_service.get_team(session, actor, team_id, settings)
    rubric = (
        None
        if heat.cycle is None
        else rubric_service.get_version(session, heat.cycle.rubric_version)
    )
    on = on or datetime.now(UTC).date()
    progress = plan_progress.team_view(session, actor, team_id, on)
    return team_document(team, heat, rubric, progress, lang, on=on)


def pdf(document: Document) -> bytes:
    return render.render_report(
        document.template, document.context, title=document.title, author=AUTHOR
    )


@dataclass(frozen=True)
class PreviewLinks:
    """The bar above a preview: the PDF download and the page in either language."""

    pdf: str
    zh: str
    en: str


def preview(document: Document, links: PreviewLinks | None = None) -> str:
    return render.render_html(document.template, {**document.context, "preview": links})
