"""Deals in the Django admin for partner ops: territories (the routing table of Partner
Sourced requests) are editable; deal records are read-only (their changes go through the
services, which check permission and write the audit trail)."""

from __future__ import annotations

from django.contrib import admin

from partnerportal.core.admin import OpsAdmin

from .models import Deal, Registration, SoldAssociation, Territory


@admin.register(Territory)
class TerritoryAdmin(OpsAdmin):
    editable = True
    list_display = ["region", "segment", "growth_specialist"]
    list_select_related = ["growth_specialist"]


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
