"""Later autosaves of a sitting without the ORM (`fast_save`), and every way back to the usual
path (which says why a save is refused), on SQLite and PostgreSQL.

Over committed data in a private database, as the app's sessions see it: the fast path works
on its own connection, so a test transaction's rows would be invisible to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from app import migrations
from app.accounts.models import User
from app.accounts.secrets import hash_token
from app.assessments import candidate as candidate_service
from app.assessments import fast_save
from app.assessments import service as assessment_service
from app.assessments.candidate import (
    GRACE,
    AnswersClosed,
    AnswersRefused,
    InviteNotFound,
    InviteRevoked,
    TimeUp,
)
from app.assessments.models import Answer, Assessment
from app.db import make_engine, utcnow
from app.rubrics import service as rubric_service
from tests.conftest import BACKENDS, database_url
from tests.load.crowd import Invite, Question, invite


@pytest.fixture(scope="module", params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("fastsave")
    with database_url(request.param, directory, "fastsave") as url:
        migrations.upgrade(url)
        yield url


@pytest.fixture(scope="module")
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement sent to the database, as the database receives it."""
    seen: list[str] = []

    def record(statement: str) -> None:
        seen.append(" ".join(statement.split()))

    def record_cursor(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        record(statement)

    def trace(dbapi_connection: Any, _record: Any) -> None:
        # SQLite's own trace: it also sees statements sent past SQLAlchemy.
        dbapi_connection.set_trace_callback(record)

    sqlite = engine.dialect.name == "sqlite"
    engine.dispose()  # new connections, so that each gets the trace
    if sqlite:
        event.listen(engine, "connect", trace)
    else:
        event.listen(engine, "before_cursor_execute", record_cursor)
    yield seen
    if sqlite:
        event.remove(engine, "connect", trace)
        engine.dispose()
    else:
        event.remove(engine, "before_cursor_execute", record_cursor)


def started_sitting(url: str, engine: Engine) -> Invite:
    """A started sitting, committed, that this process has not seen saved yet."""
    fast_save.DRAWN.clear()
    (made,) = invite(url, "https://yardstick.example", 1)
    with Session(engine) as session:
        assessment = candidate_service.open_invite(session, made.token, utcnow())
        candidate_service.start(session, assessment, utcnow())
        session.commit()
    return made


@pytest.fixture
def sitting(url: str, engine: Engine) -> Invite:
    return started_sitting(url, engine)


def save(engine: Engine, made: Invite, answers: dict[str, Any], now: datetime | None = None) -> Any:
    """As the autosave route does: the session is committed whatever the outcome."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            return candidate_service.autosave(session, made.token, answers, now or utcnow())
        finally:
            session.commit()


def stored(engine: Engine, made: Invite) -> dict[str, tuple[Any, str | None]]:
    with Session(engine) as session:
        rows = session.execute(
            select(Answer.item_id, Answer.selected, Answer.text).where(
                Answer.assessment_id == made.assessment_id
            )
        )
        return {item_id: (selected, text) for item_id, selected, text in rows}


def raw_columns(engine: Engine, made: Invite) -> list[tuple[Any, ...]]:
    """The answer rows as the database holds them (JSON and times as stored text)."""
    cast = "text" if engine.dialect.name == "postgresql" else "TEXT"
    query = text(
        f"SELECT item_id, CAST(selected AS {cast}), text, CAST(saved_at AS {cast}) "
        "FROM answer WHERE assessment_id = :id ORDER BY item_id"
    )
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query, {"id": made.assessment_id})]


def hashed(made: Invite) -> str:
    return hash_token(made.token)


def choice(made: Invite) -> Question:
    return next(q for q in made.questions if q.options)


def work_sample(made: Invite) -> Question:
    return next(q for q in made.questions if not q.options)


def test_after_the_first_save_a_save_skips_the_orm(
    engine: Engine, sitting: Invite, statements: list[str]
) -> None:
    first, second = choice(sitting), work_sample(sitting)
    save(engine, sitting, {first.id: first.value(0)})
    statements.clear()

    progress = save(engine, sitting, {second.id: "第一稿\r\n两行"})

    if engine.dialect.name == "postgresql":
        assert len(statements) == 1
        assert statements[0].startswith("WITH sitting AS")
    else:
        assert [s.split()[0] for s in statements] == ["BEGIN", "SELECT", "INSERT", "COMMIT"]
    assert progress.answered == 2  # the earlier answer and this one
    assert stored(engine, sitting) == {
        first.id: (first.value(0), None),
        second.id: (None, "第一稿\n两行"),  # as the usual path stores text
    }


def test_answers_are_stored_as_the_usual_path_stores_them(engine: Engine, sitting: Invite) -> None:
    first, second = choice(sitting), work_sample(sitting)
    now = utcnow()
    save(engine, sitting, {first.id: first.value(0), second.id: "初稿"}, now)  # usual path
    usual = raw_columns(engine, sitting)
    save(engine, sitting, {first.id: first.value(0), second.id: "初稿"}, now)  # fast path

    assert fast_save.DRAWN.get(hashed(sitting)) is not None
    assert raw_columns(engine, sitting) == usual


def test_a_later_save_of_an_item_replaces_the_earlier_one(engine: Engine, sitting: Invite) -> None:
    question = choice(sitting)
    for n in range(4):
        save(engine, sitting, {question.id: question.value(n)})
    assert stored(engine, sitting) == {question.id: (question.value(3), None)}


def test_a_submitted_sitting_refuses_the_next_save(engine: Engine, sitting: Invite) -> None:
    question = choice(sitting)
    save(engine, sitting, {question.id: question.value(0)})
    with Session(engine) as session:
        assessment = session.get_one(Assessment, sitting.assessment_id)
        candidate_service.submit(session, assessment, utcnow())
        session.commit()

    with pytest.raises(AnswersClosed):
        save(engine, sitting, {question.id: question.value(1)})
    assert stored(engine, sitting) == {question.id: (question.value(0), None)}


def test_a_revoked_sitting_refuses_the_next_save(engine: Engine, sitting: Invite, url: str) -> None:
    question = choice(sitting)
    save(engine, sitting, {question.id: question.value(0)})
    with Session(engine) as session:
        hr = session.get_one(User, session.get_one(Assessment, sitting.assessment_id).created_by_id)
        assessment_service.revoke(session, hr, sitting.assessment_id)
        session.commit()

    with pytest.raises(InviteRevoked):
        save(engine, sitting, {question.id: question.value(1)})
    assert stored(engine, sitting) == {question.id: (question.value(0), None)}


def test_a_replaced_link_no_longer_saves(engine: Engine, sitting: Invite) -> None:
    question = choice(sitting)
    save(engine, sitting, {question.id: question.value(0)})
    with Session(engine) as session:
        # What reissuing the link does: the old token's hash is gone.
        session.get_one(Assessment, sitting.assessment_id).token_hash = "0" * 64
        session.commit()

    with pytest.raises(InviteNotFound):
        save(engine, sitting, {question.id: question.value(1)})
    assert stored(engine, sitting) == {question.id: (question.value(0), None)}


def test_after_the_deadline_and_its_grace_a_save_is_refused(
    engine: Engine, sitting: Invite
) -> None:
    question = choice(sitting)
    save(engine, sitting, {question.id: question.value(0)})
    deadline = utcnow() + timedelta(minutes=1)
    with Session(engine) as session:
        session.get_one(Assessment, sitting.assessment_id).deadline_at = deadline
        session.commit()

    save(engine, sitting, {question.id: question.value(1)}, now=deadline + GRACE)
    with pytest.raises(TimeUp):
        save(engine, sitting, {question.id: question.value(2)}, now=deadline + GRACE * 2)
    assert stored(engine, sitting) == {question.id: (question.value(1), None)}


def test_a_refused_answer_is_refused_as_on_the_usual_path(engine: Engine, sitting: Invite) -> None:
    good, bad = choice(sitting), [q for q in sitting.questions if q.options][1]
    save(engine, sitting, {good.id: good.value(0)})

    with pytest.raises(AnswersRefused) as refused:
        save(engine, sitting, {good.id: good.value(1), bad.id: ["no-such-option"]})

    assert [(p.item_id, p.code) for p in refused.value.problems] == [(bad.id, "unknown_option")]
    # The valid answer of the same call is kept, as the usual path keeps it.
    assert stored(engine, sitting) == {good.id: (good.value(1), None)}


def test_a_save_that_reads_its_rubric_from_the_database_is_not_held_up(
    engine: Engine, sitting: Invite, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = choice(sitting)
    save(engine, sitting, {question.id: question.value(0)})
    assert fast_save.DRAWN.get(hashed(sitting)) is not None
    # The parsed rubric dropped from the process's cache (more versions in use than it
    # keeps): this save reads it through its session before writing on another connection.
    monkeypatch.setattr(rubric_service, "_parsed_versions", rubric_service._ParsedVersions(32))

    save(engine, sitting, {question.id: question.value(1)})

    assert stored(engine, sitting) == {question.id: (question.value(1), None)}
