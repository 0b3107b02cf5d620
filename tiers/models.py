"""Tier rule sets (effective-dated data) and tier assessments (one per partner and run date).

The rules themselves are pure and live in `rules.py`; `selectors.rule_sets` turns the rows
here into `rules.RuleSet` values, and `services.tier_run` writes the assessments.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.lookups import Exact, IsNull
from django.utils import timezone

from partnerportal.core.models import Organisation

from . import rules

#: Points are stored as settled values (see `rules.POINTS_RESOLUTION`, 1e-12).
POINTS_DIGITS = 24
POINTS_PLACES = 12
#: A line's points are stored unrounded enough that the assessment totals are exactly the
#: settled sums of its lines (three 1/3-point lines plus 109 reach 110, as in `rules`).
LINE_POINTS_DIGITS = 52
LINE_POINTS_PLACES = 40

#: The tiers an organisation can hold (the same values as `rules.Tier`).
TierChoices = Organisation.Tier


class TierRuleSet(models.Model):
    """Every number of the tier rules, in force from `effective_from` until the next set.

    Currencies (amount worth USD 100) and growth markets are core reference data
    (`core.Currency`, `core.Country`), shared with the rest of the program.
    """

    effective_from = models.DateField(unique=True)
    sold_min_sourced_only = models.BooleanField(
        default=True,
        help_text="Sold minimums count Partner Sourced points only (else sourced + assisted).",
    )
    sourced_points = models.DecimalField(
        max_digits=8, decimal_places=4, default=5, help_text="Points per USD 100 of sourced MRR."
    )
    assisted_points = models.DecimalField(
        max_digits=8, decimal_places=4, default=3, help_text="Points per USD 100 of assisted MRR."
    )
    managed_points = models.DecimalField(
        max_digits=8, decimal_places=4, default=1, help_text="Points per USD 100 of managed MRR."
    )
    growth_multiplier = models.DecimalField(
        max_digits=8, decimal_places=4, default=2, help_text="Applied in growth-market countries."
    )
    pro_subscription_min_usd = models.DecimalField(max_digits=12, decimal_places=2, default=400)
    elite_min_customer_retention_pct = models.DecimalField(
        max_digits=5, decimal_places=2, default=85, help_text="Inclusive (>=)."
    )
    elite_min_revenue_retention_pct = models.DecimalField(
        max_digits=5, decimal_places=2, default=85, help_text="Strict (>)."
    )
    elite_min_team_certifications = models.PositiveIntegerField(default=100)
    matching_min_sourced_share_pct = models.DecimalField(max_digits=5, decimal_places=2, default=20)
    matching_min_customer_retention_pct = models.DecimalField(
        max_digits=5, decimal_places=2, default=85
    )
    matching_min_tier = models.CharField(
        max_length=20, choices=TierChoices.choices, default=rules.Tier.PLATINUM.value
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sourced_points__gte=0)
                & Q(assisted_points__gte=0)
                & Q(managed_points__gte=0)
                & Q(growth_multiplier__gte=1),
                name="tierruleset_weights_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"Tier rules from {self.effective_from.isoformat()}"


class TierTarget(models.Model):
    """The three minimums of one tier in one rule set (SPEC 4)."""

    rule_set = models.ForeignKey(TierRuleSet, on_delete=models.CASCADE, related_name="targets")
    tier = models.CharField(
        max_length=20,
        choices=[(t.value, t.value.capitalize()) for t in rules.TARGET_TIERS],
    )
    sold_min = models.DecimalField(max_digits=14, decimal_places=2)
    managed_min = models.DecimalField(max_digits=14, decimal_places=2)
    total_min = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["rule_set", "-total_min"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "tier"], name="tiertarget_one_per_tier"),
            models.CheckConstraint(
                condition=Q(tier__in=[t.value for t in rules.TARGET_TIERS]),
                name="tiertarget_tier_has_targets",
            ),
            models.CheckConstraint(
                condition=Q(sold_min__gte=0) & Q(managed_min__gte=0) & Q(total_min__gte=0),
                name="tiertarget_minimums_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.tier}: sold {self.sold_min}, managed {self.managed_min}, total {self.total_min}"
        )


class SoldSource(models.TextChoices):
    """Where an assessment's sold (sourced/assisted) lines came from."""

    # Sold associations are created by deal registration (issue 3). Until that lands a run
    # has no association to credit, and says so rather than pretending sold points are 0.
    NOT_YET_RECORDED = "not_yet_recorded", "Sold associations not yet recorded (issue 3)"
    ASSOCIATIONS = "associations", "Sold associations"


class TierAssessment(models.Model):
    """One partner's points and tier outcome at one run date, with its contributing lines."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="tier_assessments"
    )
    as_of = models.DateField()
    rule_set = models.ForeignKey(TierRuleSet, on_delete=models.PROTECT, related_name="+")
    sourced_points = models.DecimalField(max_digits=POINTS_DIGITS, decimal_places=POINTS_PLACES)
    assisted_points = models.DecimalField(max_digits=POINTS_DIGITS, decimal_places=POINTS_PLACES)
    managed_points = models.DecimalField(max_digits=POINTS_DIGITS, decimal_places=POINTS_PLACES)
    total_points = models.DecimalField(max_digits=POINTS_DIGITS, decimal_places=POINTS_PLACES)
    sold_source = models.CharField(max_length=30, choices=SoldSource.choices)
    tier_before = models.CharField(max_length=20, choices=TierChoices.choices)
    qualified_tier = models.CharField(max_length=20, choices=TierChoices.choices)
    tier_after = models.CharField(max_length=20, choices=TierChoices.choices)
    at_risk = models.BooleanField()
    elite_qualified = models.BooleanField()
    # The non-points Elite conditions as the run saw them (SPEC 4). Invitation for every
    # assessment; retention and certifications only for partners meeting the Elite points
    # (the only ones they can matter to), null otherwise. See `services._elite_facts`.
    elite_invited = models.BooleanField(default=False)
    customer_retention_pct = models.DecimalField(
        max_digits=9, decimal_places=4, null=True, blank=True
    )
    revenue_retention_pct = models.DecimalField(
        max_digits=20, decimal_places=4, null=True, blank=True
    )
    team_certifications = models.PositiveIntegerField(null=True, blank=True)
    # Partner matching (SPEC 10) as the run decided it (`rules.partner_matching`): eligible or
    # not, and why not (`rules.MatchingGap` codes); null for assessments made before the run
    # decided it. The sourced share is of the sold MRR the run credited (null without any).
    matching_eligible = models.BooleanField(null=True, blank=True)
    #: Levels a tier-drop consequence in effect on the run date took off (SPEC 10; 0: none).
    tiers_dropped = models.PositiveSmallIntegerField(default=0)
    matching_gaps = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    sourced_share_pct = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["organisation_id", "-as_of"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "as_of"], name="tierassessment_one_per_partner_date"
            ),
            # No "total = sum of kinds" constraint: each figure is settled (rounded to 1e-12)
            # from its unrounded sum, and the settled total may differ from the sum of the
            # settled kinds by 1e-12 (three 1/3-point lines make 1, not 0.999999999999).
            models.CheckConstraint(
                condition=Q(sourced_points__gte=0)
                & Q(assisted_points__gte=0)
                & Q(managed_points__gte=0)
                & Q(total_points__gte=0),
                name="tierassessment_points_not_negative",
            ),
            # At risk means "kept a tier it no longer qualifies for", so it cannot coexist
            # with having moved.
            models.CheckConstraint(
                condition=Q(at_risk=False) | Q(tier_after=models.F("tier_before")),
                name="tierassessment_at_risk_keeps_tier",
            ),
            models.CheckConstraint(
                condition=Q(elite_qualified=True)
                | Q(
                    customer_retention_pct__isnull=True,
                    revenue_retention_pct__isnull=True,
                    team_certifications__isnull=True,
                ),
                name="tierassessment_elite_facts_only_if_qualified",
            ),
            # Elite needs the invitation (SPEC 4): no run can make an uninvited partner Elite.
            models.CheckConstraint(
                condition=~Q(qualified_tier="elite") | Q(elite_invited=True),
                name="tierassessment_elite_needs_invitation",
            ),
        ]
        indexes = [models.Index(fields=["as_of"], name="tierassessment_as_of_idx")]

    def __str__(self) -> str:
        return f"{self.organisation_id} on {self.as_of.isoformat()}: {self.tier_after}"


class LineKind(models.TextChoices):
    """How a contributing line earned its points (SPEC 4)."""

    SOURCED = rules.LineKind.SOURCED.value, "Partner Sourced"
    ASSISTED = rules.LineKind.ASSISTED.value, "Partner Assisted"
    MANAGED = rules.LineKind.MANAGED.value, "Managed"


def _cardinality(field: str) -> Func:
    return Func(F(field), function="cardinality", output_field=models.IntegerField())


#: The per-line arrays of `TierAssessmentLines`, in the order the run writes them.
LINE_ARRAYS = (
    "customer_ids",
    "product_line_ids",
    "kinds",
    "mrr_this_month",
    "mrr_year_ago",
    "currencies",
    "growth_markets",
    "points",
)


class TierAssessmentLines(models.Model):
    """The contributing lines of one assessment (SPEC 4): every (customer, product line, kind)
    that earned points, and how. Read them through `selectors.assessment_lines`.

    Stored column-wise in the assessment's own row: element i of every array is line i
    (customer, product line, kind, MRR this month and a year ago, currency, growth market,
    points). A run writes a month's lines for every partner at once, half a million at the
    vendor's scale; as one row per line with its indexes and reference checks that writing
    cost more than the whole computation, as one row per assessment it costs a tenth of a
    second (docs/PERFORMANCE.md, docs/decisions.md). The lines are a snapshot: written once
    with their assessment, in its transaction, never changed, and they cannot outlive it.

    Each (customer, product line, kind) appears once: the run builds managed lines from
    distinct (partner, customer) activity pairs and one subscription per customer and
    product line, and sold lines from sold associations, unique per customer and product line.
    """

    assessment = models.OneToOneField(
        TierAssessment, primary_key=True, on_delete=models.CASCADE, related_name="line_set"
    )
    count = models.PositiveIntegerField()
    customer_ids = ArrayField(models.BigIntegerField())
    # Always set: managed credit is recorded per subscription line too, because a customer's
    # lines may be billed in different currencies and each converts on its own.
    product_line_ids = ArrayField(models.CharField(max_length=40))
    kinds = ArrayField(models.CharField(max_length=20, choices=LineKind.choices))
    mrr_this_month = ArrayField(models.DecimalField(max_digits=14, decimal_places=2))
    # Sold lines only (their points are on growth over this); null for managed lines.
    mrr_year_ago = ArrayField(models.DecimalField(max_digits=14, decimal_places=2, null=True))
    currencies = ArrayField(models.CharField(max_length=3))
    growth_markets = ArrayField(models.BooleanField())
    points = ArrayField(
        models.DecimalField(max_digits=LINE_POINTS_DIGITS, decimal_places=LINE_POINTS_PLACES)
    )

    class Meta:
        verbose_name = "tier assessment lines"
        verbose_name_plural = "tier assessment lines"
        constraints = [
            # Every array holds one element per line.
            models.CheckConstraint(
                condition=Q(*(Exact(_cardinality(name), F("count")) for name in LINE_ARRAYS)),
                name="tierlines_arrays_one_element_per_line",
            ),
            # No null element but a managed line's year-ago MRR (checked per line by the
            # run's SQL and by the tests; an array cannot say "null iff managed" here).
            models.CheckConstraint(
                condition=Q(
                    *(
                        IsNull(
                            Func(
                                F(name),
                                Value(None),
                                function="array_position",
                                output_field=models.IntegerField(),
                            ),
                            True,
                        )
                        for name in ("customer_ids", "kinds", "mrr_this_month", "points")
                    )
                ),
                name="tierlines_no_null_elements",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.count} lines of assessment {self.assessment_id}"


class EliteInvitation(models.Model):
    """Partner ops invited a partner to Elite (SPEC 4): who, when and why.

    One per partner. It counts for runs on or after the day it was made; the partner becomes
    Elite only at a run where it also meets the Elite points, retention and certifications.
    """

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="elite_invitation"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()

    class Meta:
        ordering = ["-invited_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="eliteinvitation_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Elite invitation of {self.organisation_id}"


class TierRun(models.Model):
    """One invocation of the re-tiering run for a date (API, operator command or schedule).

    A run only adds the assessments still missing for its date, so several runs of one date
    are normal (a re-run, a crash completed): each is a row, and `partners_assessed` says
    what that one did. A row without `finished_at` is a run that stopped midway; the chunks it
    committed are kept, and the next run of the date completes it.
    """

    class Trigger(models.TextChoices):
        API = "api", "Partner ops, through the API"
        COMMAND = "command", "Operator command"
        SCHEDULE = "schedule", "Monthly schedule"

    as_of = models.DateField()
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rule_set = models.ForeignKey(TierRuleSet, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    partners_assessed = models.PositiveIntegerField(default=0)
    tier_changes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=models.F("started_at")),
                name="tierrun_finishes_after_start",
            ),
            models.CheckConstraint(
                condition=Q(tier_changes__lte=models.F("partners_assessed")),
                name="tierrun_changes_within_assessed",
            ),
        ]
        indexes = [models.Index(fields=["as_of"], name="tierrun_as_of_idx")]

    def __str__(self) -> str:
        return f"Tier run {self.pk} for {self.as_of.isoformat()}"
