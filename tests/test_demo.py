"""The demo on first run (issues 12 and 13): partners in at least three tiers, and the past
quarters' statements held, payable and paid, from the real accrual and close; idempotent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from commissions import rules as commission_rules
from commissions.models import LedgerLine, QuarterClose, Statement
from partnerportal.core.models import AuditEvent, Organisation

pytestmark = pytest.mark.django_db


def test_the_first_run_puts_partners_in_at_least_three_tiers() -> None:
    call_command("seed_demo")

    tiers = set(Organisation.objects.filter(kind="partner").values_list("tier", flat=True))
    assert len(tiers) >= 3, tiers


def test_the_first_run_shows_statements_held_payable_and_paid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("seed_demo")
    out = capsys.readouterr().out

    last = commission_rules.Quarter.of(timezone.localdate()).previous()
    before = last.previous()
    statements = {
        (s.quarter, s.organisation.name): s
        for s in Statement.objects.select_related("organisation")
    }
    # Northwind: GBP 1 000 a month since the deal of two quarters ago; 20 % is GBP 200.
    paid = statements[(before.label, "Northwind Digital")]
    assert (paid.status, paid.total, paid.currency_id) == ("paid", Decimal("600.00"), "GBP")
    assert paid.paid_on == min(commission_rules.payable_on(before), timezone.localdate())
    assert paid.payment_reference.startswith(f"DEMO-{before.label}-")
    payable = statements[(last.label, "Northwind Digital")]
    assert (payable.status, payable.total) == ("payable", Decimal("600.00"))
    # Bluepeak: EUR 120 a month (24 of commission) since last quarter, its payout paperwork
    # incomplete: held.
    held = statements[(last.label, "Bluepeak Agency")]
    assert (held.status, held.total, held.currency_id) == ("held", Decimal("72.00"), "EUR")
    assert list(held.held_reasons) == ["payout_paperwork"]
    assert set(QuarterClose.objects.values_list("quarter", flat=True)) == {
        before.label,
        last.label,
    }
    for status in ("paid", "held", "payable"):
        assert f": {status}" in out
    # Every past month since the first deal is accrued; this month is not.
    months = set(LedgerLine.objects.values_list("month", flat=True))
    assert before.starts_on in months
    assert max(months) == (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


def test_a_second_run_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("seed_demo")
    capsys.readouterr()
    counts = (
        Statement.objects.count(),
        LedgerLine.objects.count(),
        QuarterClose.objects.count(),
        AuditEvent.objects.count(),
    )

    call_command("seed_demo")

    out = capsys.readouterr().out
    assert "Demo deal history already loaded: nothing to do." in out
    assert "Demo quarterly statements already exist: nothing to do." in out
    assert (
        Statement.objects.count(),
        LedgerLine.objects.count(),
        QuarterClose.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
