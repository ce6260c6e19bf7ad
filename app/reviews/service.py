"""The review domain's entry point for the API, pages and CLI: `from app.reviews import service`.

Functions take the session first and the acting user where authorization matters, raise
AppError subclasses and never commit; reads return the frozen dataclasses of `views`. The
work is done in small modules: teams, cycles, raters, rating, closing, results, trends.
"""

from __future__ import annotations

from app.reviews.closing import close_due_cycles
from app.reviews.common import COMMENT_MAX, CycleStatus, FieldErrors, RequestStatus
from app.reviews.cycles import RateeSpec, close_cycle, get_cycle, list_cycles, open_cycle
from app.reviews.raters import add_rater, decide, nominate, reminders
from app.reviews.rating import AnswerInput, get_form, list_tasks, save_answers, submit
from app.reviews.results import (
    get_cycle_agreement,
    get_result,
    list_my_results,
    list_results,
    team_heat_map,
)
from app.reviews.teams import (
    add_member,
    create_team,
    get_team,
    list_teams,
    remove_member,
    update_team,
)
from app.reviews.trends import leads_of, person_trend

__all__ = [
    "COMMENT_MAX",
    "AnswerInput",
    "CycleStatus",
    "FieldErrors",
    "RateeSpec",
    "RequestStatus",
    "add_member",
    "add_rater",
    "close_cycle",
    "close_due_cycles",
    "create_team",
    "decide",
    "get_cycle",
    "get_cycle_agreement",
    "get_form",
    "get_result",
    "get_team",
    "leads_of",
    "list_cycles",
    "list_my_results",
    "list_results",
    "list_tasks",
    "list_teams",
    "nominate",
    "open_cycle",
    "person_trend",
    "reminders",
    "remove_member",
    "save_answers",
    "submit",
    "team_heat_map",
    "update_team",
]
