"""`manage.py close_quarter --quarter YYYY-Qn [--dry-run]` (SPEC 11): prints what it did, is
idempotent, refuses a badly written quarter or one not ended with a clear message."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from commissions.models import QuarterClose, Statement, StatementLine
from deals.tests.api_steps import start_clock
from tests.factories import OrganisationFactory

from .steps import accrue, hold, sourced_line, statement_rows

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("close_quarter", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def q1_accrued(monkeypatch: pytest.MonkeyPatch) -> None:
    """USD 800 for a partner in good standing and one without payout paperwork; EUR 100 for
    the first: January to March 2026 accrued, clock on 2 April 2026."""
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    good = OrganisationFactory(name="Good Partner")
    missing = OrganisationFactory(name="Paperless Partner")
    for org, currency, mrr in (
        (good, "USD", "800.00"),
        (missing, "USD", "800.00"),
        (good, "EUR", "100.00"),
    ):
        sourced_line(
            org,
            close_date=date(2026, 1, 12),
            billing=[(date(2026, 1, 1), None, mrr)],
            currency=currency,
        )
    hold(missing, paperwork=False)
    accrue(date(2026, 3, 1))


def test_the_command_closes_the_quarter_and_prints_statements_by_status_and_currency(
    q1_accrued: None,
) -> None:
    """USD: 800 x 20 % x 3 = 480 each (one payable, one held); EUR 100 x 20 % x 3 = 60."""
    out = _run("--quarter", "2026-Q1")
    assert "Closed 2026-Q1: 3 statements, 9 lines, payable on 2026-05-15." in out
    assert "payable EUR: 1 statements, 60.00" in out
    assert "payable USD: 1 statements, 480.00" in out
    assert "held USD: 1 statements, 480.00" in out
    assert Statement.objects.count() == 3
    assert StatementLine.objects.count() == 9


def test_running_the_command_twice_says_already_closed_and_adds_nothing(
    q1_accrued: None,
) -> None:
    _run("--quarter", "2026-Q1")
    before = statement_rows()
    again = _run("--quarter", "2026-Q1")
    assert "2026-Q1 is already closed" in again
    assert "nothing changed" in again
    assert "3 statements, 9 lines" in again
    assert statement_rows() == before
    assert QuarterClose.objects.count() == 1


def test_the_dry_run_prints_what_the_close_would_make_and_writes_nothing(
    q1_accrued: None,
) -> None:
    out = _run("--quarter", "2026-Q1", "--dry-run")
    assert "Dry run: closing 2026-Q1 would make 3 statements" in out
    assert "Nothing written." in out
    assert "held: Paperless Partner USD 480.00 (payout_paperwork)" in out
    assert not QuarterClose.objects.exists()
    assert not Statement.objects.exists()


@pytest.mark.parametrize("text", ["2026-Q5", "2026-1", "26-Q1", "2026-q1", "1999-Q4", "Q1-2026"])
def test_a_badly_written_quarter_is_a_clear_command_error(text: str) -> None:
    with pytest.raises(CommandError, match="YYYY-Qn"):
        _run("--quarter", text)


def test_a_quarter_not_ended_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    start_clock(monkeypatch, "2026-03-15T08:00:00")
    with pytest.raises(CommandError, match="has not ended yet"):
        _run("--quarter", "2026-Q1")
    assert not QuarterClose.objects.exists()


def test_a_quarter_without_ledger_lines_closes_with_no_statement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    out = _run("--quarter", "2025-Q4")
    assert "Closed 2025-Q4: 0 statements, 0 lines" in out
    assert "no statements" in out
    assert QuarterClose.objects.get().quarter == "2025-Q4"
