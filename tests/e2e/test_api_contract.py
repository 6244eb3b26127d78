"""Schemathesis against the running local stack: the dashboard API keeps its OpenAPI contract
(the committed openapi.json, which a test keeps equal to what the API serves)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests import web
from tests.support import REPO

pytestmark = pytest.mark.e2e

schema = schemathesis.openapi.from_path(REPO / "openapi.json")


@pytest.fixture(scope="module")
def admin_token(local_stack: str) -> str:
    """An admin reaches every route (agents get 403 on admin routes, which tests nothing);
    of demo2, so the fuzzing never changes the demo agency other e2e tests talk to."""
    token: str = web.get(f"{local_stack}/_local/tokens").json()["demo2_admin"]
    return token


@schema.parametrize()
@settings(
    max_examples=12,  # the fixed budget per operation
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_5xx_and_no_schema_violations(case, local_stack: str, admin_token: str) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(
        base_url=local_stack,
        headers={"Authorization": f"Bearer {admin_token}"},
        checks=[not_a_server_error, response_schema_conformance],
        timeout=30,
    )
