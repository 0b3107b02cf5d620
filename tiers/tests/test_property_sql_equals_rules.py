"""The tier run's SQL says what the pure rules say (issue 9): on generated programs, the run
(`services.tier_run`, real PostgreSQL) and the rules give every partner the same sourced,
assisted, managed and total points and the same contributing lines, figure by figure.

The run repeats three rules in SQL for speed (`services._PARTNERS_SQL`): a line's MRR for a
month (`core.rules.version_for_month`), whether a partner manages a customer
(`rules.managed_eligible`) and what a line earns (`rules.contributing_line`). Here the rules
are applied to the same program as plain values, and each partner's figures compared.

A program: one to three partners; customers in growth-market and other countries; lines whose
versions start, upgrade, downgrade, stop and are re-billed (in the same or another of the nine
currencies, free versions included) on the 1st, the 2nd or any day of a month, over the two
years up to a run date; sold associations (sourced or assisted) closed before, on or after the
run date, on billed lines or not; activities of every kind (logins and settings changes
included) at every age, on and just outside both edges of the 60-day window, at the first and
last second of a day. Each program is written in a savepoint and rolled back afterwards, so
the 200 programs share one test database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from deals.models import Deal, Motion, Registration, SoldAssociation
from partnerportal.core.models import (
    Activity,
    Country,
    Currency,
    Customer,
    Organisation,
    ProductLine,
    Role,
    Subscription,
    SubscriptionVersion,
    User,
)
from partnerportal.core.rules import Version, months_back, version_for_month
from tiers import rules, selectors, services
from tiers.models import TierAssessment

pytestmark = pytest.mark.django_db

#: Run dates: both rule sets, both down-tiering windows, month ends, a leap-free February.
RUN_DATES = (
    date(2025, 7, 15),
    date(2025, 12, 31),
    date(2026, 1, 15),
    date(2026, 2, 28),
    date(2026, 3, 1),
    date(2026, 7, 15),
    date(2026, 11, 15),
)
GROWTH_COUNTRIES = ("BR", "MX", "CO", "ZA")
OTHER_COUNTRIES = ("GB", "US", "DE", "CA")
CURRENCIES = ("USD", "AUD", "COP", "EUR", "GBP", "SGD", "JPY", "ZAR", "CAD")
PRODUCT_LINES = ("marketing_hub", "sales_hub", "service_hub", "credits", "reports_addon")
ACTIVITY_KINDS = tuple(Activity.Kind.values)
#: Days before the run date an activity happened: the window's edges (D-60 counts, D-61 does
#: not), the run date itself and the day after (ignored), and anything in between.
ACTIVITY_AGES = (61, 60, 0, -1, 61, 60, 0, -1, 59, 30, 1, 90, 365)
#: Times of day: the first and the last second, and midday.
ACTIVITY_TIMES = (time(0, 0, 0), time(23, 59, 59), time(12, 0))
#: Days of the month a version starts or ends on: the 1st and 2nd decide the month's MRR.
BOUNDARY_DAYS = (1, 1, 2, 15, 28)


# --- Programs as plain values ------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """An interval of a line's history: billed `mrr` in `currency`, or not billed (None)."""

    start: date
    billed: tuple[Decimal, str] | None


@dataclass(frozen=True)
class LinePlan:
    customer: int  # index into the program's customers
    product_line: str
    periods: tuple[Period, ...]  # in order; the last runs until `end`
    end: date | None  # None: the last period is still open


@dataclass(frozen=True)
class AssociationPlan:
    partner: int
    customer: int
    product_line: str
    kind: str  # a Motion value
    close_date: date


@dataclass(frozen=True)
class ActivityPlan:
    partner: int
    customer: int
    kind: str
    occurred_at: datetime


@dataclass(frozen=True)
class Program:
    as_of: date
    partners: int
    countries: tuple[str, ...]  # one per customer
    lines: tuple[LinePlan, ...]
    associations: tuple[AssociationPlan, ...]
    activities: tuple[ActivityPlan, ...]

    def versions(self, line: LinePlan) -> list[Version]:
        """The line's versions: one per billed period, ending where the next period starts."""
        found = []
        for i, period in enumerate(line.periods):
            if period.billed is None:
                continue
            until = line.periods[i + 1].start if i + 1 < len(line.periods) else line.end
            mrr, currency = period.billed
            found.append(Version(period.start, until, mrr, currency))
        return found


_cents = st.integers(min_value=1, max_value=5_000_000).map(lambda cents: Decimal(cents) / 100)
#: An MRR: mostly any amount in cents, sometimes a free version or a whole USD-100 amount.
money = st.one_of(
    _cents,
    _cents,
    _cents,
    st.just(Decimal("0.00")),
    st.sampled_from([Decimal("100.00"), Decimal("62.50"), Decimal("300300.00")]),
)


@st.composite
def change_day(draw: st.DrawFn, as_of: date) -> date:
    """A day a line changes on, around the two months that set its MRR for a run (the run's
    month and the same month a year before: their 1st and 2nd decide), or any day in the
    27 months up to a month after the run."""
    month = draw(st.one_of(st.sampled_from([0, 12, 11, 13, 1, -1]), st.integers(-1, 26)))
    first = months_back(as_of, month)
    return first.replace(day=draw(st.one_of(st.sampled_from(BOUNDARY_DAYS), st.integers(1, 28))))


@st.composite
def line_plans(draw: st.DrawFn, as_of: date, customer: int, product_line: str) -> LinePlan:
    """A line's history: a start and up to four changes (upgrade, downgrade, termination,
    re-billing after a gap, often in another currency), on distinct days, in order."""
    days = sorted(draw(st.sets(change_day(as_of), min_size=1, max_size=5)))
    currency = draw(st.sampled_from(CURRENCIES))
    periods = [Period(days[0], (draw(money), currency))]
    for starts in days[1:]:
        if periods[-1].billed is not None and draw(st.integers(0, 4)) == 0:
            periods.append(Period(starts, None))  # terminated (re-billed by a later period)
            continue
        if draw(st.booleans()):
            currency = draw(st.sampled_from(CURRENCIES))  # re-billed in another currency
        periods.append(Period(starts, (draw(money), currency)))
    end = None
    if draw(st.integers(0, 4)) == 0:  # terminated at the end of its history
        end = periods[-1].start + timedelta(days=draw(st.sampled_from([1, 30, 200, 400])))
    return LinePlan(customer=customer, product_line=product_line, periods=tuple(periods), end=end)


@st.composite
def programs(draw: st.DrawFn) -> Program:
    as_of = draw(st.sampled_from(RUN_DATES))
    partners = draw(st.integers(1, 3))
    countries = tuple(
        draw(st.lists(st.sampled_from(GROWTH_COUNTRIES + OTHER_COUNTRIES), min_size=1, max_size=5))
    )
    lines = []
    for customer in range(len(countries)):
        for product_line in draw(
            st.lists(st.sampled_from(PRODUCT_LINES), min_size=1, max_size=3, unique=True)
        ):
            lines.append(draw(line_plans(as_of, customer, product_line)))
    # One association at most per customer and product line (as deals records them): mostly
    # on the program's lines, sometimes on a line the customer never had.
    line_keys = [(line.customer, line.product_line) for line in lines]
    any_line = st.tuples(st.integers(0, len(countries) - 1), st.sampled_from(PRODUCT_LINES))
    held = draw(
        st.lists(
            st.tuples(
                st.sampled_from(line_keys) if line_keys and draw(st.integers(0, 4)) else any_line,
                st.integers(0, partners - 1),
                st.sampled_from([Motion.PARTNER_SOURCED.value, Motion.PARTNER_ASSISTED.value]),
                st.sampled_from([-1, 0, 1, 40, 200, 500]),  # days before the run date
            ).map(lambda t: (*t[0], *t[1:])),
            min_size=1,
            max_size=8,
            unique_by=lambda held: (held[0], held[1]),
        )
    )
    associations = tuple(
        AssociationPlan(
            partner=partner,
            customer=customer,
            product_line=product_line,
            kind=kind,
            close_date=as_of - timedelta(days=days),
        )
        for customer, product_line, partner, kind, days in held
    )
    # Each partner's activity in each customer's portal: none, or one to three, so that a
    # customer is often managed (or not) on the strength of a single activity at an edge.
    tz = timezone.get_default_timezone()
    activities = tuple(
        ActivityPlan(
            partner=partner,
            customer=customer,
            kind=kind,
            occurred_at=datetime.combine(as_of - timedelta(days=age), at, tzinfo=tz),
        )
        for partner in range(partners)
        for customer in range(len(countries))
        for kind, age, at in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(ACTIVITY_KINDS),
                    st.sampled_from(ACTIVITY_AGES),
                    st.sampled_from(ACTIVITY_TIMES),
                ),
                max_size=3,
            )
        )
    )
    return Program(
        as_of=as_of,
        partners=partners,
        countries=countries,
        lines=tuple(lines),
        associations=associations,
        activities=activities,
    )


# --- What the pure rules say -------------------------------------------------------------------

LineKey = tuple[str, int, str]  # (kind, customer index, product line)


def expected_by_rules(
    program: Program, *, growth: dict[str, bool], rule_set: rules.RuleSet
) -> list[dict[LineKey, rules.LineFigures]]:
    """Each partner's contributing lines, by the pure rules alone."""
    histories = {
        (line.customer, line.product_line): program.versions(line) for line in program.lines
    }
    expected: list[dict[LineKey, rules.LineFigures]] = [{} for _ in range(program.partners)]

    def earned(kind: rules.LineKind, customer: int, product_line: str) -> rules.LineFigures | None:
        versions = histories.get((customer, product_line), [])
        return rules.contributing_line(
            kind=kind,
            this_month=version_for_month(versions, program.as_of),
            year_ago=version_for_month(versions, months_back(program.as_of, 12)),
            growth_market=growth[program.countries[customer]],
            rule_set=rule_set,
        )

    tz = timezone.get_default_timezone()
    for partner in range(program.partners):
        for customer in range(len(program.countries)):
            done = [
                rules.Activity(kind=a.kind, occurred_on=a.occurred_at.astimezone(tz).date())
                for a in program.activities
                if (a.partner, a.customer) == (partner, customer)
            ]
            if not rules.managed_eligible(activities=done, as_of=program.as_of):
                continue
            for customer_line, product_line in histories:
                if customer_line != customer:
                    continue
                figures = earned(rules.LineKind.MANAGED, customer, product_line)
                if figures is not None:
                    expected[partner][(figures.kind.value, customer, product_line)] = figures
    for held in program.associations:
        if held.close_date > program.as_of:  # an association counts from its close on
            continue
        kind = rules.LineKind.SOURCED
        if held.kind == Motion.PARTNER_ASSISTED:
            kind = rules.LineKind.ASSISTED
        figures = earned(kind, held.customer, held.product_line)
        if figures is not None:
            expected[held.partner][(kind.value, held.customer, held.product_line)] = figures
    return expected


# --- Writing a program ---------------------------------------------------------------------------


def write(program: Program) -> tuple[list[Organisation], list[Customer]]:
    """Write the program's rows (set-based: a few statements whatever its size)."""
    countries = {c.code: c for c in Country.objects.filter(code__in=set(program.countries))}
    partners = Organisation.objects.bulk_create(
        Organisation(
            name=f"Generated partner {n}",
            kind=Organisation.Kind.PARTNER,
            country=countries[program.countries[0]],
            has_partner_certification=True,
            has_pro_subscription=True,
        )
        for n in range(program.partners)
    )
    customers = Customer.objects.bulk_create(
        Customer(
            domain=f"customer{n}.generated.example",
            name=f"Generated customer {n}",
            country=countries[code],
            segment="smb",
        )
        for n, code in enumerate(program.countries)
    )
    subscriptions = Subscription.objects.bulk_create(
        Subscription(customer=customers[line.customer], product_line_id=line.product_line)
        for line in program.lines
    )
    SubscriptionVersion.objects.bulk_create(
        SubscriptionVersion(
            subscription=subscription,
            edition=None,
            seats=1,
            mrr=version.mrr,
            currency_id=version.currency,
            effective_from=version.effective_from,
            effective_until=version.effective_until,
        )
        for line, subscription in zip(program.lines, subscriptions, strict=True)
        for version in program.versions(line)
    )
    Activity.objects.bulk_create(
        Activity(
            organisation=partners[a.partner],
            customer=customers[a.customer],
            kind=a.kind,
            occurred_at=a.occurred_at,
        )
        for a in program.activities
    )
    if program.associations:
        users = User.objects.bulk_create(
            User(
                email=f"admin@partner{n}.generated.example", role=Role.PARTNER_ADMIN, organisation=p
            )
            for n, p in enumerate(partners)
        )
        deals = Deal.objects.bulk_create(
            Deal(
                customer=customers[held.customer],
                vendor_owned=held.kind == Motion.PARTNER_ASSISTED,
                status=Deal.Status.WON,
                purchase_domain=customers[held.customer].domain,
                close_date=held.close_date,
                closed_at=datetime.combine(held.close_date, time.min, tzinfo=UTC),
            )
            for held in program.associations
        )
        registrations = Registration.objects.bulk_create(
            Registration(
                deal=deal,
                organisation=partners[held.partner],
                motion=held.kind,
                status=(
                    Registration.Status.APPROVED
                    if held.kind == Motion.PARTNER_SOURCED
                    else Registration.Status.ACCEPTED
                ),
                registered_domain=deal.purchase_domain,
                created_by=users[held.partner],
            )
            for held, deal in zip(program.associations, deals, strict=True)
        )
        SoldAssociation.objects.bulk_create(
            SoldAssociation(
                organisation=partners[held.partner],
                customer=customers[held.customer],
                product_line_id=held.product_line,
                kind=held.kind,
                deal=deal,
                registration=registration,
                close_date=held.close_date,
                mrr_at_close=Decimal("100.00"),
                currency_id="USD",
            )
            for held, deal, registration in zip(
                program.associations, deals, registrations, strict=True
            )
        )
    return partners, customers


# --- The property ------------------------------------------------------------------------------


def _describe(program: Program, expected: list[dict[LineKey, rules.LineFigures]]) -> None:
    """Say what the program exercises (`pytest --hypothesis-show-statistics`)."""
    figures = [(key, f) for lines in expected for key, f in lines.items()]
    for kind in rules.LineKind:
        event(f"{kind.value} lines: {min(3, sum(f.kind == kind for _, f in figures))}")
    histories = {(ln.customer, ln.product_line): program.versions(ln) for ln in program.lines}
    re_billed = False
    for (kind, customer, product_line), _ in figures:
        versions = histories.get((customer, product_line), [])
        now = version_for_month(versions, program.as_of)
        then = version_for_month(versions, months_back(program.as_of, 12))
        if kind != rules.LineKind.MANAGED and now and then and now.currency != then.currency:
            re_billed = True
    event(f"a sold line billed in another currency a year ago: {re_billed}")


@pytest.fixture
def growth() -> dict[str, bool]:
    """Which countries are growth markets, as the database holds them (with the currencies
    and product lines the programs use)."""
    assert set(PRODUCT_LINES) <= set(ProductLine.objects.values_list("code", flat=True))
    assert set(CURRENCIES) == set(Currency.objects.values_list("code", flat=True))
    markets = dict(Country.objects.values_list("code", "growth_market"))
    assert all(markets[c] for c in GROWTH_COUNTRIES)
    assert not any(markets[c] for c in OTHER_COUNTRIES)
    return markets


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # each program rolls back its own savepoint
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(program=programs())
def test_the_tier_run_gives_every_partner_the_figures_of_the_pure_rules(
    growth: dict[str, bool], program: Program
) -> None:
    with transaction.atomic():
        # given
        partners, customers = write(program)
        rule_set = selectors.rule_set_in_force(on=program.as_of).rule_set
        expected = expected_by_rules(program, growth=growth, rule_set=rule_set)
        _describe(program, expected)

        # when
        services.tier_run(as_of=program.as_of, actor=None)

        # then
        index = {customer.pk: n for n, customer in enumerate(customers)}
        for partner, lines in zip(partners, expected, strict=True):
            assessment = TierAssessment.objects.get(organisation=partner, as_of=program.as_of)
            got = {
                (line.kind, index[line.customer.id], line.product_line_id): line
                for line in selectors.assessment_lines(assessment)
            }
            assert set(got) == set(lines), program
            for key, want in lines.items():
                line = got[key]
                assert (
                    line.mrr_this_month,
                    line.mrr_year_ago,
                    line.currency,
                    line.growth_market,
                    rules.settle_points(line.points),
                ) == (
                    want.mrr_this_month,
                    want.mrr_year_ago,
                    want.currency,
                    want.growth_market,
                    rules.settle_points(want.points),
                ), (key, program)
                # The SQL keeps 40 decimal places, the rules 50 significant digits.
                assert abs(line.points - want.points) < Decimal("1e-30"), (key, program)
            points = rules.sum_points((f.kind, f.points) for f in lines.values())
            assert (
                assessment.sourced_points,
                assessment.assisted_points,
                assessment.managed_points,
                assessment.total_points,
            ) == (
                rules.settle_points(points.sourced),
                rules.settle_points(points.assisted),
                rules.settle_points(points.managed),
                rules.settle_points(points.total),
            ), program
        transaction.set_rollback(True)
