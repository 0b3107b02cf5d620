"""Issue 10: a schema fuzz of the whole API. Schemathesis reads `/api/schema/` from the portal
itself and, for every operation and as every role of the shared cast (their API tokens) and
anonymously, sends generated requests in-process on the test database. No request may get a
server error, and every documented response must match the schema (body and content type).

Two phases of Schemathesis, as two tests:

- the fuzzing phase (random requests that keep to the schema) for every role, with
  `PORTAL_FUZZ_EXAMPLES` examples per operation (4 by default);
- the coverage phase (boundary values: huge integers, over-long strings, missing and extra
  fields, unexpected methods) for the roles in `PORTAL_FUZZ_COVERAGE` (partner ops and a
  partner admin by default, who reach every operation's body; `all` for every role).

Both derandomised unless `PORTAL_FUZZ_RANDOM=1`. The defaults take about two minutes on two
cores; the longer run is documented in the README ("API schema fuzz")."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.conf import settings
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis import BaseSchema
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from .cast import Cast

EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "4"))
RANDOM = os.environ.get("PORTAL_FUZZ_RANDOM") == "1"
ROLES = [
    "admin_a",
    "member_a",
    "admin_b",
    "member_b",
    "provider_admin",
    "gs",
    "pdm",
    "ops",
    "finance",
    "anon",
]
_coverage = os.environ.get("PORTAL_FUZZ_COVERAGE", "ops,admin_a")
COVERAGE_ROLES = ROLES if _coverage == "all" else [r for r in ROLES if r in _coverage.split(",")]
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _schema(**phases: bool) -> BaseSchema:
    """The portal's own `/api/schema/`, with only the given phases on."""
    config = schemathesis.Config.from_dict(
        {"phases": {name: {"enabled": on} for name, on in phases.items()}}
    )
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)


fuzzing = _schema(examples=True, fuzzing=True, coverage=False, stateful=False)
boundaries = _schema(examples=False, fuzzing=False, coverage=True, stateful=False)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_transaction() -> Iterator[None]:
    """Requests go to the WSGI application in-process: like Django's test client, keep the
    end of a request from closing the connection that holds the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _unthrottled() -> Iterator[None]:
    """Thousands of calls per role in a minute are the fuzz's, not a runaway client's."""
    rates = {"user": None, "anon": None}
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        yield


def _call_as(case: schemathesis.Case, cast: Cast, who: str) -> None:
    headers = {}
    if who != "anon":
        token, _ = Token.objects.get_or_create(user=cast.people()[who])
        headers["Authorization"] = f"Token {token.key}"
    case.call_and_validate(headers=headers, checks=CHECKS)


FUZZ_SETTINGS = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("who", ROLES)
@fuzzing.parametrize()
@FUZZ_SETTINGS
def test_the_api_never_errs_and_keeps_to_its_schema(
    case: schemathesis.Case, cast: Cast, who: str
) -> None:
    _call_as(case, cast, who)


@pytest.mark.parametrize("who", COVERAGE_ROLES)
@boundaries.parametrize()
@FUZZ_SETTINGS
def test_boundary_values_never_err_and_keep_to_the_schema(
    case: schemathesis.Case, cast: Cast, who: str
) -> None:
    _call_as(case, cast, who)
