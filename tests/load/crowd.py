"""Simulated candidates for the load tests: invitations, their answers, and what was acknowledged.

Each candidate's saves of one item go one after another (an answer acknowledged later must
win); different items of one candidate, and different candidates, go at once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments import results, scoring
from app.assessments import service as assessment_service
from app.assessments.models import Answer, Assessment, AssessmentResult
from app.config import Settings
from app.db import make_engine
from app.rubrics import service as rubric_service
from app.rubrics.spec import Rubric
from tests.load.rawhttp import BROKEN, Client, Reply
from tests.load.server import ROOT, SECRET

RUBRIC = "new_media_operator"
Value = list[str] | str
Key = tuple[int, str]  # (assessment id, item id)


@dataclass(frozen=True)
class Question:
    id: str
    options: tuple[str, ...]  # empty for a work sample
    single: bool

    def value(self, n: int) -> Value:
        """The n-th answer a candidate changes their mind to: each differs from the last."""
        if not self.options:
            return f"第{n}稿 draft {n}：熬夜党的20分钟急救面膜 ({self.id})"
        if self.single:
            return [self.options[n % len(self.options)]]
        count = 1 + n % len(self.options)
        start = n % len(self.options)
        return [self.options[(start + k) % len(self.options)] for k in range(count)]


@dataclass(frozen=True)
class Invite:
    assessment_id: int
    token: str
    questions: tuple[Question, ...]

    @property
    def path(self) -> str:
        return f"/take/{self.token}"


def invite(database_url: str, base_url: str, count: int, role: str = "assistant") -> list[Invite]:
    """`count` candidates invited by HR through the service, as the staff pages would."""
    settings = Settings(
        environment="test",
        database_url=database_url,
        rubrics_dir=ROOT / "rubrics",
        public_base_url=base_url,
        secret_key=SECRET,
    )
    engine = make_engine(database_url)
    invites: list[Invite] = []
    try:
        with Session(engine) as session:
            hr = User(
                email=f"hr-{uuid.uuid4().hex[:12]}@example.com",
                name="王芳",
                role=Role.HR.value,
                password_hash="!",
            )
            session.add(hr)
            session.flush()
            rubric = rubric_service.get_current(settings.rubrics_dir, RUBRIC).rubric
            index = rubric.item_index()
            for n in range(count):
                candidate = assessment_service.create_candidate(
                    session, hr, f"候选人 {n}", f"candidate{n}@example.com"
                )
                assessment, url = assessment_service.create_assessment(
                    session, hr, candidate.id, RUBRIC, role, None, 14, settings
                )
                questions = tuple(
                    Question(
                        item_id,
                        tuple(o.id for o in index[item_id].options),
                        index[item_id].select == "single",
                    )
                    for item_id in assessment.item_ids
                )
                invites.append(Invite(assessment.id, url.rsplit("/", 1)[1], questions))
            session.commit()
    finally:
        engine.dispose()
    return invites


@dataclass
class Ledger:
    """What the server acknowledged, seen from the candidates' side."""

    acked: dict[Key, Value] = field(default_factory=dict)
    # Saves sent after the last acknowledgement whose connection broke: stored or not.
    unsure: defaultdict[Key, list[Value]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # how long each answered request took

    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


class Crowd:
    """Candidates sharing one client, with at most the client's size of requests in flight."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.ledger = Ledger()

    async def post(
        self, path: str, *, form: dict[str, str] | None = None, data: Any = None
    ) -> Reply | None:
        """The reply, or None when the connection broke (never an acknowledgement)."""
        try:
            if form is not None:
                reply = await self.client.post_form(path, form)
            else:
                reply = await self.client.post_json(path, data)
        except TimeoutError:
            self.ledger.unexpected.append(f"{path}: no answer within {self.client.timeout} s")
            return None
        except BROKEN as error:
            self.ledger.transport_errors[type(error).__name__] += 1
            return None
        self.ledger.statuses[reply.status] += 1
        self.ledger.seconds.append(reply.seconds)
        return reply

    def _expect(self, reply: Reply | None, status: int, what: str) -> None:
        if reply is not None and reply.status != status:
            self.ledger.unexpected.append(f"{what}: {reply.status} {reply.text[:300]!r}")

    async def start(self, invite: Invite) -> None:
        reply = await self.post(f"{invite.path}/start", form={"consent": "yes"})
        self._expect(reply, 303, f"start {invite.assessment_id}")

    async def submit(self, invite: Invite) -> Reply | None:
        reply = await self.post(f"{invite.path}/submit", form={"confirm": "yes"})
        self._expect(reply, 303, f"submit {invite.assessment_id}")
        return reply

    async def save(
        self, invite: Invite, question: Question, value: Value, *, may_be_closed: bool = False
    ) -> bool:
        """Autosave one answer; False when the connection broke before the answer came."""
        key = (invite.assessment_id, question.id)
        reply = await self.post(f"{invite.path}/autosave", data={"answers": {question.id: value}})
        if reply is None:
            self.ledger.unsure[key].append(value)
            return False
        if reply.status == 200:
            self.ledger.acked[key] = value
            self.ledger.unsure.pop(key, None)
        elif not (may_be_closed and reply.status == 409):
            self._expect(reply, 200, f"autosave {key}")
        return True

    async def revise(self, invite: Invite, question: Question, times: int) -> None:
        """Save one item `times` times, each with a new value, waiting for each answer."""
        for n in range(times):
            await self.save(invite, question, question.value(n))

    async def revise_until(self, invite: Invite, question: Question, stop: asyncio.Event) -> None:
        """Keep changing one answer, one save at a time, until `stop` is set."""
        n = 0
        while not stop.is_set():
            answered = await self.save(invite, question, question.value(n))
            n += 1
            if not answered:
                await asyncio.sleep(0.25)  # the server may be down: try again shortly


# --- what the database says ----------------------------------------------------------------


def stored_answers(session: Session, assessment_ids: Iterable[int]) -> dict[Key, Value]:
    rows = session.execute(
        select(Answer.assessment_id, Answer.item_id, Answer.selected, Answer.text).where(
            Answer.assessment_id.in_(list(assessment_ids))
        )
    )
    return {
        (aid, item): (list(selected) if selected is not None else (text or ""))
        for aid, item, selected, text in rows
    }


def duplicate_answers(session: Session, assessment_ids: Iterable[int]) -> list[Any]:
    return list(
        session.execute(
            select(Answer.assessment_id, Answer.item_id, func.count())
            .where(Answer.assessment_id.in_(list(assessment_ids)))
            .group_by(Answer.assessment_id, Answer.item_id)
            .having(func.count() > 1)
        )
    )


def lost_answers(ledger: Ledger, stored: dict[Key, Value]) -> list[str]:
    """Every disagreement between what was acknowledged and what the database holds.

    An acknowledged item holds its last acknowledged value, or a later one whose
    connection broke before its answer arrived; nothing is stored that was never sent.
    """
    problems: list[str] = []
    for key, value in ledger.acked.items():
        if key not in stored:
            problems.append(f"{key}: acknowledged {value!r}, not stored")
        elif stored[key] != value and stored[key] not in ledger.unsure.get(key, []):
            problems.append(f"{key}: acknowledged {value!r}, stored {stored[key]!r}")
    for key, value in stored.items():
        if key not in ledger.acked and value not in ledger.unsure.get(key, []):
            problems.append(f"{key}: stored {value!r}, which was never sent")
    return problems


def rescored(session: Session, assessment: Assessment, rubric: Rubric) -> dict[str, Any]:
    """The result the stored answers give now, in the stored (JSON) form."""
    score = scoring.score(
        rubric,
        assessment.rubric_version,
        assessment.role_id,
        assessment.item_ids,
        results.responses(session, assessment, rubric),
    )
    loaded: dict[str, Any] = json.loads(json.dumps(score.to_dict()))
    return loaded


def result_rows(session: Session, assessment_ids: Iterable[int]) -> Counter[int]:
    return Counter(
        session.scalars(
            select(AssessmentResult.assessment_id).where(
                AssessmentResult.assessment_id.in_(list(assessment_ids))
            )
        )
    )
