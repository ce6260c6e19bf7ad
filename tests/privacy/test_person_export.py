"""A person's export holds everything stored about them, and never names their peer raters."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.config import Settings
from app.db import utcnow
from app.privacy import service as privacy_service
from app.privacy.people import PersonNotFound
from tests.privacy.privacy_helpers import (
    ANNA_ABOUT_SUN,
    ANNA_RATING_NOTE,
    ANSWER_TEXT,
    CONTENT,
    EVIDENCE,
    LEAD_NOTE,
    SELF_COMMENT,
    candidate_of,
    events,
    reviewed,
    scored,
)
from tests.reviews.review_helpers import MakeUser


def test_a_staff_export_holds_their_own_data_and_the_released_aggregate_only(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    data = reviewed(db, settings, make_user)

    exported = privacy_service.export_person(db, data.anna.email.upper(), "command line", utcnow())

    staff = exported["staff_user"]
    assert staff["account"]["email"] == data.anna.email
    assert staff["account"]["name"] == "李安娜"
    assert [t["team"] for t in staff["teams"]] == ["内容运营组"]
    [review] = staff["reviews_of_me"]
    own = {a["competency"]: a for a in review["self_rating"]["answers"]}
    assert own[CONTENT]["level"] == 4
    assert own[CONTENT]["comment"] == SELF_COMMENT
    released = review["released_result"]["competencies"][CONTENT]
    assert released["groups"]["peer"] == {"level": 2.0, "count": 3}
    assert sorted(c["text"] for c in released["comments"]) == sorted(
        [SELF_COMMENT, "上级评语", "同事评语0", "同事评语1", "同事评语2"]
    )
    [given] = staff["ratings_given"]["reviews"]
    assert given["ratee"]["name"] == "孙二"
    assert {a["comment"] for a in given["answers"]} >= {ANNA_ABOUT_SUN}
    notes = {r["note"] for r in staff["ratings_given"]["work_samples"]}
    assert notes == {ANNA_RATING_NOTE}
    [plan] = staff["plans"]
    assert plan["title"] == "安娜的成长计划"
    assert LEAD_NOTE in [i["note"] for i in plan["items"]]
    assert EVIDENCE in [e["text"] for i in plan["items"] for e in i["evidence"]]
    [practice] = staff["practice"]
    assert practice["competency"] == "data_analysis"
    assert len(practice["answers"]) == 1
    assert exported["candidates"] == []


def test_a_staff_export_never_names_a_peer_rater_or_gives_their_raw_ratings(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    data = reviewed(db, settings, make_user)

    text = json.dumps(
        privacy_service.export_person(db, data.anna.email, "command line", utcnow()),
        ensure_ascii=False,
    )

    for secret in data.peer_secrets():
        assert secret not in text
    # One peer gave level 1 to every competency; no raw level of theirs is in the export.
    assert not re.search(r'"level": 1[,}]', text)


def test_a_candidate_export_holds_invitation_consent_answers_result_and_notes(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr = make_user(Role.HR, name="人事 王")
    assessment = scored(db, hr, settings, name="张伟", email="zhang.wei@example.com")

    exported = privacy_service.export_person(db, "Zhang.Wei@example.com", hr, utcnow())

    assert exported["staff_user"] is None
    [record] = exported["candidates"]
    assert record["candidate"]["name"] == "张伟"
    [sitting] = record["assessments"]
    assert sitting["id"] == assessment.id
    assert sitting["invitation"]["link_issued_at"] is not None
    assert sitting["consent"]["given"] is True
    assert "retention" in sitting["consent"]["text"]["en"]
    assert any(ANSWER_TEXT in (a["text"] or "") for a in sitting["answers"])
    assert any(a["selected"] for a in sitting["answers"])
    assert sitting["result"]["final"] is True
    assert sitting["result"]["overall_level"] is not None
    notes = sitting["rater_notes"]
    assert notes
    assert {n["rater"] for n in notes} == {"rater 1"}
    assert {n["note"] for n in notes} == {"评分备注"}
    text = json.dumps(exported, ensure_ascii=False)
    assert "人事 王" not in text.split('"audit"')[0]  # raters are numbered, not named
    assert hr.email not in text


def test_an_email_used_by_a_staff_user_and_a_candidate_exports_both(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr = make_user(Role.HR)
    member = make_user(Role.MEMBER, email="both@example.com", name="两者")
    assessment = scored(db, hr, settings, name="两者", email="both@example.com")

    exported = privacy_service.export_person(db, "both@example.com", hr, utcnow())

    assert exported["staff_user"]["account"]["id"] == member.id
    assert [c["candidate"]["id"] for c in exported["candidates"]] == [
        candidate_of(db, assessment).id
    ]


def test_exports_are_logged_and_earlier_views_appear_in_the_next_export(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr: User = make_user(Role.HR)
    assessment = scored(db, hr, settings, email="logged@example.com")
    candidate = candidate_of(db, assessment)

    privacy_service.export_person(db, "logged@example.com", "command line", utcnow())
    again = privacy_service.export_person(db, "logged@example.com", "command line", utcnow())

    [event] = events(db, "person.exported")[:1]
    assert (event.subject_kind, event.subject_id) == ("candidate", candidate.id)
    assert event.actor_label == "command line"
    assert "logged@example.com" not in json.dumps(event.detail)
    actions = [e["action"] for e in again["candidates"][0]["audit"]]
    assert "assessment.invited" in actions
    assert "assessment.rating_saved" in actions
    assert "person.exported" in actions


def test_an_unknown_email_is_a_clear_error(db: Session) -> None:
    with pytest.raises(PersonNotFound, match="no staff user or candidate with email nobody@"):
        privacy_service.export_person(db, " Nobody@Example.com ", "command line", utcnow())
