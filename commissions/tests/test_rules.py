"""SPEC 7 on the pure rules, with hand-worked figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from commissions import rules
from commissions.rules import Accrual, ClosedLine, Program, Threshold, Winner
from partnerportal.core.rules import Version

D = Decimal
USD100 = {"USD": D("100.00"), "EUR": D("75.00"), "GBP": D("62.50")}
STANDARD = Threshold(date(2000, 1, 1), None, frozenset(), D("3000.00"))
PILOT = Threshold(date(2025, 1, 1), date(2025, 7, 1), frozenset({"BR", "IN"}), D("1000.00"))


def v(start: date, mrr: str, until: date | None = None, currency: str = "USD") -> Version:
    return Version(effective_from=start, effective_until=until, mrr=D(mrr), currency=currency)


def total(accruals: list[Accrual]) -> Decimal:
    return sum((a.amount for a in accruals), D(0))


def upmarket(**changes: object) -> Winner:
    base = dict(
        motion="partner_assisted",
        is_provider=False,
        tier="platinum",
        standing="good",
        country="GB",
        crm_accredited=True,
    )
    base.update(changes)
    return Winner(**base)  # type: ignore[arg-type]


def terms(
    winner: Winner,
    mrr: str,
    *,
    edition: str = "professional",
    currency: str = "USD",
    close: date = date(2026, 1, 15),
) -> list[rules.Terms]:
    return rules.entitlement_terms(
        winner=winner,
        lines=[ClosedLine("marketing_hub", edition, D(mrr), currency)],
        close_date=close,
        usd100_amounts=USD100,
        thresholds=[STANDARD, PILOT],
        exempt_countries=frozenset({"JP"}),
    )


# --- Worked examples --------------------------------------------------------------------------


def test_usd_800_accrues_160_a_month_and_480_a_quarter() -> None:
    schedule = rules.accrual_schedule(
        close_date=date(2026, 1, 1),
        months=36,
        versions=[v(date(2026, 1, 1), "800.00")],
        through=date(2026, 3, 1),
    )
    assert [a.amount for a in schedule] == [D("160.00")] * 3
    assert total(schedule) == D("480.00")


def test_provider_bundled_year_with_july_upgrade_earns_2460_and_nothing_in_month_13() -> None:
    marketing = [v(date(2026, 1, 1), "800.00")]
    sales = [v(date(2026, 1, 1), "50.00", until=date(2026, 7, 1)), v(date(2026, 7, 1), "400.00")]
    months = rules.sourced_months(is_provider=True)
    year = [
        rules.accrual_schedule(
            close_date=date(2026, 1, 10), months=months, versions=line, through=date(2027, 1, 1)
        )
        for line in (marketing, sales)
    ]
    assert total(year[0]) + total(year[1]) == D("2460.00")
    assert all(a.month < date(2027, 1, 1) for line in year for a in line)  # month 13: nothing


def test_faq_legacy_sales_starter_upgrade_earns_540() -> None:
    sales = [v(date(2026, 1, 1), "50.00", until=date(2026, 7, 1)), v(date(2026, 7, 1), "400.00")]
    schedule = rules.accrual_schedule(
        close_date=date(2026, 1, 1), months=12, versions=sales, through=date(2027, 6, 1)
    )
    assert total(schedule) == D("540.00")
    assert len(schedule) == 12


# --- The schedule -----------------------------------------------------------------------------


def test_accrual_starts_with_the_close_month_when_billed_in_it() -> None:
    schedule = rules.accrual_schedule(
        close_date=date(2026, 3, 31),
        months=36,
        versions=[v(date(2026, 2, 1), "100.00")],
        through=date(2026, 3, 1),
    )
    assert [a.month for a in schedule] == [date(2026, 3, 1)]


def test_accrual_starts_with_the_first_billed_month_after_the_close() -> None:
    # Billed from 15 March: the version in effect on 1 April is the first that bills.
    schedule = rules.accrual_schedule(
        close_date=date(2026, 3, 10),
        months=36,
        versions=[v(date(2026, 3, 15), "100.00")],
        through=date(2026, 5, 1),
    )
    assert [a.month for a in schedule] == [date(2026, 4, 1), date(2026, 5, 1)]


def test_partner_cap_is_36_months_from_the_start() -> None:
    schedule = rules.accrual_schedule(
        close_date=date(2026, 1, 20),
        months=rules.sourced_months(is_provider=False),
        versions=[v(date(2026, 2, 1), "100.00")],
        through=date(2030, 1, 1),
    )
    assert len(schedule) == 36
    assert schedule[0].month == date(2026, 2, 1)
    assert schedule[-1].month == date(2029, 1, 1)


def test_provider_cap_is_12_months_from_the_start() -> None:
    schedule = rules.accrual_schedule(
        close_date=date(2026, 1, 20),
        months=rules.sourced_months(is_provider=True),
        versions=[v(date(2026, 2, 1), "100.00")],
        through=date(2030, 1, 1),
    )
    assert [schedule[0].month, schedule[-1].month, len(schedule)] == [
        date(2026, 2, 1),
        date(2027, 1, 1),
        12,
    ]


def test_termination_mid_entitlement_stops_accrual_for_good() -> None:
    versions = [
        v(date(2026, 1, 1), "100.00", until=date(2026, 4, 15)),  # billed Jan..Apr
        v(date(2026, 6, 1), "100.00"),  # billed again from June: the entitlement has stopped
    ]
    schedule = rules.accrual_schedule(
        close_date=date(2026, 1, 1), months=36, versions=versions, through=date(2026, 12, 1)
    )
    assert [a.month.month for a in schedule] == [1, 2, 3, 4]


def test_an_upsell_is_paid_on_the_full_value_in_its_currency() -> None:
    versions = [
        v(date(2026, 1, 1), "800.00", until=date(2026, 2, 1)),
        v(date(2026, 2, 1), "1200.00", until=date(2026, 3, 1)),
        v(date(2026, 3, 1), "999.99", currency="EUR"),
    ]
    schedule = rules.accrual_schedule(
        close_date=date(2026, 1, 1), months=36, versions=versions, through=date(2026, 3, 1)
    )
    assert [(a.amount, a.currency) for a in schedule] == [
        (D("160.00"), "USD"),
        (D("240.00"), "USD"),
        (D("200.00"), "EUR"),
    ]


def test_revenue_share_rounds_half_a_cent_up() -> None:
    assert rules.revenue_share(D("0.03")) == D("0.01")  # 0.006
    assert rules.revenue_share(D("0.02")) == D("0.00")  # 0.004
    assert rules.revenue_share(D("12.34")) == D("2.47")  # 2.468
    assert rules.revenue_share(D("0.025")) == D("0.01")  # 0.005: half up


# --- Eligibility ------------------------------------------------------------------------------


def test_partner_sourced_earns_36_months_for_a_partner_and_12_for_a_provider() -> None:
    sourced = dict(motion="partner_sourced", tier="untiered", crm_accredited=False)
    assert terms(upmarket(**sourced), "10.00", edition="starter") == [
        rules.Terms("marketing_hub", Program.PARTNER_SOURCED, 36)
    ]
    assert terms(upmarket(**sourced, is_provider=True), "10.00") == [
        rules.Terms("marketing_hub", Program.PARTNER_SOURCED, 12)
    ]


def test_upmarket_threshold_is_usd_3000_and_2999_99_pays_nothing() -> None:
    assert terms(upmarket(), "3000.00") == [
        rules.Terms("marketing_hub", Program.UPMARKET_REFERRAL, 12)
    ]
    assert terms(upmarket(), "2999.99") == []


def test_upmarket_threshold_converts_by_the_currency_table() -> None:
    assert terms(upmarket(), "2250.00", currency="EUR") != []  # EUR 75 = USD 100: USD 3 000
    assert terms(upmarket(), "2249.99", currency="EUR") == []


def test_upmarket_pilot_threshold_is_usd_1000_in_its_countries_and_period() -> None:
    in_pilot = dict(close=date(2025, 3, 1))
    assert terms(upmarket(country="BR"), "1000.00", **in_pilot) != []  # type: ignore[arg-type]
    assert terms(upmarket(country="BR"), "999.99", **in_pilot) == []  # type: ignore[arg-type]
    assert terms(upmarket(country="GB"), "1000.00", **in_pilot) == []  # type: ignore[arg-type]
    assert terms(upmarket(country="BR"), "1000.00", close=date(2025, 7, 1)) == []


def test_upmarket_needs_platinum_good_standing_and_crm_accreditation_or_exempt_country() -> None:
    assert terms(upmarket(tier="gold"), "5000.00") == []
    assert terms(upmarket(tier="elite"), "5000.00") != []
    assert terms(upmarket(standing="warned"), "5000.00") == []
    assert terms(upmarket(crm_accredited=False), "5000.00") == []
    assert terms(upmarket(crm_accredited=False, country="JP"), "5000.00") != []


def test_upmarket_counts_only_professional_and_enterprise_lines() -> None:
    assert terms(upmarket(), "5000.00", edition="starter") == []
    lines = [
        ClosedLine("marketing_hub", "professional", D("2000.00"), "USD"),
        ClosedLine("sales_hub", "enterprise", D("1000.00"), "USD"),
        ClosedLine("service_hub", "starter", D("900.00"), "USD"),
    ]
    got = rules.entitlement_terms(
        winner=upmarket(),
        lines=lines,
        close_date=date(2026, 1, 1),
        usd100_amounts=USD100,
        thresholds=[STANDARD],
        exempt_countries=frozenset(),
    )
    assert [t.product_line for t in got] == ["marketing_hub", "sales_hub"]


def test_partner_assisted_outside_the_upmarket_program_earns_nothing() -> None:
    assert terms(upmarket(is_provider=True, tier="untiered"), "9000.00") == []


# --- Loss of revenue share (SPEC 10) ----------------------------------------------------------


def test_a_loss_of_revenue_share_mid_month_takes_the_months_after() -> None:
    schedule = rules.accrual_schedule(
        close_date=date(2026, 1, 12),
        months=36,
        versions=[v(date(2026, 1, 1), "800.00")],
        through=date(2026, 6, 1),
        stops=[rules.Stop(date(2026, 3, 15), None)],
    )
    assert [a.month for a in schedule] == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


def test_a_loss_of_revenue_share_from_the_1st_takes_that_month() -> None:
    schedule = rules.accrual_schedule(
        close_date=date(2026, 1, 12),
        months=36,
        versions=[v(date(2026, 1, 1), "800.00")],
        through=date(2026, 6, 1),
        stops=[rules.Stop(date(2026, 3, 1), None)],
    )
    assert [a.month for a in schedule] == [date(2026, 1, 1), date(2026, 2, 1)]


def test_months_lost_to_a_stop_still_count_towards_the_12() -> None:
    # A provider's 12 months from January; revenue share lost for March and April: 10 months
    # paid, nothing in month 13 (January 2027) although the stop has ended.
    schedule = rules.accrual_schedule(
        close_date=date(2026, 1, 5),
        months=12,
        versions=[v(date(2026, 1, 1), "100.00")],
        through=date(2027, 6, 1),
        stops=[rules.Stop(date(2026, 3, 1), date(2026, 5, 1))],
    )
    assert len(schedule) == 10
    assert date(2026, 3, 1) not in [a.month for a in schedule]
    assert date(2026, 4, 1) not in [a.month for a in schedule]
    assert schedule[-1].month == date(2026, 12, 1)
    assert total(schedule) == D("200.00")
