"""The accrual run's SQL (`services.ACCRUE_SQL`) gives every entitlement, month by month, what
the pure rule `rules.accrual_schedule` gives, over generated programs: lines closed on any day,
billed in versions starting on the 1st or mid-month, with gaps, MRR 0, currency changes,
terminations; partners (36 months) and providers (12); losses of revenue share (stops from any
day, open-ended or ended); run once, then billing and stops rewritten (a backdated correction,
a backdated stop, a stop ended) and run again through a later month, then run through a later
month with nothing changed or one line's billing rewritten as it stands (the common monthly
run: one statement for the unchanged entitlements, the chunks for the changed). The ledger's net
per month must equal the schedule of the billing and stops as they now stand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commissions import rules
from commissions.models import Entitlement
from deals.tests.api_steps import start_clock
from partnerportal.core.models import Organisation, RevenueShareStop, Subscription
from partnerportal.core.rules import Version, months_back
from tests.factories import OrganisationFactory

from .steps import accrue, bill, net, sourced_line

pytestmark = pytest.mark.django_db
BASE = date(2025, 1, 1)

MRRS = st.sampled_from(["0.00", "0.03", "12.34", "50.00", "800.00", "999.99", "1234.56"])


@st.composite
def billings(draw: Any) -> list[tuple[date, date | None, str, str]]:
    start = BASE + timedelta(days=draw(st.integers(0, 500)))
    # Often on the 1st, as billing mostly is.
    if draw(st.booleans()):
        start = start.replace(day=1)
    versions = []
    for index in range(draw(st.integers(1, 4))):
        mrr = draw(MRRS)
        currency = draw(st.sampled_from(["USD", "EUR", "GBP"]))
        last = index == 3 or draw(st.booleans())
        length = None if last and draw(st.booleans()) else draw(st.integers(1, 400))
        until = None if length is None else start + timedelta(days=length)
        versions.append((start, until, mrr, currency))
        if until is None:
            break
        start = until + timedelta(days=draw(st.sampled_from([0, 0, 0, 1, 20, 45])))
    return versions


@st.composite
def stop_ranges(draw: Any) -> tuple[date, date | None]:
    start = BASE + timedelta(days=draw(st.integers(0, 1000)))
    if draw(st.booleans()):
        start = start.replace(day=1)
    length = draw(st.one_of(st.none(), st.integers(1, 400)))
    return start, None if length is None else start + timedelta(days=length)


STOPS = st.lists(stop_ranges(), max_size=2)


@st.composite
def programs(draw: Any) -> dict[str, Any]:
    lines = draw(
        st.lists(
            st.tuples(
                st.booleans(),  # provider
                st.integers(0, 600),  # close date offset
                billings(),
                billings(),  # billing after the correction
            ),
            min_size=1,
            max_size=3,
        )
    )
    first = months_back(BASE, -draw(st.integers(0, 30)))
    second = months_back(first, -draw(st.integers(0, 12)))
    third = months_back(second, -draw(st.integers(1, 14)))
    touched = draw(st.booleans())  # the first line's billing rewritten as it is before the third
    stops = {
        provider: (draw(STOPS), draw(STOPS))  # (at the first run, at the second)
        for provider in (False, True)
    }
    return {
        "lines": lines,
        "first": first,
        "second": second,
        "third": third,
        "touched": touched,
        "stops": stops,
    }


def record_stops(partner: Organisation, ranges: list[tuple[date, date | None]]) -> None:
    RevenueShareStop.objects.filter(organisation=partner).delete()
    for n, (start, until) in enumerate(ranges):
        RevenueShareStop.objects.create(
            organisation=partner,
            effective_from=start,
            effective_until=until,
            source=f"prop:{partner.pk}:{n}",
        )


def versions(billing: list[tuple[date, date | None, str, str]]) -> list[Version]:
    return [Version(f, u, Decimal(m), c) for f, u, m, c in billing]


@pytest.fixture
def partners(monkeypatch: pytest.MonkeyPatch) -> dict[bool, Organisation]:
    start_clock(monkeypatch, "2030-01-15T10:00:00")
    return {
        False: OrganisationFactory(),
        True: OrganisationFactory(kind=Organisation.Kind.PROVIDER, has_partner_certification=False),
    }


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=programs())
def test_the_accrual_sql_equals_the_pure_schedule(
    partners: dict[bool, Organisation], program: dict[str, Any]
) -> None:
    with transaction.atomic():
        associations = []
        for n, (provider, offset, before, _after) in enumerate(program["lines"]):
            association = sourced_line(
                partners[provider],
                close_date=BASE + timedelta(days=offset),
                billing=[],
                domain=f"prop{n}.example",
            )
            subscription = Subscription.objects.get(customer=association.customer)
            for f, u, m, c in before:
                bill(subscription, f, u, m, currency=c)
            associations.append((association, subscription))
        for provider, (before_stops, _after_stops) in program["stops"].items():
            record_stops(partners[provider], before_stops)
        accrue(program["first"])
        for provider, (_before_stops, after_stops) in program["stops"].items():
            record_stops(partners[provider], after_stops)
        for (_association, subscription), (_p, _o, _before, after) in zip(
            associations, program["lines"], strict=True
        ):
            subscription.versions.all().delete()
            for f, u, m, c in after:
                bill(subscription, f, u, m, currency=c)
        accrue(program["second"])
        # A later month is run (one month or several: the common monthly run), with nothing
        # changed (every entitlement through `services.FRESH_SQL`) or with the first line's
        # billing rewritten as it stands (noted as a change: that entitlement through the
        # chunks, the others through `FRESH_SQL`).
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM commissions_accrualchange")
            assert cursor.fetchone()[0] == 0
        if program["touched"]:
            associations[0][1].versions.update(mrr=F("mrr"))
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM commissions_accrualchange")
                assert cursor.fetchone()[0] > 0
        accrue(program["third"])
        for (association, _s), (provider, _o, _before, after) in zip(
            associations, program["lines"], strict=True
        ):
            entitlement = Entitlement.objects.get(association=association)
            want = rules.accrual_schedule(
                close_date=association.close_date,
                months=rules.sourced_months(is_provider=provider),
                versions=versions(after),
                through=program["third"],
                stops=[rules.Stop(f, u) for f, u in program["stops"][provider][1]],
            )
            got = {month: amount for month, amount in net(entitlement).items() if amount}
            assert got == {a.month: a.amount for a in want if a.amount}, program
            live = entitlement.lines.filter(kind="accrual", reversed_by__isnull=True)
            assert {(x.month, x.mrr, x.currency_id) for x in live} == {
                (a.month, a.mrr, a.currency) for a in want
            }, program
        transaction.set_rollback(True)
