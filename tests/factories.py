"""Typed factory-boy factories for the kernel. Tests build rows with these, never fixtures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from partnerportal.core.models import (
    Activity,
    Country,
    Currency,
    Customer,
    Edition,
    Organisation,
    ProductLine,
    Role,
    Subscription,
    SubscriptionVersion,
    User,
)

TEST_PASSWORD = "correct-horse-battery"


class OrganisationFactory(DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Partner {n}")
    kind = Organisation.Kind.PARTNER
    country = factory.LazyFunction(lambda: Country.objects.get(code="GB"))
    has_partner_certification = True
    has_pro_subscription = True
    payout_paperwork_complete = True


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    role = Role.PARTNER_OPS
    password = factory.django.Password(TEST_PASSWORD)


class PartnerUserFactory(UserFactory):
    role = Role.PARTNER_ADMIN
    organisation = factory.SubFactory(OrganisationFactory)


class CustomerFactory(DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    domain = factory.Sequence(lambda n: f"customer{n}.example.com")
    name = factory.Sequence(lambda n: f"Customer {n}")
    country = factory.LazyFunction(lambda: Country.objects.get(code="GB"))
    segment = "smb"


class SubscriptionFactory(DjangoModelFactory[Subscription]):
    class Meta:
        model = Subscription

    customer = factory.SubFactory(CustomerFactory)
    product_line = factory.LazyFunction(lambda: ProductLine.objects.get(code="marketing_hub"))


class SubscriptionVersionFactory(DjangoModelFactory[SubscriptionVersion]):
    class Meta:
        model = SubscriptionVersion

    subscription = factory.SubFactory(SubscriptionFactory)
    edition = factory.LazyFunction(lambda: Edition.objects.get(code="professional"))
    seats = 1
    mrr = Decimal("800.00")
    currency = factory.LazyFunction(lambda: Currency.objects.get(code="USD"))
    effective_from = date(2026, 1, 1)
    effective_until = None


class ActivityFactory(DjangoModelFactory[Activity]):
    class Meta:
        model = Activity

    organisation = factory.SubFactory(OrganisationFactory)
    customer = factory.SubFactory(CustomerFactory)
    kind = Activity.Kind.ASSET_CREATED
    occurred_at = factory.LazyFunction(lambda: datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
