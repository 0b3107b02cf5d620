"""Typed factory-boy factories for the kernel. Tests build rows with these, never fixtures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

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


# --- Sold associations (tiers tests) ---------------------------------------------------------
# Deal models are imported where used, so this section can be appended without touching the
# imports at the top of the file (the deals engineer edits this file too).


def _won_deal(association: Any) -> Any:
    """A closed-won deal on the association's customer, built with plain ORM calls."""
    from deals.models import Deal, Motion

    return Deal.objects.create(
        customer=association.customer,
        vendor_owned=association.kind == Motion.PARTNER_ASSISTED,
        status=Deal.Status.WON,
        purchase_domain=association.customer.domain,
        close_date=association.close_date,
        closed_at=datetime.combine(association.close_date, datetime.min.time(), tzinfo=UTC),
    )


def _winning_registration(association: Any) -> Any:
    """The partner's registration on that deal (approved if sourced, accepted if assisted)."""
    from deals.models import Motion, Registration

    sourced = association.kind == Motion.PARTNER_SOURCED
    return Registration.objects.create(
        deal=association.deal,
        organisation=association.organisation,
        motion=association.kind,
        status=Registration.Status.APPROVED if sourced else Registration.Status.ACCEPTED,
        registered_domain=association.customer.domain,
        created_by=PartnerUserFactory(organisation=association.organisation),
    )


class SoldAssociationFactory(DjangoModelFactory[Any]):
    """A sold association (deals.SoldAssociation) with the deal and registration behind it."""

    class Meta:
        model = "deals.SoldAssociation"

    organisation = factory.SubFactory(OrganisationFactory)
    customer = factory.SubFactory(CustomerFactory)
    product_line = factory.LazyFunction(lambda: ProductLine.objects.get(code="marketing_hub"))
    kind = "partner_sourced"
    close_date = date(2025, 1, 1)
    mrr_at_close = Decimal("100.00")
    currency = factory.LazyFunction(lambda: Currency.objects.get(code="USD"))
    deal = factory.LazyAttribute(_won_deal)
    registration = factory.LazyAttribute(_winning_registration)


# --- Deals (deal pages tests) ----------------------------------------------------------------
# Plain rows for list pages and query counts; journeys build deals through deals.services.


class DealFactory(DjangoModelFactory[Any]):
    """An open deal (deals.Deal) on a new customer, routed to no one unless given a GS."""

    class Meta:
        model = "deals.Deal"

    customer = factory.SubFactory(CustomerFactory)
    growth_specialist = None
    vendor_owned = False


class RegistrationFactory(DjangoModelFactory[Any]):
    """A partner's approved Partner Sourced registration (deals.Registration) on a deal."""

    class Meta:
        model = "deals.Registration"

    deal = factory.SubFactory(DealFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    motion = "partner_sourced"
    status = "approved"
    registered_domain = factory.LazyAttribute(lambda r: r.deal.customer.domain)
    created_by = factory.LazyAttribute(lambda r: PartnerUserFactory(organisation=r.organisation))


def _answer_due(inquiry: Any) -> datetime:
    from datetime import timedelta

    return inquiry.asked_at + timedelta(hours=48)


class InquiryFactory(DjangoModelFactory[Any]):
    """An unanswered GS question (deals.Inquiry), due 48 hours after it was asked."""

    class Meta:
        model = "deals.Inquiry"

    registration = factory.SubFactory(RegistrationFactory)
    question = "Who is your contact at the customer?"
    asked_by = factory.SubFactory(UserFactory, role=Role.GROWTH_SPECIALIST)
    asked_at = factory.LazyFunction(lambda: datetime.now(UTC))
    answer_due_at = factory.LazyAttribute(_answer_due)
