"""`manage.py accrue --month YYYY-MM` prints what it did and is idempotent."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from commissions.models import LedgerLine
from commissions.tasks import monthly_accrual
from deals.tests.api_steps import start_clock
from tests.factories import OrganisationFactory

from .steps import sourced_line

pytestmark = pytest.mark.django_db


def test_accrue_command_prints_what_it_did_and_adds_nothing_the_second_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    sourced_line(
        OrganisationFactory(),
        close_date=date(2026, 2, 3),
        billing=[(date(2026, 1, 1), None, "800.00")],
    )
    first, second = StringIO(), StringIO()
    call_command("accrue", "--month", "2026-03", stdout=first)
    call_command("accrue", "--month", "2026-03", stdout=second)
    assert "1 entitlements derived, 2 lines accrued, 0 lines reversed." in first.getvalue()
    assert "0 entitlements derived, 0 lines accrued, 0 lines reversed." in second.getvalue()
    assert LedgerLine.objects.count() == 2


def test_accrue_command_refuses_a_badly_written_month() -> None:
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("accrue", "--month", "2026-3")


def test_the_monthly_task_accrues_through_the_month_just_ended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start_clock(monkeypatch, "2026-04-01T02:00:00")
    sourced_line(
        OrganisationFactory(),
        close_date=date(2026, 1, 3),
        billing=[(date(2026, 1, 1), None, "100.00")],
    )
    monthly_accrual()
    assert max(LedgerLine.objects.values_list("month", flat=True)) == date(2026, 3, 1)
