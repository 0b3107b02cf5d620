"""A consequence "loss of revenue share" (SPEC 10) stops accrual from its effective date (SPEC 7,
issue 12), through the real services: escalations applies or ends the consequence, which records
the kernel's revenue-share stop in the same transaction; the accrual run reads it.

The decision on months: a month accrues or not by the facts on its 1st (its MRR is the billing
in effect on its 1st), so a stop effective on 15 March leaves March accrued and takes April on;
one effective on 1 March takes March. A lost month is lost, not deferred."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from commissions.models import Entitlement, LedgerLine
from commissions.services import REASON_STOPPED
from commissions.tests.steps import accrue, net, sourced_line
from deals.tests.api_steps import start_clock
from escalations import services as escalations
from escalations.inputs import ConsequenceEnd, ConsequenceInput
from escalations.rules import ConsequenceKind
from partnerportal.core.models import AuditEvent
from tests.cast import Cast

D = Decimal
pytestmark = pytest.mark.django_db


def _loss(cast: Cast, start: date):  # type: ignore[no-untyped-def]
    return escalations.consequence_apply(
        actor=cast.ops,
        data=ConsequenceInput(
            partner=cast.org_a,
            kind=ConsequenceKind.REVENUE_SHARE_LOSS,
            reason="Registered a customer it had no contact with",
            effective_from=start,
        ),
    )


def test_loss_of_revenue_share_stops_accrual_from_its_effective_date(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = start_clock(monkeypatch, "2026-05-10T10:00:00")
    sourced_line(
        cast.org_a, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "800.00")]
    )
    accrue(date(2026, 5, 1))
    entitlement = Entitlement.objects.get()
    assert len(net(entitlement)) == 5  # January to May, 160 each

    # Applied on 10 May, effective 15 March: backdated. March's 1st is before it: March stays.
    consequence = _loss(cast, date(2026, 3, 15))
    clock.set("2026-07-10T10:00:00")
    result = accrue(date(2026, 7, 1))

    assert net(entitlement) == {
        date(2026, 1, 1): D("160.00"),
        date(2026, 2, 1): D("160.00"),
        date(2026, 3, 1): D("160.00"),
        date(2026, 4, 1): D("0.00"),
        date(2026, 5, 1): D("0.00"),
    }
    assert (result.lines_accrued, result.lines_reversed) == (0, 2)
    reversals = LedgerLine.objects.filter(kind="reversal").order_by("month")
    assert [(r.month, r.amount, r.reason) for r in reversals] == [
        (date(2026, 4, 1), D("-160.00"), REASON_STOPPED),
        (date(2026, 5, 1), D("-160.00"), REASON_STOPPED),
    ]
    assert not LedgerLine.objects.filter(
        month__gte=date(2026, 4, 1), kind="accrual", reversed_by__isnull=True
    ).exists()

    # Partner ops end it from 1 June: June on accrues again; April and May stay lost.
    escalations.consequence_end(
        actor=cast.ops,
        consequence=consequence,
        data=ConsequenceEnd(effective_until=date(2026, 6, 1), reason="Made the customer whole"),
    )
    result = accrue(date(2026, 7, 1))
    assert (result.lines_accrued, result.lines_reversed) == (2, 0)
    assert {m: a for m, a in net(entitlement).items() if a} == {
        date(2026, 1, 1): D("160.00"),
        date(2026, 2, 1): D("160.00"),
        date(2026, 3, 1): D("160.00"),
        date(2026, 6, 1): D("160.00"),
        date(2026, 7, 1): D("160.00"),
    }


def test_a_loss_of_revenue_share_from_the_1st_takes_that_month(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_clock(monkeypatch, "2026-04-10T10:00:00")
    sourced_line(
        cast.org_a, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "800.00")]
    )
    _loss(cast, date(2026, 3, 1))
    accrue(date(2026, 4, 1))
    assert sorted(LedgerLine.objects.values_list("month", flat=True)) == [
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_a_loss_of_revenue_share_stops_only_that_partners_accrual(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_clock(monkeypatch, "2026-04-10T10:00:00")
    for partner, domain in ((cast.org_a, "a.example"), (cast.org_b, "b.example")):
        sourced_line(
            partner,
            close_date=date(2026, 1, 12),
            billing=[(date(2026, 1, 1), None, "800.00")],
            domain=domain,
        )
    _loss(cast, date(2026, 2, 1))
    accrue(date(2026, 4, 1))
    assert LedgerLine.objects.filter(organisation=cast.org_a).count() == 1
    assert LedgerLine.objects.filter(organisation=cast.org_b).count() == 4


def test_the_revenue_share_stop_is_recorded_and_audited_with_its_consequence(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_clock(monkeypatch, "2026-04-10T10:00:00")
    consequence = _loss(cast, date(2026, 3, 15))
    stop = cast.org_a.revenue_share_stops.get()
    assert (stop.effective_from, stop.effective_until, stop.source) == (
        date(2026, 3, 15),
        None,
        f"escalations.consequence:{consequence.pk}",
    )
    assert AuditEvent.objects.filter(
        verb="core.partner.revenue_share_stopped", organisation=cast.org_a
    ).exists()
