"""Escalations in the Django admin for partner ops: read-only (cases move, marks are created
and consequences applied only through the services, which check, validate, write and audit)."""

from __future__ import annotations

from django.contrib import admin

from partnerportal.core.admin import OpsAdmin

from .models import Consequence, Escalation, Mark


@admin.register(Escalation)
class EscalationAdmin(OpsAdmin):
    list_display = [
        "id",
        "organisation",
        "customer_domain",
        "step",
        "status",
        "outcome",
        "opened_at",
    ]
    list_filter = ["status", "step", "outcome", "serious"]
    list_select_related = ["organisation"]
    search_fields = ["customer_domain", "organisation__name"]


@admin.register(Mark)
class MarkAdmin(OpsAdmin):
    list_display = ["id", "organisation", "escalation", "effective_on", "director_approval"]
    list_select_related = ["organisation"]
    search_fields = ["organisation__name"]


@admin.register(Consequence)
class ConsequenceAdmin(OpsAdmin):
    list_display = ["id", "organisation", "kind", "effective_from", "effective_until"]
    list_filter = ["kind"]
    list_select_related = ["organisation"]
    search_fields = ["organisation__name"]
