"""API inputs refuse unknown fields: a client can never set a status, a score or an owner, which
follow from who acts and what happened. Checked in the schema, in the models and on the wire.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from app.accounts.models import Role, User
from app.main import create_app
from tests.conftest import ROOT
from tests.security.openapi_fuzz_target import fuzz_settings

# Fields that only the service sets; no request body may offer them.
SERVER_SET = {
    "owner",
    "owner_id",
    "created_by",
    "created_by_id",
    "author_id",
    "score",
    "scores",
    "overall_level",
    "fit",
    "final",
    "result",
    "recommendation",
    "submitted_at",
    "scored_at",
}
# The one status a client sets: the person a plan is for reports their own progress.
CLIENT_STATUS_MODELS = {"StatusIn"}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    spec: dict[str, Any] = create_app(fuzz_settings("sqlite://")).openapi()
    return spec


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            yield ref.rsplit("/", 1)[-1]
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def request_models(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every component schema a request body uses, nested ones included."""
    components = spec["components"]["schemas"]
    pending = [
        name
        for operations in spec["paths"].values()
        for operation in operations.values()
        for name in _refs(operation.get("requestBody", {}))
    ]
    found: dict[str, dict[str, Any]] = {}
    while pending:
        name = pending.pop()
        if name not in found:
            found[name] = components[name]
            pending.extend(_refs(components[name]))
    return found


def test_every_request_body_model_refuses_unknown_fields(openapi: dict[str, Any]) -> None:
    models = request_models(openapi)

    assert {"CandidateIn", "AssessmentIn", "CycleIn", "RateeIn", "AnswerIn", "PlanIn"} <= set(
        models
    )
    open_models = [
        name
        for name, schema in models.items()
        if schema.get("type") == "object" and schema.get("additionalProperties") is not False
    ]
    assert open_models == []


def test_no_request_body_offers_a_field_the_server_sets(openapi: dict[str, Any]) -> None:
    offered = {
        (name, field)
        for name, schema in request_models(openapi).items()
        for field in schema.get("properties", {})
        if field in SERVER_SET or (field == "status" and name not in CLIENT_STATUS_MODELS)
    }
    assert offered == set()


def _input_models() -> Iterator[type[BaseModel]]:
    for path in sorted((ROOT / "app").glob("*/schemas.py")):
        module = importlib.import_module(f"app.{path.parent.name}.schemas")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
                and value.__name__.endswith("In")
            ):
                yield value


def test_every_input_model_in_the_domain_schemas_forbids_extra_fields(
    openapi: dict[str, Any],
) -> None:
    models = {model.__name__: model for model in _input_models()}

    # The API's request models are all among them, so none escapes this check by its name.
    assert set(request_models(openapi)) <= set(models)
    lax = sorted(
        name for name, model in models.items() if model.model_config.get("extra") != "forbid"
    )
    assert lax == []


CYCLE = {"name": "Q3", "due_at": "2099-01-01T00:00:00+00:00", "ratees": [{"user_id": 1}]}
# (method, path, a body valid but for the extra field, where the extra field goes, its name)
SMUGGLED: list[tuple[str, str, dict[str, Any], tuple[str | int, ...], str]] = [
    ("POST", "/candidates", {"name": "Li", "email": "li@example.com"}, (), "status"),
    ("POST", "/candidates", {"name": "Li", "email": "li@example.com"}, (), "created_by"),
    (
        "POST",
        "/assessments",
        {"candidate_id": 1, "rubric_id": "new_media_operator", "role_id": "specialist"},
        (),
        "score",
    ),
    (
        "POST",
        "/assessments",
        {"candidate_id": 1, "rubric_id": "new_media_operator", "role_id": "specialist"},
        (),
        "status",
    ),
    ("PUT", "/assessments/1/items/ws1/rating", {"criteria": {"hook": "strong"}}, (), "score"),
    ("POST", "/assessments/1/raters", {"user_id": 1}, (), "ratings_given"),
    ("POST", "/teams", {"name": "Ops", "lead_id": 1}, (), "owner_id"),
    ("PATCH", "/teams/1", {"name": "Ops"}, (), "created_by"),
    ("POST", "/teams/1/review-cycles", CYCLE, (), "status"),
    ("POST", "/teams/1/review-cycles", CYCLE, ("ratees", 0), "score"),
    ("PUT", "/review-requests/1/answers", {"answers": {"c1": {"level": 3}}}, (), "status"),
    (
        "PUT",
        "/review-requests/1/answers",
        {"answers": {"c1": {"level": 3}}},
        ("answers", "c1"),
        "score",
    ),
    ("POST", "/plans", {"source": "assessment", "source_id": 1}, (), "owner_id"),
    ("PATCH", "/plans/1", {"title": "Mine"}, (), "created_by"),
    ("POST", "/plans/1/items", {"module_id": "m1"}, (), "status"),
    ("PATCH", "/plans/1/items/1", {"note": "soon"}, (), "status"),
    ("POST", "/plans/1/items/1/evidence", {"text": "did it"}, (), "author_id"),
    ("POST", "/practice/sessions/1/answers", {"item_id": "i1", "selected": ["a"]}, (), "score"),
    ("POST", "/tokens", {"name": "reporting"}, (), "owner_id"),
]


def _with_field(body: dict[str, Any], at: tuple[str | int, ...], name: str) -> dict[str, Any]:
    def copy(value: Any, rest: tuple[str | int, ...]) -> Any:
        if not rest:
            return {**value, name: 1}
        head, *tail = rest
        if isinstance(value, list):
            return [copy(v, tuple(tail)) if i == head else v for i, v in enumerate(value)]
        return {k: copy(v, tuple(tail)) if k == head else v for k, v in value.items()}

    result: dict[str, Any] = copy(body, at)
    return result


def test_a_refused_create_leaves_nothing_behind(
    client: TestClient, make_user: Callable[..., User], token_for: Callable[[User], dict[str, str]]
) -> None:
    headers = token_for(make_user(Role.HR))
    body = {"name": "Li", "email": "li@example.com", "status": "scored"}

    assert client.post("/api/v1/candidates", json=body, headers=headers).status_code == 422
    assert client.get("/api/v1/candidates", headers=headers).json() == []


def test_every_yes_or_no_input_takes_only_true_or_false() -> None:
    # Without `strict`, 0, 1.0, "yes" and "off" would each pass as a boolean.
    lax = sorted(
        f"{model.__name__}.{name}"
        for model in _input_models()
        for name, field in model.model_fields.items()
        if field.annotation is bool and not any(getattr(m, "strict", False) for m in field.metadata)
    )
    assert lax == []


NOT_BOOLEAN: list[tuple[str, str, dict[str, Any], tuple[str | int, ...]]] = [
    ("PUT", "/assessments/1/candidate-feedback", {"enabled": 0.0}, ("enabled",)),
    ("POST", "/assessments/1/raters", {"user_id": 1, "adjudicator": "yes"}, ("adjudicator",)),
    (
        "PUT",
        "/review-requests/1/answers",
        {"answers": {"c1": {"not_observed": 1}}},
        ("answers", "c1", "not_observed"),
    ),
]


# (method, path, body, where the error is, what kind): a field the server sets, and a
# number or word sent for yes or no.
REFUSED: list[tuple[str, str, dict[str, Any], list[str | int], str]] = [
    *(
        (method, path, _with_field(body, at, field), ["body", *at, field], "extra_forbidden")
        for method, path, body, at, field in SMUGGLED
    ),
    *((method, path, body, ["body", *at], "bool_type") for method, path, body, at in NOT_BOOLEAN),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "loc", "kind"),
    REFUSED,
    ids=[f"{m} {p} {'.'.join(map(str, loc[1:]))}" for m, p, _, loc, _ in REFUSED],
)
def test_a_field_a_client_may_not_send_is_refused_by_name(
    client: TestClient,
    make_user: Callable[..., User],
    token_for: Callable[[User], dict[str, str]],
    method: str,
    path: str,
    body: dict[str, Any],
    loc: list[str | int],
    kind: str,
) -> None:
    headers = token_for(make_user(Role.HR))

    response = client.request(method, f"/api/v1{path}", json=body, headers=headers)

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == (kind, loc)
