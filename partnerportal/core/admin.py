"""Django admin for partner ops. Reference data (currencies, countries, catalog) is editable
here; domain records are read-only because their changes must go through services (which
check permission and write the audit trail)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .access import Action, can
from .models import (
    Activity,
    AuditEvent,
    Country,
    Currency,
    Customer,
    Edition,
    Organisation,
    ProductLine,
    Subscription,
    SubscriptionVersion,
    User,
)


def is_ops(request: HttpRequest) -> bool:
    """Whether the request's user may use the admin (partner ops, or a superuser)."""
    user = request.user
    return bool(user.is_active and (user.is_superuser or can(user, Action.ADMIN_SITE)))  # type: ignore[arg-type]


class OpsAdmin(admin.ModelAdmin):
    """Visible to partner ops; editable only when `editable` is set (reference data)."""

    editable = False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_ops(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_ops(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.editable and is_ops(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.editable and is_ops(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Currency)
class CurrencyAdmin(OpsAdmin):
    editable = True
    list_display = ["code", "name", "points_amount"]


@admin.register(Country)
class CountryAdmin(OpsAdmin):
    editable = True
    list_display = ["code", "name", "region", "growth_market"]
    list_filter = ["region", "growth_market"]
    search_fields = ["code", "name"]


@admin.register(Edition)
class EditionAdmin(OpsAdmin):
    editable = True
    list_display = ["code", "name", "rank"]


@admin.register(ProductLine)
class ProductLineAdmin(OpsAdmin):
    editable = True
    list_display = ["code", "name", "kind"]
    filter_horizontal = ["editions"]


@admin.register(Organisation)
class OrganisationAdmin(OpsAdmin):
    list_display = ["name", "kind", "tier", "standing", "country", "pdm"]
    list_filter = ["kind", "tier", "standing"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(OpsAdmin):
    list_display = ["email", "role", "organisation", "region", "segment", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["email"]
    exclude = ["password"]


@admin.register(Customer)
class CustomerAdmin(OpsAdmin):
    list_display = ["domain", "name", "country", "segment"]
    search_fields = ["domain", "name"]


class SubscriptionVersionInline(admin.TabularInline):
    model = SubscriptionVersion
    extra = 0
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(OpsAdmin):
    list_display = ["customer", "product_line"]
    search_fields = ["customer__domain"]
    inlines = [SubscriptionVersionInline]


@admin.register(Activity)
class ActivityAdmin(OpsAdmin):
    list_display = ["occurred_at", "organisation", "customer", "kind"]
    list_filter = ["kind"]


@admin.register(AuditEvent)
class AuditEventAdmin(OpsAdmin):
    list_display = ["occurred_at", "actor_label", "verb", "subject_type", "subject_id"]
    list_filter = ["verb"]
    search_fields = ["verb", "actor_label", "subject_id"]
