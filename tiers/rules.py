"""Pure domain rules for points, tiers, Elite and benefits (SPEC 2, 4, 10).

Plain values in, plain values out: no ORM, no Django, no clock. Every number SPEC calls
data (tier targets, the USD-100 currency table, the 5/3/1 weights, the growth-market
multiplier, the "sold minimum counts sourced only" flag, the Elite and partner-matching
thresholds) arrives in a ``RuleSet``; the database layer builds one from its effective-dated
rows (SPEC's own two are seeded by a migration; the tests hold them as values in
``tiers/tests/spec.py``).

A line's MRR for a month is the kernel's rule (``core.rules.version_for_month``). What a
line earns (``contributing_line``) and whether a partner manages a customer
(``managed_eligible``) are repeated in SQL by the tier run for speed
(``services._PARTNERS_SQL``); ``tiers/tests/test_property_sql_equals_rules.py`` holds the two
equal on generated programs. The what-if panel and the Elite retention call these rules.

Points are exact ``Decimal`` values. A local MRR is divided by its currency's USD-100 amount
as the last step, at 50 significant digits, so the result is exact whenever the division
terminates (every USD, GBP and whole-hundred case) and otherwise carries 50 digits. Before
a comparison with a minimum, or flooring for display, points are *settled* to
``POINTS_RESOLUTION`` (1e-12): six lines of 5/6 of a point must reach 5, not 4.999...98.
The smallest real difference money can make is far larger (one cent of COP managed MRR is
3.3e-8 points; any cent-valued mix of the accepted currencies differs from a whole number of
points by at least 1.6e-12), so settling never changes an outcome that MRR could change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, TypeAlias

from partnerportal.core.errors import InvalidInput
from partnerportal.core.rules import Version, months_back, version_for_month

ZERO = Decimal(0)
HUNDRED = Decimal(100)

#: Working precision (significant digits) of point arithmetic.
POINTS_PRECISION = 50
#: Points are settled to this quantum before comparing or flooring (see module docstring).
POINTS_RESOLUTION = Decimal("1e-12")

#: Re-tiering runs on this day of every month (SPEC 4).
RUN_DAY = 15
#: Months whose run may move a partner down (SPEC 4, the down-tiering windows).
DOWN_TIERING_MONTHS: frozenset[int] = frozenset({1, 7})
#: Managed credit needs eligible activity in this many days up to the as-of date (SPEC 4).
MANAGED_WINDOW_DAYS = 60


# --------------------------------------------------------------------------- enumerations


class Tier(StrEnum):
    """A partner's tier. Ordered by rank (``untiered`` < ... < ``elite``), never by text."""

    UNTIERED = "untiered"
    GOLD = "gold"
    PLATINUM = "platinum"
    DIAMOND = "diamond"
    ELITE = "elite"

    @property
    def rank(self) -> int:
        return TIER_ORDER.index(self)

    # A StrEnum would otherwise compare as text ("untiered" > "platinum").
    def __lt__(self, other: str) -> bool:
        return self.rank < Tier(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Tier(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Tier(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= Tier(other).rank


TIER_ORDER: tuple[Tier, ...] = (
    Tier.UNTIERED,
    Tier.GOLD,
    Tier.PLATINUM,
    Tier.DIAMOND,
    Tier.ELITE,
)
#: Tiers that have point targets in a rule set, lowest first.
TARGET_TIERS: tuple[Tier, ...] = TIER_ORDER[1:]


class OrgKind(StrEnum):
    """Organisation kind (SPEC 2). Providers have no tier."""

    PROVIDER = "provider"
    PARTNER = "partner"


class LineKind(StrEnum):
    """How a line earns points: sold (sourced or assisted) or managed (SPEC 4)."""

    SOURCED = "sourced"
    ASSISTED = "assisted"
    MANAGED = "managed"


class ActivityKind(StrEnum):
    """Known portal activity kinds from the product feed."""

    LOGIN = "login"
    ASSET_CREATED = "asset_created"
    ASSET_EDITED = "asset_edited"


#: Activity kinds that make a partner's management of a customer eligible (SPEC 4).
ELIGIBLE_ACTIVITY_KINDS: frozenset[str] = frozenset(
    {ActivityKind.ASSET_CREATED, ActivityKind.ASSET_EDITED}
)


class Refusal(StrEnum):
    """Why a tier rule or service refused (`InvalidInput.rule` / the API's `rule`): stable
    codes for API clients. People read the refusal's message, never the code."""

    UNSUPPORTED_CURRENCY = "unsupported_currency"
    NO_RULE_SET_IN_FORCE = "no_rule_set_in_force"
    RUN_DATE_IN_FUTURE = "run_date_in_future"
    PROVIDER_HAS_NO_TIER = "provider_has_no_tier"
    INCOMPLETE_RULE_SET = "incomplete_rule_set"
    RULE_SET_IN_USE = "rule_set_in_use"


# --------------------------------------------------------------------------- rule sets


@dataclass(frozen=True)
class TierTarget:
    """The three minimums of one tier (SPEC 4)."""

    tier: Tier
    sold_min: Decimal
    managed_min: Decimal
    total_min: Decimal


def check_targets(tiers: Iterable[Tier]) -> None:
    """Refuse targets unless there is exactly one for each tier from Gold up (SPEC 4)."""
    given = [Tier(t) for t in tiers]
    if sorted(given) != list(TARGET_TIERS):
        raise InvalidInput(
            f"A rule set needs exactly one target for each of: "
            f"{', '.join(TARGET_TIERS)} (got {', '.join(given) or 'none'}).",
            field="targets",
            rule=Refusal.INCOMPLETE_RULE_SET,
        )


@dataclass(frozen=True)
class RuleSet:
    """Every number the tier rules need, effective from a date (SPEC 4, 10).

    ``usd100_amounts`` maps an ISO 4217 code to the local amount worth USD 100 for points.
    ``points_per_usd100`` maps each line kind to its normal-market points per USD 100.
    Retention thresholds and shares are percentages (``Decimal(85)`` is 85 %).
    """

    effective_from: date
    targets: tuple[TierTarget, ...]
    usd100_amounts: Mapping[str, Decimal] = field(hash=False)
    points_per_usd100: Mapping[LineKind, Decimal] = field(hash=False)
    growth_multiplier: Decimal = Decimal(2)
    sold_min_sourced_only: bool = True
    pro_subscription_min_usd: Decimal = Decimal(400)
    elite_min_customer_retention_pct: Decimal = Decimal(85)  # inclusive: >= 85 %
    elite_min_revenue_retention_pct: Decimal = Decimal(85)  # strict: > 85 %
    elite_min_team_certifications: int = 100
    matching_min_sourced_share_pct: Decimal = Decimal(20)
    matching_min_customer_retention_pct: Decimal = Decimal(85)
    matching_min_tier: Tier = Tier.PLATINUM

    def __post_init__(self) -> None:
        check_targets(t.tier for t in self.targets)
        if set(self.points_per_usd100) != set(LineKind):
            raise InvalidInput(
                "A rule set needs points per USD 100 for every kind of line.",
                field="points_per_usd100",
                rule=Refusal.INCOMPLETE_RULE_SET,
            )
        if any(amount <= 0 for amount in self.usd100_amounts.values()):
            raise InvalidInput(
                "Every currency's amount worth USD 100 must be positive.",
                field="usd100_amounts",
                rule=Refusal.INCOMPLETE_RULE_SET,
            )
        # Freeze the mappings so a shared rule set cannot be altered in place.
        object.__setattr__(self, "targets", tuple(sorted(self.targets, key=lambda t: t.tier)))
        object.__setattr__(self, "usd100_amounts", MappingProxyType(dict(self.usd100_amounts)))
        object.__setattr__(
            self, "points_per_usd100", MappingProxyType(dict(self.points_per_usd100))
        )

    def target(self, tier: Tier) -> TierTarget:
        """Return the targets of ``tier`` (which must not be ``untiered``)."""
        for target in self.targets:
            if target.tier == tier:
                return target
        raise ValueError(f"tier {tier!r} has no point targets")


def rule_set_in_force(rule_sets: Iterable[RuleSet], on: date) -> RuleSet:
    """Return the rule set with the latest ``effective_from`` on or before ``on``."""
    candidates = [rs for rs in rule_sets if rs.effective_from <= on]
    if not candidates:
        raise InvalidInput(
            f"No tier rule set is in force on {on.isoformat()}: partner ops add rule sets in "
            "the admin.",
            field="as_of",
            rule=Refusal.NO_RULE_SET_IN_FORCE,
        )
    latest = max(rs.effective_from for rs in candidates)
    in_force = [rs for rs in candidates if rs.effective_from == latest]
    if len(in_force) > 1:
        raise ValueError(f"several tier rule sets take effect on {latest.isoformat()}")
    return in_force[0]


# --------------------------------------------------------------------------- points


#: The context `settle_points` quantizes in (one object, not a local context per call: a run
#: settles points some hundred thousand times).
_SETTLE_CONTEXT = Context(prec=POINTS_PRECISION)


def settle_points(points: Decimal) -> Decimal:
    """Return ``points`` at ``POINTS_RESOLUTION``, the form used for comparing and display."""
    return points.quantize(POINTS_RESOLUTION, rounding=ROUND_HALF_EVEN, context=_SETTLE_CONTEXT)


def display_points(points: Decimal) -> int:
    """Return ``points`` rounded down to whole points, for display only."""
    return int(settle_points(points).to_integral_value(rounding=ROUND_FLOOR))


def usd100_amount(*, currency: str, rule_set: RuleSet) -> Decimal:
    """Return the local amount worth USD 100 in ``currency``; reject unknown currencies."""
    try:
        return rule_set.usd100_amounts[currency]
    except KeyError:
        accepted = ", ".join(sorted(rule_set.usd100_amounts))
        raise InvalidInput(
            f"“{currency[:10]}” is not an accepted currency for points. Accepted: {accepted}.",
            field="currency",
            rule=Refusal.UNSUPPORTED_CURRENCY,
        ) from None


def usd100_units(*, mrr: Decimal, usd100_amount: Decimal) -> Decimal:
    """Return how many "USD 100 equivalents" ``mrr`` is worth (unrounded)."""
    with localcontext() as ctx:
        ctx.prec = POINTS_PRECISION
        return mrr / usd100_amount


def line_points(
    *,
    mrr: Decimal,
    currency: str,
    kind: LineKind,
    growth_market: bool,
    rule_set: RuleSet,
) -> Decimal:
    """Return the exact (unrounded) points ``mrr`` earns as a ``kind`` line."""
    kind = LineKind(kind)
    if mrr < 0:
        raise InvalidInput("MRR cannot be negative.", field="mrr")
    amount = usd100_amount(currency=currency, rule_set=rule_set)
    weight = rule_set.points_per_usd100[kind]
    if growth_market:
        weight *= rule_set.growth_multiplier
    with localcontext() as ctx:
        ctx.prec = POINTS_PRECISION
        # Divide last: 62.5 GBP * 5 / 62.5 is exactly 5, (62.5 / 62.5) * 5 need not be.
        return mrr * weight / amount


@dataclass(frozen=True)
class Points:
    """A partner's points by kind, unrounded."""

    sourced: Decimal = ZERO
    assisted: Decimal = ZERO
    managed: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = POINTS_PRECISION
            return self.sourced + self.assisted + self.managed

    def sold(self, *, sourced_only: bool) -> Decimal:
        """Return the points counted against a sold minimum."""
        if sourced_only:
            return self.sourced
        with localcontext() as ctx:
            ctx.prec = POINTS_PRECISION
            return self.sourced + self.assisted

    def plus(self, *, kind: LineKind, points: Decimal) -> Points:
        """Return these points with ``points`` more of ``kind``."""
        kind = LineKind(kind)  # a plain "sourced" from the database must not be dropped
        with localcontext() as ctx:
            ctx.prec = POINTS_PRECISION
            return Points(
                sourced=self.sourced + (points if kind == LineKind.SOURCED else ZERO),
                assisted=self.assisted + (points if kind == LineKind.ASSISTED else ZERO),
                managed=self.managed + (points if kind == LineKind.MANAGED else ZERO),
            )


def sum_points(lines: Iterable[tuple[LineKind, Decimal]]) -> Points:
    """Return the totals by kind of ``(kind, points)`` contributing lines."""
    result = Points()
    for kind, points in lines:
        result = result.plus(kind=kind, points=points)
    return result


def sold_points(*, points: Points, rule_set: RuleSet) -> Decimal:
    """Return the points the rule set counts against a sold minimum."""
    return points.sold(sourced_only=rule_set.sold_min_sourced_only)


# --------------------------------------------------------------------------- lines

#: Money is shown and recorded in whole cents.
CENT = Decimal("0.01")


def mrr_in_currency(*, mrr: Decimal, currency: str, into: str, rule_set: RuleSet) -> Decimal:
    """Return ``mrr`` of ``currency`` expressed in ``into`` at the rule set's USD-100 amounts
    (not at an exchange rate), rounded half-up to cents: how a year-ago MRR billed in another
    currency is shown beside this month's. Points never use the rounded figure."""
    if currency == into:
        return mrr
    with localcontext() as ctx:
        ctx.prec = POINTS_PRECISION
        converted = (
            mrr
            * usd100_amount(currency=into, rule_set=rule_set)
            / usd100_amount(currency=currency, rule_set=rule_set)
        )
    return converted.quantize(CENT, rounding=ROUND_HALF_UP)


class Billing(Protocol):
    """A line's MRR for one month, in its currency: the `Version` that set it
    (`version_for_month`), or a what-if's figures (`Mrr`)."""

    @property
    def mrr(self) -> Decimal: ...

    @property
    def currency(self) -> str: ...


@dataclass(frozen=True)
class Mrr:
    """An MRR in a currency (ISO 4217)."""

    mrr: Decimal
    currency: str


@dataclass(frozen=True)
class LineFigures:
    """What one customer line earns as one kind of line as of a run (SPEC 4), as the
    assessment records it among its contributing lines.

    ``mrr_year_ago`` (sold lines only; None for managed lines) is the MRR of the same month a
    year earlier expressed in this month's currency (``mrr_in_currency``), 0 when the line was
    not billed then.
    """

    kind: LineKind
    mrr_this_month: Decimal
    mrr_year_ago: Decimal | None
    currency: str
    growth_market: bool
    points: Decimal


def contributing_line(
    *,
    kind: LineKind,
    this_month: Billing | None,
    year_ago: Billing | None = None,
    growth_market: bool,
    rule_set: RuleSet,
) -> LineFigures | None:
    """Return what a line earns as a ``kind`` line, given its MRR this month and the same
    month a year earlier: the versions that set them (``core.rules.version_for_month``; None
    when none did), or a what-if's figures.

    A line contributes only when it is billed this month (a version with MRR above 0):
    otherwise None, and it earns nothing (SPEC 3: MRR 0 when not started or terminated).
    Managed: points on this month's MRR. Sold (sourced or assisted): points on the growth
    over the same month a year earlier, never negative (SPEC 4). Each month's MRR is valued
    in its own currency, by that currency's USD-100 amount: a line re-billed in another
    currency within the year is compared in USD-100 equivalents, so that the growth is what
    points measure and not an artefact of the currency change (docs/decisions.md). The tier
    run's SQL computes exactly this (the property test holds them equal).
    """
    kind = LineKind(kind)
    if this_month is None or this_month.mrr <= 0:
        return None
    now = line_points(
        mrr=this_month.mrr,
        currency=this_month.currency,
        kind=kind,
        growth_market=growth_market,
        rule_set=rule_set,
    )
    if kind == LineKind.MANAGED:
        return LineFigures(
            kind=kind,
            mrr_this_month=this_month.mrr,
            mrr_year_ago=None,
            currency=this_month.currency,
            growth_market=growth_market,
            points=now,
        )
    then = ZERO
    shown_then = ZERO
    if year_ago is not None:
        then = line_points(
            mrr=year_ago.mrr,
            currency=year_ago.currency,
            kind=kind,
            growth_market=growth_market,
            rule_set=rule_set,
        )
        shown_then = mrr_in_currency(
            mrr=year_ago.mrr,
            currency=year_ago.currency,
            into=this_month.currency,
            rule_set=rule_set,
        )
    with localcontext() as ctx:
        ctx.prec = POINTS_PRECISION
        growth = max(ZERO, now - then)
    return LineFigures(
        kind=kind,
        mrr_this_month=this_month.mrr,
        mrr_year_ago=shown_then,
        currency=this_month.currency,
        growth_market=growth_market,
        points=growth,
    )


# --------------------------------------------------------------------------- managed


@dataclass(frozen=True)
class Activity:
    """A partner's activity in a customer's portal, on a calendar date."""

    kind: str
    occurred_on: date


def is_eligible_activity(kind: str) -> bool:
    """Return whether an activity of ``kind`` counts for managed credit.

    Creating or editing assets counts; a login, or any kind not listed, does not.
    """
    return kind in ELIGIBLE_ACTIVITY_KINDS


def managed_window_start(*, as_of: date, window_days: int = MANAGED_WINDOW_DAYS) -> date:
    """Return the first day of the managed-activity window ending on ``as_of``."""
    return as_of - timedelta(days=window_days)


def managed_eligible(
    *,
    activities: Iterable[Activity],
    as_of: date,
    window_days: int = MANAGED_WINDOW_DAYS,
) -> bool:
    """Return whether the partner had eligible activity in the window up to ``as_of``.

    Both bounds are inclusive: an activity on ``as_of - window_days`` (D-60) counts, one on
    D-61 does not, one on ``as_of`` counts, one after ``as_of`` does not (so a run replayed
    for a past date ignores later activity).
    """
    start = managed_window_start(as_of=as_of, window_days=window_days)
    return any(is_eligible_activity(a.kind) and start <= a.occurred_on <= as_of for a in activities)


# --------------------------------------------------------------------------- tiers


def meets_prerequisites(*, has_partner_certification: bool, has_pro_subscription: bool) -> bool:
    """Return whether the program prerequisites for any tier from Gold up are met."""
    return has_partner_certification and has_pro_subscription


def meets_target(*, points: Points, target: TierTarget, rule_set: RuleSet) -> bool:
    """Return whether ``points`` meet all three minimums of ``target``."""
    return (
        settle_points(sold_points(points=points, rule_set=rule_set)) >= target.sold_min
        and settle_points(points.managed) >= target.managed_min
        and settle_points(points.total) >= target.total_min
    )


def points_tier(*, points: Points, rule_set: RuleSet) -> Tier:
    """Return the highest tier whose three minimums ``points`` meet (Elite included)."""
    for target in reversed(rule_set.targets):
        if meets_target(points=points, target=target, rule_set=rule_set):
            return target.tier
    return Tier.UNTIERED


def elite_qualified(*, points: Points, rule_set: RuleSet) -> bool:
    """Return whether ``points`` meet the Elite targets."""
    return meets_target(points=points, target=rule_set.target(Tier.ELITE), rule_set=rule_set)


@dataclass(frozen=True)
class EliteStanding:
    """The non-points Elite conditions. Retentions are percentages (85 means 85 %)."""

    invited: bool
    customer_retention_pct: Decimal
    revenue_retention_pct: Decimal
    team_certifications: int


def elite_eligible(*, standing: EliteStanding | None, rule_set: RuleSet) -> bool:
    """Return whether the non-points Elite conditions hold.

    Invited by partner ops, customer retention >= 85 %, revenue retention strictly > 85 %,
    and >= 100 team certifications (thresholds from the rule set).
    """
    if standing is None:
        return False
    return (
        standing.invited
        and standing.customer_retention_pct >= rule_set.elite_min_customer_retention_pct
        and standing.revenue_retention_pct > rule_set.elite_min_revenue_retention_pct
        and standing.team_certifications >= rule_set.elite_min_team_certifications
    )


#: Retention percentages are rounded *down* to this quantum, and the rounded value is both
#: stored and compared: rounding never lifts a partner over an Elite threshold.
RETENTION_RESOLUTION = Decimal("0.0001")


def retention_pct(*, kept: Decimal | int, base: Decimal | int) -> Decimal:
    """Return ``kept`` as a percentage of ``base``, rounded down to ``RETENTION_RESOLUTION``.

    0 when ``base`` is 0: a partner with nothing to retain a year ago has shown no retention.
    Revenue retention is net of expansion, so it may exceed 100.
    """
    kept, base = Decimal(kept), Decimal(base)
    if base <= 0:
        return ZERO.quantize(RETENTION_RESOLUTION)
    with localcontext() as ctx:
        ctx.prec = POINTS_PRECISION
        return (kept * HUNDRED / base).quantize(RETENTION_RESOLUTION, rounding=ROUND_FLOOR)


@dataclass(frozen=True)
class Retention:
    """Customer and revenue retention of a partner's book, in percent (SPEC 4, Elite)."""

    customer_pct: Decimal
    revenue_pct: Decimal


def book_retention(
    *, book: Iterable[Iterable[Iterable[Version]]], as_of: date, rule_set: RuleSet
) -> Retention:
    """Return the retention of a book of customers taken a year before ``as_of``.

    ``book`` gives each customer as its lines, each line as its versions. Only customers
    billed (any line) in the month a year before count. Customer retention: how many of them
    are still billed in the month of ``as_of``. Revenue retention: their total MRR (all lines)
    in the month of ``as_of`` over the month a year before, each line's MRR valued in USD-100
    units by its own currency, so currencies mix and expansion counts (net retention).
    """
    now_month, then_month = as_of, months_back(as_of, 12)
    customers_then = customers_kept = 0
    units_then = units_now = ZERO
    with localcontext() as ctx:
        ctx.prec = POINTS_PRECISION
        for lines in book:
            then = now = ZERO
            for versions in lines:
                history = tuple(versions)
                for month, is_now in ((then_month, False), (now_month, True)):
                    version = version_for_month(history, month)
                    if version is None:
                        continue
                    units = usd100_units(
                        mrr=version.mrr,
                        usd100_amount=usd100_amount(currency=version.currency, rule_set=rule_set),
                    )
                    if is_now:
                        now += units
                    else:
                        then += units
            if then > 0:
                customers_then += 1
                customers_kept += 1 if now > 0 else 0
                units_then += then
                units_now += now
    return Retention(
        customer_pct=retention_pct(kept=customers_kept, base=customers_then),
        revenue_pct=retention_pct(kept=units_now, base=units_then),
    )


def year_earlier(day: date) -> date:
    """Return the same calendar day a year before ``day`` (29 February gives the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def qualifying_tier(
    *,
    points: Points,
    org_kind: OrgKind,
    prerequisites_met: bool,
    rule_set: RuleSet,
    elite: EliteStanding | None = None,
) -> Tier | None:
    """Return the tier ``points`` qualify for, before the up/down timing rules.

    ``None`` for a provider (providers have no tier); ``untiered`` without the
    prerequisites; Diamond for Elite points without ``elite_eligible``.
    """
    if OrgKind(org_kind) == OrgKind.PROVIDER:
        return None
    if not prerequisites_met:
        return Tier.UNTIERED
    tier = points_tier(points=points, rule_set=rule_set)
    if tier == Tier.ELITE and not elite_eligible(standing=elite, rule_set=rule_set):
        return Tier.DIAMOND
    return tier


@dataclass(frozen=True)
class TierMove:
    """The tier a run assigns and whether the partner is at risk of losing it."""

    tier: Tier
    at_risk: bool


def is_down_tiering_run(run_date: date) -> bool:
    """Return whether a run on ``run_date`` may move partners down (January, July)."""
    return run_date.month in DOWN_TIERING_MONTHS


def next_tier_after_run(*, current_tier: Tier, qualified_tier: Tier, run_date: date) -> TierMove:
    """Return the tier after a run: up at any run, down only at January and July runs.

    Between windows a partner that no longer qualifies keeps its tier, flagged at risk.
    """
    current_tier, qualified_tier = Tier(current_tier), Tier(qualified_tier)
    if qualified_tier >= current_tier or is_down_tiering_run(run_date):
        return TierMove(tier=qualified_tier, at_risk=False)
    return TierMove(tier=current_tier, at_risk=True)


def next_down_tiering_window(after: date) -> date:
    """Return the first down-tiering run date (15 January or 15 July) strictly after ``after``."""
    for year in (after.year, after.year + 1):
        for month in sorted(DOWN_TIERING_MONTHS):
            run = date(year, month, RUN_DAY)
            if run > after:
                return run
    raise AssertionError("unreachable: a window falls within any twelve months")


@dataclass(frozen=True)
class TierGap:
    """What ``points`` still miss for ``tier``, per minimum (each >= 0)."""

    tier: Tier
    sold: Decimal
    managed: Decimal
    total: Decimal

    @property
    def met(self) -> bool:
        return self.sold == 0 and self.managed == 0 and self.total == 0


def gap_to_tier(*, points: Points, tier: Tier, rule_set: RuleSet) -> TierGap:
    """Return what ``points`` miss for each minimum of ``tier``."""
    tier = Tier(tier)
    target = rule_set.target(tier)
    sold = settle_points(sold_points(points=points, rule_set=rule_set))
    return TierGap(
        tier=tier,
        sold=max(ZERO, target.sold_min - sold),
        managed=max(ZERO, target.managed_min - settle_points(points.managed)),
        total=max(ZERO, target.total_min - settle_points(points.total)),
    )


def tier_above(tier: Tier) -> Tier | None:
    """Return the tier just above ``tier``, ``None`` at the top."""
    rank = Tier(tier).rank
    return TIER_ORDER[rank + 1] if rank + 1 < len(TIER_ORDER) else None


def gap_to_next_tier(*, points: Points, current_tier: Tier, rule_set: RuleSet) -> TierGap | None:
    """Return the tier above ``current_tier`` and what ``points`` miss for it; None at Elite."""
    nxt = tier_above(current_tier)
    if nxt is None:
        return None
    return gap_to_tier(points=points, tier=nxt, rule_set=rule_set)


@dataclass(frozen=True)
class TierAssessment:
    """The outcome of re-tiering one organisation on one run date."""

    qualified_tier: Tier | None
    tier: Tier | None
    at_risk: bool
    elite_qualified: bool
    next_tier: TierGap | None


def dropped_tier(*, tier: Tier, levels: int) -> Tier:
    """Return ``tier`` lowered by ``levels`` (a tier-drop consequence, SPEC 10), never below
    ``untiered``."""
    return TIER_ORDER[max(0, Tier(tier).rank - max(0, levels))]


def assess_tier(
    *,
    points: Points,
    org_kind: OrgKind,
    prerequisites_met: bool,
    current_tier: Tier | None,
    run_date: date,
    rule_set: RuleSet,
    elite: EliteStanding | None = None,
    tiers_dropped: int = 0,
) -> TierAssessment:
    """Return the full tier outcome of a run for one organisation.

    A provider gets no tier and no gap. A partner with no tier yet starts from ``untiered``.
    A tier-drop consequence in effect (``tiers_dropped`` levels, SPEC 10) lowers the tier the
    run gives, at any run (not only in the down-tiering windows), for as long as it is in
    effect; the partner is not "at risk" of a tier it has just lost.
    """
    qualified = qualifying_tier(
        points=points,
        org_kind=org_kind,
        prerequisites_met=prerequisites_met,
        rule_set=rule_set,
        elite=elite,
    )
    if qualified is None:
        return TierAssessment(
            qualified_tier=None, tier=None, at_risk=False, elite_qualified=False, next_tier=None
        )
    current = Tier(current_tier or Tier.UNTIERED)
    move = next_tier_after_run(current_tier=current, qualified_tier=qualified, run_date=run_date)
    tier = dropped_tier(tier=move.tier, levels=tiers_dropped)
    return TierAssessment(
        qualified_tier=qualified,
        tier=tier,
        at_risk=move.at_risk and tier == current,
        elite_qualified=elite_qualified(points=points, rule_set=rule_set),
        next_tier=gap_to_next_tier(points=points, current_tier=tier, rule_set=rule_set),
    )


@dataclass(frozen=True)
class WhatIf:
    """The points and qualifying tier after adding one hypothetical line."""

    line: LineFigures | None
    added_points: Decimal
    points: Points
    qualifying_tier: Tier | None
    next_tier: TierGap | None


def what_if(
    *,
    points: Points,
    kind: LineKind,
    this_month: Billing,
    year_ago: Billing | None = None,
    growth_market: bool,
    org_kind: OrgKind,
    prerequisites_met: bool,
    rule_set: RuleSet,
    elite: EliteStanding | None = None,
) -> WhatIf:
    """Return the points and qualifying tier if one more line of ``kind`` were credited,
    billed ``this_month`` (and, for a sold line, ``year_ago`` the same month a year earlier).

    The line earns what ``contributing_line`` says, the rule the run is held to.
    ``next_tier`` is the gap above the resulting qualifying tier (timing rules aside).
    """
    kind = LineKind(kind)
    line = contributing_line(
        kind=kind,
        this_month=this_month,
        year_ago=year_ago,
        growth_market=growth_market,
        rule_set=rule_set,
    )
    added = line.points if line is not None else ZERO
    new_points = points.plus(kind=kind, points=added)
    tier = qualifying_tier(
        points=new_points,
        org_kind=org_kind,
        prerequisites_met=prerequisites_met,
        rule_set=rule_set,
        elite=elite,
    )
    gap = (
        None
        if tier is None
        else gap_to_next_tier(points=new_points, current_tier=tier, rule_set=rule_set)
    )
    return WhatIf(
        line=line, added_points=added, points=new_points, qualifying_tier=tier, next_tier=gap
    )


# --------------------------------------------------------------------------- partner matching


class MatchingGap(StrEnum):
    """Why a partner is not eligible for partner matching (SPEC 10). Stable codes: people read
    the presenters' words."""

    NO_SOLD_MRR = "no_sold_mrr"
    SOURCED_SHARE_BELOW_MINIMUM = "sourced_share_below_minimum"
    NO_VALID_ACCREDITATION = "no_valid_accreditation"
    TIER_BELOW_MINIMUM = "tier_below_minimum"
    RETENTION_BELOW_MINIMUM = "retention_below_minimum"
    NO_SOFTWARE_CERTIFICATION = "no_software_certification"
    NO_IMPLEMENTATION_CERTIFICATION = "no_implementation_certification"


@dataclass(frozen=True)
class MatchingProfile:
    """What partner matching looks at, as of a run (SPEC 10).

    Sold MRR is the growth the run credits on sold lines over the same month a year earlier
    (SPEC 4's sold MRR), in USD-100 units so that currencies add up: ``sourced_sold_units``
    of Partner Sourced lines, ``sold_units`` of all sold lines. ``customer_retention_pct`` is
    the 12-month customer retention, None when it was not needed (the rule reads it only
    when the other conditions of the second way in hold).
    """

    tier: Tier
    sourced_sold_units: Decimal
    sold_units: Decimal
    has_valid_accreditation: bool
    software_certifications: int
    implementation_certifications: int
    customer_retention_pct: Decimal | None = None


@dataclass(frozen=True)
class Matching:
    eligible: bool
    gaps: tuple[MatchingGap, ...]
    sourced_share_pct: Decimal | None


def sourced_share_pct(*, sourced: Decimal, sold: Decimal) -> Decimal | None:
    """The Partner Sourced share of sold MRR in percent, rounded down to 0.0001; None without
    sold MRR."""
    if sold <= 0:
        return None
    return retention_pct(kept=sourced, base=sold)


def needs_matching_retention(*, profile: MatchingProfile, rule_set: RuleSet) -> bool:
    """Whether partner matching must know the partner's retention: only when the sourced
    share holds, it has no valid accreditation, and its tier and certifications allow the
    second way in (so the run computes retention for those partners alone)."""
    gaps = partner_matching(profile=profile, rule_set=rule_set).gaps
    return profile.customer_retention_pct is None and gaps == (
        MatchingGap.NO_VALID_ACCREDITATION,
        MatchingGap.RETENTION_BELOW_MINIMUM,
    )


def partner_matching(*, profile: MatchingProfile, rule_set: RuleSet) -> Matching:
    """Whether a partner is eligible for partner matching (SPEC 10), and why not.

    At least 20 % of its sold MRR over the 12 months Partner Sourced, and either a valid
    accreditation, or Platinum or above with >= 85 % customer retention over 12 months, at least
    one software and one implementation certification (thresholds from the rule set). The
    share is compared cross-multiplied, so exactly 20 % is exact. A retention not computed
    (None) counts as not met.
    """
    share = sourced_share_pct(sourced=profile.sourced_sold_units, sold=profile.sold_units)
    if profile.sold_units <= 0:
        return Matching(False, (MatchingGap.NO_SOLD_MRR,), None)
    if (
        profile.sourced_sold_units * HUNDRED
        < rule_set.matching_min_sourced_share_pct * profile.sold_units
    ):
        return Matching(False, (MatchingGap.SOURCED_SHARE_BELOW_MINIMUM,), share)
    if profile.has_valid_accreditation:
        return Matching(True, (), share)
    gaps: list[MatchingGap] = []
    if Tier(profile.tier) < rule_set.matching_min_tier:
        gaps.append(MatchingGap.TIER_BELOW_MINIMUM)
    if profile.software_certifications < 1:
        gaps.append(MatchingGap.NO_SOFTWARE_CERTIFICATION)
    if profile.implementation_certifications < 1:
        gaps.append(MatchingGap.NO_IMPLEMENTATION_CERTIFICATION)
    if (
        profile.customer_retention_pct is None
        or profile.customer_retention_pct < rule_set.matching_min_customer_retention_pct
    ):
        gaps.append(MatchingGap.RETENTION_BELOW_MINIMUM)
    if gaps:
        # Both ways in are closed: say so, the accreditation first.
        return Matching(False, (MatchingGap.NO_VALID_ACCREDITATION, *gaps), share)
    return Matching(True, (), share)


# --------------------------------------------------------------------------- benefits


class Benefit(StrEnum):
    """The rows of the benefits matrix ("Résumé des avantages par niveau", seeds/004)."""

    # Commission
    DEAL_COMMISSION = "deal_commission"
    UPMARKET_REFERRAL_COMMISSION = "upmarket_referral_commission"
    # Support team
    PARTNER_DEVELOPMENT_MANAGER = "partner_development_manager"
    INBOUND_SPECIALIST = "inbound_specialist"
    EXPERIENCED_SUPPORT_TEAM = "experienced_support_team"
    SALES_SPECIALIST_TEAM = "sales_specialist_team"
    PRESALES_TECHNICAL_EXPERTS = "presales_technical_experts"
    CONSULTING_SERVICES_TEAM = "consulting_services_team"
    # Marketing
    SOLUTIONS_DIRECTORY = "solutions_directory"
    PARTNER_NEWSLETTERS = "partner_newsletters"
    DIGITAL_ASSET_MANAGER = "digital_asset_manager"
    IMPACT_AWARDS = "impact_awards"
    TIER_BADGE = "tier_badge"
    CONTENT_CREATION_PROGRAM = "content_creation_program"
    PARTNER_USER_GROUPS = "partner_user_groups"
    RESOURCE_LIBRARY_LISTING = "resource_library_listing"
    MDF_ELIGIBILITY = "mdf_eligibility"
    PARTNER_GROWTH_ACCELERATOR = "partner_growth_accelerator"
    # Sales
    DEAL_REGISTRATION = "deal_registration"
    DEAL_NOTIFICATIONS = "deal_notifications"
    SHARED_DEALS = "shared_deals"
    DEMO_ACCOUNT = "demo_account"
    ONBOARDING_WAIVER = "onboarding_waiver"
    CUSTOMER_REFERENCE_PROGRAM = "customer_reference_program"
    SALES_TRAINING = "sales_training"
    PARTNER_MATCHING = "partner_matching"
    # Customer service
    PARTNER_DASHBOARD = "partner_dashboard"
    CUSTOMER_ACCESS_MANAGER = "customer_access_manager"
    PARTNER_CUSTOMERS_OBJECT = "partner_customers_object"
    UNIFIED_USAGE_SCORE = "unified_usage_score"
    FREE_PARTNER_SEATS = "free_partner_seats"
    DATA_MIGRATION_TOOL = "data_migration_tool"
    # Development
    PARTNER_ACADEMY_TRAINING = "partner_academy_training"
    PARTNER_RESOURCE_PORTAL = "partner_resource_portal"
    PRODUCT_LAUNCH_PREVIEWS = "product_launch_previews"
    SALES_PRODUCT_TRAINING = "sales_product_training"
    PRIVATE_TRAINING = "private_training"
    TECHNICAL_CONSULTING = "technical_consulting"
    # Community and events
    PARTNER_SLACK_GROUP = "partner_slack_group"
    PARTNER_EVENTS = "partner_events"
    PARTNER_FACEBOOK_GROUP = "partner_facebook_group"
    PARTNER_ADVISORY_COUNCIL = "partner_advisory_council"


#: A column of the matrix: providers (``OrgKind.PROVIDER``) or a partner tier.
BenefitHolder: TypeAlias = Tier | OrgKind

_EVERYONE: frozenset[BenefitHolder] = frozenset({OrgKind.PROVIDER, *TIER_ORDER})
_PARTNERS: frozenset[BenefitHolder] = frozenset(TIER_ORDER)
_GOLD_UP: frozenset[BenefitHolder] = frozenset(t for t in TIER_ORDER if t >= Tier.GOLD)
_PLATINUM_UP: frozenset[BenefitHolder] = frozenset(t for t in TIER_ORDER if t >= Tier.PLATINUM)
_ELITE: frozenset[BenefitHolder] = frozenset({Tier.ELITE})

#: Who gets each benefit (seeds/004). The partner-matching row is the matrix's summary (the
#: tiers that may be eligible); ``partner_matching`` decides for a partner (SPEC 10).
BENEFITS: Mapping[Benefit, frozenset[BenefitHolder]] = MappingProxyType(
    {
        Benefit.DEAL_COMMISSION: _EVERYONE,
        Benefit.UPMARKET_REFERRAL_COMMISSION: _PLATINUM_UP,
        Benefit.PARTNER_DEVELOPMENT_MANAGER: _PARTNERS,
        Benefit.INBOUND_SPECIALIST: _EVERYONE,
        Benefit.EXPERIENCED_SUPPORT_TEAM: _PARTNERS,
        Benefit.SALES_SPECIALIST_TEAM: _PARTNERS,
        Benefit.PRESALES_TECHNICAL_EXPERTS: _PARTNERS,
        Benefit.CONSULTING_SERVICES_TEAM: _ELITE,
        Benefit.SOLUTIONS_DIRECTORY: _EVERYONE,
        Benefit.PARTNER_NEWSLETTERS: _EVERYONE,
        Benefit.DIGITAL_ASSET_MANAGER: _EVERYONE,
        Benefit.IMPACT_AWARDS: _PARTNERS,
        Benefit.TIER_BADGE: _PARTNERS,
        Benefit.CONTENT_CREATION_PROGRAM: _PARTNERS,
        Benefit.PARTNER_USER_GROUPS: _PARTNERS,
        Benefit.RESOURCE_LIBRARY_LISTING: _PLATINUM_UP,
        Benefit.MDF_ELIGIBILITY: _PLATINUM_UP,
        Benefit.PARTNER_GROWTH_ACCELERATOR: _PLATINUM_UP,
        Benefit.DEAL_REGISTRATION: _EVERYONE,
        Benefit.DEAL_NOTIFICATIONS: _EVERYONE,
        Benefit.SHARED_DEALS: _EVERYONE,
        Benefit.DEMO_ACCOUNT: _PARTNERS,
        Benefit.ONBOARDING_WAIVER: _PARTNERS,
        Benefit.CUSTOMER_REFERENCE_PROGRAM: _PARTNERS,
        Benefit.SALES_TRAINING: _PARTNERS,
        Benefit.PARTNER_MATCHING: _PLATINUM_UP,
        Benefit.PARTNER_DASHBOARD: _EVERYONE,
        Benefit.CUSTOMER_ACCESS_MANAGER: _EVERYONE,
        Benefit.PARTNER_CUSTOMERS_OBJECT: _EVERYONE,
        Benefit.UNIFIED_USAGE_SCORE: _PARTNERS,
        Benefit.FREE_PARTNER_SEATS: _EVERYONE,
        Benefit.DATA_MIGRATION_TOOL: _EVERYONE,
        Benefit.PARTNER_ACADEMY_TRAINING: _EVERYONE,
        Benefit.PARTNER_RESOURCE_PORTAL: _EVERYONE,
        Benefit.PRODUCT_LAUNCH_PREVIEWS: _PLATINUM_UP,
        Benefit.SALES_PRODUCT_TRAINING: _EVERYONE,
        Benefit.PRIVATE_TRAINING: _EVERYONE,
        Benefit.TECHNICAL_CONSULTING: _EVERYONE,
        Benefit.PARTNER_SLACK_GROUP: _EVERYONE,
        Benefit.PARTNER_EVENTS: _PARTNERS,
        Benefit.PARTNER_FACEBOOK_GROUP: _PARTNERS,
        Benefit.PARTNER_ADVISORY_COUNCIL: _GOLD_UP,
    }
)

#: Revenue-share duration of the deal commission, in months (seeds/004 matrix, SPEC 7).
DEAL_COMMISSION_MONTHS: Mapping[OrgKind, int] = MappingProxyType(
    {OrgKind.PROVIDER: 12, OrgKind.PARTNER: 36}
)


def benefits_for(
    *, org_kind: OrgKind, tier: Tier | None, matching_eligible: bool | None = None
) -> frozenset[Benefit]:
    """Return the benefits of a provider, or of a partner at ``tier``.

    The matrix's partner-matching row says which tiers may be eligible; whether a partner is
    is ``partner_matching``'s answer (SPEC 10): ``matching_eligible=False`` withholds it,
    None (not known, e.g. a tier's column) leaves the matrix's answer."""
    holder: BenefitHolder
    if OrgKind(org_kind) == OrgKind.PROVIDER:
        holder = OrgKind.PROVIDER
    elif tier is None:
        raise ValueError("a partner's benefits depend on its tier")
    else:
        holder = Tier(tier)
    held = frozenset(b for b, holders in BENEFITS.items() if holder in holders)
    if matching_eligible is False:
        return held - {Benefit.PARTNER_MATCHING}
    return held
