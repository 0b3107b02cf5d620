"""The monthly accrual ledger (SPEC 7): the run, its idempotence, corrections by reversal, and
the database refusing edits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from commissions import services
from commissions.models import AccrualRun, Entitlement, LedgerLine
from commissions.services import accrual as accrual_service
from deals.tests.api_steps import start_clock
from partnerportal.core.errors import Forbidden, InvalidInput
from partnerportal.core.models import AuditEvent, Organisation, Subscription
from tests.cast import Cast
from tests.factories import OrganisationFactory

from .steps import accrue, bill, ledger_rows, net, sourced_line

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    start_clock(monkeypatch, "2027-06-15T10:00:00")


def test_usd_800_accrues_160_a_month_and_480_a_quarter_in_the_ledger() -> None:
    partner = OrganisationFactory()
    sourced_line(
        partner, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "800.00")]
    )
    result = accrue(date(2026, 3, 1))
    entitlement = Entitlement.objects.get()
    assert (entitlement.program, entitlement.months) == ("partner_sourced", 36)
    assert result.entitlements_derived == 1
    assert net(entitlement) == {
        date(2026, 1, 1): D("160.00"),
        date(2026, 2, 1): D("160.00"),
        date(2026, 3, 1): D("160.00"),
    }
    assert sum(net(entitlement).values()) == D("480.00")


def test_running_a_month_twice_adds_nothing() -> None:
    partner = OrganisationFactory()
    sourced_line(
        partner, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "800.00")]
    )
    first = accrue(date(2026, 2, 1))
    before = ledger_rows()
    second = accrue(date(2026, 2, 1))
    assert (first.lines_accrued, second.lines_accrued, second.lines_reversed) == (2, 0, 0)
    assert ledger_rows() == before


def test_a_later_run_leaves_months_after_an_earlier_run_alone() -> None:
    partner = OrganisationFactory()
    sourced_line(
        partner, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "800.00")]
    )
    accrue(date(2026, 4, 1))
    again = accrue(date(2026, 2, 1))  # re-running an earlier month reverses nothing after it
    assert (again.lines_accrued, again.lines_reversed) == (0, 0)
    assert LedgerLine.objects.count() == 4


def test_provider_entitlement_stops_after_12_months() -> None:
    provider = OrganisationFactory(kind=Organisation.Kind.PROVIDER, has_partner_certification=False)
    sourced_line(
        provider, close_date=date(2026, 1, 5), billing=[(date(2026, 1, 1), None, "100.00")]
    )
    accrue(date(2027, 6, 1))
    months = sorted(LedgerLine.objects.values_list("month", flat=True))
    assert (months[0], months[-1], len(months)) == (date(2026, 1, 1), date(2026, 12, 1), 12)


def test_a_billing_correction_reverses_the_old_line_and_replaces_it_linked() -> None:
    partner = OrganisationFactory()
    association = sourced_line(
        partner, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "800.00")]
    )
    accrue(date(2026, 3, 1))
    # Backdated: billing says the line was USD 1 000 from 1 March (appended after the run).
    subscription = Subscription.objects.get(customer=association.customer)
    subscription.versions.filter(effective_until=None).update(effective_until=date(2026, 3, 1))
    bill(subscription, date(2026, 3, 1), None, "1000.00")
    result = accrue(date(2026, 4, 1))
    assert (result.lines_reversed, result.lines_accrued) == (1, 2)  # March redone, April new
    march = LedgerLine.objects.filter(month=date(2026, 3, 1)).order_by("version", "kind")
    old, reversal, replacement = (
        march.get(version=1, kind="accrual"),
        march.get(kind="reversal"),
        march.get(version=2),
    )
    assert (reversal.reverses, reversal.amount, reversal.reason) == (
        old,
        D("-160.00"),
        services.REASON_CHANGED,
    )
    assert (replacement.replaces, replacement.amount) == (old, D("200.00"))
    assert net(Entitlement.objects.get())[date(2026, 3, 1)] == D("200.00")


def test_a_reversal_of_a_month_no_longer_billed_nets_to_exactly_zero() -> None:
    partner = OrganisationFactory()
    association = sourced_line(
        partner, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "333.33")]
    )
    accrue(date(2026, 3, 1))
    # Billing corrects the line: terminated on 1 March (backdated).
    subscription = Subscription.objects.get(customer=association.customer)
    subscription.versions.update(effective_until=date(2026, 3, 1))
    result = accrue(date(2026, 3, 1))
    assert (result.lines_reversed, result.lines_accrued) == (1, 0)
    march = LedgerLine.objects.filter(month=date(2026, 3, 1))
    assert sum(line.amount for line in march) == D("0.00")
    assert {line.amount for line in march} == {D("66.67"), D("-66.67")}


def test_ledger_lines_cannot_be_updated_or_deleted_even_through_raw_sql() -> None:
    partner = OrganisationFactory()
    sourced_line(
        partner, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "800.00")]
    )
    accrue(date(2026, 1, 1))
    line = LedgerLine.objects.get()
    for statement in (
        "UPDATE commissions_ledgerline SET amount = 0 WHERE id = %s",
        "DELETE FROM commissions_ledgerline WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(statement, [line.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerLine.objects.filter(pk=line.pk).update(amount=D("1.00"))
    assert LedgerLine.objects.get().amount == D("160.00")


def test_a_run_killed_after_a_chunk_and_run_again_equals_a_clean_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    partner = OrganisationFactory()
    provider = OrganisationFactory(kind=Organisation.Kind.PROVIDER, has_partner_certification=False)
    for n, (who, mrr) in enumerate(
        [
            (partner, "800.00"),
            (provider, "50.00"),
            (partner, "12.34"),
            (partner, "999.99"),
            (provider, "3000.00"),
        ]
    ):
        sourced_line(
            who,
            close_date=date(2026, 1 + n, 3),
            billing=[(date(2026, 1, 1), date(2026, 8 + n, 15), mrr)],
            domain=f"line{n}.example",
        )

    class Killed(Exception):
        pass

    class Rollback(Exception):
        pass

    real_chunk = accrual_service._chunk
    calls = {"n": 0}

    def dying_chunk(**kwargs: object) -> tuple[int, int]:
        calls["n"] += 1
        if calls["n"] == 3:  # the worker dies after two chunks (four entitlements) committed
            raise Killed
        return real_chunk(**kwargs)  # type: ignore[arg-type]

    try:
        with transaction.atomic():
            monkeypatch.setattr(accrual_service, "_chunk", dying_chunk)
            with pytest.raises(Killed):
                services.accrual_run(month=date(2027, 1, 1), actor=None, trigger="command", chunk=2)
            stopped = AccrualRun.objects.get()
            assert stopped.finished_at is None
            assert LedgerLine.objects.count() > 0
            monkeypatch.setattr(accrual_service, "_chunk", real_chunk)
            accrue(date(2027, 1, 1))
            resumed = ledger_rows()
            raise Rollback
    except Rollback:
        pass
    assert not LedgerLine.objects.exists()  # back to the same data, never accrued
    accrue(date(2027, 1, 1))
    assert ledger_rows() == resumed
    assert len(resumed) == 5 * 8  # each line billed from its close month for eight months


def test_the_run_refuses_a_month_not_yet_started() -> None:
    with pytest.raises(InvalidInput) as refused:
        accrue(date(2027, 7, 1))
    assert list(refused.value.errors) == ["month"]


def test_only_finance_runs_the_accrual(cast: Cast) -> None:
    with pytest.raises(Forbidden):
        services.accrual_run(month=date(2027, 1, 1), actor=cast.ops, trigger="api")
    result = services.accrual_run(month=date(2027, 1, 1), actor=cast.finance, trigger="api")
    assert result.run.requested_by == cast.finance
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"commissions.accrual_run.started", "commissions.accrual_run.finished"} <= verbs


def test_provider_bundled_year_with_a_july_upgrade_accrues_2460_and_nothing_in_month_13() -> None:
    provider = OrganisationFactory(kind=Organisation.Kind.PROVIDER, has_partner_certification=False)
    sourced_line(
        provider, close_date=date(2026, 1, 9), billing=[(date(2026, 1, 1), None, "800.00")]
    )
    sourced_line(
        provider,
        close_date=date(2026, 1, 9),
        product_line="sales_hub",
        billing=[(date(2026, 1, 1), date(2026, 7, 1), "50.00"), (date(2026, 7, 1), None, "400.00")],
    )
    accrue(date(2027, 3, 1))
    lines = LedgerLine.objects.all()
    assert sum(line.amount for line in lines) == D("2460.00")
    assert not lines.filter(month__gte=date(2027, 1, 1)).exists()
