"""Admin for the Upmarket Referral rule-set data (SPEC 7): thresholds by period and country
(the 2025 pilot is a row) and the countries exempt from the CRM Implementation accreditation.

Partner ops and finance edit them (`CommissionAction.RULE_SET_EDIT`; the admin site itself is
partner ops', `core.admin.is_ops`). Every add, change and delete goes through
`services.rule_sets` (permission, validation, the write and its audit row in one
transaction), never through the admin's own `save()` or `delete()`: the forms here only parse
what is typed, and a service's refusal is shown on the form's field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from partnerportal.core.access import can
from partnerportal.core.admin import OpsAdmin, access_user, is_ops
from partnerportal.core.errors import InvalidInput

from .models import AccreditationExemptCountry, UpmarketThreshold
from .permissions import CommissionAction
from .services import rule_sets


def may_edit(request: HttpRequest) -> bool:
    user = request.user
    return is_ops(request) and (
        bool(getattr(user, "is_superuser", False)) or can(user, CommissionAction.RULE_SET_EDIT)  # type: ignore[arg-type]
    )


class RuleSetAdmin(OpsAdmin):
    """Editable by whoever may edit the rule set; deletes go through the service too."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may_edit(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_edit(request)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The service wrote the row (no relations to save)."""

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class ThresholdForm(forms.ModelForm):
    countries = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Country codes separated by commas (e.g. BR, MX); empty: every country.",
    )

    class Meta:
        model = UpmarketThreshold
        fields = ["effective_from", "effective_until", "countries", "usd", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["countries"] = ", ".join(self.instance.countries)

    def clean_countries(self) -> list[str]:
        text = self.cleaned_data.get("countries") or ""
        return [code.strip().upper() for code in text.split(",") if code.strip()]

    def clean(self) -> dict[str, Any]:
        """Apply the service's validation here too, so a refusal lands on its field."""
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            rule_sets.check_threshold(
                effective_from=cleaned["effective_from"],
                effective_until=cleaned.get("effective_until"),
                countries=cleaned.get("countries") or [],
                usd=cleaned["usd"],
                note=cleaned.get("note") or "",
            )
        except InvalidInput as exc:
            for field, messages in exc.errors.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(UpmarketThreshold)
class UpmarketThresholdAdmin(RuleSetAdmin):
    form = ThresholdForm
    list_display = ["effective_from", "effective_until", "usd", "countries_shown", "note"]

    @admin.display(description="countries")
    def countries_shown(self, obj: UpmarketThreshold) -> str:
        return ", ".join(obj.countries) or "every country"

    def save_model(
        self, request: HttpRequest, obj: UpmarketThreshold, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        saved, _ = rule_sets.upmarket_threshold_save(
            actor=access_user(request),
            threshold_id=obj.pk if change else None,
            effective_from=data["effective_from"],
            effective_until=data.get("effective_until"),
            countries=data.get("countries") or [],
            usd=data["usd"],
            note=data.get("note") or "",
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: UpmarketThreshold) -> None:
        rule_sets.upmarket_threshold_delete(actor=access_user(request), threshold_id=obj.pk)


class ExemptCountryForm(forms.ModelForm):
    class Meta:
        model = AccreditationExemptCountry
        fields = ["country"]

    def clean_country(self) -> Any:
        country = self.cleaned_data["country"]
        clash = AccreditationExemptCountry.objects.filter(country=country).exclude(
            pk=self.instance.pk
        )
        if clash.exists():
            raise ValidationError("This country is already exempt.")
        return country


@admin.register(AccreditationExemptCountry)
class AccreditationExemptCountryAdmin(RuleSetAdmin):
    form = ExemptCountryForm
    list_display = ["country"]

    def save_model(
        self, request: HttpRequest, obj: AccreditationExemptCountry, form: Any, change: bool
    ) -> None:
        saved, _ = rule_sets.exempt_country_save(
            actor=access_user(request),
            exempt_id=obj.pk if change else None,
            country=obj.country_id,
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: AccreditationExemptCountry) -> None:
        rule_sets.exempt_country_delete(actor=access_user(request), exempt_id=obj.pk)
