"""What the tier pages show and how: wording keyed by the rules' enums, the progress bars,
the benefits matrix, the points chart's geometry, the what-if outcome, the partners list's
rows and the lines CSV's cells.

No query (the selectors read) and no program rule (the rules decide): plain values in, plain
values out. People read words, never codes: every member of each enum below has words here
(`tiers/tests/test_presenters.py` checks it), and pages compare enum members, never strings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, NamedTuple

from . import rules

if TYPE_CHECKING:  # types only: this module runs no query
    from .models import TierAssessment
    from .selectors import ContributingLine

Benefit = rules.Benefit
Tier = rules.Tier
LineKind = rules.LineKind

# --- Words ------------------------------------------------------------------------------------

TIER_WORDS: Final[Mapping[Tier, str]] = MappingProxyType(
    {
        Tier.UNTIERED: "Untiered",
        Tier.GOLD: "Gold",
        Tier.PLATINUM: "Platinum",
        Tier.DIAMOND: "Diamond",
        Tier.ELITE: "Elite",
    }
)

LINE_KIND_WORDS: Final[Mapping[LineKind, str]] = MappingProxyType(
    {
        LineKind.SOURCED: "Partner Sourced",
        LineKind.ASSISTED: "Partner Assisted",
        LineKind.MANAGED: "Managed",
    }
)


class Figure(StrEnum):
    """The four figures of a partner's points (each kind, and their total)."""

    SOURCED = LineKind.SOURCED.value
    ASSISTED = LineKind.ASSISTED.value
    MANAGED = LineKind.MANAGED.value
    TOTAL = "total"


FIGURE_WORDS: Final[Mapping[Figure, str]] = MappingProxyType(
    {
        Figure.SOURCED: LINE_KIND_WORDS[LineKind.SOURCED],
        Figure.ASSISTED: LINE_KIND_WORDS[LineKind.ASSISTED],
        Figure.MANAGED: LINE_KIND_WORDS[LineKind.MANAGED],
        Figure.TOTAL: "Total",
    }
)


class Minimum(StrEnum):
    """The three minimums of a tier (SPEC 4)."""

    SOLD = "sold"
    MANAGED = "managed"
    TOTAL = "total"


MINIMUM_WORDS: Final[Mapping[Minimum, str]] = MappingProxyType(
    {Minimum.SOLD: "Sold", Minimum.MANAGED: "Managed", Minimum.TOTAL: "Total"}
)
#: What the sold minimum counts, by the rule set's `sold_min_sourced_only` flag.
SOLD_COUNTS_WORDS: Final[Mapping[bool, str]] = MappingProxyType(
    {True: "Partner Sourced", False: "Sourced + Assisted"}
)


class Move(StrEnum):
    """Where a figure or a tier went, compared with before."""

    UP = "up"
    SAME = "same"
    DOWN = "down"


@dataclass(frozen=True)
class Badge:
    css: str
    words: str


#: How a what-if tier compares with the current one (`{}` is the current tier's words).
WHAT_IF_MOVE_WORDS: Final[Mapping[Move, Badge]] = MappingProxyType(
    {
        Move.UP: Badge("ok", "up from {}"),
        Move.SAME: Badge("", "same as now"),
        Move.DOWN: Badge("warn", "below {}"),
    }
)


@dataclass(frozen=True)
class TrendWords:
    css: str
    symbol: str
    aria: str


#: How a partner's total points moved between its last two assessments.
TREND_WORDS: Final[Mapping[Move, TrendWords]] = MappingProxyType(
    {
        Move.UP: TrendWords("trend-up", "▲", "Up"),
        Move.SAME: TrendWords("", "=", "Unchanged"),
        Move.DOWN: TrendWords("trend-down", "▼", "Down"),
    }
)


def move(after: Decimal | int, before: Decimal | int) -> Move:
    """How a figure (or a tier's rank) moved from `before` to `after`."""
    if after > before:
        return Move.UP
    if after < before:
        return Move.DOWN
    return Move.SAME


def tier_words(tier: str) -> str:
    """The words of a tier, from its enum member or the value a row stores."""
    return TIER_WORDS[Tier(tier)]


#: The benefits matrix of seeds/004 ("Résumé des avantages par niveau"), in its order and
#: groups, in English. Who gets what is `rules.BENEFITS`; this is only the wording.
BENEFIT_GROUPS: tuple[tuple[str, tuple[tuple[Benefit, str], ...]], ...] = (
    (
        "Commission",
        (
            (Benefit.DEAL_COMMISSION, "Commission on deals (20 %, for up to 3 years)"),
            (
                Benefit.UPMARKET_REFERRAL_COMMISSION,
                "Upmarket referral commission (20 % for 1 year, deals over USD 3,000)",
            ),
        ),
    ),
    (
        "Support team",
        (
            (Benefit.PARTNER_DEVELOPMENT_MANAGER, "Partner development manager"),
            (Benefit.INBOUND_SPECIALIST, "Inbound specialist"),
            (Benefit.EXPERIENCED_SUPPORT_TEAM, "Access to the experienced support team"),
            (Benefit.SALES_SPECIALIST_TEAM, "Sales specialist team"),
            (Benefit.PRESALES_TECHNICAL_EXPERTS, "Presales technical experts"),
            (Benefit.CONSULTING_SERVICES_TEAM, "Consulting services team"),
        ),
    ),
    (
        "Marketing",
        (
            (Benefit.SOLUTIONS_DIRECTORY, "Listing in the solutions directory"),
            (Benefit.PARTNER_NEWSLETTERS, "Partner newsletters"),
            (Benefit.DIGITAL_ASSET_MANAGER, "Partner digital asset manager"),
            (Benefit.IMPACT_AWARDS, "Impact Awards"),
            (Benefit.TIER_BADGE, "Partner tier badge"),
            (Benefit.CONTENT_CREATION_PROGRAM, "Content creation program"),
            (Benefit.PARTNER_USER_GROUPS, "Partner user groups"),
            (Benefit.RESOURCE_LIBRARY_LISTING, "Listing in the resource library"),
            (Benefit.MDF_ELIGIBILITY, "Marketing development funds (MDF) eligibility"),
            (Benefit.PARTNER_GROWTH_ACCELERATOR, "Partner Growth Accelerator (PGA) eligibility"),
        ),
    ),
    (
        "Sales",
        (
            (Benefit.DEAL_REGISTRATION, "Deal registration"),
            (Benefit.DEAL_NOTIFICATIONS, "Deal notifications"),
            (Benefit.SHARED_DEALS, "Shared deals"),
            (Benefit.DEMO_ACCOUNT, "Demo account"),
            (Benefit.ONBOARDING_WAIVER, "Onboarding waiver for your customers"),
            (Benefit.CUSTOMER_REFERENCE_PROGRAM, "Customer reference program"),
            (Benefit.SALES_TRAINING, "Sales training and enablement"),
            (Benefit.PARTNER_MATCHING, "Partner matching eligibility"),
        ),
    ),
    (
        "Customer service",
        (
            (Benefit.PARTNER_DASHBOARD, "Partner dashboard"),
            (Benefit.CUSTOMER_ACCESS_MANAGER, "Customer access manager"),
            (Benefit.PARTNER_CUSTOMERS_OBJECT, "Partner customers CRM object"),
            (Benefit.UNIFIED_USAGE_SCORE, "Unified usage score"),
            (Benefit.FREE_PARTNER_SEATS, "Free partner seats"),
            (Benefit.DATA_MIGRATION_TOOL, "Data migration tool"),
        ),
    ),
    (
        "Development",
        (
            (Benefit.PARTNER_ACADEMY_TRAINING, "Partner-only Academy training"),
            (Benefit.PARTNER_RESOURCE_PORTAL, "Partner resource portal"),
            (Benefit.PRODUCT_LAUNCH_PREVIEWS, "Product launch previews"),
            (Benefit.SALES_PRODUCT_TRAINING, "Sales and product training resources"),
            (Benefit.PRIVATE_TRAINING, "Private training"),
            (Benefit.TECHNICAL_CONSULTING, "Technical consulting"),
        ),
    ),
    (
        "Community and events",
        (
            (Benefit.PARTNER_SLACK_GROUP, "Private partner Slack group"),
            (Benefit.PARTNER_EVENTS, "Partner events"),
            (Benefit.PARTNER_FACEBOOK_GROUP, "Private partner Facebook group"),
            (
                Benefit.PARTNER_ADVISORY_COUNCIL,
                "Eligibility to apply to the partner advisory council",
            ),
        ),
    ),
)
BENEFIT_WORDS: Final[Mapping[Benefit, str]] = MappingProxyType(
    {benefit: words for _, rows in BENEFIT_GROUPS for benefit, words in rows}
)


# --- Dates and figures -------------------------------------------------------------------------


def next_run_date(today: date) -> date:
    """Return the date of the next monthly run on or after `today` (it runs late on the 15th)."""
    this_month = today.replace(day=rules.RUN_DAY)
    if today <= this_month:
        return this_month
    if today.month == 12:
        return date(today.year + 1, 1, rules.RUN_DAY)
    return date(today.year, today.month + 1, rules.RUN_DAY)


def whole_missing(missing: Decimal) -> int:
    """Points still missing, rounded *up* to whole points (consistent with floored points)."""
    return int(rules.settle_points(missing).to_integral_value(rounding=ROUND_CEILING))


class FigureValue(NamedTuple):
    """One figure as a page shows it (templates unpack it as key, label, value)."""

    key: Figure
    label: str
    value: int


def figures(points: rules.Points) -> list[FigureValue]:
    """The four figures, rounded down to whole points (SPEC 4)."""
    values = {
        Figure.SOURCED: points.sourced,
        Figure.ASSISTED: points.assisted,
        Figure.MANAGED: points.managed,
        Figure.TOTAL: points.total,
    }
    return [
        FigureValue(key=key, label=FIGURE_WORDS[key], value=rules.display_points(value))
        for key, value in values.items()
    ]


def stored_points(assessment: TierAssessment) -> rules.Points:
    """The points an assessment stores (settled), as a `Points` value."""
    return rules.Points(
        sourced=assessment.sourced_points,
        assisted=assessment.assisted_points,
        managed=assessment.managed_points,
    )


# --- Progress bars -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One minimum of a tier and the points counted against it."""

    key: str
    label: str
    points: int
    minimum: Decimal
    missing: int

    @property
    def met(self) -> bool:
        return self.missing == 0

    @property
    def percent(self) -> int:
        if self.minimum <= 0:
            return 100
        return min(100, math.floor(Decimal(self.points) * 100 / self.minimum))

    @property
    def value_now(self) -> int:
        return min(self.points, math.floor(self.minimum))


def bars(*, points: rules.Points, tier: Tier, rule_set: rules.RuleSet) -> list[Bar]:
    """The three minimums of `tier` and where `points` stand against each."""
    target = rule_set.target(tier)
    gap = rules.gap_to_tier(points=points, tier=tier, rule_set=rule_set)
    sold_counts = SOLD_COUNTS_WORDS[rule_set.sold_min_sourced_only]
    rows = (
        (
            Minimum.SOLD,
            f"{MINIMUM_WORDS[Minimum.SOLD]} ({sold_counts})",
            rules.sold_points(points=points, rule_set=rule_set),
            target.sold_min,
            gap.sold,
        ),
        (
            Minimum.MANAGED,
            MINIMUM_WORDS[Minimum.MANAGED],
            points.managed,
            target.managed_min,
            gap.managed,
        ),
        (Minimum.TOTAL, MINIMUM_WORDS[Minimum.TOTAL], points.total, target.total_min, gap.total),
    )
    return [
        Bar(
            key=key.value,
            label=label,
            points=rules.display_points(counted),
            minimum=minimum,
            missing=whole_missing(missing),
        )
        for key, label, counted, minimum, missing in rows
    ]


# --- Partner matching (SPEC 10) --------------------------------------------------------------

MATCHING_GAP_WORDS: Final[Mapping[rules.MatchingGap, str]] = MappingProxyType(
    {
        rules.MatchingGap.NO_SOLD_MRR: "No sold MRR over the last 12 months, so no Partner "
        "Sourced share: at least {share} % of it must be Partner Sourced.",
        rules.MatchingGap.SOURCED_SHARE_BELOW_MINIMUM: "{actual} % of your sold MRR over the "
        "last 12 months is Partner Sourced; at least {share} % is needed.",
        rules.MatchingGap.NO_VALID_ACCREDITATION: "No valid accreditation. Without one, partner "
        "matching needs all of the following:",
        rules.MatchingGap.TIER_BELOW_MINIMUM: "a tier of {tier} or above;",
        rules.MatchingGap.RETENTION_BELOW_MINIMUM: "customer retention of at least {retention} % "
        "over the last 12 months;",
        rules.MatchingGap.NO_SOFTWARE_CERTIFICATION: "at least one software certification in "
        "your team;",
        rules.MatchingGap.NO_IMPLEMENTATION_CERTIFICATION: "at least one implementation "
        "certification in your team.",
    }
)


@dataclass(frozen=True)
class MatchingView:
    """Partner matching as the latest run decided it, in words."""

    eligible: bool
    reasons: list[str]


def matching(assessment: TierAssessment, rule_set: rules.RuleSet) -> MatchingView | None:
    """What the tier page says of partner matching; None for an assessment made before the
    run decided it."""
    if assessment.matching_eligible is None:
        return None
    share = assessment.sourced_share_pct
    values = {
        "share": f"{rule_set.matching_min_sourced_share_pct.normalize():f}",
        "actual": f"{share.quantize(Decimal('0.1')).normalize():f}" if share is not None else "0",
        "tier": TIER_WORDS[rule_set.matching_min_tier],
        "retention": f"{rule_set.matching_min_customer_retention_pct.normalize():f}",
    }
    return MatchingView(
        eligible=assessment.matching_eligible,
        reasons=[
            MATCHING_GAP_WORDS[rules.MatchingGap(code)].format(**values)
            for code in assessment.matching_gaps
        ],
    )


# --- Benefits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenefitRow:
    label: str
    held: bool
    by_tier: list[bool]


@dataclass(frozen=True)
class Benefits:
    """The benefits matrix by group, what the current tier holds and what the next adds."""

    groups: list[tuple[str, list[BenefitRow]]]
    held_count: int
    total: int
    upcoming: list[str]


def benefits(current: Tier, nxt: Tier | None, *, matching_eligible: bool | None = None) -> Benefits:
    """The matrix; what the partner holds takes partner matching from its latest assessment
    (`rules.partner_matching`), not from the tier's column alone."""
    partner = rules.OrgKind.PARTNER
    by_tier = {t: rules.benefits_for(org_kind=partner, tier=t) for t in rules.TIER_ORDER}
    held = rules.benefits_for(org_kind=partner, tier=current, matching_eligible=matching_eligible)
    upcoming = by_tier[nxt] - held if nxt is not None else frozenset()
    return Benefits(
        groups=[
            (
                group,
                [
                    BenefitRow(
                        label=label,
                        held=benefit in held,
                        by_tier=[benefit in by_tier[t] for t in rules.TIER_ORDER],
                    )
                    for benefit, label in rows
                ],
            )
            for group, rows in BENEFIT_GROUPS
        ],
        held_count=len(held),
        total=len(rules.BENEFITS),
        upcoming=[label for _, rows in BENEFIT_GROUPS for b, label in rows if b in upcoming],
    )


def tier_columns() -> list[tuple[str, str]]:
    """The matrix's columns: each tier's value (for styles) and words."""
    return [(t.value, TIER_WORDS[t]) for t in rules.TIER_ORDER]


# --- Chart (inline SVG coordinates, so the page needs no script) -------------------------------

CHART_WIDTH, CHART_HEIGHT = 680, 240
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 52, 36, 16, 30
#: The series drawn, in drawing order.
CHART_SERIES: tuple[Figure, ...] = (Figure.TOTAL, Figure.SOURCED, Figure.ASSISTED, Figure.MANAGED)


@dataclass(frozen=True)
class Dot:
    x: int
    y: int
    title: str


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    points: str
    dots: list[Dot]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    y_ticks: list[tuple[int, int]]
    x_labels: list[tuple[int, str]]
    series: list[Series]
    threshold: tuple[int, str] | None
    summary: str


def nice_scale(top: int) -> tuple[int, int]:
    """Return (step, ceiling) for a y axis from 0 to at least `top`, in 5 steps or fewer."""
    top = max(top, 10)
    magnitude = 10 ** max(0, len(str(top)) - 2)
    for factor in (1, 2, 5, 10, 20, 50):
        step = factor * magnitude
        if step * 5 >= top:
            return step, math.ceil(top / step) * step
    raise AssertionError("unreachable: 50 x magnitude x 5 covers any top")


def chart(
    history: Sequence[TierAssessment], threshold: tuple[Tier, Decimal] | None
) -> Chart | None:
    """Points over time, oldest first, with a tier's total minimum as a dashed line."""
    if not history:
        return None
    ordered = list(reversed(history))
    shown = [{f.key: f.value for f in figures(stored_points(a))} for a in ordered]
    values = {figure: [each[figure] for each in shown] for figure in CHART_SERIES}
    top = max(values[Figure.TOTAL] + ([math.ceil(threshold[1])] if threshold else []))
    step, ceiling = nice_scale(top)
    plot_w = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    plot_h = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM

    def x_at(i: int) -> int:
        if len(ordered) == 1:
            return CHART_LEFT + plot_w // 2
        return CHART_LEFT + round(i * plot_w / (len(ordered) - 1))

    def y_at(v: float) -> int:
        return CHART_TOP + plot_h - round(v * plot_h / ceiling)

    series = []
    for figure in CHART_SERIES:
        label = FIGURE_WORDS[figure]
        coords = [(x_at(i), y_at(v)) for i, v in enumerate(values[figure])]
        series.append(
            Series(
                key=figure.value,
                label=label,
                points=" ".join(f"{x},{y}" for x, y in coords),
                dots=[
                    Dot(x, y, f"{a.as_of:%d %b %Y}: {v} {label.lower()} points")
                    for (x, y), v, a in zip(coords, values[figure], ordered, strict=True)
                ],
            )
        )
    every = max(1, math.ceil(len(ordered) / 6))
    x_labels = [
        (x_at(i), f"{a.as_of:%b %Y}")
        for i, a in enumerate(ordered)
        if i % every == 0 or i == len(ordered) - 1
    ]
    first, last = ordered[0], ordered[-1]
    totals = values[Figure.TOTAL]
    summary = (
        f"Total points from {first.as_of:%d %b %Y} ({totals[0]}) "
        f"to {last.as_of:%d %b %Y} ({totals[-1]}), {len(ordered)} assessment"
        f"{'s' if len(ordered) != 1 else ''}."
    )
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        left=CHART_LEFT,
        right=CHART_WIDTH - CHART_RIGHT,
        top=CHART_TOP,
        bottom=CHART_TOP + plot_h,
        y_ticks=[(y_at(v), v) for v in range(0, ceiling + 1, step)],
        x_labels=x_labels,
        series=series,
        threshold=(
            (
                y_at(float(threshold[1])),
                f"{TIER_WORDS[threshold[0]]} total minimum ({threshold[1]:.0f})",
            )
            if threshold
            else None
        ),
        summary=summary,
    )


# --- What-if -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIfOutcome:
    kind_label: str
    mrr: Decimal
    currency: str
    mrr_year_ago: Decimal | None  # as billed a year ago, in `currency_year_ago`
    currency_year_ago: str | None
    year_ago_shown: Decimal | None  # in this month's currency (None unless re-billed)
    country: str
    growth_market: bool
    added_points: Decimal
    added_display: int
    kinds: list[FigureValue]
    tier: Tier
    tier_label: str
    move: Badge
    elite_capped: bool
    next_tier_label: str | None
    bars: list[Bar]


def what_if_outcome(
    result: rules.WhatIf,
    *,
    kind: LineKind,
    this_month: rules.Mrr,
    year_ago: rules.Mrr | None,
    country: str,
    growth_market: bool,
    current: Tier,
    rule_set: rules.RuleSet,
) -> WhatIfOutcome:
    """What the what-if panel says of a result of `rules.what_if`."""
    if result.qualifying_tier is None:
        raise AssertionError("a partner always qualifies for some tier")
    tier = result.qualifying_tier
    gap = result.next_tier
    badge = WHAT_IF_MOVE_WORDS[move(tier.rank, current.rank)]
    re_billed = year_ago is not None and year_ago.currency != this_month.currency
    return WhatIfOutcome(
        kind_label=LINE_KIND_WORDS[kind],
        mrr=this_month.mrr,
        currency=this_month.currency,
        mrr_year_ago=year_ago.mrr if year_ago is not None else None,
        currency_year_ago=year_ago.currency if year_ago is not None else None,
        year_ago_shown=(result.line.mrr_year_ago if re_billed and result.line else None),
        country=country,
        growth_market=growth_market,
        added_points=result.added_points,
        added_display=rules.display_points(result.added_points),
        kinds=figures(result.points),
        tier=tier,
        tier_label=TIER_WORDS[tier],
        move=Badge(badge.css, badge.words.format(TIER_WORDS[current])),
        elite_capped=tier != Tier.ELITE
        and rules.elite_qualified(points=result.points, rule_set=rule_set),
        next_tier_label=TIER_WORDS[gap.tier] if gap is not None else None,
        bars=(bars(points=result.points, tier=gap.tier, rule_set=rule_set) if gap else []),
    )


# --- Partners list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerRow:
    pk: int
    name: str
    tier: str
    tier_label: str
    as_of: date | None
    total: int | None
    previous: int | None
    trend: TrendWords | None  # None with fewer than two assessments
    change: str
    at_risk: bool


def partner_row(
    *,
    pk: int,
    name: str,
    tier: str,
    as_of: date | None,
    latest_total: Decimal | None,
    previous_total: Decimal | None,
    at_risk: bool | None,
) -> PartnerRow:
    """One partner of the list: its tier, latest total and how it moved since the one before."""
    total = rules.display_points(latest_total) if latest_total is not None else None
    before = rules.display_points(previous_total) if previous_total is not None else None
    trend = None
    change = ""
    if latest_total is not None and previous_total is not None:
        moved = move(latest_total, previous_total)
        trend = TREND_WORDS[moved]
        if total is not None and before is not None:
            delta = total - before
            change = {
                Move.UP: f"+{delta} from {before}",
                Move.DOWN: f"{delta} from {before}",
                Move.SAME: "unchanged",
            }[moved]
    return PartnerRow(
        pk=pk,
        name=name,
        tier=tier,
        tier_label=tier_words(tier),
        as_of=as_of,
        total=total,
        previous=before,
        trend=trend,
        change=change,
        at_risk=bool(at_risk),
    )


# --- Lines -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRow:
    line: ContributingLine
    kind_label: str
    points: int


def line_rows(lines: Iterable[ContributingLine]) -> list[LineRow]:
    return [
        LineRow(
            line=line,
            kind_label=LINE_KIND_WORDS[LineKind(line.kind)],
            points=rules.display_points(line.points),
        )
        for line in lines
    ]


CSV_HEADER = (
    "as_of",
    "customer_domain",
    "customer_name",
    "customer_country",
    "product_line",
    "product_line_name",
    "kind",
    "mrr_this_month",
    "mrr_year_ago",
    "currency",
    "growth_market",
    "points",
)


def _cell(text: str) -> str:
    """Neutralise a text cell a spreadsheet would run as a formula (customer names come from
    partners' registrations)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_cells(as_of: date, line: ContributingLine) -> tuple[str, ...]:
    """One line of the CSV: exact points (settled to 1e-12), not the page's whole points."""
    return (
        as_of.isoformat(),
        _cell(line.customer.domain),
        _cell(line.customer.name),
        line.customer.country_id,
        line.product_line_id,
        _cell(line.product_line.name),
        line.kind,
        f"{line.mrr_this_month:.2f}",
        "" if line.mrr_year_ago is None else f"{line.mrr_year_ago:.2f}",
        line.currency,
        "yes" if line.growth_market else "no",
        f"{rules.settle_points(line.points):.12f}",
    )
