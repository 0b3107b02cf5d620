"""Admin for partner ops: rule sets are configuration (next year's targets are added here,
without a deploy); assessments are read-only records written by the run."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from partnerportal.core.admin import OpsAdmin, is_ops

from . import rules
from .models import (
    EliteInvitation,
    TierAssessment,
    TierAssessmentLine,
    TierRuleSet,
    TierTarget,
)


class TierTargetFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        tiers = sorted(
            form.cleaned_data["tier"]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        )
        if tiers != sorted(t.value for t in rules.TARGET_TIERS):
            raise ValidationError(
                "A rule set needs exactly one target for each of: "
                + ", ".join(t.value for t in rules.TARGET_TIERS)
                + "."
            )


class TierTargetInline(admin.TabularInline):
    """Edited together with its rule set, by whoever may edit the rule set (partner ops)."""

    model = TierTarget
    formset = TierTargetFormSet
    extra = 4
    max_num = len(rules.TARGET_TIERS)
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_ops(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_ops(request) and not _used(obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_ops(request) and not _used(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _used(rule_set: TierRuleSet | None) -> bool:
    """Whether assessments were made under `rule_set` (which makes it history)."""
    return rule_set is not None and TierAssessment.objects.filter(rule_set=rule_set).exists()


@admin.register(TierRuleSet)
class TierRuleSetAdmin(OpsAdmin):
    editable = True
    list_display = ["effective_from", "sold_min_sourced_only", "growth_multiplier"]
    inlines = [TierTargetInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A rule set that assessments were made under is history: add a new one instead.
        if _used(obj):
            return False
        return super().has_change_permission(request, obj)


LINE_FIELDS = (
    "kind",
    "customer",
    "product_line",
    "mrr_this_month",
    "mrr_year_ago",
    "currency",
    "growth_market",
    "points",
)


class TierAssessmentLineInline(admin.TabularInline):
    model = TierAssessmentLine
    extra = 0
    can_delete = False
    fields = LINE_FIELDS
    readonly_fields = LINE_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TierAssessment)
class TierAssessmentAdmin(OpsAdmin):
    list_display = [
        "organisation",
        "as_of",
        "tier_before",
        "tier_after",
        "qualified_tier",
        "at_risk",
        "elite_qualified",
        "elite_invited",
        "total_points",
    ]
    list_filter = ["as_of", "tier_after", "at_risk", "elite_qualified"]
    search_fields = ["organisation__name"]
    list_select_related = ["organisation"]
    inlines = [TierAssessmentLineInline]


@admin.register(EliteInvitation)
class EliteInvitationAdmin(OpsAdmin):
    """Read-only here: invitations are made through the API (`elite_invite`), which audits."""

    list_display = ["organisation", "invited_at", "invited_by", "reason"]
    search_fields = ["organisation__name"]
    list_select_related = ["organisation", "invited_by"]
