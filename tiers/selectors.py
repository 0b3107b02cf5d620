"""Reads of the tier engine: rule sets as `rules.RuleSet` values, and assessments."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, overload

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
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


def rule_set_from_row(row: TierRuleSet, *, usd100_amounts: dict[str, Decimal]) -> rules.RuleSet:
    """Return the pure `RuleSet` of a rule-set row (its targets must be prefetched)."""
    return rules.RuleSet(
        effective_from=row.effective_from,
        targets=tuple(
            rules.TierTarget(
                tier=rules.Tier(t.tier),
                sold_min=t.sold_min,
                managed_min=t.managed_min,
                total_min=t.total_min,
            )
            for t in row.targets.all()
        ),
        usd100_amounts=usd100_amounts,
        points_per_usd100={
            rules.LineKind.SOURCED: row.sourced_points,
            rules.LineKind.ASSISTED: row.assisted_points,
            rules.LineKind.MANAGED: row.managed_points,
        },
        growth_multiplier=row.growth_multiplier,
        sold_min_sourced_only=row.sold_min_sourced_only,
        pro_subscription_min_usd=row.pro_subscription_min_usd,
        elite_min_customer_retention_pct=row.elite_min_customer_retention_pct,
        elite_min_revenue_retention_pct=row.elite_min_revenue_retention_pct,
        elite_min_team_certifications=row.elite_min_team_certifications,
        matching_min_sourced_share_pct=row.matching_min_sourced_share_pct,
        matching_min_customer_retention_pct=row.matching_min_customer_retention_pct,
        matching_min_tier=rules.Tier(row.matching_min_tier),
    )


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

    def __init__(self, assessment_id: int, filters: dict[str, str] | None = None) -> None:
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

    def count(self) -> int:
        if self._count is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) " + self._sql, self._params)
                self._count = int(cursor.fetchone()[0])
        return self._count

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
            found = self._fetch(limit=1, offset=key)
            if not found:
                raise IndexError(key)
            return found[0]
        if key.step not in (None, 1) or (key.start or 0) < 0 or (key.stop or 0) < 0:
            raise ValueError("only forward slices without a step are supported")
        start = key.start or 0
        if key.stop is None:
            return self._fetch(offset=start) if start else self._fetch()
        return self._fetch(limit=max(0, key.stop - start), offset=start)

    def __iter__(self) -> Iterator[ContributingLine]:
        return iter(self._fetch())


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
    assessment: TierAssessment, filters: dict[str, str] | None = None
) -> AssessmentLines:
    """The contributing lines of one (already visible) assessment, for display."""
    return AssessmentLines(assessment.pk, filters)


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
        sums = dict(cursor.fetchall())
    return rules.Points(
        sourced=sums.get(rules.LineKind.SOURCED.value, rules.ZERO),
        assisted=sums.get(rules.LineKind.ASSISTED.value, rules.ZERO),
        managed=sums.get(rules.LineKind.MANAGED.value, rules.ZERO),
    )


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
    exact points of that assessment (summed from its lines, as the run summed them) and what
    they miss for the tier above the partner's current one under the same rule set."""

    organisation: Organisation
    assessment: TierAssessment | None
    lines: list[ContributingLine]
    points: rules.Points
    rule_set: rules.RuleSet | None
    next_tier: rules.TierGap | None
    next_down_tiering_window: date | None


def partner_tier(organisation: Organisation) -> PartnerTier:
    """Return the tier picture of one (already visible) partner, in a fixed number of queries.

    Before its first assessment: no points, and the gap under the rule set in force today.
    """
    assessment = (
        organisation_assessments(organisation).prefetch_related("rule_set__targets").first()
    )
    if assessment is None:
        lines: list[ContributingLine] = []
        try:
            rule_set: rules.RuleSet | None = rule_set_in_force(on=timezone.localdate()).rule_set
        except InvalidInput:  # no rule set in force yet: nothing to measure against
            rule_set = None
    else:
        rule_set = rule_set_from_row(assessment.rule_set, usd100_amounts=usd100_amounts())
        lines = list(assessment_lines(assessment))
    points = rules.sum_points((rules.LineKind(line.kind), line.points) for line in lines)
    current = rules.Tier(organisation.tier)
    return PartnerTier(
        organisation=organisation,
        assessment=assessment,
        lines=lines,
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


def assessment_history(organisation: Organisation, *, size: int) -> list[TierAssessment]:
    """The latest `size` assessments of one (already visible) organisation, newest first, with
    their rule sets' targets (2 queries)."""
    return list(organisation_assessments(organisation).prefetch_related("rule_set__targets")[:size])


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
