"""Expected refusals are logged as one line each, not a traceback, and once (issue 13: every
403 wrote a full traceback, twice, to the web log).

A 403 (a forbidden action) and a 404 (outside the caller's reach) answer a request as designed:
`django.request` still records them, as one line with the status and path, through the root's
one handler. A 500 keeps its traceback."""

from __future__ import annotations

import logging
import sys

import pytest
from django.test import override_settings

from partnerportal.core.log_filters import ExpectedErrorsWithoutTraceback
from tests.cast import Cast, api_as, browser_as

pytestmark = pytest.mark.django_db


def request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


def test_a_forbidden_page_is_one_line_without_a_traceback(
    cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    # given: a partner admin, who may not read the audit trail
    client = browser_as(cast.admin_a)
    # when
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/audit/")
    # then
    assert response.status_code == 403
    (record,) = request_records(caplog)
    assert record.status_code == 403  # type: ignore[attr-defined]
    assert record.exc_info is None
    assert "Forbidden" in record.getMessage()
    assert "/audit/" in record.getMessage()
    assert "Traceback" not in caplog.text


def test_a_page_outside_the_callers_reach_is_one_line_without_a_traceback(
    cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    client = browser_as(cast.admin_a)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(f"/partners/{cast.org_b.pk}/")
    assert response.status_code == 404
    (record,) = request_records(caplog)
    assert record.exc_info is None
    assert record.getMessage() == f"Not Found: /partners/{cast.org_b.pk}/"
    assert "Traceback" not in caplog.text


def test_a_refused_api_call_is_one_line_without_a_traceback(
    cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="django.request"):
        forbidden = api_as(cast.admin_a).get("/api/v1/audit-events/")
        missing = api_as(cast.admin_a).get(f"/api/v1/partners/{cast.org_b.pk}/")
    assert (forbidden.status_code, missing.status_code) == (403, 404)
    records = request_records(caplog)
    assert [r.status_code for r in records] == [403, 404]  # type: ignore[attr-defined]
    assert all(r.exc_info is None for r in records)
    assert "Traceback" not in caplog.text


def _handlers_writing(record: logging.LogRecord) -> list[logging.Handler]:
    """The handlers that would write `record` logged on its logger (as `Logger.callHandlers`
    walks the hierarchy), each asked its level and filters."""
    found: list[logging.Handler] = []
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None:
        found.extend(h for h in logger.handlers if record.levelno >= h.level and h.filter(record))
        if not logger.propagate:
            break
        logger = logger.parent
    return found


@override_settings(DEBUG=True)
def test_a_request_record_is_written_once_even_in_development() -> None:
    # Django's own config gives "django" a console handler under DEBUG besides the root's:
    # every record was written twice in development. Now the root's handler writes it, alone.
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Forbidden (Permission denied): /x",
        (),
        None,
    )
    record.status_code = 403
    # (pytest adds its own capturing handlers to the root: only the configured ones count)
    console = [h for h in _handlers_writing(record) if h.get_name() == "console"]
    assert len(console) == 1
    assert console[0] in logging.getLogger().handlers


def test_a_server_error_keeps_its_traceback() -> None:
    # given: what Django logs for a 500 and for a 403, both with the exception attached
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    records = []
    for status in (500, 403):
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "x", (), exc_info)
        record.status_code = status
        records.append(record)
    # when
    kept = [ExpectedErrorsWithoutTraceback().filter(r) for r in records]
    # then: both are logged; only the 500 keeps its traceback
    assert kept == [True, True]
    assert records[0].exc_info is exc_info
    assert records[1].exc_info is None
