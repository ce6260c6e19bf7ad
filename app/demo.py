"""Demo data for a first look at the service: staff, candidates at every stage, ratings.

Everything goes through the domain services, so the demo is exactly what real use produces.
Loading twice changes nothing: the demo HR account marks it as loaded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.accounts.models import Role, User
from app.assessments import candidate as candidate_service
from app.assessments import service as assessment_service
from app.assessments.models import Assessment
from app.assessments.states import Status, transition
from app.config import Settings
from app.db import utcnow
from app.plans import service as plan_service
from app.plans.models import PlanItem
from app.reviews import service as review_service
from app.reviews.models import ReviewRatee
from app.reviews.rating import AnswerInput
from app.rubrics import service as rubric_service
from app.rubrics.spec import Item, Rubric

DEMO_PASSWORD = "yardstick-demo"  # noqa: S105 - printed for the person trying the demo
RUBRIC_ID = "new_media_operator"
STAFF = [
    ("admin@demo.yardstick", "管理员 Admin", Role.ADMIN),
    ("hr@demo.yardstick", "陈静 Chen Jing (HR)", Role.HR),
    ("lead@demo.yardstick", "李明 Li Ming (lead)", Role.LEAD),
    ("rater@demo.yardstick", "王芳 Wang Fang", Role.MEMBER),
    ("lead2@demo.yardstick", "赵磊 Zhao Lei (lead)", Role.LEAD),
]
# Operators in the two demo teams (all members; the leads are above).
OPERATORS = [
    ("zhou.yu@demo.yardstick", "周雨 Zhou Yu"),
    ("qian.hui@demo.yardstick", "钱慧 Qian Hui"),
    ("sun.tao@demo.yardstick", "孙涛 Sun Tao"),
    ("lin.na@demo.yardstick", "林娜 Lin Na"),
    ("gao.feng@demo.yardstick", "高峰 Gao Feng"),
    ("tang.xin@demo.yardstick", "唐欣 Tang Xin"),
]

# Work-sample answers of a strong, a middling and a weak candidate.
SAMPLE_TEXT = {
    "strong": (
        "油皮必看！控油洗发水实测7天，三天不洗头也不塌｜关键词：控油洗发水、油头救星。\n"
        "开头3秒：镜头怼脸展示下午3点的油头，字幕“用了3年的洗头方法，居然全错了！”，"
        "随后给出对比图与成分解读，结尾引导评论区领取测评表。"
    ),
    "middling": (
        "控油洗发水推荐，油头姐妹看过来。内容介绍产品成分和使用感受，配三张图，"
        "最后提醒大家点赞收藏。"
    ),
    "weak": "这款洗发水很好用，推荐购买。",
}


@dataclass
class Candidate:
    name: str
    email: str
    role: str
    stage: str
    ability: float
    note: str = ""
    timed: bool = False
    flags: set[str] = field(default_factory=set)


CANDIDATES = [
    Candidate(
        "张伟", "zhang.wei@example.com", "specialist", "scored", 0.9, "内推，3年美妆账号经验"
    ),
    Candidate("刘洋", "liu.yang@example.com", "specialist", "scored", 0.45),
    Candidate("Emily Zhao", "emily.zhao@example.com", "specialist", "scored", 0.25, timed=True),
    Candidate("孙丽", "sun.li@example.com", "specialist", "adjudication", 0.7),
    Candidate("周杰", "zhou.jie@example.com", "specialist", "submitted", 0.75),
    Candidate("吴敏", "wu.min@example.com", "specialist", "in_progress", 0.8, timed=True),
    Candidate("郑浩", "zheng.hao@example.com", "specialist", "invited", 0.5),
    Candidate("黄蕾", "huang.lei@example.com", "assistant", "scored", 0.8, "应届生"),
    Candidate("Kevin Lin", "kevin.lin@example.com", "assistant", "scored", 0.3),
    Candidate("何静", "he.jing@example.com", "assistant", "in_progress", 0.6),
    Candidate("马超", "ma.chao@example.com", "assistant", "expired", 0.5),
    Candidate("许晴", "xu.qing@example.com", "assistant", "revoked", 0.5),
]


def is_loaded(session: Session) -> bool:
    return account_service.get_by_email(session, STAFF[1][0]) is not None


def load(session: Session, settings: Settings) -> list[str]:
    """Load the demo (or say it is there already) and return what to tell the user."""
    loaded = rubric_service.current_rubrics(settings.rubrics_dir)
    for rubric in loaded.values():
        rubric_service.pin(session, rubric)
    if is_loaded(session):
        return ["demo data already loaded", *_logins()]
    staff = {
        email: account_service.create(
            session, email=email, name=name, role=role, password=DEMO_PASSWORD
        )
        for email, name, role in STAFF
    }
    for email, name in OPERATORS:
        staff[email] = account_service.create(
            session, email=email, name=name, role=Role.MEMBER, password=DEMO_PASSWORD
        )
    rng = random.Random(2026)  # noqa: S311 - reproducible demo answers
    links = [_candidate(session, settings, staff, person, rng) for person in CANDIDATES]
    _reviews_and_plans(session, settings, staff, rng)
    lines = [*_logins(), "", "invite links (each is shown only once):"]
    lines += [link for link in links if link]
    return lines


def _logins() -> list[str]:
    return [
        f"login: {email}  password: {DEMO_PASSWORD}  ({role.value})" for email, _, role in STAFF
    ]


def _candidate(
    session: Session,
    settings: Settings,
    staff: dict[str, User],
    person: Candidate,
    rng: random.Random,
) -> str | None:
    hr, lead, rater = (
        staff[e] for e in ("hr@demo.yardstick", "lead@demo.yardstick", "rater@demo.yardstick")
    )
    candidate = assessment_service.create_candidate(
        session, hr, person.name, person.email, person.note
    )
    assessment, link = assessment_service.create_assessment(
        session,
        hr,
        candidate.id,
        RUBRIC_ID,
        person.role,
        time_limit_minutes=90 if person.timed else None,
        link_valid_days=14,
        settings=settings,
    )
    now = utcnow()
    if person.stage == "invited":
        return f"  {person.name} ({person.role}): {link}"
    if person.stage == "revoked":
        assessment_service.revoke(session, hr, assessment.id)
        return None
    if person.stage == "expired":
        assessment.link_expires_at = now - timedelta(days=1)
        assessment.status = transition(assessment.status, Status.EXPIRED)
        return None
    rubric = rubric_service.get_version(session, assessment.rubric_version)
    # A sitting still in progress started minutes ago, so its link and time limit still work.
    started = (
        now - timedelta(minutes=10)
        if person.stage == "in_progress"
        else now - timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 8))
    )
    candidate_service.start(session, assessment, started)
    drawn = assessment.item_ids
    if person.stage == "in_progress":
        drawn = drawn[: len(drawn) // 2]
    answers = {i: _answer(rubric.item_index()[i], person.ability, rng) for i in drawn}
    candidate_service.save_answers(session, assessment, answers, started + timedelta(minutes=5))
    if person.stage == "in_progress":
        return f"  {person.name} ({person.role}, half answered): {link}"
    candidate_service.submit(session, assessment, started + timedelta(minutes=55))
    assessment_service.assign_rater(session, hr, assessment.id, lead.id)
    if person.stage == "submitted":
        return None
    assessment_service.assign_rater(session, hr, assessment.id, rater.id)
    _rate(session, assessment, rubric, lead, person.ability, rng, spread=0)
    _rate(
        session,
        assessment,
        rubric,
        rater,
        person.ability,
        rng,
        spread=0 if person.stage == "scored" else 3,
    )
    return None


def _answer(item: Item, ability: float, rng: random.Random) -> list[str] | str:
    if not item.is_choice:
        tier = "strong" if ability >= 0.75 else "middling" if ability >= 0.5 else "weak"
        return SAMPLE_TEXT[tier]
    ranked = sorted(item.options, key=lambda o: o.points, reverse=True)
    if item.select == "multiple":
        good = [o.id for o in ranked if o.points > 0]
        keep = [o for o in good if rng.random() < ability]
        slip = [o.id for o in ranked if o.points < 0 and rng.random() > ability]
        return keep + slip
    return [ranked[0].id if rng.random() < ability else rng.choice(ranked[1:]).id]


def _rate(
    session: Session,
    assessment: Assessment,
    rubric: Rubric,
    rater: User,
    ability: float,
    rng: random.Random,
    *,
    spread: int,
) -> None:
    """Rate every work sample near the candidate's ability; `spread` pushes a rater apart."""
    items = rubric.item_index()
    for item_id in assessment.item_ids:
        item = items[item_id]
        if item.is_choice:
            continue
        criteria = {}
        for criterion in item.criteria:
            top = len(criterion.levels) - 1
            position = round(ability * top + rng.uniform(-0.5, 0.5))
            position = min(top, max(0, position - spread))
            criteria[criterion.id] = criterion.levels[position].id
        note = _note(ability) if spread == 0 else ""
        assessment_service.save_rating(session, rater, assessment.id, item_id, criteria, note)


def _note(ability: float) -> str:
    if ability >= 0.75:
        return "关键词和痛点都很到位，开头有冲突感。"
    if ability >= 0.5:
        return "结构完整，但标题缺少搜索关键词。"
    return "只写了推荐，没有用户痛点和场景。"


# How each operator tends to be seen: (self-view bias, true level per competency index).
PROFILES = {
    "rater@demo.yardstick": (1, [3, 2, 2, 3, 3, 3, 2, 3, 2]),
    "zhou.yu@demo.yardstick": (-1, [4, 3, 3, 4, 3, 4, 3, 4, 3]),
    "qian.hui@demo.yardstick": (0, [3, 3, 4, 2, 3, 3, 3, 3, 3]),
    "sun.tao@demo.yardstick": (0, [2, 3, 3, 3, 2, 3, 2, 2, 3]),
    "lin.na@demo.yardstick": (0, [3, 4, 3, 3, 4, 3, 3, 3, 4]),
    "gao.feng@demo.yardstick": (1, [2, 2, 3, 3, 2, 3, 3, 2, 2]),
    "tang.xin@demo.yardstick": (0, [3, 3, 2, 3, 3, 2, 3, 3, 3]),
}
COMMENTS = [
    "选题紧跟热点，小红书笔记的关键词布局很到位。",
    "跨部门沟通时需求说明可以更具体一些。",
    "Post-mortems are thorough; would like to see more A/B tests.",
    "复盘数据很细，但给设计的brief有时不够清楚。",
    "<b>Great</b> at keeping the weekly calendar on track.",
]


def _reviews_and_plans(
    session: Session, settings: Settings, staff: dict[str, User], rng: random.Random
) -> None:
    """Two teams: a released cycle (one group withheld), a second one showing growth, one open."""
    hr = staff["hr@demo.yardstick"]
    lead, lead2 = staff["lead@demo.yardstick"], staff["lead2@demo.yardstick"]
    content = [
        "rater@demo.yardstick",
        "zhou.yu@demo.yardstick",
        "qian.hui@demo.yardstick",
        "sun.tao@demo.yardstick",
    ]
    growth = ["lin.na@demo.yardstick", "gao.feng@demo.yardstick", "tang.xin@demo.yardstick"]
    team = review_service.create_team(session, hr, "内容组 Content", lead.id, settings)
    for email in content:
        review_service.add_member(session, hr, team.id, staff[email].id, "specialist", settings)
    team2 = review_service.create_team(session, hr, "增长组 Growth", lead2.id, settings)
    for email in growth:
        review_service.add_member(session, hr, team2.id, staff[email].id, "specialist", settings)

    due = utcnow() + timedelta(days=14)
    wang, zhou = staff["rater@demo.yardstick"], staff["zhou.yu@demo.yardstick"]
    peers = [staff[e] for e in content]
    # Wang Fang has three peers (shown); Zhou Yu only two answer, so peers are withheld.
    specs = [
        review_service.RateeSpec(wang.id, tuple(p.id for p in peers if p.id != wang.id)),
        review_service.RateeSpec(zhou.id, (staff["qian.hui@demo.yardstick"].id, wang.id)),
    ]
    first = review_service.open_cycle(
        session, lead, team.id, settings, name="2026 上半年 H1 review", due_at=due, ratees=specs
    )
    _answer_cycle(session, staff, first.cycle.id, rng, growth=0)
    review_service.close_cycle(session, lead, first.cycle.id)

    plan = plan_service.create_plan(
        session, lead, "review", _ratee_id(session, first.cycle.id, wang.id), hours_budget=40
    )
    items = list(session.scalars(select(PlanItem).where(PlanItem.plan_id == plan.id)))
    for item, status in zip(items, ["done", "done", "in_progress"], strict=False):
        plan_service.set_status(session, wang, plan.id, item.id, status)
        if status == "done":
            plan_service.add_evidence(
                session,
                wang,
                plan.id,
                item.id,
                "完成课程并在本周笔记中实践，点击率从2.1%提升到3.4%。",
            )

    second = review_service.open_cycle(
        session, lead, team.id, settings, name="2026 下半年 H2 review", due_at=due, ratees=specs[:1]
    )
    _answer_cycle(session, staff, second.cycle.id, rng, growth=1)
    review_service.close_cycle(session, lead, second.cycle.id)

    open_cycle = review_service.open_cycle(
        session,
        lead2,
        team2.id,
        settings,
        name="增长组 季度评估 Q4",
        due_at=due,
        ratees=[
            review_service.RateeSpec(
                staff[e].id, (*(staff[p].id for p in growth if p != e), wang.id)
            )
            for e in growth
        ],
    )
    _answer_cycle(session, staff, open_cycle.cycle.id, rng, growth=0, share=0.5)


def _ratee_id(session: Session, cycle_id: int, user_id: int) -> int:
    ratee_id = session.scalar(
        select(ReviewRatee.id).where(
            ReviewRatee.cycle_id == cycle_id, ReviewRatee.user_id == user_id
        )
    )
    assert ratee_id is not None
    return ratee_id


def _answer_cycle(
    session: Session,
    staff: dict[str, User],
    cycle_id: int,
    rng: random.Random,
    *,
    growth: int,
    share: float = 1.0,
) -> None:
    """Every rater answers (or `share` of them), around the ratee's profile plus `growth`."""
    cycle = review_service.get_cycle(session, staff["hr@demo.yardstick"], cycle_id)
    by_id = {user.id: (email, user) for email, user in staff.items()}
    for ratee in cycle.ratees:
        email, _ = by_id[ratee.user_id]
        bias, levels = PROFILES[email]
        for request in ratee.requests:
            if rng.random() > share:
                continue
            rater = by_id[request.rater.user_id][1]
            form = review_service.get_form(session, rater, request.id)
            competencies = [c.id for d in form.dimensions for c in d.competencies]
            answers = {}
            for index, competency in enumerate(competencies):
                level = levels[index] + growth + (bias if request.group == "self" else 0)
                level += rng.choice([-1, 0, 0, 1]) if request.group != "self" else 0
                observed = not (request.group == "report" or rng.random() < 0.05)
                answers[competency] = AnswerInput(
                    level=min(5, max(1, level)) if observed else None,
                    not_observed=not observed,
                    comment=rng.choice(COMMENTS) if rng.random() < 0.25 else "",
                )
            review_service.submit(session, rater, request.id, answers)
