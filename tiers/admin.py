"""Admin for partner ops: rule sets are configuration (next year's targets are added here,
without a deploy); assessments are read-only records written by the run."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from partnerportal.core.admin import OpsAdmin, is_ops

from . import rules, selectors
from .models import EliteInvitation, TierAssessment, TierRuleSet, TierTarget

#: Lines shown on an assessment's admin page.
ADMIN_LINES = 200


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
    readonly_fields = ["contributing_lines"]

    @admin.display(description="Contributing lines")
    def contributing_lines(self, obj: TierAssessment) -> str:
        """The assessment's lines (the first `ADMIN_LINES`; all are on the partner's tier page
        and in its CSV)."""
        if obj.pk is None:
            return "—"
        lines = selectors.assessment_lines(obj)
        shown = lines[:ADMIN_LINES]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td></tr>",
            (
                (
                    line.get_kind_display(),
                    line.customer.domain,
                    line.product_line.name,
                    line.mrr_this_month,
                    "—" if line.mrr_year_ago is None else line.mrr_year_ago,
                    line.currency,
                    "yes" if line.growth_market else "no",
                    rules.settle_points(line.points),
                )
                for line in shown
            ),
        )
        more = lines.count() - len(shown) if len(shown) == ADMIN_LINES else 0
        return format_html(
            "<table><thead><tr><th>Kind</th><th>Customer</th><th>Product line</th>"
            "<th>MRR this month</th><th>MRR a year ago</th><th>Currency</th>"
            "<th>Growth market</th><th>Points</th></tr></thead><tbody>{}</tbody></table>{}",
            rows,
            format_html("<p>… and {} more: see the partner's tier page and its CSV.</p>", more)
            if more
            else "",
        )


@admin.register(EliteInvitation)
class EliteInvitationAdmin(OpsAdmin):
    """Read-only here: invitations are made through the API (`elite_invite`), which audits."""

    list_display = ["organisation", "invited_at", "invited_by", "reason"]
    search_fields = ["organisation__name"]
    list_select_related = ["organisation", "invited_by"]
