"""Tier pages: a partner's tier page (its home page), the lines CSV, and the PDM/ops list.

Thin: the caller's reach comes from `access` (a partner outside it is a 404, a visible one
whose tier the caller may not read is a 403), the figures from the latest assessment, reads
from `selectors`, every tier, gap and what-if from the pure rules in `rules`, and what the
page says (words, bars, the chart) from `presenters`. Each page reads a fixed number of
queries whatever the number of lines, assessments or partners; what only a tier run changes is
built once per assessment and cached (`selectors.assessment_summary`, `cached_history`).
Points are compared unrounded and shown rounded down to whole points (SPEC 4).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from partnerportal.core import access, pagecache
from partnerportal.core.access import Action, acting_user
from partnerportal.core.errors import Forbidden, InvalidInput
from partnerportal.core.models import Organisation, Role, User

from . import presenters, rules, selectors
from .forms import TIER_CHOICES, LineFilterForm, PartnerListFilterForm, WhatIfForm
from .models import TierAssessment
from .permissions import TierAction

LINES_PAGE_SIZE = 25
PARTNERS_PAGE_SIZE = 50
#: The chart and history table show this many assessments (two years of monthly runs).
HISTORY_SIZE = 24
#: The blank what-if form lists the currencies and countries (reference data): kept an hour.
WHAT_IF_FORM_SECONDS = 3600
#: The default view's body is keyed by the date too: a day is as long as it can serve.
PAGE_BODY_SECONDS = 24 * 3600

# Kept here for the pages' callers and tests: the words and dates live in `presenters`.
BENEFIT_GROUPS = presenters.BENEFIT_GROUPS
CSV_HEADER = presenters.CSV_HEADER
next_run_date = presenters.next_run_date


# --- Access ------------------------------------------------------------------------------------


def _require_tier_list(user: User) -> None:
    """The partners list is for vendor staff who follow tiers: PDMs and partner ops."""
    if user.is_partner_user:
        raise Forbidden("The partners list is for PDMs and partner ops.")
    access.require(user, Action.STAFF_LISTS_VIEW)
    access.require(user, TierAction.VIEW)


# --- What-if -----------------------------------------------------------------------------------


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
    countries: dict[str, selectors.CountryRef],
) -> presenters.WhatIfOutcome | None:
    """Run the what-if of a valid form through the rules the run is held to; None otherwise."""
    line = form.what_if_input()
    if line is None:
        return None
    country = countries[line.country]
    try:
        result = rules.what_if(
            points=points,
            kind=line.kind,
            this_month=line.this_month,
            year_ago=line.year_ago,
            growth_market=country.growth_market,
            org_kind=rules.OrgKind.PARTNER,
            prerequisites_met=rules.meets_prerequisites(
                has_partner_certification=organisation.has_partner_certification,
                has_pro_subscription=organisation.has_pro_subscription,
            ),
            rule_set=rule_set,
            elite=_elite_standing(assessment),
        )
    except InvalidInput as exc:  # a currency the assessment's rule set does not value
        for field, messages in exc.errors.items():
            form.add_error(field if field in form.fields else None, messages)
        return None
    return presenters.what_if_outcome(
        result,
        kind=line.kind,
        this_month=line.this_month,
        year_ago=line.year_ago,
        country=country.name,
        growth_market=country.growth_market,
        current=rules.Tier(organisation.tier),
        rule_set=rule_set,
    )


# --- The partner tier page ---------------------------------------------------------------------


@login_required
@require_GET
def partner_tier(request: HttpRequest, pk: int) -> HttpResponse:
    """A partner's tier, why, and what the next one needs (ops, its PDM, its own users)."""
    organisation = selectors.tiered_partner(acting_user(request), pk)
    return _tier_page(request, organisation, customers=None)


def partner_home(
    request: HttpRequest, organisation: Organisation, *, customers: list[Any]
) -> HttpResponse:
    """A partner user's home page: its tier page, with its customers below.

    `organisation` is the caller's own, already resolved through `access` by the home view.
    """
    access.require(acting_user(request), TierAction.VIEW, organisation)
    return _tier_page(request, organisation, customers=customers)


def _body_parts(
    request: HttpRequest, organisation: Organisation, today: date
) -> tuple[object, ...]:
    """What the page's body in its default view (no filter, page, or what-if) shows beyond
    the data (`core.pagecache` keeps it under the data version, which a tier run replaces):
    the organisation's facts, the date (the next run and down-tiering window) and whether
    the viewer is a partner user (the links above it)."""
    return (
        organisation.pk,
        organisation.tier,
        organisation.standing,
        organisation.has_partner_certification,
        organisation.has_pro_subscription,
        organisation.country_id,
        organisation.name,
        today.isoformat(),
        acting_user(request).is_partner_user,
    )


def _tier_page(
    request: HttpRequest, organisation: Organisation, *, customers: list[Any] | None
) -> HttpResponse:
    today = timezone.localdate()
    # The default view's body is kept under the data version (no query when it is kept);
    # the home page (its customers below) and a filtered, paged or what-if view are not.
    cacheable = customers is None and not request.GET
    slot, body = pagecache.lookup(
        request, "tiers-partner", *_body_parts(request, organisation, today), keep=cacheable
    )
    if body is not None:
        return render(
            request,
            "tiers/partner_tier.html",
            {"organisation": organisation, "is_home": False, "cached_body": body},
        )
    latest = selectors.latest_assessment(organisation)
    current = rules.Tier(organisation.tier)
    nxt = rules.tier_above(current)
    context: dict[str, Any] = {
        "organisation": organisation,
        "is_home": customers is not None,
        "rows": customers or [],
        "today": today,
        "current_label": presenters.TIER_WORDS[current],
        "is_elite": current == rules.Tier.ELITE,
        "next_run": presenters.next_run_date(today),
        "prerequisites_met": rules.meets_prerequisites(
            has_partner_certification=organisation.has_partner_certification,
            has_pro_subscription=organisation.has_pro_subscription,
        ),
        "tier_columns": presenters.tier_columns(),
        "current_index": current.rank,
        "benefits": presenters.benefits(current, nxt),
        "next_label": presenters.TIER_WORDS[nxt] if nxt else None,
        # Fragments of the page cached in Redis (`{% cache %}`): the benefits by tier and
        # matching; what only a run changes by the assessment's key (see below).
        "fragment_ttl": selectors.CACHE_SECONDS,
    }
    if latest is None:
        return render(request, "tiers/partner_tier.html", {**context, "assessment": None})

    # What only a run changes is built once per assessment and cached (`selectors`): the
    # history, the exact figures, the rule set's values, the line count and first lines.
    history = selectors.cached_history(organisation, latest, size=HISTORY_SIZE)
    summary = selectors.assessment_summary(latest)
    amounts = selectors.usd100_amounts()
    rule_set = summary.rule_set(usd100_amounts=amounts)
    points = summary.points
    goal = nxt or current  # at the top, the minimums to keep it
    has_goal = goal != rules.Tier.UNTIERED
    bars = presenters.bars(points=points, tier=goal, rule_set=rule_set) if has_goal else []
    threshold = (goal, rule_set.target(goal).total_min) if has_goal else None

    window = rules.next_down_tiering_window(max(latest.as_of, today - timedelta(days=1)))
    keep_bars = (
        presenters.bars(points=points, tier=current, rule_set=rule_set)
        if latest.at_risk and current != rules.Tier.UNTIERED
        else []
    )

    # Lines, filtered and paginated.
    filter_form = LineFilterForm(request.GET, product_lines=selectors.product_line_choices())
    filters = filter_form.filters()
    # Paginator counts through `count()` and pages through slices: two queries, whatever the
    # number of lines, none unfiltered on the first page (from the summary). (The stubs want
    # `len()`, which `AssessmentLines` leaves out on purpose.)
    lines = selectors.assessment_lines(latest, filters, summary=summary)
    lines_page: Page[selectors.ContributingLine] = Paginator(
        lines,  # type: ignore[arg-type]
        LINES_PAGE_SIZE,
    ).get_page(request.GET.get("page"))

    # What-if, bound only once submitted.
    countries = {c.code: c for c in selectors.countries()}
    submitted = any(key.startswith("wi-") for key in request.GET)
    what_if_form = WhatIfForm(
        request.GET if submitted else None,
        currencies=[(code, code) for code in amounts],
        countries=[
            (c.code, f"{c.name}{' (growth market)' if c.growth_market else ''}")
            for c in countries.values()
        ],
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
    context = {
        **context,
        "assessment": latest,
        "benefits": presenters.benefits(current, nxt, matching_eligible=latest.matching_eligible),
        "matching": presenters.matching(latest, rule_set),
        "qualified_label": presenters.tier_words(latest.qualified_tier),
        "rule_set": rule_set,
        "kinds": presenters.figures(points),
        "goal_label": presenters.TIER_WORDS[goal],
        "goal_is_next": nxt is not None,
        "bars": bars,
        "keep_bars": keep_bars,
        "window": window,
        "history": [
            (
                a,
                presenters.tier_words(a.tier_after),
                presenters.figures(presenters.stored_points(a)),
            )
            for a in history
        ],
        "chart": presenters.chart(history, threshold),
        "filter_form": filter_form,
        "filters": filters,
        "lines_page": lines_page,
        "line_rows": presenters.line_rows(lines_page.object_list),
        "csv_query": urlencode(filters),
        "what_if_form": what_if_form,
        "what_if": outcome,
        "what_if_submitted": submitted,
        # The chart and history by the history's key and the tier (the threshold line);
        # the default view of the lines (no filter, first page) by the assessment's; the
        # blank what-if form by the partner's country, for an hour (it lists reference
        # data: currencies and countries). A filtered view or a submitted form: not cached.
        "history_key": selectors.history_cache_key(latest, size=HISTORY_SIZE),
        "summary_key": selectors.cache_key("summary", latest),
        "lines_ttl": selectors.CACHE_SECONDS if not filters and lines_page.number == 1 else 0,
        "what_if_ttl": 0 if submitted else WHAT_IF_FORM_SECONDS,
    }
    if slot.key is not None:
        context["cached_body"] = pagecache.render(
            request, slot, "tiers/_tier_body.html", context, seconds=PAGE_BODY_SECONDS
        )
    return render(request, "tiers/partner_tier.html", context)


# --- Lines CSV ---------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose `write` returns the line, for a streamed csv.writer."""

    def write(self, value: str) -> str:
        return value


def _csv_rows(
    assessment: TierAssessment | None, lines: Iterable[selectors.ContributingLine]
) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(presenters.CSV_HEADER)
    if assessment is None:
        return
    for line in lines:
        yield writer.writerow(presenters.csv_cells(assessment.as_of, line))


@login_required
@require_GET
def partner_tier_lines_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The latest assessment's contributing lines as CSV, with the page's filters. Exact
    points (settled to 1e-12), not the whole points the page shows."""
    organisation = selectors.tiered_partner(acting_user(request), pk)
    latest = selectors.organisation_assessments(organisation).first()
    lines: Iterable[selectors.ContributingLine] = ()
    if latest is not None:
        # The filter choices are checked against the product lines the form knows.
        form = LineFilterForm(request.GET, product_lines=selectors.product_line_choices())
        lines = selectors.assessment_lines(latest, form.filters())
    stamp = latest.as_of.isoformat() if latest else "none"
    response = StreamingHttpResponse(_csv_rows(latest, lines), content_type="text/csv")
    filename = f"tier-lines-{slugify(organisation.name) or organisation.pk}-{stamp}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Partners list (PDMs and partner ops) ------------------------------------------------------


@login_required
@require_GET
def partner_list(request: HttpRequest) -> HttpResponse:
    """The partners a PDM follows (partner ops: all) with tier, trend and at-risk flag."""
    user = acting_user(request)
    _require_tier_list(user)
    filters = PartnerListFilterForm(request.GET).filters()
    partners = selectors.tier_partners(user, **filters)
    page = Paginator(partners, PARTNERS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        presenters.partner_row(
            pk=row["pk"],
            name=row["name"],
            tier=row["tier"],
            as_of=row["latest_as_of"],
            latest_total=row["latest_total"],
            previous_total=row["previous_total"],
            at_risk=row["latest_at_risk"],
        )
        for row in page.object_list
    ]
    return render(
        request,
        "tiers/partner_list.html",
        {
            "page": page,
            "rows": rows,
            **filters,
            "tiers": TIER_CHOICES,
            "filtered": any(filters.values()),
            "is_pdm_list": user.role == Role.PDM,  # a PDM sees only the partners it follows
        },
    )
