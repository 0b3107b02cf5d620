"""Reads of the tier engine: rule sets as `rules.RuleSet` values, and assessments."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, overload

from django.core.cache import cache
from django.db import connection
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from deals.models import SoldAssociation
from partnerportal.core.access import (
    get_visible_organisation,
    require,
    scope_to_user,
    visible_organisations,
)
from partnerportal.core.errors import InvalidInput, NotFound
from partnerportal.core.models import (
    Activity,
    Country,
    Currency,
    Customer,
    Organisation,
    ProductLine,
    User,
)

from . import rules
from .models import TierAssessment, TierAssessmentLines, TierRuleSet, TierRun
from .permissions import TierAction


@dataclass(frozen=True)
class RuleSetInForce:
    """The rule set in force on a date: its row id (for assessments) and its values."""

    pk: int
    rule_set: rules.RuleSet


def rule_set_fields(row: TierRuleSet) -> dict[str, Any]:
    """The arguments of `rules.RuleSet` a rule-set row holds (its targets must be prefetched,
    or one query), all but the currencies' amounts: plain values, so they can be cached."""
    return {
        "effective_from": row.effective_from,
        "targets": tuple(
            rules.TierTarget(
                tier=rules.Tier(t.tier),
                sold_min=t.sold_min,
                managed_min=t.managed_min,
                total_min=t.total_min,
            )
            for t in row.targets.all()
        ),
        "points_per_usd100": {
            rules.LineKind.SOURCED: row.sourced_points,
            rules.LineKind.ASSISTED: row.assisted_points,
            rules.LineKind.MANAGED: row.managed_points,
        },
        "growth_multiplier": row.growth_multiplier,
        "sold_min_sourced_only": row.sold_min_sourced_only,
        "pro_subscription_min_usd": row.pro_subscription_min_usd,
        "elite_min_customer_retention_pct": row.elite_min_customer_retention_pct,
        "elite_min_revenue_retention_pct": row.elite_min_revenue_retention_pct,
        "elite_min_team_certifications": row.elite_min_team_certifications,
        "matching_min_sourced_share_pct": row.matching_min_sourced_share_pct,
        "matching_min_customer_retention_pct": row.matching_min_customer_retention_pct,
        "matching_min_tier": rules.Tier(row.matching_min_tier),
    }


def rule_set_from_row(row: TierRuleSet, *, usd100_amounts: dict[str, Decimal]) -> rules.RuleSet:
    """Return the pure `RuleSet` of a rule-set row (its targets must be prefetched)."""
    return rules.RuleSet(**rule_set_fields(row), usd100_amounts=usd100_amounts)


def usd100_amounts() -> dict[str, Decimal]:
    """Return each accepted currency's amount worth USD 100 (core reference data)."""
    return dict(Currency.objects.values_list("code", "points_amount"))


def rule_set_in_force(*, on: date) -> RuleSetInForce:
    """Return the rule set in force on `on`; raise `InvalidInput` on `as_of` if none is.

    Only rule sets that have taken effect by `on` are built, so a future set still being
    drafted in the admin cannot break today's run.
    """
    rows = list(TierRuleSet.objects.filter(effective_from__lte=on).prefetch_related("targets"))
    amounts = usd100_amounts()
    built = {row.effective_from: row.pk for row in rows}
    chosen = rules.rule_set_in_force(
        [rule_set_from_row(row, usd100_amounts=amounts) for row in rows], on
    )
    return RuleSetInForce(pk=built[chosen.effective_from], rule_set=chosen)


def tiered_partner(user: User, pk: object, *, action: TierAction = TierAction.VIEW) -> Organisation:
    """Return partner `pk` if `user` sees it (else 404) and may do `action` on it (else 403).

    Providers have no tier: a 404, on pages and in the API alike."""
    organisation = get_visible_organisation(user, pk)
    require(user, action, organisation)
    if organisation.kind != Organisation.Kind.PARTNER:
        raise NotFound("Providers have no tier.")
    return organisation


def tier_assessments(user: User) -> QuerySet[TierAssessment]:
    """Assessments of the organisations `user` may see, newest first."""
    return scope_to_user(
        user, TierAssessment.objects.all(), organisation_field="organisation"
    ).order_by("organisation_id", "-as_of")


@dataclass(frozen=True)
class CustomerRef:
    id: int
    name: str
    domain: str
    country_id: str
    country_name: str


@dataclass(frozen=True)
class ProductLineRef:
    code: str
    name: str


@dataclass(frozen=True)
class ContributingLine:
    """One line of an assessment (`TierAssessmentLines`), with its customer and product line."""

    customer: CustomerRef
    product_line: ProductLineRef
    kind: str
    mrr_this_month: Decimal
    mrr_year_ago: Decimal | None
    currency: str
    growth_market: bool
    points: Decimal

    @property
    def product_line_id(self) -> str:
        return self.product_line.code


# The lines of one assessment as rows: element i of every array is line i.
_LINES_FROM = f"""
FROM {TierAssessmentLines._meta.db_table} s
CROSS JOIN LATERAL unnest(s.customer_ids, s.product_line_ids, s.kinds, s.mrr_this_month,
                          s.mrr_year_ago, s.currencies, s.growth_markets, s.points)
     AS l(customer_id, product_line_id, kind, mrr_this_month, mrr_year_ago, currency,
          growth_market, points)
JOIN {Customer._meta.db_table} c ON c.id = l.customer_id
JOIN {Country._meta.db_table} co ON co.code = c.country_id
JOIN {ProductLine._meta.db_table} pl ON pl.code = l.product_line_id
WHERE s.assessment_id = %(assessment_id)s
"""

_LINES_SELECT = """
SELECT l.customer_id, c.name, c.domain, c.country_id, co.name, l.product_line_id, pl.name,
       l.kind, l.mrr_this_month, l.mrr_year_ago, l.currency, l.growth_market, l.points
"""

_LINES_ORDER = " ORDER BY l.kind, l.points DESC, c.domain, pl.name, l.product_line_id"


def _like_pattern(text: str) -> str:
    """Return an ILIKE pattern matching `text` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class AssessmentLines:
    """The contributing lines of one (already visible) assessment, filtered, in display order
    (kind, most points first, customer domain, product line name).

    Lazy, and each read one query: `count()`, a slice (a page: LIMIT/OFFSET in SQL) or
    iterating (every line), so `django.core.paginator.Paginator` pages it directly. No
    `len()`: `list()` would call it, a second query.
    `filters` are those of `forms.LineFilterForm.filters()`: `kind`, `product_line`, `q`
    (part of the customer's domain or name, any case).
    """

    def __init__(
        self,
        assessment_id: int,
        filters: dict[str, str] | None = None,
        *,
        summary: AssessmentSummary | None = None,
    ) -> None:
        self.assessment_id = assessment_id
        self.filters = dict(filters or {})
        where: list[str] = []
        params: dict[str, Any] = {"assessment_id": assessment_id}
        if "kind" in self.filters:
            where.append("l.kind = %(kind)s")
            params["kind"] = self.filters["kind"]
        if "product_line" in self.filters:
            where.append("l.product_line_id = %(product_line)s")
            params["product_line"] = self.filters["product_line"]
        if "q" in self.filters:
            where.append("(c.domain ILIKE %(q)s OR c.name ILIKE %(q)s)")
            params["q"] = _like_pattern(self.filters["q"])
        self._sql = _LINES_FROM + "".join(f" AND {condition}" for condition in where)
        self._params: dict[str, Any] = params
        self._count: int | None = None
        # Unfiltered, the summary of the assessment (cached per assessment) already knows the
        # count and the first lines: the default view reads no line at all.
        self._head: tuple[ContributingLine, ...] | None = None
        if summary is not None and not self.filters:
            self._count = summary.line_count
            self._head = summary.head

    def _from_head(self, start: int, stop: int | None) -> list[ContributingLine] | None:
        """Lines [start:stop] from the cached head, if it holds them all."""
        head, count = self._head, self._count
        if head is None or count is None:
            return None
        end = count if stop is None else min(stop, count)
        if end <= len(head):
            return list(head[start:end])
        return None

    def count(self) -> int:
        if self._count is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) " + self._sql, self._params)
                self._count = int(cursor.fetchone()[0])
        return self._count

    def head(self, limit: int) -> tuple[tuple[ContributingLine, ...], int]:
        """The first `limit` lines and how many there are in all, in one query."""
        sql = (
            _LINES_SELECT.rstrip()
            + ", COUNT(*) OVER ()"
            + self._sql
            + _LINES_ORDER
            + " LIMIT %(limit)s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, {**self._params, "limit": limit})
            rows = cursor.fetchall()
        self._count = int(rows[0][-1]) if rows else 0
        return tuple(_line(row[:-1]) for row in rows), self._count

    def _fetch(self, *, limit: int | None = None, offset: int = 0) -> list[ContributingLine]:
        sql, params = _LINES_SELECT + self._sql + _LINES_ORDER, dict(self._params)
        if limit is not None:
            sql += " LIMIT %(limit)s OFFSET %(offset)s"
            params.update(limit=limit, offset=offset)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [_line(row) for row in cursor.fetchall()]

    @overload
    def __getitem__(self, key: int) -> ContributingLine: ...
    @overload
    def __getitem__(self, key: slice) -> list[ContributingLine]: ...
    def __getitem__(self, key: int | slice) -> ContributingLine | list[ContributingLine]:
        if isinstance(key, int):
            if key < 0:
                raise IndexError("negative indexing is not supported")
            found = self._from_head(key, key + 1) or self._fetch(limit=1, offset=key)
            if not found:
                raise IndexError(key)
            return found[0]
        if key.step not in (None, 1) or (key.start or 0) < 0 or (key.stop or 0) < 0:
            raise ValueError("only forward slices without a step are supported")
        start = key.start or 0
        cached = self._from_head(start, key.stop)
        if cached is not None:
            return cached
        if key.stop is None:
            return self._fetch(offset=start) if start else self._fetch()
        return self._fetch(limit=max(0, key.stop - start), offset=start)

    def __iter__(self) -> Iterator[ContributingLine]:
        return iter(self[0:])


def _line(row: Sequence[Any]) -> ContributingLine:
    (customer_id, name, domain, country_id, country_name, product_line, product_line_name) = row[:7]
    kind, mrr_this_month, mrr_year_ago, currency, growth_market, points = row[7:]
    return ContributingLine(
        customer=CustomerRef(
            id=customer_id,
            name=name,
            domain=domain,
            country_id=country_id,
            country_name=country_name,
        ),
        product_line=ProductLineRef(code=product_line, name=product_line_name),
        kind=kind,
        mrr_this_month=mrr_this_month,
        mrr_year_ago=mrr_year_ago,
        currency=currency,
        growth_market=growth_market,
        points=points,
    )


def assessment_lines(
    assessment: TierAssessment,
    filters: dict[str, str] | None = None,
    *,
    summary: AssessmentSummary | None = None,
) -> AssessmentLines:
    """The contributing lines of one (already visible) assessment, for display; with its
    `summary`, the unfiltered count and first lines come from it (no query)."""
    return AssessmentLines(assessment.pk, filters, summary=summary)


def exact_points(assessment: TierAssessment) -> rules.Points:
    """The exact points of an assessment: the sums of its lines by kind, as the run summed
    them (the stored figures are each settled, so their sum may differ by 1e-12). One query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT l.kind, SUM(l.points)
            FROM {TierAssessmentLines._meta.db_table} s
            CROSS JOIN LATERAL unnest(s.kinds, s.points) AS l(kind, points)
            WHERE s.assessment_id = %s
            GROUP BY l.kind
            """,  # noqa: S608  (table name only)
            [assessment.pk],
        )
        sums = cursor.fetchall()
    return rules.sum_points((rules.LineKind(kind), total) for kind, total in sums)


# --- What only a tier run changes, built once per assessment (issue 13) -------------------------
#
# An assessment is never changed once written: a run makes new ones (a new id), and the
# bench's undo deletes them. Keys carry the id and the creation instant, so a rebuilt
# database reusing ids never meets an older database's entries in a shared Redis.

#: Bump when what is cached changes shape.
CACHE_VERSION = 1
#: Long enough for a monthly run's assessments to stay warm until the next run.
CACHE_SECONDS = 40 * 24 * 3600
#: The first lines (display order) kept with the summary: the page's first page (50) and
#: the API's first page (100) come from it.
LINES_HEAD = 100


def cache_key(kind: str, assessment: TierAssessment, *extra: object) -> str:
    stamp = int(assessment.created_at.timestamp() * 1_000_000)
    parts = ["tiers", kind, f"v{CACHE_VERSION}", str(assessment.pk), str(stamp), *map(str, extra)]
    return ":".join(parts)


@dataclass(frozen=True)
class AssessmentSummary:
    """What the tier page and API need of one assessment beyond its row: the exact points
    (summed from its lines), its rule set's values (all but the currencies' amounts, read
    live), how many lines it has and the first `LINES_HEAD` of them in display order."""

    points: rules.Points
    rule_set_fields: dict[str, Any]
    line_count: int
    head: tuple[ContributingLine, ...]

    def rule_set(self, *, usd100_amounts: dict[str, Decimal]) -> rules.RuleSet:
        return rules.RuleSet(**self.rule_set_fields, usd100_amounts=usd100_amounts)


def assessment_summary(assessment: TierAssessment) -> AssessmentSummary:
    """The summary of one (already visible) assessment, from the cache or built (3 queries:
    the rule set's targets, the sums by kind, the first lines with the count) and cached."""
    key = cache_key("summary", assessment)
    summary: AssessmentSummary | None = cache.get(key)
    if summary is None:
        head, count = AssessmentLines(assessment.pk).head(LINES_HEAD)
        summary = AssessmentSummary(
            points=exact_points(assessment),
            rule_set_fields=rule_set_fields(assessment.rule_set),
            line_count=count,
            head=head,
        )
        cache.set(key, summary, CACHE_SECONDS)
    return summary


def latest_assessment(organisation: Organisation) -> TierAssessment | None:
    """The latest assessment of one (already visible) organisation with its rule set, and
    `newest_pk`, the highest id among its assessments (a run for an earlier date, made later,
    changes it: the history's cache key). One query."""
    # MAX over the organisation's few assessments (its index), not a backward scan of ids.
    newest = (
        TierAssessment.objects.filter(organisation_id=OuterRef("organisation_id"))
        .order_by()
        .values("organisation_id")
        .annotate(newest=Max("pk"))
        .values("newest")
    )
    return organisation_assessments(organisation).annotate(newest_pk=Subquery(newest)).first()


def history_cache_key(latest: TierAssessment, *, size: int) -> str:
    """The key of an organisation's history whose latest assessment is `latest` (as
    `latest_assessment` returns it)."""
    return cache_key("history", latest, getattr(latest, "newest_pk", latest.pk), size)


def cached_history(
    organisation: Organisation, latest: TierAssessment, *, size: int
) -> list[TierAssessment]:
    """The latest `size` assessments of one (already visible) organisation, newest first,
    cached with the latest assessment: one query when not cached yet, none after."""
    key = history_cache_key(latest, size=size)
    history: list[TierAssessment] | None = cache.get(key)
    if history is None:
        history = list(organisation_assessments(organisation)[:size])
        cache.set(key, history, CACHE_SECONDS)
    return history


def assessed_count(*, as_of: date) -> int:
    """How many partners hold an assessment for `as_of` (operator reporting)."""
    return TierAssessment.objects.filter(as_of=as_of).count()


def organisation_assessments(organisation: Organisation) -> QuerySet[TierAssessment]:
    """The assessments of one (already visible) organisation, newest first."""
    return (
        TierAssessment.objects.filter(organisation=organisation)
        .select_related("rule_set")
        .order_by("-as_of", "-pk")
    )


@dataclass(frozen=True)
class PartnerTier:
    """A partner's tier and why: its latest assessment (None before its first run), the
    exact points of that assessment (summed from its lines, as the run summed them), what
    they miss for the tier above the partner's current one under the same rule set, and one
    page of its contributing lines (`lines_count` in all)."""

    organisation: Organisation
    assessment: TierAssessment | None
    lines: list[ContributingLine]
    lines_count: int
    points: rules.Points
    rule_set: rules.RuleSet | None
    next_tier: rules.TierGap | None
    next_down_tiering_window: date | None


def partner_tier(
    organisation: Organisation, *, lines_page: int = 1, lines_page_size: int = LINES_HEAD
) -> PartnerTier:
    """Return the tier picture of one (already visible) partner with page `lines_page`
    (from 1) of its lines, `lines_page_size` a page, in a fixed number of queries (the
    assessment's summary is cached: the first page of up to `LINES_HEAD` lines reads none).

    Before its first assessment: no points, no lines, and the gap under the rule set in
    force today. A page after the last is empty.
    """
    assessment = latest_assessment(organisation)
    lines: list[ContributingLine] = []
    if assessment is None:
        line_count = 0
        points = rules.Points()
        try:
            rule_set: rules.RuleSet | None = rule_set_in_force(on=timezone.localdate()).rule_set
        except InvalidInput:  # no rule set in force yet: nothing to measure against
            rule_set = None
    else:
        summary = assessment_summary(assessment)
        rule_set = summary.rule_set(usd100_amounts=usd100_amounts())
        points, line_count = summary.points, summary.line_count
        offset = (lines_page - 1) * lines_page_size
        if offset < line_count:
            lines = assessment_lines(assessment, summary=summary)[offset : offset + lines_page_size]
    current = rules.Tier(organisation.tier)
    return PartnerTier(
        organisation=organisation,
        assessment=assessment,
        lines=lines,
        lines_count=line_count,
        points=points,
        rule_set=rule_set,
        next_tier=(
            rules.gap_to_next_tier(points=points, current_tier=current, rule_set=rule_set)
            if rule_set is not None
            else None
        ),
        next_down_tiering_window=(
            rules.next_down_tiering_window(assessment.as_of) if assessment else None
        ),
    )


def product_line_choices() -> list[tuple[str, str]]:
    """Every product line as (code, name), by name (one query)."""
    return list(ProductLine.objects.order_by("name").values_list("code", "name"))


@dataclass(frozen=True)
class CountryRef:
    code: str
    name: str
    growth_market: bool


def countries() -> list[CountryRef]:
    """Every country, by name, with whether it is a growth market (one query)."""
    return [
        CountryRef(code=code, name=name, growth_market=growth)
        for code, name, growth in Country.objects.order_by("name").values_list(
            "code", "name", "growth_market"
        )
    ]


def tier_partners(
    user: User, *, q: str = "", tier: str = "", at_risk: bool = False
) -> QuerySet[Organisation, dict[str, Any]]:
    """The partners `user` sees, by name, with their last two assessments' figures (one
    query), as rows: pk, name, tier, as_of, at_risk, latest_total, previous_total. Filtered
    by part of the name, the current tier and being at risk at the latest assessment."""
    assessments = TierAssessment.objects.filter(organisation=OuterRef("pk")).order_by(
        "-as_of", "-pk"
    )
    partners = (
        visible_organisations(user)
        .filter(kind=Organisation.Kind.PARTNER)
        .annotate(
            latest_as_of=Subquery(assessments.values("as_of")[:1]),
            latest_total=Subquery(assessments.values("total_points")[:1]),
            latest_at_risk=Subquery(assessments.values("at_risk")[:1]),
            previous_total=Subquery(assessments.values("total_points")[1:2]),
        )
    )
    if q:
        partners = partners.filter(name__icontains=q)
    if tier:
        partners = partners.filter(tier=tier)
    if at_risk:
        partners = partners.filter(latest_at_risk=True)
    return partners.order_by("name", "pk").values(
        "pk",
        "name",
        "tier",
        "latest_as_of",
        "latest_total",
        "previous_total",
        "latest_at_risk",
    )


def tier_run_detail(run_id: int) -> TierRun:
    """One run record, for the caller that just made it."""
    return TierRun.objects.select_related("rule_set").get(pk=run_id)


# --- The book of customers behind the Elite retention (the run's reads) ------------------------


def sold_customers(*, org_ids: list[int], closed_by: date) -> dict[int, set[int]]:
    """The customers each organisation holds a line of through a sold association closed on or
    before `closed_by` (an association counts from its close date on). One query."""
    held: dict[int, set[int]] = {org_id: set() for org_id in org_ids}
    for org_id, customer_id in SoldAssociation.objects.filter(
        organisation_id__in=org_ids, close_date__lte=closed_by
    ).values_list("organisation_id", "customer_id"):
        held[org_id].add(customer_id)
    return held


def activities_between(
    *, org_ids: list[int], start: datetime, end: datetime
) -> dict[tuple[int, int], list[rules.Activity]]:
    """The portal activity of these organisations in [start, end), every kind, per
    (organisation, customer), each on its calendar day in the program's time zone. One query."""
    tz = timezone.get_default_timezone()
    found: dict[tuple[int, int], list[rules.Activity]] = {}
    for org_id, customer_id, kind, occurred_at in Activity.objects.filter(
        organisation_id__in=org_ids, occurred_at__gte=start, occurred_at__lt=end
    ).values_list("organisation_id", "customer_id", "kind", "occurred_at"):
        found.setdefault((org_id, customer_id), []).append(
            rules.Activity(kind=kind, occurred_on=occurred_at.astimezone(tz).date())
        )
    return found
