"""Tier pages: a partner's tier page (its home page), the lines CSV, and the PDM/ops list.

Thin: the caller's reach comes from `access` (a partner outside it is a 404, a visible one
whose tier the caller may not read is a 403), the figures from the latest assessment, and
every tier, gap and what-if from the pure rules in `rules`. Each page reads a fixed number
of queries whatever the number of lines, assessments or partners (see the page reads below).
Points are compared unrounded and shown rounded down to whole points (SPEC 4).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from partnerportal.core import access
from partnerportal.core.access import Action, acting_user
from partnerportal.core.models import Country, Currency, Organisation, ProductLine, User

from . import rules, selectors
from .forms import LineFilterForm, WhatIfForm
from .models import LineKind, TierAssessment
from .permissions import TierAction

LINES_PAGE_SIZE = 50
PARTNERS_PAGE_SIZE = 50
#: The chart and history table show this many assessments (two years of monthly runs).
HISTORY_SIZE = 24

Benefit = rules.Benefit

#: The benefits matrix of seeds/004 ("Résumé des avantages par niveau"), in its order and
#: groups, in English. Who gets what is `rules.BENEFITS`; this is only the wording.
BENEFIT_GROUPS: tuple[tuple[str, tuple[tuple[rules.Benefit, str], ...]], ...] = (
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

KIND_WORDS = dict(LineKind.choices)


def tier_label(tier: str) -> str:
    return Organisation.Tier(tier).label


# --- Access ------------------------------------------------------------------------------------


def _tiered_partner(user: User, pk: object) -> Organisation:
    """Return partner `pk` if `user` sees it (else 404) and may read its tier (else 403).

    Providers have no tier: a 404, as in the API."""
    organisation = access.get_visible_organisation(user, pk)
    access.require(user, TierAction.VIEW, organisation)
    if organisation.kind != Organisation.Kind.PARTNER:
        raise Http404("Providers have no tier.")
    return organisation


def _require_tier_list(user: User) -> None:
    """The partners list is for vendor staff who follow tiers: PDMs and partner ops."""
    access.require(user, Action.STAFF_LISTS_VIEW)
    access.require(user, TierAction.VIEW)


# --- Page reads (each a fixed number of queries) -----------------------------------------------


def _history(organisation: Organisation) -> list[TierAssessment]:
    """The latest assessments, newest first, with their rule sets' targets (2 queries)."""
    return list(
        selectors.organisation_assessments(organisation).prefetch_related("rule_set__targets")[
            :HISTORY_SIZE
        ]
    )


def _product_line_choices() -> list[tuple[str, str]]:
    return list(ProductLine.objects.order_by("name").values_list("code", "name"))


# --- Presentation values -----------------------------------------------------------------------


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


def _bars(*, points: rules.Points, tier: rules.Tier, rule_set: rules.RuleSet) -> list[Bar]:
    target = rule_set.target(tier)
    gap = rules.gap_to_tier(points=points, tier=tier, rule_set=rule_set)
    sold_words = (
        "Sold (Partner Sourced)" if rule_set.sold_min_sourced_only else "Sold (Sourced + Assisted)"
    )
    return [
        Bar(
            key="sold",
            label=sold_words,
            points=rules.display_points(rules.sold_points(points=points, rule_set=rule_set)),
            minimum=target.sold_min,
            missing=whole_missing(gap.sold),
        ),
        Bar(
            key="managed",
            label="Managed",
            points=rules.display_points(points.managed),
            minimum=target.managed_min,
            missing=whole_missing(gap.managed),
        ),
        Bar(
            key="total",
            label="Total",
            points=rules.display_points(points.total),
            minimum=target.total_min,
            missing=whole_missing(gap.total),
        ),
    ]


def _kind_points(points: rules.Points) -> list[tuple[str, str, int]]:
    return [
        ("sourced", "Partner Sourced", rules.display_points(points.sourced)),
        ("assisted", "Partner Assisted", rules.display_points(points.assisted)),
        ("managed", "Managed", rules.display_points(points.managed)),
        ("total", "Total", rules.display_points(points.total)),
    ]


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


def _benefits(current: rules.Tier, nxt: rules.Tier | None) -> Benefits:
    partner = rules.OrgKind.PARTNER
    by_tier = {t: rules.benefits_for(org_kind=partner, tier=t) for t in rules.TIER_ORDER}
    held = by_tier[current]
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


# --- Chart (inline SVG, drawn here so the page needs no script) --------------------------------

CHART_WIDTH, CHART_HEIGHT = 680, 240
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 52, 36, 16, 30
CHART_SERIES = (
    ("total", "Total"),
    ("sourced", "Partner Sourced"),
    ("assisted", "Partner Assisted"),
    ("managed", "Managed"),
)


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


def _nice_scale(top: int) -> tuple[int, int]:
    """Return (step, ceiling) for a y axis from 0 to at least `top`, in 5 steps or fewer."""
    top = max(top, 10)
    magnitude = 10 ** max(0, len(str(top)) - 2)
    for factor in (1, 2, 5, 10, 20, 50):
        step = factor * magnitude
        if step * 5 >= top:
            return step, math.ceil(top / step) * step
    raise AssertionError("unreachable: 50 x magnitude x 5 covers any top")


def _chart(
    history: Sequence[TierAssessment], threshold: tuple[str, Decimal] | None
) -> Chart | None:
    """Points over time, oldest first, with the next tier's total minimum as a dashed line."""
    if not history:
        return None
    ordered = list(reversed(history))
    values = {
        "total": [rules.display_points(a.total_points) for a in ordered],
        "sourced": [rules.display_points(a.sourced_points) for a in ordered],
        "assisted": [rules.display_points(a.assisted_points) for a in ordered],
        "managed": [rules.display_points(a.managed_points) for a in ordered],
    }
    top = max(values["total"] + ([math.ceil(threshold[1])] if threshold else []))
    step, ceiling = _nice_scale(top)
    plot_w = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    plot_h = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM

    def x_at(i: int) -> int:
        if len(ordered) == 1:
            return CHART_LEFT + plot_w // 2
        return CHART_LEFT + round(i * plot_w / (len(ordered) - 1))

    def y_at(v: float) -> int:
        return CHART_TOP + plot_h - round(v * plot_h / ceiling)

    series = []
    for key, label in CHART_SERIES:
        coords = [(x_at(i), y_at(v)) for i, v in enumerate(values[key])]
        series.append(
            Series(
                key=key,
                label=label,
                points=" ".join(f"{x},{y}" for x, y in coords),
                dots=[
                    Dot(x, y, f"{a.as_of:%d %b %Y}: {v} {label.lower()} points")
                    for (x, y), v, a in zip(coords, values[key], ordered, strict=True)
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
    summary = (
        f"Total points from {first.as_of:%d %b %Y} ({values['total'][0]}) "
        f"to {last.as_of:%d %b %Y} ({values['total'][-1]}), {len(ordered)} assessment"
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
            (y_at(float(threshold[1])), f"{threshold[0]} total minimum ({threshold[1]:.0f})")
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
    country: str
    growth_market: bool
    added_points: Decimal
    added_display: int
    kinds: list[tuple[str, str, int]]
    tier: rules.Tier
    tier_label: str
    move: str  # "up", "same" or "down" against the current tier
    elite_capped: bool
    next_tier_label: str | None
    bars: list[Bar]


def _elite_standing(assessment: TierAssessment) -> rules.EliteStanding | None:
    """The non-points Elite conditions as the latest run saw them (None if it did not look)."""
    if (
        assessment.customer_retention_pct is None
        or assessment.revenue_retention_pct is None
        or assessment.team_certifications is None
    ):
        return None
    return rules.EliteStanding(
        invited=assessment.elite_invited,
        customer_retention_pct=assessment.customer_retention_pct,
        revenue_retention_pct=assessment.revenue_retention_pct,
        team_certifications=assessment.team_certifications,
    )


def _what_if(
    form: WhatIfForm,
    *,
    organisation: Organisation,
    assessment: TierAssessment,
    points: rules.Points,
    rule_set: rules.RuleSet,
    countries: dict[str, tuple[str, bool]],
) -> WhatIfOutcome | None:
    """Run the what-if of a valid form through the same rules as a run; None otherwise."""
    if not form.is_bound or not form.is_valid():
        return None
    data = form.cleaned_data
    kind = rules.LineKind(data["kind"])
    country_name, growth = countries[data["country"]]
    try:
        result = rules.what_if(
            points=points,
            kind=kind,
            mrr=data["mrr"],
            currency=data["currency"],
            growth_market=growth,
            org_kind=rules.OrgKind.PARTNER,
            prerequisites_met=rules.meets_prerequisites(
                has_partner_certification=organisation.has_partner_certification,
                has_pro_subscription=organisation.has_pro_subscription,
            ),
            rule_set=rule_set,
            elite=_elite_standing(assessment),
        )
    except rules.UnsupportedCurrencyError as exc:
        form.add_error("currency", str(exc).capitalize() + ".")
        return None
    if result.qualifying_tier is None:
        raise AssertionError("a partner always qualifies for some tier")
    tier = result.qualifying_tier
    current = rules.Tier(organisation.tier)
    gap = result.next_tier
    return WhatIfOutcome(
        kind_label=KIND_WORDS[kind],
        mrr=data["mrr"],
        currency=data["currency"],
        country=country_name,
        growth_market=growth,
        added_points=result.added_points,
        added_display=rules.display_points(result.added_points),
        kinds=_kind_points(result.points),
        tier=tier,
        tier_label=tier_label(tier),
        move="up" if tier > current else ("down" if tier < current else "same"),
        elite_capped=tier != rules.Tier.ELITE
        and rules.elite_qualified(points=result.points, rule_set=rule_set),
        next_tier_label=tier_label(gap.tier) if gap is not None else None,
        bars=(
            _bars(points=result.points, tier=gap.tier, rule_set=rule_set) if gap is not None else []
        ),
    )


# --- The partner tier page ---------------------------------------------------------------------


@login_required
@require_GET
def partner_tier(request: HttpRequest, pk: int) -> HttpResponse:
    """A partner's tier, why, and what the next one needs (ops, its PDM, its own users)."""
    organisation = _tiered_partner(acting_user(request), pk)
    return _tier_page(request, organisation, customers=None)


def partner_home(
    request: HttpRequest, organisation: Organisation, *, customers: list[Any]
) -> HttpResponse:
    """A partner user's home page: its tier page, with its customers below.

    `organisation` is the caller's own, already resolved through `access` by the home view.
    """
    access.require(acting_user(request), TierAction.VIEW, organisation)
    return _tier_page(request, organisation, customers=customers)


def _tier_page(
    request: HttpRequest, organisation: Organisation, *, customers: list[Any] | None
) -> HttpResponse:
    today = timezone.localdate()
    current = rules.Tier(organisation.tier)
    context: dict[str, Any] = {
        "organisation": organisation,
        "is_home": customers is not None,
        "rows": customers or [],
        "today": today,
        "current_label": tier_label(current),
        "next_run": next_run_date(today),
        "prerequisites_met": rules.meets_prerequisites(
            has_partner_certification=organisation.has_partner_certification,
            has_pro_subscription=organisation.has_pro_subscription,
        ),
        "tier_columns": [(t.value, tier_label(t)) for t in rules.TIER_ORDER],
        "current_index": current.rank,
    }
    history = _history(organisation)
    latest = history[0] if history else None
    nxt = rules.tier_above(current)
    context["benefits"] = _benefits(current, nxt)
    context["next_label"] = tier_label(nxt) if nxt else None
    if latest is None:
        return render(request, "tiers/partner_tier.html", {**context, "assessment": None})

    # The rules of the latest assessment, and its exact figures.
    currencies = list(Currency.objects.order_by("code").values_list("code", "points_amount"))
    rule_set = selectors.rule_set_from_row(latest.rule_set, usd100_amounts=dict(currencies))
    points = selectors.exact_points(latest)
    goal = nxt or current  # at the top, the minimums to keep it
    bars = _bars(points=points, tier=goal, rule_set=rule_set) if goal != rules.Tier.UNTIERED else []
    goal_total = rule_set.target(goal).total_min if bars else None

    window = rules.next_down_tiering_window(max(latest.as_of, today - timedelta(days=1)))
    keep_bars = (
        _bars(points=points, tier=current, rule_set=rule_set)
        if latest.at_risk and current != rules.Tier.UNTIERED
        else []
    )

    # Lines, filtered and paginated.
    product_lines = _product_line_choices()
    filter_form = LineFilterForm(request.GET, product_lines=product_lines)
    filters = filter_form.filters()
    # Paginator counts through `count()` and pages through slices: two queries, whatever the
    # number of lines (the stubs want `len()`, which `AssessmentLines` leaves out on purpose).
    lines = selectors.assessment_lines(latest, filters)
    lines_page: Page[selectors.ContributingLine] = Paginator(
        lines,  # type: ignore[arg-type]
        LINES_PAGE_SIZE,
    ).get_page(request.GET.get("page"))

    # What-if, bound only once submitted.
    country_rows = list(
        Country.objects.order_by("name").values_list("code", "name", "growth_market")
    )
    countries = {code: (name, growth) for code, name, growth in country_rows}
    country_choices = [
        (code, f"{name}{' (growth market)' if growth else ''}")
        for code, name, growth in country_rows
    ]
    currency_choices = [(code, code) for code, _ in currencies]
    submitted = any(key.startswith("wi-") for key in request.GET)
    what_if_form = WhatIfForm(
        request.GET if submitted else None,
        currencies=currency_choices,
        countries=country_choices,
        initial={"currency": "USD", "country": organisation.country_id},
    )
    outcome = _what_if(
        what_if_form,
        organisation=organisation,
        assessment=latest,
        points=points,
        rule_set=rule_set,
        countries=countries,
    )
    return render(
        request,
        "tiers/partner_tier.html",
        {
            **context,
            "assessment": latest,
            "qualified_label": tier_label(latest.qualified_tier),
            "rule_set": rule_set,
            "kinds": _kind_points(points),
            "goal_label": tier_label(goal),
            "goal_is_next": nxt is not None,
            "bars": bars,
            "keep_bars": keep_bars,
            "window": window,
            "history": [
                (a, tier_label(a.tier_after), _kind_points(_stored_points(a))) for a in history
            ],
            "chart": _chart(history, (tier_label(goal), goal_total) if goal_total else None),
            "filter_form": filter_form,
            "filters": filters,
            "lines_page": lines_page,
            "line_rows": [(x, rules.display_points(x.points)) for x in lines_page.object_list],
            "csv_query": urlencode(filters),
            "what_if_form": what_if_form,
            "what_if": outcome,
            "what_if_submitted": submitted,
        },
    )


def _stored_points(assessment: TierAssessment) -> rules.Points:
    return rules.Points(
        sourced=assessment.sourced_points,
        assisted=assessment.assisted_points,
        managed=assessment.managed_points,
    )


# --- Lines CSV ---------------------------------------------------------------------------------

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


class _Echo:
    """A file-like object whose `write` returns the line, for a streamed csv.writer."""

    def write(self, value: str) -> str:
        return value


def _cell(text: str) -> str:
    """Neutralise a text cell a spreadsheet would run as a formula (customer names come from
    partners' registrations)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_rows(
    assessment: TierAssessment | None, lines: Iterable[selectors.ContributingLine]
) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    if assessment is None:
        return
    for line in lines:
        yield writer.writerow(
            (
                assessment.as_of.isoformat(),
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
        )


@login_required
@require_GET
def partner_tier_lines_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The latest assessment's contributing lines as CSV, with the page's filters. Exact
    points (settled to 1e-12), not the whole points the page shows."""
    organisation = _tiered_partner(acting_user(request), pk)
    latest = selectors.organisation_assessments(organisation).first()
    lines: Iterable[selectors.ContributingLine] = ()
    if latest is not None:
        # The filter choices are checked against the product lines the form knows.
        form = LineFilterForm(request.GET, product_lines=_product_line_choices())
        lines = selectors.assessment_lines(latest, form.filters())
    stamp = latest.as_of.isoformat() if latest else "none"
    response = StreamingHttpResponse(_csv_rows(latest, lines), content_type="text/csv")
    filename = f"tier-lines-{slugify(organisation.name) or organisation.pk}-{stamp}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Partners list (PDMs and partner ops) ------------------------------------------------------


@dataclass(frozen=True)
class PartnerRow:
    organisation: Organisation
    tier_label: str
    as_of: date | None
    total: int | None
    previous: int | None
    trend: str  # "up", "down", "same" or "" (fewer than two assessments)
    change: int
    at_risk: bool


def _partner_rows(page: Page[Organisation]) -> list[PartnerRow]:
    rows = []
    for org in page.object_list:
        latest: Decimal | None = org.latest_total  # type: ignore[attr-defined]
        previous: Decimal | None = org.previous_total  # type: ignore[attr-defined]
        trend = ""
        if latest is not None and previous is not None:
            trend = "up" if latest > previous else ("down" if latest < previous else "same")
        total = rules.display_points(latest) if latest is not None else None
        before = rules.display_points(previous) if previous is not None else None
        rows.append(
            PartnerRow(
                organisation=org,
                tier_label=tier_label(org.tier),
                as_of=org.latest_as_of,  # type: ignore[attr-defined]
                total=total,
                previous=before,
                trend=trend,
                change=(total - before) if total is not None and before is not None else 0,
                at_risk=bool(org.latest_at_risk),  # type: ignore[attr-defined]
            )
        )
    return rows


def _tier_partners(user: User) -> QuerySet[Organisation]:
    """The partners `user` sees, each with its last two assessments' figures (one query)."""
    assessments = TierAssessment.objects.filter(organisation=OuterRef("pk")).order_by(
        "-as_of", "-pk"
    )
    return (
        access.visible_organisations(user)
        .filter(kind=Organisation.Kind.PARTNER)
        .annotate(
            latest_as_of=Subquery(assessments.values("as_of")[:1]),
            latest_total=Subquery(assessments.values("total_points")[:1]),
            latest_at_risk=Subquery(assessments.values("at_risk")[:1]),
            previous_total=Subquery(assessments.values("total_points")[1:2]),
        )
        .order_by("name", "pk")
    )


@login_required
@require_GET
def partner_list(request: HttpRequest) -> HttpResponse:
    """The partners a PDM follows (partner ops: all) with tier, trend and at-risk flag."""
    user = acting_user(request)
    if user.is_partner_user:
        raise PermissionDenied("The partners list is for PDMs and partner ops.")
    _require_tier_list(user)
    partners = _tier_partners(user)
    q = request.GET.get("q", "").strip()[:200]
    tier = request.GET.get("tier", "")
    at_risk = request.GET.get("at_risk") == "1"
    if q:
        partners = partners.filter(name__icontains=q)
    if tier in Organisation.Tier.values:
        partners = partners.filter(tier=tier)
    else:
        tier = ""
    if at_risk:
        partners = partners.filter(Q(latest_at_risk=True))  # an annotation of _tier_partners
    page = Paginator(partners, PARTNERS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tiers/partner_list.html",
        {
            "page": page,
            "rows": _partner_rows(page),
            "q": q,
            "tier": tier,
            "at_risk": at_risk,
            "tiers": Organisation.Tier.choices,
            "filtered": bool(q or tier or at_risk),
        },
    )
