"""Services write an audit row in the same transaction; the trail is append-only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, transaction

from partnerportal.core import services
from partnerportal.core.errors import InvalidInput
from partnerportal.core.models import AuditEvent, Organisation, Role, SubscriptionVersion, User

from .cast import Cast
from .factories import CustomerFactory, SubscriptionFactory, SubscriptionVersionFactory

pytestmark = pytest.mark.django_db


def test_audit_trail_refuses_update_and_delete(cast: Cast) -> None:
    services.partner_create(actor=cast.ops, name="Echo", kind="partner", country="GB")
    event = AuditEvent.objects.get(verb="core.partner.created")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(verb="tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).verb == "core.partner.created"


def test_a_failed_service_leaves_neither_change_nor_audit(cast: Cast) -> None:
    with pytest.raises(InvalidInput) as error:
        services.subscription_change(
            actor=cast.ops,
            customer_domain="acme.com",
            customer_name="Acme",
            country="GB",
            segment="smb",
            product_line="marketing_hub",
            edition="professional",
            mrr=Decimal("10"),
            currency="XXX",
            seats=1,
            effective_from=date(2026, 1, 1),
        )
    assert error.value.field == "currency"
    assert not AuditEvent.objects.exists()


def test_services_check_permission_before_writing(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        services.partner_create(actor=cast.admin_a, name="Sneaky", kind="partner", country="GB")
    with pytest.raises(PermissionDenied):
        services.partner_user_add(
            actor=cast.admin_a, organisation=cast.org_b, email="x@bravo.example", role="admin"
        )
    with pytest.raises(PermissionDenied):
        services.partner_user_add(
            actor=cast.member_a, organisation=cast.org_a, email="x@alpha.example", role="admin"
        )
    assert not Organisation.objects.filter(name="Sneaky").exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("call", "verb"),
    [
        (
            lambda c: services.partner_create(actor=c.ops, name="F", kind="provider", country="FR"),
            "core.partner.created",
        ),
        (
            lambda c: services.partner_user_add(
                actor=c.ops, organisation=c.org_a, email="n@alpha.example", role="admin"
            ),
            "core.partner.user_added",
        ),
        (
            lambda c: services.staff_create(email="new@vendor.example", role="finance"),
            "core.staff.created",
        ),
        (lambda c: services.token_issue(email=c.ops.email), "core.token.issued"),
        (
            lambda c: services.user_password_set(user=c.admin_a, password="x" * 12),
            "core.user.password_set",
        ),
        (
            lambda c: services.subscription_change(
                actor=c.ops,
                customer_domain="acme.com",
                customer_name="Acme",
                country="GB",
                segment="smb",
                product_line="credits",
                edition=None,
                mrr=Decimal("10"),
                currency="EUR",
                seats=1,
                effective_from=date(2026, 1, 1),
            ),
            "core.subscription.version_added",
        ),
        (
            lambda c: services.activity_record(
                actor=c.ops,
                partner=c.org_a,
                customer_domain=CustomerFactory().domain,
                kind="asset_edited",
                occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
            ),
            "core.activity.recorded",
        ),
    ],
)
def test_every_kernel_service_appends_an_audit_event(cast: Cast, call: object, verb: str) -> None:
    call(cast)  # type: ignore[operator]
    assert AuditEvent.objects.filter(verb=verb).count() == 1


def test_subscription_versions_cannot_overlap_in_the_database(db: None) -> None:
    subscription = SubscriptionFactory()
    SubscriptionVersionFactory(
        subscription=subscription, effective_from=date(2026, 1, 1), effective_until=None
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionVersionFactory(subscription=subscription, effective_from=date(2026, 3, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionVersionFactory(
            subscription=subscription,
            effective_from=date(2025, 1, 1),
            effective_until=date(2026, 1, 2),
        )
    SubscriptionVersionFactory(
        subscription=subscription, effective_from=date(2025, 1, 1), effective_until=date(2026, 1, 1)
    )
    assert SubscriptionVersion.objects.count() == 2


def test_negative_mrr_is_refused_by_the_database(db: None) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionVersionFactory(mrr=Decimal("-1"))


def test_a_partner_user_must_belong_to_an_organisation(db: None) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="orphan@x.example", role=Role.PARTNER_ADMIN)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="gs@x.example", role=Role.FINANCE, region="emea")


def test_create_staff_is_idempotent_and_prints_what_it_did(db: None, capsys) -> None:
    call_command(
        "create_staff",
        "GS@vendor.example",
        "--role",
        "growth_specialist",
        "--region",
        "emea",
        "--segment",
        "smb",
        "--password",
        "pw-123456789",
    )
    call_command(
        "create_staff",
        "gs@vendor.example",
        "--role",
        "growth_specialist",
        "--region",
        "apac",
        "--segment",
        "smb",
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Created growth_specialist gs@vendor.example")
    assert out[1].startswith("Updated growth_specialist gs@vendor.example")
    user = User.objects.get(email="gs@vendor.example")
    assert (user.region, user.check_password("pw-123456789")) == ("apac", True)


def test_issue_token_prints_the_key_last_and_is_stable(cast: Cast, capsys) -> None:
    call_command("issue_token", cast.finance.email)
    first = capsys.readouterr().out.strip().splitlines()[-1]
    call_command("issue_token", cast.finance.email)
    assert capsys.readouterr().out.strip().splitlines()[-1] == first
    assert len(first) == 40


def test_seed_demo_is_idempotent(db: None, capsys) -> None:
    call_command("seed_demo")
    counts = (Organisation.objects.count(), User.objects.count(), AuditEvent.objects.count())
    call_command("seed_demo")
    assert (
        Organisation.objects.count(),
        User.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
    out = capsys.readouterr().out
    assert "admin@northwind.example" in out
    assert "already loaded" in out
