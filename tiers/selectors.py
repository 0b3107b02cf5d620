"""Reads of the tier engine: rule sets as `rules.RuleSet` values, and assessments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from partnerportal.core.access import scope_to_user
from partnerportal.core.models import Currency, Organisation, User

from . import rules
from .models import TierAssessment, TierAssessmentLine, TierRuleSet, TierRun


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
    """Return the rule set in force on `on`; raise `rules.NoRuleSetInForceError` if none.

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


def tier_assessments(user: User) -> QuerySet[TierAssessment]:
    """Assessments of the organisations `user` may see, newest first."""
    return scope_to_user(
        user, TierAssessment.objects.all(), organisation_field="organisation"
    ).order_by("organisation_id", "-as_of")


def assessment_lines(assessment: TierAssessment) -> QuerySet[TierAssessmentLine]:
    """The contributing lines of one (already visible) assessment, for display."""
    return assessment.lines.select_related("customer", "product_line").order_by(
        "kind", "-points", "customer__domain", "product_line__name"
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
    lines: list[TierAssessmentLine]
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
        lines: list[TierAssessmentLine] = []
        try:
            rule_set: rules.RuleSet | None = rule_set_in_force(on=timezone.localdate()).rule_set
        except rules.NoRuleSetInForceError:
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


def tier_run_detail(run_id: int) -> TierRun:
    """One run record, for the caller that just made it."""
    return TierRun.objects.select_related("rule_set").get(pk=run_id)
