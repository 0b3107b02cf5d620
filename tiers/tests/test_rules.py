"""Tests of the pure tier rules (SPEC 2, 4, 10). No database, no Django."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date
from decimal import Decimal as D

import pytest

from partnerportal.core.errors import InvalidInput
from partnerportal.core.rules import Version
from tiers import rules as tier_rules
from tiers.rules import (
    BENEFITS,
    DEAL_COMMISSION_MONTHS,
    TIER_ORDER,
    Activity,
    Benefit,
    EliteStanding,
    LineFigures,
    LineKind,
    Mrr,
    OrgKind,
    Points,
    Refusal,
    Retention,
    RuleSet,
    Tier,
    TierGap,
    TierMove,
    TierTarget,
    WhatIf,
    assess_tier,
    benefits_for,
    book_retention,
    contributing_line,
    display_points,
    elite_eligible,
    elite_qualified,
    gap_to_next_tier,
    gap_to_tier,
    is_down_tiering_run,
    is_eligible_activity,
    line_points,
    managed_eligible,
    meets_prerequisites,
    mrr_in_currency,
    next_down_tiering_window,
    next_tier_after_run,
    points_tier,
    qualifying_tier,
    retention_pct,
    rule_set_in_force,
    settle_points,
    sold_points,
    sum_points,
    tier_above,
    usd100_amount,
    usd100_units,
    what_if,
    year_earlier,
)
from tiers.tests.spec import SPEC_RULE_SETS

RS_2025, RS_2026 = SPEC_RULE_SETS
#: A rule set from before 2025-07-15, when assisted points still counted to the sold minimum.
RS_LEGACY = dataclasses.replace(
    RS_2025, effective_from=date(2025, 1, 15), sold_min_sourced_only=False
)

ELITE_OK = EliteStanding(
    invited=True,
    customer_retention_pct=D(90),
    revenue_retention_pct=D(90),
    team_certifications=120,
)

CURRENCIES = {
    "USD": D("100"),
    "AUD": D("105"),
    "COP": D("300300"),
    "EUR": D("75"),
    "GBP": D("62.5"),
    "SGD": D("140"),
    "JPY": D("12000"),
    "ZAR": D("1545"),
    "CAD": D("130"),
}
WEIGHTS = {
    (LineKind.SOURCED, False): D(5),
    (LineKind.SOURCED, True): D(10),
    (LineKind.ASSISTED, False): D(3),
    (LineKind.ASSISTED, True): D(6),
    (LineKind.MANAGED, False): D(1),
    (LineKind.MANAGED, True): D(2),
}


def _tier(points: Points, rule_set: RuleSet = RS_2026, **kwargs: object) -> Tier | None:
    options: dict[str, object] = {
        "org_kind": OrgKind.PARTNER,
        "prerequisites_met": True,
        "elite": ELITE_OK,
    }
    options.update(kwargs)
    return qualifying_tier(points=points, rule_set=rule_set, **options)  # type: ignore[arg-type]


def _at_target(rule_set: RuleSet, tier: Tier) -> Points:
    """Points exactly at all three minimums of ``tier``; assisted tops up the total only."""
    t = rule_set.target(tier)
    return Points(
        sourced=t.sold_min,
        managed=t.managed_min,
        assisted=t.total_min - t.sold_min - t.managed_min,
    )


# --------------------------------------------------------------------------- currencies, points


@pytest.mark.parametrize("growth", [False, True], ids=["normal", "growth"])
@pytest.mark.parametrize("kind", list(LineKind))
@pytest.mark.parametrize("currency", list(CURRENCIES))
def test_points_per_usd100_equivalent_in_every_currency(
    currency: str, kind: LineKind, growth: bool
) -> None:
    points = line_points(
        mrr=CURRENCIES[currency],
        currency=currency,
        kind=kind,
        growth_market=growth,
        rule_set=RS_2026,
    )
    assert points == WEIGHTS[(kind, growth)]


@pytest.mark.parametrize("currency", list(CURRENCIES))
def test_points_scale_with_mrr_in_every_currency(currency: str) -> None:
    # 44 USD-100 equivalents of sourced MRR: 220 points, exactly.
    points = line_points(
        mrr=CURRENCIES[currency] * 44,
        currency=currency,
        kind=LineKind.SOURCED,
        growth_market=False,
        rule_set=RS_2026,
    )
    assert points == D(220)


def test_points_sourced_normal() -> None:
    points = line_points(
        mrr=D("2200"),
        currency="USD",
        kind=LineKind.SOURCED,
        growth_market=False,
        rule_set=RS_2026,
    )
    assert points == D(110)


def test_points_assisted_normal() -> None:
    points = line_points(
        mrr=D("1000"),
        currency="USD",
        kind=LineKind.ASSISTED,
        growth_market=False,
        rule_set=RS_2026,
    )
    assert points == D(30)


def test_points_managed_normal() -> None:
    points = line_points(
        mrr=D("3800"),
        currency="USD",
        kind=LineKind.MANAGED,
        growth_market=False,
        rule_set=RS_2026,
    )
    assert points == D(38)


@pytest.mark.parametrize("kind", list(LineKind))
def test_growth_market_doubles_points(kind: LineKind) -> None:
    def points(growth: bool) -> D:
        return line_points(
            mrr=D("1234.56"), currency="EUR", kind=kind, growth_market=growth, rule_set=RS_2026
        )

    assert points(True) == points(False) * 2


def test_growth_multiplier_is_rule_set_data() -> None:
    tripling = dataclasses.replace(RS_2026, growth_multiplier=D(3))
    points = line_points(
        mrr=D(100), currency="USD", kind=LineKind.SOURCED, growth_market=True, rule_set=tripling
    )
    assert points == D(15)


def test_points_weights_are_rule_set_data() -> None:
    heavier = dataclasses.replace(
        RS_2026,
        points_per_usd100={LineKind.SOURCED: D(7), LineKind.ASSISTED: D(3), LineKind.MANAGED: D(1)},
    )
    points = line_points(
        mrr=D(100), currency="USD", kind=LineKind.SOURCED, growth_market=False, rule_set=heavier
    )
    assert points == D(7)


@pytest.mark.parametrize(
    ("mrr", "currency", "kind", "expected"),
    [
        (D("0.01"), "USD", LineKind.SOURCED, D("0.0005")),
        (D("0.01"), "USD", LineKind.MANAGED, D("0.0001")),
        (D("1"), "GBP", LineKind.SOURCED, D("0.08")),
        (D("2199.99"), "USD", LineKind.SOURCED, D("109.9995")),
        (D("1"), "JPY", LineKind.MANAGED, D(1) / D(12000)),
        (D("25"), "EUR", LineKind.SOURCED, D(5) / D(3)),
    ],
)
def test_points_are_exact_and_unrounded(mrr: D, currency: str, kind: LineKind, expected: D) -> None:
    points = line_points(
        mrr=mrr, currency=currency, kind=kind, growth_market=False, rule_set=RS_2026
    )
    assert settle_points(points) == settle_points(expected)
    assert points != points.to_integral_value()


def test_points_that_sum_to_a_whole_number_reach_it() -> None:
    # 50 050 COP sourced is 5/6 of a point, which no Decimal holds exactly; six make 5.
    one = line_points(
        mrr=D("50050"), currency="COP", kind=LineKind.SOURCED, growth_market=False, rule_set=RS_2026
    )
    total = sum_points([(LineKind.SOURCED, one)] * 6)
    assert display_points(total.sourced) == 5
    assert settle_points(total.sourced) == D(5)


def test_points_of_a_whole_number_in_inexact_currencies_meet_the_minimum() -> None:
    # Gold 2026's sold minimum of 110: 109 points, then three lines of 1/3 of a point, whose
    # Decimal quotients (0.33...3) fall short: the raw sum is 109.99...9.
    lines = [
        (LineKind.SOURCED, D("2180"), "USD"),
        (LineKind.SOURCED, D("5"), "EUR"),
        (LineKind.SOURCED, D("5"), "EUR"),
        (LineKind.SOURCED, D("5"), "EUR"),
    ]
    points = sum_points(
        (
            kind,
            line_points(
                mrr=mrr, currency=currency, kind=kind, growth_market=False, rule_set=RS_2026
            ),
        )
        for kind, mrr, currency in lines
    )
    assert points.sourced < 110  # the raw sum, short in its last digit
    assert display_points(points.sourced) == 110
    assert _tier(Points(sourced=points.sourced, managed=D(38), assisted=D(177))) == Tier.GOLD


@pytest.mark.parametrize("currency", ["CHF", "usd", "", "XXX", "BRL"])
def test_unsupported_currency_is_rejected(currency: str) -> None:
    with pytest.raises(InvalidInput, match="not an accepted currency") as excinfo:
        line_points(
            mrr=D(100),
            currency=currency,
            kind=LineKind.SOURCED,
            growth_market=False,
            rule_set=RS_2026,
        )
    assert "AUD, CAD, COP, EUR, GBP, JPY, SGD, USD, ZAR" in str(excinfo.value)
    assert (excinfo.value.field, excinfo.value.rule) == ("currency", Refusal.UNSUPPORTED_CURRENCY)


def test_usd100_amount_of_every_accepted_currency() -> None:
    for currency, amount in CURRENCIES.items():
        assert usd100_amount(currency=currency, rule_set=RS_2026) == amount


def test_usd100_units() -> None:
    assert usd100_units(mrr=D("150"), usd100_amount=D("75")) == D(2)
    assert usd100_units(mrr=D("31.25"), usd100_amount=D("62.5")) == D("0.5")


def test_negative_mrr_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="negative"):
        line_points(
            mrr=D("-1"),
            currency="USD",
            kind=LineKind.SOURCED,
            growth_market=False,
            rule_set=RS_2026,
        )


def test_float_mrr_is_rejected() -> None:
    with pytest.raises(TypeError):
        line_points(
            mrr=100.0,  # type: ignore[arg-type]
            currency="USD",
            kind=LineKind.SOURCED,
            growth_market=False,
            rule_set=RS_2026,
        )


def test_line_kind_accepts_plain_strings_from_the_database() -> None:
    kind: LineKind = "assisted"  # type: ignore[assignment]
    assert line_points(
        mrr=D(100), currency="USD", kind=kind, growth_market=False, rule_set=RS_2026
    ) == D(3)
    assert Points().plus(kind=kind, points=D(3)) == Points(assisted=D(3))


def test_unknown_line_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="bogus"):
        Points().plus(kind="bogus", points=D(1))  # type: ignore[arg-type]


def test_total_counts_sourced_assisted_and_managed() -> None:
    points = Points(sourced=D("1.5"), assisted=D("2.25"), managed=D("3"))
    assert points.total == D("6.75")


def test_sum_points_by_kind() -> None:
    points = sum_points(
        [
            (LineKind.SOURCED, D(5)),
            (LineKind.MANAGED, D(1)),
            (LineKind.SOURCED, D("2.5")),
            (LineKind.ASSISTED, D(3)),
        ]
    )
    assert points == Points(sourced=D("7.5"), assisted=D(3), managed=D(1))


# --------------------------------------------------------------------------- display


@pytest.mark.parametrize(
    ("points", "shown"),
    [
        (D("0"), 0),
        (D("0.9999"), 0),
        (D("1"), 1),
        (D("109.9995"), 109),
        (D("110"), 110),
        (D("110.0001"), 110),
        (D("324.999"), 324),
        (D("325.5"), 325),
        (D("8999.99"), 8999),
    ],
)
def test_display_points_rounds_down(points: D, shown: int) -> None:
    assert display_points(points) == shown


def test_comparisons_use_unrounded_points() -> None:
    # 324.9995 total would round (half up) to 325 but does not meet Gold 2026's 325.
    short = Points(sourced=D(200), managed=D(50), assisted=D("74.9995"))
    assert _tier(short) == Tier.UNTIERED
    assert _tier(dataclasses.replace(short, assisted=D(75))) == Tier.GOLD


# --------------------------------------------------------------------------- contributing lines


def _billed(mrr: str, currency: str = "USD") -> Mrr:
    return Mrr(mrr=D(mrr), currency=currency)


def _sold(
    this_month: Mrr | None, year_ago: Mrr | None = None, kind: LineKind = LineKind.SOURCED
) -> LineFigures | None:
    return contributing_line(
        kind=kind, this_month=this_month, year_ago=year_ago, growth_market=False, rule_set=RS_2026
    )


@pytest.mark.parametrize(
    ("this_month", "year_ago", "growth", "points"),
    [
        ("150", "100", "50", D("2.5")),
        ("100", "150", "0", D(0)),  # never negative
        ("100", "100", "0", D(0)),
        ("80", None, "80", D(4)),  # not billed a year ago: all of it is growth
        ("80", "0", "80", D(4)),  # billed 0 a year ago (a free first version)
        ("400.01", "400", "0.01", D("0.0005")),
    ],
)
def test_sold_mrr_is_growth_over_the_same_month_a_year_earlier(
    this_month: str, year_ago: str | None, growth: str, points: D
) -> None:
    line = _sold(_billed(this_month), _billed(year_ago) if year_ago is not None else None)
    assert line is not None
    assert line.points == points == D(growth) * 5 / 100
    assert line.mrr_year_ago == (D(year_ago) if year_ago is not None else D(0))


def test_sold_growth_is_compared_in_usd100_units_across_a_currency_change() -> None:
    """A line billed GBP 200 a year ago and USD 400 now: GBP 200 is worth USD 320 for points
    (200 x 100 / 62.5), so the growth is USD 80 and earns 80 x 5 / 100 = 4 sourced points,
    not (400 - 200) x 5 / 100 = 10 as raw amounts would give. The year-ago MRR is shown as
    USD 320.00, in this month's currency."""
    line = _sold(_billed("400", "USD"), _billed("200", "GBP"))

    assert line == LineFigures(
        kind=LineKind.SOURCED,
        mrr_this_month=D(400),
        mrr_year_ago=D("320.00"),
        currency="USD",
        growth_market=False,
        points=D(4),
    )


def test_a_line_re_billed_in_a_weaker_currency_has_no_growth_unless_it_grew() -> None:
    """USD 100 a year ago (5 points), COP 300 300 now (= USD 100, 5 points): no growth, though
    the raw amount went from 100 to 300 300."""
    line = _sold(_billed("300300", "COP"), _billed("100", "USD"))
    assert line is not None
    assert (line.points, line.mrr_year_ago) == (D(0), D("300300.00"))


@pytest.mark.parametrize(
    ("mrr", "currency", "into", "shown"),
    [
        ("200", "GBP", "USD", "320.00"),
        ("100", "USD", "COP", "300300.00"),
        ("1", "COP", "USD", "0.00"),  # COP 1 is USD 0.000333: shown as 0.00, points keep it
        ("150", "EUR", "EUR", "150"),
        ("10", "AUD", "USD", "9.52"),  # 9.5238... rounded half-up
    ],
)
def test_a_year_ago_mrr_is_shown_in_this_months_currency(
    mrr: str, currency: str, into: str, shown: str
) -> None:
    assert mrr_in_currency(mrr=D(mrr), currency=currency, into=into, rule_set=RS_2026) == D(shown)


def test_a_line_not_billed_this_month_does_not_contribute() -> None:
    assert _sold(None, _billed("100")) is None
    assert _sold(_billed("0"), _billed("100")) is None
    managed = contributing_line(
        kind=LineKind.MANAGED, this_month=_billed("0"), growth_market=False, rule_set=RS_2026
    )
    assert managed is None


def test_a_managed_line_earns_on_this_months_mrr_whatever_a_year_ago() -> None:
    line = contributing_line(
        kind=LineKind.MANAGED,
        this_month=_billed("150", "EUR"),
        year_ago=_billed("1000", "USD"),
        growth_market=True,
        rule_set=RS_2026,
    )
    assert line == LineFigures(
        kind=LineKind.MANAGED,
        mrr_this_month=D(150),
        mrr_year_ago=None,
        currency="EUR",
        growth_market=True,
        points=D(4),  # 150 x 1 x 2 / 75
    )


def test_a_contributing_line_takes_subscription_versions() -> None:
    """The run hands the rule the versions that set each month's MRR."""
    now = Version(date(2026, 3, 1), None, D("420"), "SGD")
    then = Version(date(2025, 1, 1), date(2026, 3, 1), D("140"), "SGD")
    line = contributing_line(
        kind=LineKind.ASSISTED, this_month=now, year_ago=then, growth_market=True, rule_set=RS_2026
    )
    assert line is not None
    assert (line.points, line.mrr_year_ago) == (D(12), D(140))  # 280 x 3 x 2 / 140


# --------------------------------------------------------------------------- managed


AS_OF = date(2026, 3, 15)  # D - 60 days is 2026-01-14


@pytest.mark.parametrize(
    ("occurred_on", "kind", "expected"),
    [
        pytest.param(date(2026, 1, 14), "asset_created", True, id="D-60-counts"),
        pytest.param(date(2026, 1, 13), "asset_created", False, id="D-61-does-not"),
        pytest.param(date(2026, 2, 20), "asset_edited", True, id="inside"),
        pytest.param(date(2026, 3, 15), "asset_edited", True, id="on-D-counts"),
        pytest.param(date(2026, 3, 16), "asset_edited", False, id="after-D-ignored"),
        pytest.param(date(2026, 3, 1), "login", False, id="login-alone"),
        pytest.param(date(2026, 3, 1), "report_viewed", False, id="unknown-kind"),
    ],
)
def test_managed_eligible_needs_asset_activity_in_the_60_days_up_to_d(
    occurred_on: date, kind: str, expected: bool
) -> None:
    activities = [Activity(kind=kind, occurred_on=occurred_on)]
    assert managed_eligible(activities=activities, as_of=AS_OF) is expected


def test_login_alone_does_not_make_a_customer_managed() -> None:
    logins = [Activity(kind="login", occurred_on=date(2026, 3, d)) for d in range(1, 16)]
    assert managed_eligible(activities=logins, as_of=AS_OF) is False
    edited = [*logins, Activity(kind="asset_edited", occurred_on=date(2026, 1, 20))]
    assert managed_eligible(activities=edited, as_of=AS_OF) is True


def test_managed_eligible_with_no_activity() -> None:
    assert managed_eligible(activities=[], as_of=AS_OF) is False


def test_managed_window_length_is_a_parameter() -> None:
    activity = [Activity(kind="asset_created", occurred_on=date(2026, 2, 13))]
    assert managed_eligible(activities=activity, as_of=AS_OF, window_days=30) is True
    assert managed_eligible(activities=activity, as_of=AS_OF, window_days=29) is False


@pytest.mark.parametrize(
    ("kind", "eligible"),
    [("asset_created", True), ("asset_edited", True), ("login", False), ("", False)],
)
def test_is_eligible_activity(kind: str, eligible: bool) -> None:
    assert is_eligible_activity(kind) is eligible


# --------------------------------------------------------------------------- rule sets


@pytest.mark.parametrize(
    ("on", "effective_from"),
    [
        (date(2025, 7, 15), date(2025, 7, 15)),
        (date(2025, 12, 31), date(2025, 7, 15)),
        (date(2026, 1, 14), date(2025, 7, 15)),
        (date(2026, 1, 15), date(2026, 1, 15)),
        (date(2030, 6, 1), date(2026, 1, 15)),
    ],
)
def test_rule_set_in_force_is_the_latest_effective_on_or_before_the_date(
    on: date, effective_from: date
) -> None:
    assert rule_set_in_force(SPEC_RULE_SETS, on).effective_from == effective_from


def test_no_rule_set_in_force_before_the_first() -> None:
    with pytest.raises(InvalidInput, match="2025-07-14") as refused:
        rule_set_in_force(SPEC_RULE_SETS, date(2025, 7, 14))
    assert (refused.value.field, refused.value.rule) == ("as_of", Refusal.NO_RULE_SET_IN_FORCE)


def test_rule_set_in_force_ignores_order() -> None:
    assert rule_set_in_force(reversed(SPEC_RULE_SETS), date(2026, 2, 1)) is RS_2026


def test_two_rule_sets_on_one_date_is_an_error() -> None:
    twin = dataclasses.replace(RS_2026, growth_multiplier=D(3))
    with pytest.raises(ValueError, match="several"):
        rule_set_in_force([RS_2026, twin], date(2026, 2, 1))


def test_spec_rule_sets_hold_the_spec_targets() -> None:
    rows = [
        (rs.effective_from, t.tier, t.sold_min, t.managed_min, t.total_min)
        for rs in SPEC_RULE_SETS
        for t in rs.targets
    ]
    assert all(isinstance(n, D) for row in rows for n in row[2:])
    assert [(*row[:2], *map(int, row[2:])) for row in rows] == [
        (date(2025, 7, 15), Tier.GOLD, 113, 38, 300),
        (date(2025, 7, 15), Tier.PLATINUM, 270, 150, 875),
        (date(2025, 7, 15), Tier.DIAMOND, 570, 550, 2990),
        (date(2025, 7, 15), Tier.ELITE, 1950, 1700, 8600),
        (date(2026, 1, 15), Tier.GOLD, 110, 38, 325),
        (date(2026, 1, 15), Tier.PLATINUM, 325, 150, 925),
        (date(2026, 1, 15), Tier.DIAMOND, 950, 550, 3100),
        (date(2026, 1, 15), Tier.ELITE, 2100, 1700, 9000),
    ]
    assert all(rs.sold_min_sourced_only for rs in SPEC_RULE_SETS)


def test_rule_set_needs_a_target_for_every_tier() -> None:
    with pytest.raises(InvalidInput, match="exactly one target") as refused:
        dataclasses.replace(RS_2026, targets=RS_2026.targets[:3])
    assert (refused.value.field, refused.value.rule) == ("targets", Refusal.INCOMPLETE_RULE_SET)


def test_rule_set_rejects_a_duplicate_tier_target() -> None:
    gold = TierTarget(tier=Tier.GOLD, sold_min=D(1), managed_min=D(1), total_min=D(1))
    with pytest.raises(InvalidInput, match="exactly one target"):
        dataclasses.replace(RS_2026, targets=(*RS_2026.targets, gold))


def test_rule_set_needs_weights_for_every_kind() -> None:
    with pytest.raises(InvalidInput, match="every kind of line"):
        dataclasses.replace(RS_2026, points_per_usd100={LineKind.SOURCED: D(5)})


def test_rule_set_rejects_a_non_positive_currency_amount() -> None:
    with pytest.raises(InvalidInput, match="positive"):
        dataclasses.replace(RS_2026, usd100_amounts={"USD": D(0)})


def test_rule_set_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RS_2026.sold_min_sourced_only = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        RS_2026.usd100_amounts["CHF"] = D(90)  # type: ignore[index]


# --------------------------------------------------------------------------- prerequisites


@pytest.mark.parametrize(
    ("certification", "subscription", "met"),
    [(True, True, True), (True, False, False), (False, True, False), (False, False, False)],
)
def test_prerequisites_need_certification_and_pro_subscription(
    certification: bool, subscription: bool, met: bool
) -> None:
    assert (
        meets_prerequisites(
            has_partner_certification=certification, has_pro_subscription=subscription
        )
        is met
    )


def test_missing_prerequisites_means_untiered_whatever_the_points() -> None:
    points = _at_target(RS_2026, Tier.ELITE)
    assert _tier(points, prerequisites_met=False) == Tier.UNTIERED


def test_provider_has_no_tier() -> None:
    points = _at_target(RS_2026, Tier.ELITE)
    assert _tier(points, org_kind=OrgKind.PROVIDER) is None
    assert _tier(points, org_kind="provider") is None


# --------------------------------------------------------------------------- tier thresholds

#: One cent of USD MRR in points of the kind that carries each minimum in the edge tests.
CENT = {"sold": D("0.0005"), "managed": D("0.0001"), "total": D("0.0003")}


def _threshold_cases() -> list[object]:
    cases: list[object] = []
    for rs in SPEC_RULE_SETS:
        for tier in (Tier.GOLD, Tier.PLATINUM, Tier.DIAMOND, Tier.ELITE):
            below = TIER_ORDER[tier.rank - 1]
            for dimension in ("sold", "managed", "total"):
                name = f"{rs.effective_from}-{tier}-{dimension}"
                cases.append(pytest.param(rs, tier, dimension, D(0), tier, id=f"{name}-at"))
                cases.append(
                    pytest.param(rs, tier, dimension, D("0.01"), below, id=f"{name}-0.01-under")
                )
                cases.append(
                    pytest.param(
                        rs, tier, dimension, CENT[dimension], below, id=f"{name}-1-cent-under"
                    )
                )
    return cases


@pytest.mark.parametrize(("rule_set", "tier", "dimension", "short", "expected"), _threshold_cases())
def test_tier_threshold_edges(
    rule_set: RuleSet, tier: Tier, dimension: str, short: D, expected: Tier
) -> None:
    points = _at_target(rule_set, tier)
    if dimension == "sold":
        # Move the shortfall to assisted: it keeps the total but not the sold minimum.
        points = Points(
            sourced=points.sourced - short,
            assisted=points.assisted + short,
            managed=points.managed,
        )
    elif dimension == "managed":
        points = Points(
            sourced=points.sourced,
            assisted=points.assisted + short,
            managed=points.managed - short,
        )
    else:
        points = dataclasses.replace(points, assisted=points.assisted - short)
    assert _tier(points, rule_set) == expected


def test_gold_2026_sold_minimum_edge_example() -> None:
    enough_else = {"managed": D(38), "assisted": D(300)}
    assert _tier(Points(sourced=D("109.99"), **enough_else)) == Tier.UNTIERED
    assert _tier(Points(sourced=D("110"), **enough_else)) == Tier.GOLD


def test_one_cent_of_mrr_under_gold_sold_minimum_fails() -> None:
    def tier_for(mrr: str) -> Tier | None:
        sourced = line_points(
            mrr=D(mrr), currency="USD", kind=LineKind.SOURCED, growth_market=False, rule_set=RS_2026
        )
        return _tier(Points(sourced=sourced, managed=D(38), assisted=D(300)))

    assert tier_for("2200.00") == Tier.GOLD
    assert tier_for("2199.99") == Tier.UNTIERED


def test_one_cent_of_growth_market_mrr_under_gold_sold_minimum_fails() -> None:
    def tier_for(mrr: str) -> Tier | None:
        sourced = line_points(
            mrr=D(mrr), currency="EUR", kind=LineKind.SOURCED, growth_market=True, rule_set=RS_2026
        )
        return _tier(Points(sourced=sourced, managed=D(38), assisted=D(300)))

    assert tier_for("825.00") == Tier.GOLD  # 825 EUR = 1100 USD, x10 = 110 points
    assert tier_for("824.99") == Tier.UNTIERED


def test_highest_tier_whose_three_minimums_are_met() -> None:
    # Diamond-sized sold and total points, but only Platinum's managed minimum.
    points = Points(sourced=D(1000), assisted=D(3000), managed=D(150))
    assert _tier(points) == Tier.PLATINUM


def test_zero_points_are_untiered() -> None:
    assert _tier(Points()) == Tier.UNTIERED


def test_sold_min_counts_sourced_only_from_2025_07_15() -> None:
    # 113 sold points, all assisted: the sold minimum is missed under the SPEC rule sets.
    points = Points(sourced=D(0), assisted=D(262), managed=D(38))
    assert sold_points(points=points, rule_set=RS_2025) == D(0)
    assert _tier(points, RS_2025) == Tier.UNTIERED
    # Before 2025-07-15 assisted points counted towards it.
    assert sold_points(points=points, rule_set=RS_LEGACY) == D(262)
    assert _tier(points, RS_LEGACY) == Tier.GOLD


def test_assisted_points_still_count_towards_the_total() -> None:
    points = Points(sourced=D(110), assisted=D(177), managed=D(38))
    assert points.total == D(325)
    assert _tier(points) == Tier.GOLD


@pytest.mark.parametrize(
    ("points", "tier_2025", "tier_2026"),
    [
        (_at_target(RS_2025, Tier.GOLD), Tier.GOLD, Tier.UNTIERED),
        (_at_target(RS_2025, Tier.PLATINUM), Tier.PLATINUM, Tier.GOLD),
        (_at_target(RS_2025, Tier.DIAMOND), Tier.DIAMOND, Tier.PLATINUM),
        (_at_target(RS_2025, Tier.ELITE), Tier.ELITE, Tier.DIAMOND),
        (_at_target(RS_2026, Tier.GOLD), Tier.UNTIERED, Tier.GOLD),
    ],
)
def test_the_rule_set_decides_the_tier(points: Points, tier_2025: Tier, tier_2026: Tier) -> None:
    assert _tier(points, RS_2025) == tier_2025
    assert _tier(points, RS_2026) == tier_2026


def test_points_tier_includes_elite_without_the_invitation() -> None:
    assert points_tier(points=_at_target(RS_2026, Tier.ELITE), rule_set=RS_2026) == Tier.ELITE


# --------------------------------------------------------------------------- Elite


@pytest.mark.parametrize(
    ("change", "is_eligible"),
    [
        pytest.param({}, True, id="all-met"),
        pytest.param({"invited": False}, False, id="not-invited"),
        pytest.param({"customer_retention_pct": D(85)}, True, id="customer-85-exactly-ok"),
        pytest.param({"customer_retention_pct": D("84.99")}, False, id="customer-84.99"),
        pytest.param({"revenue_retention_pct": D(85)}, False, id="revenue-85-exactly-not-ok"),
        pytest.param({"revenue_retention_pct": D("85.01")}, True, id="revenue-85.01"),
        pytest.param({"team_certifications": 100}, True, id="100-certifications"),
        pytest.param({"team_certifications": 99}, False, id="99-certifications"),
    ],
)
def test_elite_eligibility_edges(change: dict[str, object], is_eligible: bool) -> None:
    standing = dataclasses.replace(ELITE_OK, **change)  # type: ignore[arg-type]
    assert elite_eligible(standing=standing, rule_set=RS_2026) is is_eligible
    expected = Tier.ELITE if is_eligible else Tier.DIAMOND
    assert _tier(_at_target(RS_2026, Tier.ELITE), elite=standing) == expected


def test_elite_is_by_invitation_only() -> None:
    points = _at_target(RS_2026, Tier.ELITE)
    assert _tier(points, elite=None) == Tier.DIAMOND
    assert elite_eligible(standing=None, rule_set=RS_2026) is False


def test_elite_points_without_eligibility_are_capped_at_diamond() -> None:
    points = Points(sourced=D(5000), managed=D(5000), assisted=D(5000))
    uninvited = dataclasses.replace(ELITE_OK, invited=False)
    assert elite_qualified(points=points, rule_set=RS_2026) is True
    assert _tier(points, elite=uninvited) == Tier.DIAMOND


def test_elite_eligible_without_elite_points_is_not_elite() -> None:
    points = _at_target(RS_2026, Tier.DIAMOND)
    assert elite_qualified(points=points, rule_set=RS_2026) is False
    assert _tier(points, elite=ELITE_OK) == Tier.DIAMOND


def test_elite_qualified_needs_all_three_elite_minimums() -> None:
    points = _at_target(RS_2026, Tier.ELITE)
    assert elite_qualified(points=points, rule_set=RS_2026) is True
    short = dataclasses.replace(points, managed=D("1699.99"), assisted=points.assisted + 1)
    assert elite_qualified(points=short, rule_set=RS_2026) is False


def test_elite_thresholds_are_rule_set_data() -> None:
    relaxed = dataclasses.replace(RS_2026, elite_min_team_certifications=50)
    standing = dataclasses.replace(ELITE_OK, team_certifications=50)
    assert elite_eligible(standing=standing, rule_set=relaxed) is True
    assert elite_eligible(standing=standing, rule_set=RS_2026) is False


# --------------------------------------------------------------------------- re-tiering timing

MONTHS = list(range(1, 13))


@pytest.mark.parametrize("month", MONTHS)
def test_up_tiering_at_any_monthly_run(month: int) -> None:
    move = next_tier_after_run(
        current_tier=Tier.GOLD, qualified_tier=Tier.DIAMOND, run_date=date(2026, month, 15)
    )
    assert move == TierMove(tier=Tier.DIAMOND, at_risk=False)


@pytest.mark.parametrize("month", MONTHS)
def test_down_tiering_only_in_january_and_july(month: int) -> None:
    move = next_tier_after_run(
        current_tier=Tier.PLATINUM, qualified_tier=Tier.GOLD, run_date=date(2026, month, 15)
    )
    if month in (1, 7):
        assert move == TierMove(tier=Tier.GOLD, at_risk=False)
    else:
        assert move == TierMove(tier=Tier.PLATINUM, at_risk=True)


@pytest.mark.parametrize("month", MONTHS)
def test_same_tier_is_kept_and_not_at_risk(month: int) -> None:
    move = next_tier_after_run(
        current_tier=Tier.GOLD, qualified_tier=Tier.GOLD, run_date=date(2026, month, 15)
    )
    assert move == TierMove(tier=Tier.GOLD, at_risk=False)


def test_down_tiering_can_drop_several_tiers_at_a_window() -> None:
    move = next_tier_after_run(
        current_tier=Tier.ELITE, qualified_tier=Tier.UNTIERED, run_date=date(2026, 7, 15)
    )
    assert move == TierMove(tier=Tier.UNTIERED, at_risk=False)


def test_at_risk_partner_moving_up_is_no_longer_at_risk() -> None:
    march = next_tier_after_run(
        current_tier=Tier.PLATINUM, qualified_tier=Tier.GOLD, run_date=date(2026, 3, 15)
    )
    april = next_tier_after_run(
        current_tier=march.tier, qualified_tier=Tier.DIAMOND, run_date=date(2026, 4, 15)
    )
    assert march == TierMove(tier=Tier.PLATINUM, at_risk=True)
    assert april == TierMove(tier=Tier.DIAMOND, at_risk=False)


def test_losing_prerequisites_between_windows_keeps_the_tier_at_risk() -> None:
    points = _at_target(RS_2026, Tier.PLATINUM)
    qualified = _tier(points, prerequisites_met=False)
    assert qualified == Tier.UNTIERED
    move = next_tier_after_run(
        current_tier=Tier.PLATINUM, qualified_tier=qualified, run_date=date(2026, 4, 15)
    )
    assert move == TierMove(tier=Tier.PLATINUM, at_risk=True)


def test_timing_compares_tiers_from_the_database_by_rank() -> None:
    # Plain strings: "untiered" > "platinum" as text, but it is a drop.
    move = next_tier_after_run(
        current_tier="platinum",  # type: ignore[arg-type]
        qualified_tier="untiered",  # type: ignore[arg-type]
        run_date=date(2026, 4, 15),
    )
    assert move == TierMove(tier=Tier.PLATINUM, at_risk=True)


@pytest.mark.parametrize(
    ("run_date", "is_window"),
    [
        (date(2026, 1, 15), True),
        (date(2026, 1, 1), True),
        (date(2026, 7, 15), True),
        (date(2026, 6, 15), False),
        (date(2026, 12, 15), False),
    ],
)
def test_is_down_tiering_run(run_date: date, is_window: bool) -> None:
    assert is_down_tiering_run(run_date) is is_window


@pytest.mark.parametrize(
    ("after", "window"),
    [
        (date(2026, 1, 1), date(2026, 1, 15)),
        (date(2026, 1, 14), date(2026, 1, 15)),
        (date(2026, 1, 15), date(2026, 7, 15)),
        (date(2026, 3, 15), date(2026, 7, 15)),
        (date(2026, 7, 14), date(2026, 7, 15)),
        (date(2026, 7, 15), date(2027, 1, 15)),
        (date(2026, 12, 31), date(2027, 1, 15)),
    ],
)
def test_next_down_tiering_window(after: date, window: date) -> None:
    assert next_down_tiering_window(after) == window


def test_tiers_order_by_rank_not_text() -> None:
    assert sorted([Tier.PLATINUM, Tier.UNTIERED, Tier.ELITE, Tier.GOLD, Tier.DIAMOND]) == list(
        TIER_ORDER
    )
    assert Tier.UNTIERED < Tier.PLATINUM
    assert Tier.DIAMOND > "platinum"
    assert tier_above(Tier.DIAMOND) == Tier.ELITE
    assert tier_above(Tier.ELITE) is None


# --------------------------------------------------------------------------- gap to next tier


@pytest.mark.parametrize(
    ("points", "current", "expected"),
    [
        pytest.param(
            Points(sourced=D(100), assisted=D(150), managed=D(40)),
            Tier.UNTIERED,
            TierGap(tier=Tier.GOLD, sold=D(10), managed=D(0), total=D(35)),
            id="untiered-to-gold",
        ),
        pytest.param(
            Points(sourced=D("109.9995"), assisted=D(200), managed=D(38)),
            Tier.UNTIERED,
            TierGap(tier=Tier.GOLD, sold=D("0.0005"), managed=D(0), total=D(0)),
            id="one-cent-short",
        ),
        pytest.param(
            _at_target(RS_2026, Tier.GOLD),
            Tier.GOLD,
            TierGap(tier=Tier.PLATINUM, sold=D(215), managed=D(112), total=D(600)),
            id="gold-to-platinum",
        ),
        pytest.param(
            Points(sourced=D(5000), assisted=D(0), managed=D(100)),
            Tier.PLATINUM,
            TierGap(tier=Tier.DIAMOND, sold=D(0), managed=D(450), total=D(0)),
            id="never-negative",
        ),
        pytest.param(
            _at_target(RS_2026, Tier.ELITE),
            Tier.DIAMOND,
            TierGap(tier=Tier.ELITE, sold=D(0), managed=D(0), total=D(0)),
            id="capped-at-diamond-nothing-missing",
        ),
    ],
)
def test_gap_to_next_tier(points: Points, current: Tier, expected: TierGap) -> None:
    assert gap_to_next_tier(points=points, current_tier=current, rule_set=RS_2026) == expected


def test_gap_to_next_tier_is_none_at_the_top() -> None:
    assert gap_to_next_tier(points=Points(), current_tier=Tier.ELITE, rule_set=RS_2026) is None


def test_gap_counts_sold_as_the_rule_set_says() -> None:
    points = Points(sourced=D(50), assisted=D(100), managed=D(38))
    sourced_only = gap_to_tier(points=points, tier=Tier.GOLD, rule_set=RS_2025)
    legacy = gap_to_tier(points=points, tier=Tier.GOLD, rule_set=RS_LEGACY)
    assert sourced_only.sold == D(63)
    assert legacy.sold == D(0)


def test_gap_met_when_nothing_is_missing() -> None:
    gap = gap_to_tier(points=_at_target(RS_2026, Tier.GOLD), tier=Tier.GOLD, rule_set=RS_2026)
    assert gap.met is True


def test_gap_to_untiered_is_an_error() -> None:
    with pytest.raises(ValueError, match="no point targets"):
        gap_to_tier(points=Points(), tier=Tier.UNTIERED, rule_set=RS_2026)


# --------------------------------------------------------------------------- assessment


def test_assess_tier_for_a_provider_gives_no_tier() -> None:
    result = assess_tier(
        points=_at_target(RS_2026, Tier.ELITE),
        org_kind=OrgKind.PROVIDER,
        prerequisites_met=True,
        current_tier=None,
        run_date=date(2026, 1, 15),
        rule_set=RS_2026,
    )
    assert result.tier is None
    assert result.qualified_tier is None
    assert result.at_risk is False
    assert result.next_tier is None


def test_assess_tier_new_partner_starts_untiered_and_moves_up() -> None:
    result = assess_tier(
        points=_at_target(RS_2026, Tier.GOLD),
        org_kind=OrgKind.PARTNER,
        prerequisites_met=True,
        current_tier=None,
        run_date=date(2026, 3, 15),
        rule_set=RS_2026,
    )
    assert (result.qualified_tier, result.tier, result.at_risk) == (Tier.GOLD, Tier.GOLD, False)
    assert result.next_tier is not None
    assert result.next_tier.tier == Tier.PLATINUM


def test_assess_tier_at_risk_shows_the_gap_above_the_kept_tier() -> None:
    result = assess_tier(
        points=_at_target(RS_2026, Tier.GOLD),
        org_kind=OrgKind.PARTNER,
        prerequisites_met=True,
        current_tier=Tier.PLATINUM,
        run_date=date(2026, 3, 15),
        rule_set=RS_2026,
    )
    assert (result.qualified_tier, result.tier, result.at_risk) == (Tier.GOLD, Tier.PLATINUM, True)
    assert result.next_tier is not None
    assert result.next_tier.tier == Tier.DIAMOND


def test_assess_tier_reports_elite_qualified_when_capped() -> None:
    result = assess_tier(
        points=_at_target(RS_2026, Tier.ELITE),
        org_kind=OrgKind.PARTNER,
        prerequisites_met=True,
        current_tier=Tier.DIAMOND,
        run_date=date(2026, 3, 15),
        rule_set=RS_2026,
        elite=None,
    )
    assert result.tier == Tier.DIAMOND
    assert result.elite_qualified is True


# --------------------------------------------------------------------------- what-if

#: 2026 Platinum minus 25 sourced points: sold 300/325, managed 150/150, total 900/925.
NEAR_PLATINUM = Points(sourced=D(300), assisted=D(450), managed=D(150))


def _what_if(kind: LineKind, mrr: str, currency: str, growth: bool, **kwargs: object) -> WhatIf:
    options: dict[str, object] = {
        "points": NEAR_PLATINUM,
        "org_kind": OrgKind.PARTNER,
        "prerequisites_met": True,
        "rule_set": RS_2026,
    }
    options.update(kwargs)
    return what_if(
        kind=kind,
        this_month=Mrr(mrr=D(mrr), currency=currency),
        growth_market=growth,
        **options,  # type: ignore[arg-type]
    )


def test_what_if_crossing_platinum_with_sourced_mrr() -> None:
    result = what_if(
        points=NEAR_PLATINUM,
        kind=LineKind.SOURCED,
        this_month=Mrr(mrr=D(500), currency="USD"),
        growth_market=False,
        org_kind=OrgKind.PARTNER,
        prerequisites_met=True,
        rule_set=RS_2026,
    )
    assert result.added_points == D(25)
    assert result.points == Points(sourced=D(325), assisted=D(450), managed=D(150))
    assert result.qualifying_tier == Tier.PLATINUM
    assert result.next_tier is not None
    assert result.next_tier.tier == Tier.DIAMOND


def test_what_if_growth_market_needs_half_the_mrr() -> None:
    result = _what_if(LineKind.SOURCED, "187.50", "EUR", True)  # 250 USD x 10 per 100
    assert result.qualifying_tier == Tier.PLATINUM


def test_what_if_one_cent_short_stays_gold() -> None:
    result = _what_if(LineKind.SOURCED, "499.99", "USD", False)
    assert result.qualifying_tier == Tier.GOLD


def test_what_if_assisted_mrr_does_not_fill_the_sold_minimum() -> None:
    result = _what_if(LineKind.ASSISTED, "10000", "USD", False)
    assert result.points.assisted == D(750)
    assert result.qualifying_tier == Tier.GOLD


def test_what_if_without_prerequisites_stays_untiered() -> None:
    result = _what_if(LineKind.SOURCED, "500", "USD", False, prerequisites_met=False)
    assert result.qualifying_tier == Tier.UNTIERED


def test_what_if_for_a_provider_has_no_tier() -> None:
    result = _what_if(LineKind.SOURCED, "500", "USD", False, org_kind=OrgKind.PROVIDER)
    assert result.qualifying_tier is None
    assert result.next_tier is None


def test_what_if_rejects_an_unsupported_currency() -> None:
    with pytest.raises(InvalidInput) as refused:
        _what_if(LineKind.SOURCED, "500", "CHF", False)
    assert refused.value.field == "currency"


def test_what_if_of_an_upsell_counts_only_the_growth_in_usd100_units() -> None:
    """USD 900 now over GBP 250 a year ago (= USD 400): USD 500 of growth, 25 sourced points,
    exactly the Platinum sold minimum; what the run's line would earn (`contributing_line`)."""
    result = _what_if(
        LineKind.SOURCED, "900", "USD", False, year_ago=Mrr(mrr=D(250), currency="GBP")
    )
    assert result.added_points == D(25)
    assert result.line is not None
    assert result.line.mrr_year_ago == D("400.00")
    assert result.qualifying_tier == Tier.PLATINUM


def test_what_if_leaves_the_current_points_unchanged() -> None:
    before = dataclasses.replace(NEAR_PLATINUM)
    _what_if(LineKind.MANAGED, "1000", "USD", False)
    assert before == NEAR_PLATINUM


# --------------------------------------------------------------------------- benefits

EVERYONE = {OrgKind.PROVIDER, *TIER_ORDER}
PARTNERS = set(TIER_ORDER)
PLATINUM_UP = {Tier.PLATINUM, Tier.DIAMOND, Tier.ELITE}


@pytest.mark.parametrize(
    ("benefit", "holders"),
    [
        (Benefit.DEAL_COMMISSION, EVERYONE),
        (Benefit.UPMARKET_REFERRAL_COMMISSION, PLATINUM_UP),
        (Benefit.PARTNER_DEVELOPMENT_MANAGER, PARTNERS),
        (Benefit.INBOUND_SPECIALIST, EVERYONE),
        (Benefit.CONSULTING_SERVICES_TEAM, {Tier.ELITE}),
        (Benefit.TIER_BADGE, PARTNERS),
        (Benefit.RESOURCE_LIBRARY_LISTING, PLATINUM_UP),
        (Benefit.MDF_ELIGIBILITY, PLATINUM_UP),
        (Benefit.PARTNER_GROWTH_ACCELERATOR, PLATINUM_UP),
        (Benefit.DEAL_REGISTRATION, EVERYONE),
        (Benefit.ONBOARDING_WAIVER, PARTNERS),
        (Benefit.PARTNER_MATCHING, PLATINUM_UP),
        (Benefit.UNIFIED_USAGE_SCORE, PARTNERS),
        (Benefit.DATA_MIGRATION_TOOL, EVERYONE),
        (Benefit.PRODUCT_LAUNCH_PREVIEWS, PLATINUM_UP),
        (Benefit.PARTNER_SLACK_GROUP, EVERYONE),
        (Benefit.PARTNER_EVENTS, PARTNERS),
        (Benefit.PARTNER_ADVISORY_COUNCIL, {Tier.GOLD, *PLATINUM_UP}),
    ],
)
def test_benefits_matrix(benefit: Benefit, holders: set[object]) -> None:
    assert BENEFITS[benefit] == holders


def test_benefits_matrix_has_every_row_of_the_seed() -> None:
    assert set(BENEFITS) == set(Benefit)
    assert len(BENEFITS) == 42


def test_benefits_grow_with_the_tier() -> None:
    for lower, higher in itertools.pairwise(TIER_ORDER):
        below = benefits_for(org_kind=OrgKind.PARTNER, tier=lower)
        above = benefits_for(org_kind=OrgKind.PARTNER, tier=higher)
        assert below <= above  # Platinum and Diamond share one column of the matrix
    assert benefits_for(org_kind=OrgKind.PARTNER, tier=Tier.DIAMOND) < benefits_for(
        org_kind=OrgKind.PARTNER, tier=Tier.ELITE
    )


def test_provider_benefits() -> None:
    benefits = benefits_for(org_kind=OrgKind.PROVIDER, tier=None)
    assert Benefit.DEAL_REGISTRATION in benefits
    assert Benefit.ONBOARDING_WAIVER not in benefits
    assert Benefit.PARTNER_DEVELOPMENT_MANAGER not in benefits
    assert benefits < benefits_for(org_kind=OrgKind.PARTNER, tier=Tier.UNTIERED)


def test_partner_benefits_need_a_tier() -> None:
    with pytest.raises(ValueError, match="tier"):
        benefits_for(org_kind=OrgKind.PARTNER, tier=None)


def test_deal_commission_lasts_12_months_for_providers_and_36_for_partners() -> None:
    assert DEAL_COMMISSION_MONTHS == {OrgKind.PROVIDER: 12, OrgKind.PARTNER: 36}


# --------------------------------------------------------------------------- Elite retention


@pytest.mark.parametrize(
    ("kept", "base", "expected"),
    [
        (17, 20, D("85.0000")),  # exactly at the customer-retention threshold
        (D("84.99"), D("100"), D("84.9900")),  # one cent under
        (2, 3, D("66.6666")),  # rounded down, never up
        (D("85.00009"), D("100"), D("85.0000")),  # rounding down cannot lift over 85
        (D("250"), D("100"), D("250.0000")),  # net revenue retention may exceed 100 %
        (0, 5, D("0.0000")),
        (0, 0, D("0.0000")),  # nothing to retain: no retention shown
    ],
)
def test_retention_pct(kept: D | int, base: D | int, expected: D) -> None:
    assert retention_pct(kept=kept, base=base) == expected


def test_a_floored_retention_of_exactly_85_fails_revenue_but_passes_customer_retention() -> None:
    standing = dataclasses.replace(
        ELITE_OK,
        customer_retention_pct=retention_pct(kept=17, base=20),
        revenue_retention_pct=retention_pct(kept=D("85.00009"), base=100),
    )
    assert not elite_eligible(standing=standing, rule_set=RS_2026)
    assert elite_eligible(
        standing=dataclasses.replace(standing, revenue_retention_pct=D("85.0001")),
        rule_set=RS_2026,
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 15), date(2025, 3, 15)),
        (date(2028, 2, 29), date(2027, 2, 28)),
        (date(2026, 1, 1), date(2025, 1, 1)),
    ],
)
def test_year_earlier(day: date, expected: date) -> None:
    assert year_earlier(day) == expected


def _line(*versions: tuple[date, date | None, str, str]) -> list[Version]:
    return [Version(start, until, D(mrr), currency) for start, until, mrr, currency in versions]


def test_book_retention_values_each_month_in_its_own_currency() -> None:
    """A book of four customers for the run of 15 March 2026 (months: March 2025 -> 2026).

    b1: USD 2 000 then, USD 2 000 now                      20 -> 20 units
    b2: GBP 125 then (2 units), terminated 1 March 2026     2 ->  0
    b3: EUR 150 then, re-billed USD 300 from 1 June 2025     2 ->  3
    b4: billed from April 2025 only: not in the base        0 -> (5)
    Customer retention 2 of 3 = 66.6666 %; revenue 23 / 24 = 95.8333 %.
    """
    start = date(2024, 1, 1)
    book = [
        [_line((start, None, "2000", "USD"))],
        [_line((start, date(2026, 3, 1), "125", "GBP"))],
        [_line((start, date(2025, 6, 1), "150", "EUR"), (date(2025, 6, 1), None, "300", "USD"))],
        [_line((date(2025, 4, 1), None, "500", "USD"))],
    ]

    retention = book_retention(book=book, as_of=date(2026, 3, 15), rule_set=RS_2026)

    assert retention == Retention(customer_pct=D("66.6666"), revenue_pct=D("95.8333"))


def test_a_book_with_nothing_billed_a_year_ago_has_no_retention() -> None:
    book = [[_line((date(2025, 4, 1), None, "500", "USD"))]]
    retention = book_retention(book=book, as_of=date(2026, 3, 15), rule_set=RS_2026)
    assert retention == Retention(customer_pct=D(0), revenue_pct=D(0))


# --- Partner matching (SPEC 10) ----------------------------------------------------------------

_MATCHING_RULES = RS_2026


def _profile(**overrides: object) -> tier_rules.MatchingProfile:
    values: dict[str, object] = {
        "tier": tier_rules.Tier.PLATINUM,
        "sourced_sold_units": D(20),
        "sold_units": D(100),
        "has_valid_accreditation": False,
        "software_certifications": 1,
        "implementation_certifications": 1,
        "customer_retention_pct": D(85),
    }
    values.update(overrides)
    return tier_rules.MatchingProfile(**values)  # type: ignore[arg-type]


def _gaps(**overrides: object) -> tuple[str, ...]:
    return tier_rules.partner_matching(profile=_profile(**overrides), rule_set=_MATCHING_RULES).gaps


def test_partner_matching_at_exactly_20_percent_and_85_percent_is_eligible() -> None:
    result = tier_rules.partner_matching(profile=_profile(), rule_set=_MATCHING_RULES)
    assert (result.eligible, result.gaps, result.sourced_share_pct) == (True, (), D(20))


@pytest.mark.parametrize(
    ("overrides", "gaps"),
    [
        ({"sold_units": D(0), "sourced_sold_units": D(0)}, ("no_sold_mrr",)),
        ({"sourced_sold_units": D("19.99")}, ("sourced_share_below_minimum",)),
        # A valid accreditation opens the door whatever the tier, retention or certifications.
        (
            {
                "has_valid_accreditation": True,
                "tier": tier_rules.Tier.UNTIERED,
                "customer_retention_pct": None,
                "software_certifications": 0,
            },
            (),
        ),
        ({"tier": tier_rules.Tier.GOLD}, ("no_valid_accreditation", "tier_below_minimum")),
        (
            {"customer_retention_pct": D("84.9999")},
            ("no_valid_accreditation", "retention_below_minimum"),
        ),
        ({"software_certifications": 0}, ("no_valid_accreditation", "no_software_certification")),
        (
            {"implementation_certifications": 0},
            ("no_valid_accreditation", "no_implementation_certification"),
        ),
        # Not even an accreditation helps below the sourced share.
        (
            {"sourced_sold_units": D(10), "has_valid_accreditation": True},
            ("sourced_share_below_minimum",),
        ),
    ],
)
def test_partner_matching_names_what_is_missing(
    overrides: dict[str, object], gaps: tuple[str, ...]
) -> None:
    assert _gaps(**overrides) == gaps


def test_retention_is_needed_only_when_it_decides() -> None:
    needs = tier_rules.needs_matching_retention
    assert needs(profile=_profile(customer_retention_pct=None), rule_set=_MATCHING_RULES)
    assert not needs(
        profile=_profile(customer_retention_pct=None, tier=tier_rules.Tier.GOLD),
        rule_set=_MATCHING_RULES,
    )
    assert not needs(
        profile=_profile(customer_retention_pct=None, has_valid_accreditation=True),
        rule_set=_MATCHING_RULES,
    )


def test_the_benefits_matrix_withholds_partner_matching_from_a_partner_not_eligible() -> None:
    platinum = tier_rules.Tier.PLATINUM
    partner = tier_rules.OrgKind.PARTNER
    matching = tier_rules.Benefit.PARTNER_MATCHING
    assert matching in tier_rules.benefits_for(org_kind=partner, tier=platinum)
    assert matching in tier_rules.benefits_for(
        org_kind=partner, tier=platinum, matching_eligible=True
    )
    assert matching not in tier_rules.benefits_for(
        org_kind=partner, tier=platinum, matching_eligible=False
    )


@pytest.mark.parametrize(
    ("tier", "levels", "expected"),
    [
        (tier_rules.Tier.DIAMOND, 1, tier_rules.Tier.PLATINUM),
        (tier_rules.Tier.DIAMOND, 0, tier_rules.Tier.DIAMOND),
        (tier_rules.Tier.GOLD, 4, tier_rules.Tier.UNTIERED),
        (tier_rules.Tier.ELITE, 2, tier_rules.Tier.PLATINUM),
    ],
)
def test_a_tier_drop_lowers_the_tier_never_below_untiered(
    tier: tier_rules.Tier, levels: int, expected: tier_rules.Tier
) -> None:
    assert tier_rules.dropped_tier(tier=tier, levels=levels) == expected


def test_a_dropped_partner_kept_at_its_tier_between_windows_is_not_at_risk_of_it() -> None:
    # Diamond, qualifying for Platinum in March (kept, at risk); a one-level drop -> Platinum.
    outcome = tier_rules.assess_tier(
        points=tier_rules.Points(),
        org_kind=tier_rules.OrgKind.PARTNER,
        prerequisites_met=False,
        current_tier=tier_rules.Tier.DIAMOND,
        run_date=date(2026, 3, 15),
        rule_set=RS_2026,
        tiers_dropped=1,
    )
    assert (outcome.tier, outcome.at_risk) == (tier_rules.Tier.PLATINUM, False)
