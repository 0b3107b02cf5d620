"""A month's run does what can change, not everything again (issue 12, "Scale"): the months
after the last finished run for every entitlement, and every month for the entitlements whose
inputs changed since, as the database noted them (migration 0006). The ledger is the same as a
full recomputation's (the property test, commissions/tests/test_property_sql_equals_rules.py);
these tests show the bookkeeping."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from commissions.models import Entitlement, LedgerLine
from deals.models import SoldAssociation
from deals.tests.api_steps import start_clock
from partnerportal.core.models import AuditEvent, RevenueShareStop, Subscription
from tests.factories import OrganisationFactory

from .steps import accrue, bill, net, sourced_line

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    start_clock(monkeypatch, "2027-06-15T10:00:00")


def noted() -> list[tuple[int | None, int | None, int | None, int | None]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT subscription_id, organisation_id, entitlement_id, association_id "
            "FROM commissions_accrualchange ORDER BY id"
        )
        return [tuple(row) for row in cursor.fetchall()]


def changed_in_last_run() -> int:
    event = AuditEvent.objects.filter(verb="commissions.accrual_run.finished").latest("id")
    return int(event.data["entitlements_changed"])


def two_lines() -> tuple[Subscription, Subscription]:
    partner = OrganisationFactory()
    subscriptions = []
    for domain in ("one.example", "two.example"):
        association = sourced_line(
            partner,
            close_date=date(2026, 1, 12),
            billing=[(date(2026, 1, 1), None, "800.00")],
            domain=domain,
        )
        subscriptions.append(Subscription.objects.get(customer=association.customer))
    return subscriptions[0], subscriptions[1]


def test_billing_stops_and_entitlements_are_noted_and_a_finished_run_clears_the_notes() -> None:
    # given two billed lines (their versions noted) and their associations (noted too)
    one, two = two_lines()
    associations = SoldAssociation.objects.filter(customer__in=[one.customer, two.customer])
    assert set(noted()) == {(one.pk, None, None, None), (two.pk, None, None, None)} | {
        (None, None, None, a.pk) for a in associations
    }

    # when the first run derives their entitlements and accrues
    accrue(date(2026, 3, 1))

    # then every note is consumed (the entitlements it inserted were noted and examined too)
    assert noted() == []
    assert changed_in_last_run() == 2

    # when billing is corrected in place and a stop recorded
    one.versions.update(mrr=D("900.00"))
    stop = RevenueShareStop.objects.create(
        organisation=Entitlement.objects.first().organisation,  # type: ignore[union-attr]
        effective_from=date(2027, 1, 1),
        source="test",
    )

    # then both are noted, by subscription and by partner
    assert noted() == [(one.pk, None, None, None), (None, stop.organisation_id, None, None)]


def test_a_month_after_a_finished_run_examines_no_earlier_month_of_unchanged_lines() -> None:
    # given a run through March
    one, _two = two_lines()
    accrue(date(2026, 3, 1))

    # when April is run with nothing changed
    result = accrue(date(2026, 4, 1))

    # then April alone is accrued, no entitlement counted as changed
    assert (result.lines_accrued, result.lines_reversed, changed_in_last_run()) == (2, 0, 0)

    # when one line's billing is corrected back to February, and May is run
    one.versions.update(effective_until=date(2026, 2, 1))
    bill(one, date(2026, 2, 1), None, "1000.00")
    result = accrue(date(2026, 5, 1))

    # then that entitlement alone had every month examined: February to April reversed and
    # replaced, May accrued for both
    assert changed_in_last_run() == 1
    assert (result.lines_reversed, result.lines_accrued) == (3, 3 + 2)
    entitlement = Entitlement.objects.get(customer=one.customer)
    assert net(entitlement) == {
        date(2026, 1, 1): D("160.00"),
        date(2026, 2, 1): D("200.00"),
        date(2026, 3, 1): D("200.00"),
        date(2026, 4, 1): D("200.00"),
        date(2026, 5, 1): D("200.00"),
    }


def test_a_run_for_an_earlier_month_leaves_the_changes_for_the_next_run() -> None:
    # given a run through April, then March's billing corrected
    one, _two = two_lines()
    accrue(date(2026, 4, 1))
    one.versions.update(effective_until=date(2026, 3, 1))
    bill(one, date(2026, 3, 1), None, "500.00")

    # when February is run again (an earlier month than the last run's)
    again = accrue(date(2026, 2, 1))

    # then nothing after February moved, and the change is still noted
    assert (again.lines_accrued, again.lines_reversed) == (0, 0)
    assert set(noted()) == {(one.pk, None, None, None)}

    # when May is run
    result = accrue(date(2026, 5, 1))

    # then March and April are reversed and replaced, and the note is gone
    assert (result.lines_reversed, result.lines_accrued) == (2, 2 + 2)
    assert noted() == []
    entitlement = Entitlement.objects.get(customer=one.customer)
    assert net(entitlement)[date(2026, 3, 1)] == D("100.00")
    assert LedgerLine.objects.filter(month=date(2026, 5, 1)).count() == 2


def test_a_month_a_missed_run_never_accrued_is_accrued_by_the_next() -> None:
    # given a run through January only
    two_lines()
    accrue(date(2026, 1, 1))

    # when April is run (February and March were never run)
    result = accrue(date(2026, 4, 1))

    # then February to April are accrued for both lines
    assert (result.lines_accrued, result.lines_reversed, changed_in_last_run()) == (6, 0, 0)
    assert LedgerLine.objects.count() == 8


def test_an_association_is_noted_when_written_and_a_run_derives_from_the_noted_ones_alone() -> None:
    # given two lines sold, their associations written without entitlements (noted), and a run
    two_lines()
    first = accrue(date(2026, 3, 1))
    assert first.entitlements_derived == 2
    assert not [n for n in noted() if n[3] is not None]

    # when a third line is sold the same way, and a fourth one's note is lost (as if the
    # association had been written before the notes existed and had an entitlement)
    partner = Entitlement.objects.first().organisation  # type: ignore[union-attr]
    sourced_line(
        partner,
        close_date=date(2026, 3, 5),
        billing=[(date(2026, 3, 1), None, "100.00")],
        domain="three.example",
    )
    lost = sourced_line(
        partner,
        close_date=date(2026, 3, 6),
        billing=[(date(2026, 3, 1), None, "100.00")],
        domain="four.example",
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM commissions_accrualchange WHERE association_id = %s", [lost.pk])
    second = accrue(date(2026, 4, 1))

    # then the run derives the noted one and consumes its note; the unnoted one is not looked at
    assert second.entitlements_derived == 1
    assert Entitlement.objects.filter(customer__domain="three.example").exists()
    assert not Entitlement.objects.filter(association=lost).exists()
    assert not [n for n in noted() if n[3] is not None]
