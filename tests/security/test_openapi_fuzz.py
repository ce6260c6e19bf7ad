"""Schemathesis drives every documented JSON API operation with generated requests, signed in
as HR and as an admin over the demo data: no server errors, only documented statuses and
content types, and bodies that match the documented schemas.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.generation import GenerationMode

from app.main import create_app
from tests.conftest import BACKENDS
from tests.security.openapi_fuzz_target import (
    DEMO_LOGINS,
    OPENAPI_PATH,
    FuzzTarget,
    fuzz_settings,
    seeded_target,
)

MAX_EXAMPLES = 15

# The schema is read once from an app over no database; requests go to the fuzz target's app.
schema = schemathesis.openapi.from_asgi(
    OPENAPI_PATH,
    create_app(fuzz_settings("sqlite://")),
    config=schemathesis.Config.from_dict(
        {
            # Examples per operation; PDF rendering is slow, and one PDF is much like another.
            "generation": {"max-examples": MAX_EXAMPLES},
            "operations": [{"include-path-regex": r"\.pdf$", "generation": {"max-examples": 5}}],
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    ),
)


def schema_valid_requests_pass_validation(
    _ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A request the schema allows may be refused for its values (e.g. an unknown rubric),
    never by request validation: that would mean the schema promises more than the API takes."""
    if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return None
    if response.status_code == 422 and isinstance(response.json().get("detail"), list):
        raise AssertionError(f"request validation refused a valid request: {response.text}")
    return None


def signed_in(
    _ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every request carries a working token, so handlers run rather than the 401 path."""
    if response.status_code == 401:
        raise AssertionError(f"{case.operation.label} refused the token: {response.text}")
    return None


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
    schema_valid_requests_pass_validation,
    signed_in,
]


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    with seeded_target(request.param, tmp_path_factory.mktemp(f"fuzz-{request.param}")) as target:
        yield target


@pytest.mark.slow
@schema.parametrize()
@schema.given(role=st.sampled_from(sorted(DEMO_LOGINS)))
# No max_examples here: it would override the per-operation counts of the config above.
@settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_answers_as_documented(
    case: schemathesis.Case, role: str, fuzz_target: FuzzTarget
) -> None:
    with fuzz_target.isolated():
        case.call_and_validate(
            app=fuzz_target.app, headers=fuzz_target.headers(role), checks=CHECKS
        )
