"""The kernel API's input and output shapes. Input serializers parse, bound and validate every
field to the type and size of the column it lands in (lengths read from the models, numbers
from `core.rules` bounds), so services receive typed values and a value the database cannot
hold is a 400 naming the field. Rules and reference lookups stay in the services."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework import serializers

from ..models import (
    Activity,
    AuditEvent,
    Country,
    Currency,
    Customer,
    Edition,
    Organisation,
    ProductLine,
    Segment,
    User,
)
from .fields import IdField, MoneyField, SeatsField


def column_length(model: type[Model], field: str) -> int:
    """The max_length of a model's text column: input is bounded by what it lands in."""
    column = model._meta.get_field(field)
    length = getattr(column, "max_length", None)
    if not isinstance(length, int):
        raise TypeError(f"{model.__name__}.{field} has no max_length")
    return length


def country_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        min_length=2,
        max_length=column_length(Country, "code"),
        help_text="ISO 3166 alpha-2 code, e.g. GB.",
        **kwargs,
    )


def domain_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        max_length=column_length(Customer, "domain"),
        help_text="The customer's purchase domain, e.g. acme.com (a scheme or www. is removed).",
        **kwargs,
    )


class PartnerCreateIn(serializers.Serializer):
    name = serializers.CharField(max_length=column_length(Organisation, "name"))
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices)
    country = country_field()
    has_partner_certification = serializers.BooleanField(default=False)
    has_pro_subscription = serializers.BooleanField(default=False)
    payout_paperwork_complete = serializers.BooleanField(default=False)
    pdm = serializers.EmailField(
        required=False,
        max_length=column_length(User, "email"),
        help_text="E-mail of the assigned PDM.",
    )


class PartnerOut(serializers.ModelSerializer):
    country = serializers.CharField(source="country_id")
    pdm = serializers.EmailField(source="pdm.email", default=None, allow_null=True)

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "kind",
            "country",
            "tier",
            "standing",
            "has_partner_certification",
            "has_pro_subscription",
            "payout_paperwork_complete",
            "pdm",
            "created_at",
        ]


class PartnerUserIn(serializers.Serializer):
    email = serializers.EmailField(max_length=column_length(User, "email"))
    role = serializers.ChoiceField(choices=["admin", "member"])


class PartnerUserAddedOut(serializers.Serializer):
    """The answer to adding a person: the same whether the address was new (an account is
    created and an invitation sent) or already has an account with another organisation
    (nothing is created; the address's owner is told), so it reveals nothing about accounts
    elsewhere."""

    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=["admin", "member"])
    detail = serializers.CharField()


class SubscriptionChangeIn(serializers.Serializer):
    customer_domain = domain_field()
    customer_name = serializers.CharField(
        max_length=column_length(Customer, "name"), required=False, default="", allow_blank=True
    )
    country = country_field()
    segment = serializers.ChoiceField(choices=Segment.choices)
    product_line = serializers.CharField(max_length=column_length(ProductLine, "code"))
    edition = serializers.CharField(
        max_length=column_length(Edition, "code"), required=False, allow_null=True, default=None
    )
    mrr = MoneyField(
        required=False, allow_null=True, default=None, help_text="Not needed to terminate."
    )
    currency = serializers.CharField(
        min_length=3,
        max_length=column_length(Currency, "code"),
        required=False,
        default="",
        allow_blank=True,
        help_text="ISO 4217 code, e.g. USD. Not needed to terminate.",
    )
    seats = SeatsField(default=1)
    effective_from = serializers.DateField()
    terminated = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["terminated"]:
            missing = {
                f: ["This field is required."]
                for f in ("mrr", "currency")
                if attrs.get(f) in (None, "")
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class SubscriptionChangeOut(serializers.Serializer):
    subscription = serializers.IntegerField()
    customer_domain = serializers.CharField()
    product_line = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)


class ActivityIn(serializers.Serializer):
    partner = IdField(help_text="The partner organisation's id.")
    customer_domain = domain_field()
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    occurred_at = serializers.DateTimeField()


class ActivityOut(serializers.ModelSerializer):
    partner = serializers.IntegerField(source="organisation_id")
    customer_domain = serializers.CharField(source="customer.domain")

    class Meta:
        model = Activity
        fields = ["id", "partner", "customer_domain", "kind", "occurred_at"]


class AuditEventOut(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_label",
            "verb",
            "subject_type",
            "subject_id",
            "organisation",
            "reason",
            "data",
            "request_id",
        ]
