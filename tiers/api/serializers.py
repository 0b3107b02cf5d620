"""Tier API shapes (SPEC 11). Points are exact decimals, settled to 1e-12 (as the rules
compare them); pages show them rounded down to whole points."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..inputs import ELITE_REASON_MAX, RUN_DATE_MIN
from ..models import EliteInvitation, LineKind, TierAssessment, TierRun


def _points() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=24, decimal_places=12, read_only=True)


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)


class TierRunIn(serializers.Serializer):
    as_of = serializers.DateField(
        help_text=f"The run date (YYYY-MM-DD), from {RUN_DATE_MIN.isoformat()} to today. A date "
        "before the first rule set is refused by the run."
    )

    def validate_as_of(self, value: date) -> date:
        today = timezone.localdate()
        if value < RUN_DATE_MIN:
            raise serializers.ValidationError(
                f"Give a run date from {RUN_DATE_MIN.isoformat()} on."
            )
        if value > today:
            raise serializers.ValidationError(
                f"{value.isoformat()} is in the future (today is {today.isoformat()})."
            )
        return value


class TierRunOut(serializers.ModelSerializer):
    """One invocation of the run: `partners_assessed` counts what *this* run assessed (0 when
    every partner already had an assessment for the date)."""

    rule_set_effective_from = serializers.DateField(source="rule_set.effective_from")

    class Meta:
        model = TierRun
        fields = [
            "id",
            "as_of",
            "partners_assessed",
            "tier_changes",
            "rule_set_effective_from",
            "trigger",
            "started_at",
            "finished_at",
        ]


class PointsOut(serializers.Serializer):
    sourced = _points()
    assisted = _points()
    managed = _points()
    total = _points()


class MissingOut(serializers.Serializer):
    """Points still missing for each minimum (0 when met). `sold` counts what the rule set
    counts against the sold minimum (sourced only, from 2025-07-15)."""

    sold = _points()
    managed = _points()
    total = _points()


class NextTierOut(serializers.Serializer):
    name = serializers.CharField()
    missing = MissingOut()


class LineOut(serializers.Serializer):
    customer = serializers.CharField(source="customer.domain", help_text="Purchase domain.")
    customer_name = serializers.CharField(source="customer.name")
    product_line = serializers.CharField(source="product_line_id")
    kind = serializers.ChoiceField(choices=LineKind.choices)
    mrr_this_month = _money()
    mrr_year_ago = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="Sold lines: the MRR of the same month a year earlier. Null for managed lines.",
    )
    currency = serializers.CharField()
    growth_market = serializers.BooleanField()
    points = _points()


class MatchingOut(serializers.Serializer):
    """Partner matching as the latest run decided it (SPEC 10)."""

    eligible = serializers.BooleanField()
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why not eligible (codes: no_sold_mrr, sourced_share_below_minimum, "
        "no_valid_accreditation, tier_below_minimum, retention_below_minimum, "
        "no_software_certification, no_implementation_certification).",
    )
    sourced_share_pct = serializers.DecimalField(
        max_digits=9, decimal_places=4, allow_null=True, read_only=True
    )


#: Lines in a page of `GET /partners/{id}/tier/` unless `lines_page_size` says otherwise.
LINES_PAGE_SIZE = 100
LINES_PAGE_SIZE_MAX = 1000
LINES_PAGE_MAX = 1_000_000


class PartnerTierQuery(serializers.Serializer):
    """Which page of the contributing lines `GET /partners/{id}/tier/` returns."""

    lines_page = serializers.IntegerField(
        required=False,
        default=1,
        min_value=1,
        max_value=LINES_PAGE_MAX,
        help_text="Page of the contributing lines, from 1 (the first page by default). A page "
        "after the last has no lines.",
    )
    lines_page_size = serializers.IntegerField(
        required=False,
        default=LINES_PAGE_SIZE,
        min_value=1,
        max_value=LINES_PAGE_SIZE_MAX,
        help_text=f"Lines a page ({LINES_PAGE_SIZE} unless given, at most {LINES_PAGE_SIZE_MAX}).",
    )


class PartnerTierOut(serializers.Serializer):
    partner = serializers.IntegerField()
    tier = serializers.CharField(help_text="The partner's current tier.")
    as_of = serializers.DateField(allow_null=True, help_text="Date of the latest assessment.")
    rule_set_effective_from = serializers.DateField(allow_null=True)
    at_risk = serializers.BooleanField()
    next_down_tiering_window = serializers.DateField(allow_null=True)
    elite_qualified = serializers.BooleanField()
    elite_invited = serializers.BooleanField()
    points = PointsOut()
    next_tier = NextTierOut(allow_null=True, help_text="Null at Elite.")
    partner_matching = MatchingOut(
        allow_null=True, help_text="Null before the first assessment that decided it."
    )
    lines = LineOut(
        many=True,
        help_text="One page of the latest assessment's contributing lines (by kind, most "
        "points first): `lines_page` of them, `lines_count` in all; `next` pages on.",
    )
    lines_count = serializers.IntegerField(help_text="Contributing lines in all pages.")
    lines_page = serializers.IntegerField(help_text="This page of lines, from 1.")
    lines_page_size = serializers.IntegerField()
    next = serializers.URLField(
        allow_null=True, help_text="The next page of lines (`lines_page`), null on the last."
    )
    previous = serializers.URLField(
        allow_null=True, help_text="The page of lines before, null on the first."
    )


class AssessmentOut(serializers.ModelSerializer):
    rule_set_effective_from = serializers.DateField(source="rule_set.effective_from")
    points = serializers.SerializerMethodField()
    customer_retention_pct = serializers.DecimalField(
        max_digits=9, decimal_places=4, allow_null=True, read_only=True
    )
    revenue_retention_pct = serializers.DecimalField(
        max_digits=20, decimal_places=4, allow_null=True, read_only=True
    )

    class Meta:
        model = TierAssessment
        fields = [
            "id",
            "as_of",
            "rule_set_effective_from",
            "tier_before",
            "qualified_tier",
            "tier_after",
            "at_risk",
            "elite_qualified",
            "elite_invited",
            "customer_retention_pct",
            "revenue_retention_pct",
            "team_certifications",
            "matching_eligible",
            "matching_gaps",
            "sourced_share_pct",
            "tiers_dropped",
            "points",
            "sold_source",
        ]

    @extend_schema_field(PointsOut)
    def get_points(self, assessment: TierAssessment) -> dict[str, object]:
        return PointsOut(
            {
                "sourced": assessment.sourced_points,
                "assisted": assessment.assisted_points,
                "managed": assessment.managed_points,
                "total": assessment.total_points,
            }
        ).data


class EliteInvitationIn(serializers.Serializer):
    reason = serializers.CharField(
        max_length=ELITE_REASON_MAX, help_text="Why partner ops invite this partner."
    )


class EliteInvitationOut(serializers.ModelSerializer):
    partner = serializers.IntegerField(source="organisation_id")
    invited_by = serializers.EmailField(source="invited_by.email")

    class Meta:
        model = EliteInvitation
        fields = ["id", "partner", "invited_at", "invited_by", "reason"]
