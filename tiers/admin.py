"""Admin for partner ops: rule sets are configuration (next year's targets are added here,
without a deploy); assessments are read-only records written by the run.

A rule set and its targets are written by `services.rule_set_save` (permission, the pure
rules' validation, the write and the audit row, in one transaction), never by the admin's own
`save()`: the forms here only parse and bound what partner ops type."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from partnerportal.core.access import acting_user
from partnerportal.core.admin import OpsAdmin, is_ops
from partnerportal.core.errors import InvalidInput

from . import presenters, rules, selectors, services
from .inputs import RuleSetInput, TargetInput
from .models import EliteInvitation, TierAssessment, TierRuleSet, TierTarget

#: Lines shown on an assessment's admin page.
ADMIN_LINES = 200


class TierTargetFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        try:
            rules.check_targets(
                form.cleaned_data["tier"]
                for form in self.forms
                if form.cleaned_data and not form.cleaned_data.get("DELETE")
            )
        except InvalidInput as exc:  # the rule's words, on the admin's form
            raise ValidationError(exc.messages()) from exc


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


def _rule_set_input(form: forms.ModelForm[TierRuleSet], targets: TierTargetFormSet) -> RuleSetInput:
    """The typed rule set of the admin's valid forms."""
    data = form.cleaned_data
    return RuleSetInput(
        effective_from=data["effective_from"],
        sold_min_sourced_only=data["sold_min_sourced_only"],
        sourced_points=data["sourced_points"],
        assisted_points=data["assisted_points"],
        managed_points=data["managed_points"],
        growth_multiplier=data["growth_multiplier"],
        pro_subscription_min_usd=data["pro_subscription_min_usd"],
        elite_min_customer_retention_pct=data["elite_min_customer_retention_pct"],
        elite_min_revenue_retention_pct=data["elite_min_revenue_retention_pct"],
        elite_min_team_certifications=data["elite_min_team_certifications"],
        matching_min_sourced_share_pct=data["matching_min_sourced_share_pct"],
        matching_min_customer_retention_pct=data["matching_min_customer_retention_pct"],
        matching_min_tier=rules.Tier(data["matching_min_tier"]),
        targets=tuple(
            TargetInput(
                tier=rules.Tier(target.cleaned_data["tier"]),
                sold_min=target.cleaned_data["sold_min"],
                managed_min=target.cleaned_data["managed_min"],
                total_min=target.cleaned_data["total_min"],
            )
            for target in targets.forms
            if target.cleaned_data and not target.cleaned_data.get("DELETE")
        ),
    )


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

    def save_model(
        self,
        request: HttpRequest,
        obj: TierRuleSet,
        form: forms.ModelForm[TierRuleSet],
        change: bool,
    ) -> None:
        """Nothing yet: the rule set is written with its targets by `save_related`."""

    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm[TierRuleSet],
        formsets: list[Any],
        change: bool,
    ) -> None:
        """Write the rule set and its targets through the service, which audits them."""
        (targets,) = [f for f in formsets if isinstance(f, TierTargetFormSet)]
        saved = services.rule_set_save(
            actor=acting_user(request),
            data=_rule_set_input(form, targets),
            rule_set=TierRuleSet.objects.get(pk=form.instance.pk) if change else None,
        )
        # The admin logs and redirects to the object it believes it saved, and describes the
        # change from what its formset would have saved (the audit row has the figures).
        form.instance.pk = saved.pk
        form.instance.created_at = saved.created_at
        targets.new_objects = [] if change else list(saved.targets.all())
        targets.changed_objects = (
            [(f.instance, f.changed_data) for f in targets.forms if f.has_changed()]
            if change
            else []
        )
        targets.deleted_objects = []


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
                    presenters.LINE_KIND_WORDS[rules.LineKind(line.kind)],
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
