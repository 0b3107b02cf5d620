"""Django admin for partner ops. Reference data (currencies, countries, catalog) is edited
here through kernel services (permission, validation, write and audit in one transaction);
domain records are read-only because their changes must go through the apps' services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from . import rules, services
from .access import Action, can
from .errors import InvalidInput
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


class ReferenceForm(forms.ModelForm):
    """A reference-data form that also applies the kernel's rules for its fields (`checks`), so
    the admin shows the service's refusal on the field instead of an error page."""

    checks: ClassVar[dict[str, Callable[[Any], Any]]] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field, check in self.checks.items():
            if field in cleaned and field not in self.errors:
                try:
                    cleaned[field] = check(cleaned[field])
                except InvalidInput as exc:
                    self.add_error(field, exc.messages())
        return cleaned


class ReferenceAdmin(OpsAdmin):
    """Reference data that changes money or routing: the admin validates the form, then a
    kernel service checks the permission, validates, writes and audits in one transaction
    (`save_through_service`); the admin never saves these rows itself."""

    editable = True

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # The code is the row's identity, which other rows refer to: set once, when added.
        return ("code",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.save_through_service(access_user(request), obj, form)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The service wrote the row's relations too (a product line's editions)."""

    def save_through_service(self, actor: User, obj: Any, form: Any) -> None:
        raise NotImplementedError


def access_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - the admin requires a signed-in user
    return user


class CurrencyForm(ReferenceForm):
    checks: ClassVar[dict[str, Callable[[Any], Any]]] = {"points_amount": rules.check_points_amount}

    class Meta:
        model = Currency
        fields = ["code", "name", "points_amount"]


@admin.register(Currency)
class CurrencyAdmin(ReferenceAdmin):
    form = CurrencyForm
    list_display = ["code", "name", "points_amount"]

    def save_through_service(self, actor: User, obj: Any, form: Any) -> None:
        services.currency_save(
            actor=actor, code=obj.code, name=obj.name, points_amount=obj.points_amount
        )


@admin.register(Country)
class CountryAdmin(ReferenceAdmin):
    list_display = ["code", "name", "region", "growth_market"]
    list_filter = ["region", "growth_market"]
    search_fields = ["code", "name"]

    def save_through_service(self, actor: User, obj: Any, form: Any) -> None:
        services.country_save(
            actor=actor,
            code=obj.code,
            name=obj.name,
            region=obj.region,
            growth_market=obj.growth_market,
        )


@admin.register(Edition)
class EditionAdmin(ReferenceAdmin):
    list_display = ["code", "name", "rank"]

    def save_through_service(self, actor: User, obj: Any, form: Any) -> None:
        services.edition_save(actor=actor, code=obj.code, name=obj.name, rank=obj.rank)


@admin.register(ProductLine)
class ProductLineAdmin(ReferenceAdmin):
    list_display = ["code", "name", "kind"]
    filter_horizontal = ["editions"]

    def save_through_service(self, actor: User, obj: Any, form: Any) -> None:
        services.product_line_save(
            actor=actor,
            code=obj.code,
            name=obj.name,
            kind=obj.kind,
            editions=[edition.pk for edition in form.cleaned_data["editions"]],
        )


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
