"""The re-tiering run against PostgreSQL: figures worked by hand, idempotence, the up/down
timing rules, and a query count that does not grow with the number of partners."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accreditations.models import Certification
from partnerportal.core.errors import InvalidInput
from partnerportal.core.models import (
    Activity,
    AuditEvent,
    Country,
    Currency,
    Customer,
    Organisation,
    ProductLine,
    User,
)
from tests.cast import Cast, browser_as
from tests.factories import (
    ActivityFactory,
    CustomerFactory,
    OrganisationFactory,
    SoldAssociationFactory,
    SubscriptionFactory,
    SubscriptionVersionFactory,
)
from tiers import rules, selectors, services
from tiers.models import (
    EliteInvitation,
    TierAssessment,
    TierAssessmentLines,
    TierRuleSet,
    TierRun,
    TierTarget,
)
from tiers.tests import spec

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 15)  # not a down-tiering window; rule set of 2026-01-15 in force
JULY = date(2026, 7, 15)  # a down-tiering window
D_MINUS_60 = date(2026, 1, 14)
D_MINUS_61 = date(2026, 1, 13)


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def customer(domain: str, country: str = "GB") -> Customer:
    return CustomerFactory(domain=domain, country=Country.objects.get(code=country))


def billed(
    cust: Customer,
    product_line: str,
    mrr: str,
    currency: str,
    start: date = date(2025, 1, 1),
    until: date | None = None,
) -> None:
    """Add a version to the customer's line of `product_line` (creating the line)."""
    line = cust.subscriptions.filter(product_line_id=product_line).first() or SubscriptionFactory(
        customer=cust, product_line=ProductLine.objects.get(code=product_line)
    )
    SubscriptionVersionFactory(
        subscription=line,
        edition=None,
        mrr=Decimal(mrr),
        currency=Currency.objects.get(code=currency),
        effective_from=start,
        effective_until=until,
    )


def active(org: Organisation, cust: Customer, when: datetime, kind: str = "asset_created") -> None:
    ActivityFactory(organisation=org, customer=cust, kind=kind, occurred_at=when)


def assessment(org: Organisation, as_of: date = MARCH) -> TierAssessment:
    return TierAssessment.objects.get(organisation=org, as_of=as_of)


def snapshot() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], int, list[str]]:
    return (
        list(TierAssessment.objects.order_by("pk").values_list()),
        list(TierAssessmentLines.objects.order_by("pk").values_list()),
        AuditEvent.objects.count(),
        list(Organisation.objects.order_by("pk").values_list("tier", flat=True)),
    )


def sold(
    org: Organisation,
    cust: Customer,
    product_line: str,
    kind: str,
    close_date: date = date(2025, 1, 1),
) -> None:
    """Record that `org` holds `cust`'s `product_line`, as deals would at a close."""
    SoldAssociationFactory(
        organisation=org,
        customer=cust,
        product_line=ProductLine.objects.get(code=product_line),
        kind=f"partner_{kind}",
        close_date=close_date,
    )


@pytest.fixture
def scenario(cast: Cast) -> Cast:
    """Ten customers, partners A and B, for the run of 15 March 2026 (worked by hand below).

    MRR for March is the version in effect on 1 March 2026; a year earlier, on 1 March 2025.

    Managed (1 point per USD 100, x2 in growth markets). Window of eligible activity:
    14 January (D-60) to 15 March 2026, both inclusive.
      c1 GB: USD 800 (8) + EUR 150 (150 / 75 = 2)                                 = 10
      c2 BR (growth): USD 250 -> 250 x 2 / 100; activity exactly D-60               =  5
      c3 ZA (growth): ZAR 1 545 a year ago, ZAR 3 090 now -> 3 090 x 2 / 1 545      =  4
      c4 GB: JPY line terminated on 1 March (0); AUD 210 ending 2 March (in effect
         on the 1st: 210 / 105 = 2); GBP 125 -> 125 / 62.5 = 2                      =  4
      c5 GB: USD 10 000, but a login only                                           =  0
      c6 GB: USD 5 000, activity at 23:59:59 on D-61 and on D+1                      =  0
      c7 CO (growth): COP 150 150 -> 150 150 x 2 / 300 300; a USD line from 2 March
         only counts from April                                                     =  1
      c8 GB: EUR 25 -> 25 / 75                                                      = 1/3
      c9 MX and c10 GB: no activity                                                 =  0
    Partner A: 24 1/3 managed points. Partner B manages c1 too: 10 points.

    Sold (5 sourced / 3 assisted per USD 100 of growth over March 2025, x2 in growth markets):
      A c3 ZA service hub, sourced: ZAR 3 090 - 1 545 -> 1 545 x 5 x 2 / 1 545        = 10
      A c1 GB sales hub, sourced: EUR 150 now, none a year ago -> 150 x 5 / 75       = 10
      A c10 GB content hub, sourced: USD 300 now, CAD 130 (= USD 100) a year ago
         -> 300 x 5 / 100 - 130 x 5 / 130                                           = 10
      A c9 MX (growth) sales hub, assisted: SGD 420 - 140 -> 280 x 3 x 2 / 140       = 12
      A c1 GB marketing hub, assisted: USD 800 both years (a line, no growth)        =  0
      A c4 GB credits, sourced: terminated on 1 March                          no line
      A c7 CO sales hub, assisted: starts 2 March, counts from April           no line
      A c2 BR marketing hub, sourced: closed 20 March, after the run date      no line
      B c6 GB marketing hub, sourced: USD 6 000 a year ago, 5 000 now (never < 0)    =  0
    Partner A: sourced 30, assisted 12, managed 24 1/3, total 66 1/3.
    Partner B: sourced 0, assisted 0, managed 10, total 10.
    """
    c1, c2, c3, c4 = (
        customer("c1.example"),
        customer("c2.example", "BR"),
        customer("c3.example", "ZA"),
        customer("c4.example"),
    )
    c5, c6, c7, c8 = (
        customer("c5.example"),
        customer("c6.example"),
        customer("c7.example", "CO"),
        customer("c8.example"),
    )
    c9, c10 = customer("c9.example", "MX"), customer("c10.example")
    billed(c1, "marketing_hub", "800.00", "USD")
    billed(c1, "sales_hub", "150.00", "EUR", start=date(2026, 2, 1))
    billed(c2, "marketing_hub", "250.00", "USD")
    billed(c3, "service_hub", "1545.00", "ZAR", until=date(2025, 6, 1))
    billed(c3, "service_hub", "3090.00", "ZAR", start=date(2025, 6, 1))
    billed(c4, "credits", "12000.00", "JPY", until=date(2026, 3, 1))
    billed(c4, "service_hub", "210.00", "AUD", until=date(2026, 3, 2))
    billed(c4, "core_seats", "125.00", "GBP")
    billed(c5, "marketing_hub", "10000.00", "USD")
    billed(c6, "marketing_hub", "6000.00", "USD", until=date(2025, 6, 1))
    billed(c6, "marketing_hub", "5000.00", "USD", start=date(2025, 6, 1))
    billed(c7, "marketing_hub", "150150.00", "COP")
    billed(c7, "sales_hub", "1000.00", "USD", start=date(2026, 3, 2))
    billed(c8, "reports_addon", "25.00", "EUR")
    billed(c9, "sales_hub", "140.00", "SGD", until=date(2025, 9, 1))
    billed(c9, "sales_hub", "420.00", "SGD", start=date(2025, 9, 1))
    billed(c10, "content_hub", "130.00", "CAD", until=date(2025, 12, 1))
    billed(c10, "content_hub", "300.00", "USD", start=date(2025, 12, 1))

    a, b = cast.org_a, cast.org_b
    active(a, c1, at(date(2026, 3, 1)))
    active(a, c2, at(D_MINUS_60, 0, 0, 0), kind="asset_edited")
    active(a, c3, at(MARCH, 23, 59, 59), kind="asset_edited")
    active(a, c4, at(date(2026, 2, 20)))
    active(a, c4, at(date(2026, 2, 21)))  # two activities, still one credit
    active(a, c5, at(date(2026, 3, 10)), kind="login")
    active(a, c6, at(D_MINUS_61, 23, 59, 59))
    active(a, c6, at(MARCH + timedelta(days=1), 0, 0, 0))
    active(a, c7, at(date(2026, 2, 1)))
    active(a, c8, at(date(2026, 2, 1)))
    active(b, c1, at(date(2026, 3, 14)))

    sold(a, c3, "service_hub", "sourced")
    sold(a, c1, "sales_hub", "sourced", close_date=date(2026, 1, 20))
    sold(a, c10, "content_hub", "sourced")
    sold(a, c9, "sales_hub", "assisted")
    sold(a, c1, "marketing_hub", "assisted")
    sold(a, c4, "credits", "sourced")
    sold(a, c7, "sales_hub", "assisted", close_date=date(2026, 3, 2))
    sold(a, c2, "marketing_hub", "sourced", close_date=date(2026, 3, 20))
    sold(b, c6, "marketing_hub", "sourced")
    return cast


def test_the_scenario_matches_the_figures_worked_by_hand(scenario: Cast) -> None:
    # given: the scenario
    # when
    result = services.tier_run(as_of=MARCH, actor=scenario.ops)

    # then
    assert (result.as_of, result.partners_assessed, result.tier_changes) == (MARCH, 2, 0)
    a = assessment(scenario.org_a)
    assert (a.sourced_points, a.assisted_points) == (30, 12)
    assert a.managed_points == Decimal("24.333333333333")
    assert a.total_points == Decimal("66.333333333333")
    assert a.sold_source == "associations"
    assert a.rule_set.effective_from == date(2026, 1, 15)
    assert (a.tier_before, a.qualified_tier, a.tier_after) == ("untiered",) * 3
    assert not a.at_risk
    assert not a.elite_qualified
    b = assessment(scenario.org_b)
    assert (b.sourced_points, b.assisted_points, b.managed_points, b.total_points) == (
        0,
        0,
        10,
        10,
    )

    lines = {
        (line.kind, line.customer.domain, line.product_line_id): (
            line.mrr_this_month,
            line.mrr_year_ago,
            line.currency,
            line.growth_market,
            line.points,
        )
        for line in selectors.assessment_lines(a)
    }
    assert lines == {
        ("managed", "c1.example", "marketing_hub"): (800, None, "USD", False, 8),
        ("managed", "c1.example", "sales_hub"): (150, None, "EUR", False, 2),
        ("managed", "c2.example", "marketing_hub"): (250, None, "USD", True, 5),
        ("managed", "c3.example", "service_hub"): (3090, None, "ZAR", True, 4),
        ("managed", "c4.example", "service_hub"): (210, None, "AUD", False, 2),
        ("managed", "c4.example", "core_seats"): (125, None, "GBP", False, 2),
        ("managed", "c7.example", "marketing_hub"): (150150, None, "COP", True, 1),
        ("managed", "c8.example", "reports_addon"): (
            25,
            None,
            "EUR",
            False,
            Decimal("0." + "3" * 40),
        ),
        ("sourced", "c3.example", "service_hub"): (3090, 1545, "ZAR", True, 10),
        ("sourced", "c1.example", "sales_hub"): (150, 0, "EUR", False, 10),
        # The year-ago MRR is shown in this month's currency: CAD 130 is USD 100.
        ("sourced", "c10.example", "content_hub"): (300, 100, "USD", False, 10),
        ("assisted", "c9.example", "sales_hub"): (420, 140, "SGD", True, 12),
        ("assisted", "c1.example", "marketing_hub"): (800, 800, "USD", False, 0),
    }
    # The total is the settled sum of the lines, not the sum of rounded line points.
    assert (
        rules.settle_points(sum(line.points for line in selectors.assessment_lines(a)))
        == a.total_points
    )
    b_lines = {
        (line.kind, line.customer.domain, line.product_line_id): (
            line.mrr_this_month,
            line.mrr_year_ago,
            line.points,
        )
        for line in selectors.assessment_lines(b)
    }
    assert b_lines == {
        ("managed", "c1.example", "marketing_hub"): (800, None, 8),
        ("managed", "c1.example", "sales_hub"): (150, None, 2),
        ("sourced", "c6.example", "marketing_hub"): (5000, 6000, 0),
    }


def test_a_run_is_audited_once_and_by_partner_change(scenario: Cast) -> None:
    result = services.tier_run(as_of=MARCH, actor=scenario.ops)

    event = AuditEvent.objects.get(verb="tiers.run.completed")
    assert (event.actor, event.subject_type, event.subject_id) == (
        scenario.ops,
        "tiers.tierrun",
        str(result.run_id),
    )
    assert event.data == {
        "as_of": "2026-03-15",
        "rule_set_effective_from": "2026-01-15",
        "partners_assessed": 2,
        "tier_changes": 0,
        "sold_source": "associations",
        "trigger": "api",
    }
    assert not AuditEvent.objects.filter(verb="tiers.partner.retiered").exists()


def test_every_run_is_on_record_with_what_it_did(scenario: Cast) -> None:
    # when: a run, then the same date again from the schedule
    first = services.tier_run(as_of=MARCH, actor=scenario.ops)
    again = services.tier_run(as_of=MARCH, actor=None, trigger=TierRun.Trigger.SCHEDULE)

    # then
    runs = {run.pk: run for run in TierRun.objects.all()}
    assert set(runs) == {first.run_id, again.run_id}
    one, two = runs[first.run_id], runs[again.run_id]
    assert (one.as_of, one.trigger, one.requested_by) == (MARCH, "api", scenario.ops)
    assert (one.partners_assessed, one.tier_changes) == (2, 0)
    assert one.rule_set.effective_from == date(2026, 1, 15)
    assert one.finished_at is not None
    assert one.finished_at >= one.started_at
    assert (two.trigger, two.requested_by, two.partners_assessed) == ("schedule", None, 0)
    assert two.finished_at is not None
    # The re-run changed nothing, so it adds no audit event.
    assert AuditEvent.objects.filter(verb="tiers.run.completed").count() == 1


def test_a_run_without_a_person_is_audited_as_the_scheduler_or_an_operator(
    scenario: Cast, low_targets: TierRuleSet
) -> None:
    services.tier_run(as_of=MARCH, actor=None, trigger=TierRun.Trigger.SCHEDULE)
    services.tier_run(as_of=JULY, actor=None)

    labels = set(AuditEvent.objects.values_list("verb", "actor_label", "data__as_of"))
    assert ("tiers.run.completed", "scheduler", "2026-03-15") in labels
    assert ("tiers.partner.retiered", "scheduler", "2026-03-15") in labels
    assert ("tiers.run.completed", "operator", "2026-07-15") in labels
    assert ("tiers.partner.retiered", "operator", "2026-07-15") in labels


def test_a_date_after_today_is_refused(cast: Cast) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)

    with pytest.raises(InvalidInput) as refused:
        services.tier_run(as_of=tomorrow, actor=None)

    assert "in the future" in refused.value.errors["as_of"][0]
    assert refused.value.rule == rules.Refusal.RUN_DATE_IN_FUTURE
    assert not TierAssessment.objects.exists()
    assert not TierRun.objects.exists()


def test_re_running_a_date_changes_nothing(scenario: Cast) -> None:
    # given
    services.tier_run(as_of=MARCH, actor=None)
    before = snapshot()

    # when: the same date again, after new activity that would change the figures
    active(scenario.org_a, Customer.objects.get(domain="c5.example"), at(date(2026, 3, 10)))
    result = services.tier_run(as_of=MARCH, actor=None)

    # then
    assert result.partners_assessed == 0
    assert snapshot() == before


def test_a_partner_created_after_a_run_is_assessed_by_a_re_run(scenario: Cast) -> None:
    services.tier_run(as_of=MARCH, actor=None)
    existing = list(TierAssessment.objects.order_by("pk").values_list("pk", "created_at"))
    newcomer = OrganisationFactory(name="Newcomer")
    active(newcomer, Customer.objects.get(domain="c2.example"), at(date(2026, 3, 1)))

    result = services.tier_run(as_of=MARCH, actor=None)

    assert result.partners_assessed == 1
    assert assessment(newcomer).managed_points == 5
    assert set(existing) <= set(TierAssessment.objects.values_list("pk", "created_at"))
    assert AuditEvent.objects.filter(verb="tiers.run.completed").count() == 2


def test_a_run_that_crashed_halfway_completes_when_run_again(
    scenario: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: three more partners, chunks of two, and a crash in the second chunk
    for _ in range(3):
        OrganisationFactory()
    real_chunk = services._assess_chunk
    calls = 0

    def crash_on_second_chunk(**kwargs: object) -> tuple[int, int]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("worker lost")
        return real_chunk(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "_assess_chunk", crash_on_second_chunk)
    with pytest.raises(RuntimeError, match="worker lost"):
        services.tier_run(as_of=MARCH, actor=None, chunk_size=2)
    assert TierAssessment.objects.count() == 2  # the first chunk committed
    monkeypatch.setattr(services, "_assess_chunk", real_chunk)

    # when
    result = services.tier_run(as_of=MARCH, actor=None, chunk_size=2)

    # then
    assert result.partners_assessed == 3
    assert TierAssessment.objects.count() == 5
    assert assessment(scenario.org_a).managed_points == Decimal("24.333333333333")


def test_providers_are_not_assessed(scenario: Cast) -> None:
    active(scenario.provider, Customer.objects.get(domain="c1.example"), at(date(2026, 3, 1)))

    services.tier_run(as_of=MARCH, actor=None)

    assert not TierAssessment.objects.filter(organisation=scenario.provider).exists()
    assert TierAssessment.objects.count() == 2


def test_only_partner_ops_or_the_scheduler_may_run(cast: Cast) -> None:
    for person in (cast.admin_a, cast.pdm, cast.finance):
        with pytest.raises(PermissionDenied):
            services.tier_run(as_of=MARCH, actor=person)
    assert not TierAssessment.objects.exists()


def test_a_date_before_any_rule_set_is_refused(cast: Cast) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.tier_run(as_of=date(2025, 7, 14), actor=None)
    assert refused.value.field == "as_of"
    assert refused.value.rule == rules.Refusal.NO_RULE_SET_IN_FORCE


def test_the_rule_set_is_chosen_by_the_run_date(cast: Cast) -> None:
    services.tier_run(as_of=date(2026, 1, 14), actor=None)
    services.tier_run(as_of=date(2026, 1, 15), actor=None)

    assert assessment(cast.org_a, date(2026, 1, 14)).rule_set.effective_from == date(2025, 7, 15)
    assert assessment(cast.org_a, date(2026, 1, 15)).rule_set.effective_from == date(2026, 1, 15)


@pytest.mark.parametrize("kind", Activity.Kind.values)
def test_the_sql_counts_the_activity_kinds_the_rules_count(cast: Cast, kind: str) -> None:
    cust = customer("portal.example")
    billed(cust, "marketing_hub", "100.00", "USD")
    active(cast.org_a, cust, at(date(2026, 3, 1)), kind=kind)

    services.tier_run(as_of=MARCH, actor=None)

    expected = Decimal(1) if rules.is_eligible_activity(kind) else Decimal(0)
    assert assessment(cast.org_a).managed_points == expected


def test_sql_line_points_equal_the_pure_rules_in_every_currency(cast: Cast) -> None:
    rs_2026 = spec.SPEC_RULE_SETS[1]
    expected = {}
    for currency in spec.SPEC_USD100_AMOUNTS:
        for country in ("GB", "BR"):
            cust = customer(f"{currency.lower()}-{country.lower()}.example", country)
            billed(cust, "marketing_hub", "1234.57", currency)
            active(cast.org_a, cust, at(date(2026, 3, 1)))
            expected[cust.domain] = rules.settle_points(
                rules.line_points(
                    mrr=Decimal("1234.57"),
                    currency=currency,
                    kind=rules.LineKind.MANAGED,
                    growth_market=country == "BR",
                    rule_set=rs_2026,
                )
            )

    services.tier_run(as_of=MARCH, actor=None)

    a = assessment(cast.org_a)
    got = {
        line.customer.domain: rules.settle_points(line.points)
        for line in selectors.assessment_lines(a)
    }
    assert got == expected
    assert a.managed_points == rules.settle_points(
        rules.sum_points((rules.LineKind.MANAGED, p) for p in expected.values()).managed
    )


@pytest.fixture
def low_targets() -> TierRuleSet:
    """A rule set partner ops added for 15 February 2026 with low, managed-only targets."""
    rule_set = TierRuleSet.objects.create(effective_from=date(2026, 2, 15))
    for tier, minimum in (("gold", 5), ("platinum", 10), ("diamond", 15), ("elite", 20)):
        TierTarget.objects.create(
            rule_set=rule_set, tier=tier, sold_min=0, managed_min=minimum, total_min=minimum
        )
    return rule_set


def test_partners_move_up_at_any_monthly_run(scenario: Cast, low_targets: TierRuleSet) -> None:
    # given: A (24 1/3 points) meets the Elite points but is not invited; B (10) is untiered
    # when
    result = services.tier_run(as_of=MARCH, actor=None)

    # then: A is capped at Diamond, B moves up to Platinum, both in March
    a, b = assessment(scenario.org_a), assessment(scenario.org_b)
    assert a.rule_set == low_targets
    assert (a.tier_before, a.qualified_tier, a.tier_after, a.elite_qualified) == (
        "untiered",
        "diamond",
        "diamond",
        True,
    )
    assert (b.tier_before, b.tier_after, b.at_risk) == ("untiered", "platinum", False)
    assert result.tier_changes == 2
    scenario.org_a.refresh_from_db()
    scenario.org_b.refresh_from_db()
    assert (scenario.org_a.tier, scenario.org_b.tier) == ("diamond", "platinum")
    changes = {
        e.organisation_id: e.data for e in AuditEvent.objects.filter(verb="tiers.partner.retiered")
    }
    assert changes[scenario.org_b.pk]["from"] == "untiered"
    assert changes[scenario.org_b.pk]["to"] == "platinum"
    assert set(changes) == {scenario.org_a.pk, scenario.org_b.pk}


def test_partners_without_the_prerequisites_stay_untiered(
    scenario: Cast, low_targets: TierRuleSet
) -> None:
    Organisation.objects.filter(pk=scenario.org_a.pk).update(has_partner_certification=False)

    services.tier_run(as_of=MARCH, actor=None)

    assert assessment(scenario.org_a).tier_after == "untiered"


def test_partners_move_down_only_in_january_and_july(
    scenario: Cast, low_targets: TierRuleSet
) -> None:
    # given: B holds Diamond but its 10 points only qualify for Platinum
    Organisation.objects.filter(pk=scenario.org_b.pk).update(tier="diamond")

    # when: the March run keeps it, at risk
    services.tier_run(as_of=MARCH, actor=None)

    march = assessment(scenario.org_b)
    assert (march.qualified_tier, march.tier_after, march.at_risk) == ("platinum", "diamond", True)
    scenario.org_b.refresh_from_db()
    assert scenario.org_b.tier == "diamond"

    # when: the July run (the activity is now too old: no managed points at all)
    services.tier_run(as_of=JULY, actor=None)

    # then: B moves down, several tiers at once, and is no longer at risk
    july = assessment(scenario.org_b, JULY)
    assert (july.tier_before, july.tier_after, july.at_risk) == ("diamond", "untiered", False)
    scenario.org_b.refresh_from_db()
    assert scenario.org_b.tier == "untiered"


# --- Elite: invitation, retention, certifications ------------------------------------------

YEAR_AGO = date(2025, 3, 15)  # the book of customers is taken on this date for MARCH


def invite(org: Organisation, ops: User, when: datetime | None = None) -> None:
    """Invite `org` to Elite, dated `when` (1 March 2026 unless told: before the March run)."""
    invitation, created = services.elite_invite(actor=ops, organisation=org, reason="Top book")
    assert created
    EliteInvitation.objects.filter(pk=invitation.pk).update(invited_at=when or at(date(2026, 3, 1)))


@pytest.fixture
def elite_book(cast: Cast, low_targets: TierRuleSet) -> Cast:
    """Partner A's book of customers a year before the March run, worked by hand.

    Book on 15 March 2025 (USD-100 units of all lines in March 2025 -> March 2026):
      k1 GB managed then (activity 1 March 2025): USD 2 000 -> 2 000        20 -> 20
      k2 GB sold (closed June 2024), terminated October 2025: USD 1 000    10 -> 0
      k7 GB managed then (1 February 2025): EUR 150 -> EUR 225               2 -> 3
    Not in the book: k3 (activity 61 days before), k4 (a login only), k5 (sold after the
    date), k6 (sold before, but not billed until June 2025), k8 (managed now only).
    Customer retention 2 / 3 = 66.6666 %; revenue retention 23 / 32 = 71.875 %.
    March 2026 managed points: k1 20 + k8 10 = 30, over the Elite targets of `low_targets`.
    """
    a = cast.org_a
    k = {n: customer(f"k{n}.example") for n in range(1, 9)}
    billed(k[1], "marketing_hub", "2000.00", "USD", start=date(2024, 1, 1))
    billed(k[2], "sales_hub", "1000.00", "USD", start=date(2024, 1, 1), until=date(2025, 10, 1))
    billed(k[3], "marketing_hub", "500.00", "USD", start=date(2024, 1, 1))
    billed(k[4], "marketing_hub", "500.00", "USD", start=date(2024, 1, 1))
    billed(k[5], "marketing_hub", "700.00", "USD", start=date(2024, 1, 1))
    billed(k[6], "marketing_hub", "300.00", "USD", start=date(2025, 6, 1))
    billed(k[7], "service_hub", "150.00", "EUR", start=date(2024, 1, 1), until=date(2025, 9, 1))
    billed(k[7], "service_hub", "225.00", "EUR", start=date(2025, 9, 1))
    billed(k[8], "marketing_hub", "1000.00", "USD", start=date(2025, 6, 1))
    active(a, k[1], at(date(2025, 3, 1)))
    active(a, k[1], at(date(2026, 3, 1)))
    sold(a, k[2], "sales_hub", "sourced", close_date=date(2024, 6, 1))
    active(a, k[3], at(YEAR_AGO - timedelta(days=61)))
    active(a, k[4], at(date(2025, 3, 10)), kind="login")
    sold(a, k[5], "marketing_hub", "sourced", close_date=date(2025, 4, 1))
    sold(a, k[6], "marketing_hub", "sourced", close_date=date(2024, 6, 1))
    active(a, k[7], at(date(2025, 2, 1)))
    active(a, k[8], at(date(2026, 3, 1)))
    return cast


def test_elite_retention_figures_match_the_figures_worked_by_hand(elite_book: Cast) -> None:
    # given
    invite(elite_book.org_a, elite_book.ops)

    # when
    services.tier_run(as_of=MARCH, actor=None)

    # then
    a = assessment(elite_book.org_a)
    assert (a.managed_points, a.elite_qualified, a.elite_invited) == (30, True, True)
    assert a.customer_retention_pct == Decimal("66.6666")
    assert a.revenue_retention_pct == Decimal("71.8750")
    assert a.team_certifications == 0
    assert (a.qualified_tier, a.tier_after) == ("diamond", "diamond")
    # Below the Elite points the figures are not computed.
    b = assessment(elite_book.org_b)
    assert (b.elite_qualified, b.elite_invited) == (False, False)
    assert b.customer_retention_pct is b.revenue_retention_pct is b.team_certifications is None


@pytest.fixture
def retained_book(cast: Cast, low_targets: TierRuleSet) -> Cast:
    """A's book: k1 alone (USD 2 000 in March 2025), managed then and now, and k8 managed now
    (USD 1 000): 30 managed points, customer retention 100 %."""
    k1, k8 = customer("k1.example"), customer("k8.example")
    billed(k1, "marketing_hub", "2000.00", "USD", start=date(2024, 1, 1), until=date(2025, 4, 1))
    billed(k8, "marketing_hub", "1000.00", "USD", start=date(2025, 6, 1))
    active(cast.org_a, k1, at(date(2025, 3, 1)))
    active(cast.org_a, k1, at(date(2026, 3, 1)))
    active(cast.org_a, k8, at(date(2026, 3, 1)))
    return cast


def keep_k1_at(mrr: str) -> None:
    billed(Customer.objects.get(domain="k1.example"), "marketing_hub", mrr, "USD", date(2025, 4, 1))


def certify_team(org: Organisation, count: int, *, expired: int = 0) -> None:
    """`org`'s team holds `count` certifications on the March run date, and `expired` more
    that expired before it (not counted)."""
    for n in range(count + expired):
        Certification.objects.create(
            organisation=org,
            code="inbound" if n % 2 else "sales_hub_software",
            kind="software",
            holder_email=f"person{n}@team.example",
            expires_on=MARCH if n >= count else None,
        )


@pytest.fixture
def certified(retained_book: Cast) -> None:
    """Partners A and B each hold 100 team certifications (the academy's record)."""
    certify_team(retained_book.org_a, 100)
    certify_team(retained_book.org_b, 100)


@pytest.mark.parametrize(
    ("mrr_now", "revenue_retention", "tier"),
    [
        ("1700.00", Decimal("85.0000"), "diamond"),  # exactly 85 %: strict, fails
        ("1700.02", Decimal("85.0010"), "elite"),
        ("2600.00", Decimal("130.0000"), "elite"),  # growth counts
    ],
)
def test_an_invited_partner_meeting_every_elite_condition_becomes_elite(
    retained_book: Cast, certified: None, mrr_now: str, revenue_retention: Decimal, tier: str
) -> None:
    keep_k1_at(mrr_now)
    invite(retained_book.org_a, retained_book.ops)

    services.tier_run(as_of=MARCH, actor=None)

    a = assessment(retained_book.org_a)
    assert (a.customer_retention_pct, a.revenue_retention_pct) == (100, revenue_retention)
    assert (a.team_certifications, a.elite_invited) == (100, True)
    assert (a.qualified_tier, a.tier_after) == (tier, tier)
    retained_book.org_a.refresh_from_db()
    assert retained_book.org_a.tier == tier


@pytest.mark.parametrize(("certifications", "tier"), [(100, "elite"), (99, "diamond")])
def test_elite_needs_100_team_certifications_through_retier(
    retained_book: Cast, certifications: int, tier: str
) -> None:
    """Worked by hand: A is invited (1 March 2026); its book a year earlier is k1 alone, USD
    2 000 in March 2025 and March 2026, so customer retention 1 / 1 = 100 % (>= 85 %) and
    revenue retention 2 000 / 2 000 = 100 % (> 85 %); k1 and k8 give 20 + 10 = 30 managed
    points, over `low_targets`' Elite minimums (20). Its team holds `certifications`
    certifications on 15 March 2026, plus 3 that expired that day (not counted): 100 make it
    Elite, 99 cap it at Diamond (SPEC 4). The run goes through `manage.py retier`."""
    keep_k1_at("2000.00")
    invite(retained_book.org_a, retained_book.ops)
    certify_team(retained_book.org_a, certifications, expired=3)

    out = StringIO()
    call_command("retier", "--as-of", MARCH.isoformat(), stdout=out)

    assert "2 partners assessed" in out.getvalue()
    a = assessment(retained_book.org_a)
    assert (a.elite_qualified, a.elite_invited) == (True, True)
    assert (a.customer_retention_pct, a.revenue_retention_pct) == (100, 100)
    assert a.team_certifications == certifications
    assert (a.qualified_tier, a.tier_after) == (tier, tier)
    retained_book.org_a.refresh_from_db()
    assert retained_book.org_a.tier == tier


def test_without_team_certifications_recorded_nobody_is_elite(retained_book: Cast) -> None:
    keep_k1_at("2000.00")
    invite(retained_book.org_a, retained_book.ops)

    services.tier_run(as_of=MARCH, actor=None)

    a = assessment(retained_book.org_a)
    assert (a.revenue_retention_pct, a.team_certifications) == (100, 0)
    assert a.tier_after == "diamond"


def test_an_invitation_counts_from_its_day(retained_book: Cast, certified: None) -> None:
    keep_k1_at("2000.00")
    invite(retained_book.org_a, retained_book.ops, when=at(MARCH + timedelta(days=1), 0, 0, 0))

    services.tier_run(as_of=MARCH, actor=None)

    a = assessment(retained_book.org_a)
    assert (a.elite_invited, a.elite_qualified, a.tier_after) == (False, True, "diamond")


def test_elite_invite_records_who_when_and_why(cast: Cast) -> None:
    # when
    invitation, created = services.elite_invite(
        actor=cast.ops, organisation=cast.org_a, reason="  Strong year  "
    )

    # then
    assert created
    assert (invitation.invited_by, invitation.reason) == (cast.ops, "Strong year")
    event = AuditEvent.objects.get(verb="tiers.elite.invited")
    assert (event.actor, event.organisation, event.reason) == (cast.ops, cast.org_a, "Strong year")
    assert event.subject_id == str(invitation.pk)
    assert event.data == {"latest_assessment": None, "elite_qualified": None}


def test_inviting_again_changes_nothing(cast: Cast) -> None:
    first, _ = services.elite_invite(actor=cast.ops, organisation=cast.org_a, reason="One")

    again, created = services.elite_invite(actor=cast.ops, organisation=cast.org_a, reason="Two")

    assert (again, created, again.reason) == (first, False, "One")
    assert AuditEvent.objects.filter(verb="tiers.elite.invited").count() == 1


def test_only_partner_ops_invite_to_elite(cast: Cast) -> None:
    for person in (cast.admin_a, cast.pdm, cast.gs, cast.finance):
        with pytest.raises(PermissionDenied):
            services.elite_invite(actor=person, organisation=cast.org_a, reason="Please")
    assert not EliteInvitation.objects.exists()


@pytest.mark.parametrize(
    ("org", "reason", "field"), [("provider", "Why not", "partner"), ("org_a", " ", "reason")]
)
def test_elite_invite_refuses_providers_and_a_missing_reason(
    cast: Cast, org: str, reason: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.elite_invite(actor=cast.ops, organisation=getattr(cast, org), reason=reason)
    assert refused.value.field == field
    assert not EliteInvitation.objects.exists()


def _partners_with_managed_lines(count: int) -> None:
    cust = customer("shared.example")
    billed(cust, "marketing_hub", "100.00", "USD")
    billed(cust, "sales_hub", "75.00", "EUR")
    for _ in range(count):
        org = OrganisationFactory()
        active(org, cust, at(date(2026, 3, 1)))


@pytest.mark.parametrize("partners", [5, 50])
def test_the_run_query_count_does_not_grow_with_partners(db: None, partners: int) -> None:
    # given: partners that each earn points on two lines (and stay untiered)
    _partners_with_managed_lines(partners)

    # when
    with CaptureQueriesContext(connection) as queries:
        result = services.tier_run(as_of=MARCH, actor=None)

    # then
    assert result.partners_assessed == partners
    assert sum(TierAssessmentLines.objects.values_list("count", flat=True)) == 2 * partners
    assert len(queries) == RUN_QUERIES


# Rule sets (2) and currencies; the run record (savepoint, insert, release); the partners to
# assess; computing them (savepoint, jit off, lz4, drop, points and lines, sums, release); per
# chunk (one here): savepoint, advisory lock, partners, tier drops in effect, partner
# matching's team certifications by kind and valid accreditations, assessments, lines,
# release; the next pass finding nobody left; dropping the computed table; the run's end
# (savepoint, run update, audit event, release). Constant, whatever the count.
RUN_QUERIES = 29


def _computed_table_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pg_temp.tiers_run_partners') IS NOT NULL")
        return bool(cursor.fetchone()[0])


def test_a_partner_created_while_a_run_goes_is_assessed_by_its_next_pass(
    scenario: Cast,
) -> None:
    # given: a partner appears just after the run computed everyone else
    created: list[Organisation] = []

    def newcomer_after_compute(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        result = execute(sql, params, many, context)
        if sql.lstrip().startswith("CREATE TEMPORARY TABLE tiers_run_partners") and not created:
            newcomer = OrganisationFactory(name="Late arrival")
            active(newcomer, Customer.objects.get(domain="c2.example"), at(date(2026, 3, 1)))
            created.append(newcomer)
        return result

    # when
    with connection.execute_wrapper(newcomer_after_compute):
        result = services.tier_run(as_of=MARCH, actor=None)

    # then: one run, everyone assessed, the newcomer with its own points
    assert result.partners_assessed == 3
    assert assessment(created[0]).managed_points == 5
    assert TierRun.objects.get().partners_assessed == 3


def test_the_computed_table_is_dropped_after_a_run_and_after_a_failed_one(
    scenario: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.tier_run(as_of=MARCH, actor=None)
    assert not _computed_table_exists()

    def lost(**kwargs: object) -> tuple[int, int]:
        raise RuntimeError("worker lost")

    monkeypatch.setattr(services, "_assess_chunk", lost)
    with pytest.raises(RuntimeError, match="worker lost"):
        services.tier_run(as_of=JULY, actor=None)
    assert not _computed_table_exists()


def test_each_line_appears_once_per_assessment_and_every_array_has_one_element_per_line(
    scenario: Cast,
) -> None:
    services.tier_run(as_of=MARCH, actor=None)

    for line_set in TierAssessmentLines.objects.all():
        keys = list(
            zip(line_set.customer_ids, line_set.product_line_ids, line_set.kinds, strict=True)
        )
        assert len(keys) == len(set(keys)) == line_set.count
        for name in ("mrr_this_month", "mrr_year_ago", "currencies", "growth_markets", "points"):
            assert len(getattr(line_set, name)) == line_set.count
        # A managed line has no year-ago MRR; a sold line always has one.
        for kind, year_ago in zip(line_set.kinds, line_set.mrr_year_ago, strict=True):
            assert (year_ago is None) == (kind == rules.LineKind.MANAGED)
    # Every assessment has its lines row, empty when it earned nothing.
    assert TierAssessmentLines.objects.count() == TierAssessment.objects.count()


def test_the_database_refuses_lines_whose_arrays_disagree(scenario: Cast) -> None:
    from django.db import IntegrityError, transaction

    services.tier_run(as_of=MARCH, actor=None)
    line_set = TierAssessmentLines.objects.exclude(count=0).first()
    assert line_set is not None

    with pytest.raises(IntegrityError), transaction.atomic():
        TierAssessmentLines.objects.filter(pk=line_set.pk).update(points=line_set.points[:-1])
    with pytest.raises(IntegrityError), transaction.atomic():
        TierAssessmentLines.objects.filter(pk=line_set.pk).update(kinds=[None, *line_set.kinds[1:]])


# --- Partner matching (SPEC 10), decided with the run ----------------------------------------


@pytest.fixture
def matching_book(cast: Cast) -> Cast:
    """Sold MRR over the 12 months to the March 2026 run, worked by hand (USD, so one unit is
    USD 100):
      A: m1 Partner Sourced, USD 1 000 now, not billed a year ago -> sold 1 000;
         m2 Partner Assisted, USD 4 000 now, not billed a year ago -> sold 4 000;
         sourced share 1 000 / 5 000 = 20 % exactly (the minimum, inclusive).
      B: m3 Partner Sourced, USD 400 a year ago and USD 900 now -> sold 500, share 100 %;
         its book a year ago is m3 alone, still billed: customer retention 100 %.
    """
    m1, m2, m3 = customer("m1.example"), customer("m2.example"), customer("m3.example")
    billed(m1, "marketing_hub", "1000.00", "USD", start=date(2025, 6, 1))
    billed(m2, "sales_hub", "4000.00", "USD", start=date(2025, 6, 1))
    billed(m3, "service_hub", "400.00", "USD", start=date(2024, 1, 1), until=date(2025, 6, 1))
    billed(m3, "service_hub", "900.00", "USD", start=date(2025, 6, 1))
    sold(cast.org_a, m1, "marketing_hub", "sourced")
    sold(cast.org_a, m2, "sales_hub", "assisted")
    sold(cast.org_b, m3, "service_hub", "sourced")
    return cast


def test_partner_matching_with_a_valid_accreditation_and_a_20_percent_sourced_share(
    matching_book: Cast,
) -> None:
    from accreditations.models import Accreditation

    Accreditation.objects.create(
        organisation=matching_book.org_a,
        kind="onboarding",
        status="active",
        applied_by=matching_book.admin_a,
        issued_on=date(2026, 2, 1),
        expires_on=date(2028, 2, 1),
    )

    services.tier_run(as_of=MARCH, actor=None)

    a = assessment(matching_book.org_a)
    assert (a.matching_eligible, a.matching_gaps, a.sourced_share_pct) == (True, [], 20)


def test_without_an_accreditation_partner_matching_says_what_is_missing(
    matching_book: Cast,
) -> None:
    services.tier_run(as_of=MARCH, actor=None)

    a, b = assessment(matching_book.org_a), assessment(matching_book.org_b)
    assert a.matching_gaps == [
        "no_valid_accreditation",
        "tier_below_minimum",
        "no_software_certification",
        "no_implementation_certification",
        "retention_below_minimum",
    ]
    assert (b.matching_eligible, b.sourced_share_pct) == (False, 100)
    assert "no_valid_accreditation" in b.matching_gaps


def test_partner_matching_for_platinum_with_retention_and_both_certifications(
    matching_book: Cast,
) -> None:
    # B keeps Platinum in March (not a down-tiering window), holds one software and one
    # implementation certification, and retained its whole book (100 % >= 85 %).
    Organisation.objects.filter(pk=matching_book.org_b.pk).update(tier="platinum")
    for code, kind in (("sales_hub_software", "software"), ("onboarding", "implementation")):
        Certification.objects.create(
            organisation=matching_book.org_b, code=code, kind=kind, holder_email="b@bravo.example"
        )

    services.tier_run(as_of=MARCH, actor=None)

    b = assessment(matching_book.org_b)
    assert (b.tier_after, b.matching_eligible, b.matching_gaps) == ("platinum", True, [])


def test_a_share_below_20_percent_is_not_eligible_whatever_else(matching_book: Cast) -> None:
    # A's assisted line grows to USD 4 001: 1 000 / 5 001 is just under 20 %.
    m2 = Customer.objects.get(domain="m2.example")
    m2.subscriptions.get().versions.update(effective_until=date(2026, 3, 1))
    billed(m2, "sales_hub", "4001.00", "USD", start=date(2026, 3, 1))

    services.tier_run(as_of=MARCH, actor=None)

    a = assessment(matching_book.org_a)
    assert (a.matching_eligible, a.matching_gaps) == (False, ["sourced_share_below_minimum"])
    assert a.sourced_share_pct == Decimal("19.9960")


# --- Tier-drop consequences (SPEC 10), applied at the next run ---------------------------------


def test_a_tier_drop_in_effect_lowers_the_tier_at_the_next_run(
    scenario: Cast, low_targets: TierRuleSet
) -> None:
    """B's 10 points qualify for Platinum (`low_targets`); a two-level tier drop partner ops
    applied from 1 March 2026 takes it to Untiered at the March run, though March is not a
    down-tiering window. A's drop ended before the run and changes nothing."""
    from escalations.models import Consequence

    for org, start, until in (
        (scenario.org_b, date(2026, 3, 1), None),
        (scenario.org_a, date(2026, 1, 1), date(2026, 3, 1)),
    ):
        Consequence.objects.create(
            organisation=org,
            kind="tier_drop",
            reason="Code of conduct",
            effective_from=start,
            effective_until=until,
            tiers_dropped=2,
            applied_by=scenario.ops,
        )

    services.tier_run(as_of=MARCH, actor=None)

    b = assessment(scenario.org_b)
    assert (b.qualified_tier, b.tiers_dropped, b.tier_after, b.at_risk) == (
        "platinum",
        2,
        "untiered",
        False,
    )
    a = assessment(scenario.org_a)
    assert (a.tiers_dropped, a.tier_after) == (0, "diamond")
    page = browser_as(scenario.admin_b).get(f"/partners/{scenario.org_b.pk}/tier/")
    assert "lowers the tier by 2 levels while it is in effect" in page.content.decode()
