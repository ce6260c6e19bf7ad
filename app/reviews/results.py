"""Released results: a ratee's own, a cycle's for its lead and HR, the team heat map, agreement.

Nothing here exists before the cycle closes. Every view is built from the stored anonymised
aggregate; the one statistic computed from answers (cycle agreement) uses values only, after
the same anonymity rules, and returns no rater.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.db import utcnow
from app.errors import NotFound
from app.reviews import access, briefs, closing, presenting, views
from app.reviews.aggregation import cycle_agreement
from app.reviews.common import CycleStatus, policy_of
from app.reviews.models import ReviewCycle, ReviewRatee, ReviewResult, Team

NOT_RELEASED = "no result yet: results are released when the review cycle closes"


def _released(cycle: ReviewCycle) -> None:
    if cycle.status != CycleStatus.RELEASED.value:
        raise NotFound(NOT_RELEASED)


def get_result(session: Session, viewer: User, cycle_id: int, user_id: int) -> views.ResultView:
    """One ratee's released result: for the ratee themself, the cycle's lead and HR.

    Anyone else, and everyone before the cycle closes, gets NotFound.
    """
    cycle, team = access.get_cycle(session, viewer, cycle_id)
    if viewer.id != user_id and not access.manages(viewer, team):
        raise NotFound("no such result")
    closing.close_if_due(session, cycle, utcnow())
    row = session.execute(
        select(ReviewRatee, User, ReviewResult)
        .join(User, User.id == ReviewRatee.user_id)
        .outerjoin(ReviewResult, ReviewResult.ratee_id == ReviewRatee.id)
        .where(ReviewRatee.cycle_id == cycle.id, ReviewRatee.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound("no such result")
    _released(cycle)
    _, person, stored = row
    if stored is None:
        raise NotFound(NOT_RELEASED)
    return presenting.build_result(
        briefs.rubrics(session, [stored.rubric_version])[stored.rubric_version],
        stored.result,
        briefs.cycle_brief(session, cycle, team),
        views.PersonBrief(person.id, person.name),
        stored.computed_at,
    )


def list_my_results(session: Session, viewer: User) -> list[views.CycleBrief]:
    """The released cycles `viewer` was reviewed in, newest first."""
    query = (
        select(ReviewCycle, Team)
        .join(Team, Team.id == ReviewCycle.team_id)
        .join(ReviewRatee, ReviewRatee.cycle_id == ReviewCycle.id)
        .where(ReviewRatee.user_id == viewer.id)
    )
    now = utcnow()
    due = [
        c.id
        for c, _ in session.execute(query)
        if c.status == CycleStatus.OPEN.value and c.due_at <= now
    ]
    closing.close_due_cycles(session, now, due)
    rows = session.execute(
        query.where(ReviewCycle.status == CycleStatus.RELEASED.value).order_by(
            ReviewCycle.closed_at.desc(), ReviewCycle.id.desc()
        )
    ).all()
    return briefs.cycle_briefs(session, [(c, t) for c, t in rows])


def list_results(session: Session, viewer: User, cycle_id: int) -> views.CycleResults:
    """Every ratee's summary of a released cycle (its lead and HR)."""
    cycle, team = access.get_managed_cycle(session, viewer, cycle_id)
    closing.close_if_due(session, cycle, utcnow())
    _released(cycle)
    rows = session.execute(
        select(User, ReviewResult)
        .join(ReviewRatee, ReviewRatee.user_id == User.id)
        .join(ReviewResult, ReviewResult.ratee_id == ReviewRatee.id)
        .where(ReviewRatee.cycle_id == cycle.id)
        .order_by(User.name, User.id)
    ).all()
    return views.CycleResults(
        cycle=briefs.cycle_brief(session, cycle, team),
        results=tuple(
            presenting.summary(views.PersonBrief(u.id, u.name), r.result) for u, r in rows
        ),
    )


def team_heat_map(
    session: Session, viewer: User, team_id: int, cycle_id: int | None = None
) -> views.HeatMap:
    """Members × competencies of a released cycle (the latest, unless `cycle_id` is given).

    Each cell is Others against the role's target; None where nobody's ratings could be
    shown. The team's lead and HR only.
    """
    team = access.get_managed_team(session, viewer, team_id)
    now = utcnow()
    open_due = session.scalars(
        select(ReviewCycle.id).where(
            ReviewCycle.team_id == team.id,
            ReviewCycle.status == CycleStatus.OPEN.value,
            ReviewCycle.due_at <= now,
        )
    ).all()
    closing.close_due_cycles(session, now, open_due)
    query = select(ReviewCycle).where(
        ReviewCycle.team_id == team.id, ReviewCycle.status == CycleStatus.RELEASED.value
    )
    if cycle_id is not None:
        cycle = session.scalar(query.where(ReviewCycle.id == cycle_id))
        if cycle is None:
            raise NotFound("no released review cycle of this team with this id", field="cycle_id")
    else:
        cycle = session.scalar(
            query.order_by(ReviewCycle.closed_at.desc(), ReviewCycle.id.desc()).limit(1)
        )
        if cycle is None:
            return views.HeatMap(team.id, team.name, None, (), ())
    rubric = briefs.rubrics(session, [cycle.rubric_version])[cycle.rubric_version]
    role = rubric.role(cycle.role_id)
    heads = tuple(
        views.CompetencyHead(c.id, dict(c.name), d.id, role.targets[c.id].target)
        for d, c in rubric.competencies()
        if c.id in role.targets
    )
    rows = session.execute(
        select(User, ReviewResult)
        .join(ReviewRatee, ReviewRatee.user_id == User.id)
        .join(ReviewResult, ReviewResult.ratee_id == ReviewRatee.id)
        .where(ReviewRatee.cycle_id == cycle.id)
        .order_by(User.name, User.id)
    ).all()
    return views.HeatMap(
        team_id=team.id,
        team_name=team.name,
        cycle=briefs.cycle_brief(session, cycle, team),
        competencies=heads,
        rows=tuple(
            views.HeatRow(
                ratee=views.PersonBrief(user.id, user.name),
                cells=presenting.heat_cells(heads, stored.result),
                overall_others=stored.result.get("overall", {}).get("others"),
            )
            for user, stored in rows
        ),
    )


def get_cycle_agreement(session: Session, viewer: User, cycle_id: int) -> views.CycleAgreementView:
    """Krippendorff's alpha across the released cycle, overall and per competency.

    Computed from the submitted ratings under the cycle's anonymity rules (a withheld group
    never counts), so it reveals no more than the released results do. Lead and HR only.
    """
    cycle, team = access.get_managed_cycle(session, viewer, cycle_id)
    closing.close_if_due(session, cycle, utcnow())
    _released(cycle)
    rubric = briefs.rubrics(session, [cycle.rubric_version])[cycle.rubric_version]
    ratings = closing.submitted_ratings(session, [cycle.id])
    found = cycle_agreement(
        rubric,
        cycle.role_id,
        {str(ratee_id): given for ratee_id, given in ratings.items()},
        policy_of(cycle),
    )
    index = rubric.competency_index()
    return views.CycleAgreementView(
        cycle=briefs.cycle_brief(session, cycle, team),
        overall=presenting.agreement_view(found.overall.to_dict()),
        competencies=tuple(
            views.CompetencyAgreement(
                id=competency_id,
                name=dict(index[competency_id].name),
                agreement=presenting.agreement_view(agreement.to_dict()),
            )
            for competency_id, agreement in found.competencies.items()
        ),
    )
