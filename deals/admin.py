"""Deals in the Django admin for partner ops: territories (the routing table of Partner
Sourced requests) are edited through `services.territory_edit`, which checks the permission,
validates, writes and audits in one transaction; deal records are read-only (their changes go
through the other services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from partnerportal.core.admin import OpsAdmin
from partnerportal.core.errors import NON_FIELD
from partnerportal.core.models import User

from . import services
from .models import Deal, Registration, SoldAssociation, Territory


class TerritoryForm(forms.ModelForm):  # type: ignore[type-arg]
    """The admin's form shows the service's own checks on its fields (`territory_problems`)."""

    class Meta:
        model = Territory
        fields = ["region", "segment", "growth_specialist"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            problems = services.territory_problems(
                region=data.get("region") or "",
                segment=data.get("segment") or "",
                growth_specialist=data.get("growth_specialist"),
                territory_id=self.instance.pk,
            )
            for field, messages in problems.items():
                self.add_error(None if field == NON_FIELD else field, messages)
        return data

    def validate_unique(self) -> None:
        """One row per region and segment is among `territory_problems`, said once there."""


@admin.register(Territory)
class TerritoryAdmin(OpsAdmin):
    editable = True
    form = TerritoryForm
    list_display = ["region", "segment", "growth_specialist"]
    list_select_related = ["growth_specialist"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor = request.user
        assert isinstance(actor, User)  # noqa: S101 - the admin requires a signed-in user
        saved = services.territory_edit(
            actor=actor,
            territory=obj if change else None,
            region=form.cleaned_data["region"],
            segment=form.cleaned_data["segment"],
            growth_specialist=form.cleaned_data["growth_specialist"],
        )
        # The admin logs and redirects with the row the service saved.
        obj.pk = saved.pk
        obj._state.adding = False


@admin.register(Deal)
class DealAdmin(OpsAdmin):
    list_display = ["id", "customer", "status", "growth_specialist", "resolution_rule", "winner"]
    list_filter = ["status", "resolution_rule"]
    list_select_related = ["customer", "growth_specialist", "winner"]
    search_fields = ["customer__domain"]


@admin.register(Registration)
class RegistrationAdmin(OpsAdmin):
    list_display = ["id", "deal", "organisation", "motion", "status", "created_at"]
    list_filter = ["motion", "status"]
    list_select_related = ["deal", "organisation"]
    search_fields = ["registered_domain", "organisation__name"]


@admin.register(SoldAssociation)
class SoldAssociationAdmin(OpsAdmin):
    list_display = ["customer", "product_line", "organisation", "kind", "close_date"]
    list_filter = ["kind", "product_line"]
    list_select_related = ["customer", "product_line", "organisation"]
    search_fields = ["customer__domain", "organisation__name"]
