"""The kernel's API (SPEC 11): partners, partner users, the billing and product feeds."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail

from partnerportal.core.models import (
    Activity,
    AuditEvent,
    Customer,
    Organisation,
    Subscription,
    SubscriptionVersion,
    User,
)

from .cast import Cast, api_as

pytestmark = pytest.mark.django_db


def change(cast: Cast, **overrides: object) -> object:
    body = {
        "customer_domain": "https://www.Acme.com/",
        "customer_name": "Acme",
        "country": "GB",
        "segment": "smb",
        "product_line": "marketing_hub",
        "edition": "professional",
        "mrr": "800.00",
        "currency": "USD",
        "seats": 3,
        "effective_from": "2026-01-01",
    }
    body.update(overrides)
    return api_as(cast.ops).post("/api/v1/subscription-changes/", body, format="json")


def test_partner_ops_enrol_a_partner(cast: Cast) -> None:
    response = api_as(cast.ops).post(
        "/api/v1/partners/",
        {
            "name": "Delta Digital",
            "kind": "partner",
            "country": "de",
            "has_partner_certification": True,
            "has_pro_subscription": True,
            "payout_paperwork_complete": False,
            "pdm": cast.pdm.email,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    partner = Organisation.objects.get(pk=response.json()["id"])
    assert (partner.country_id, partner.tier, partner.standing, partner.pdm) == (
        "DE",
        "untiered",
        "good",
        cast.pdm,
    )
    event = AuditEvent.objects.get(verb="core.partner.created", subject_id=str(partner.pk))
    assert event.actor == cast.ops
    assert event.request_id


def test_partner_detail_shape(cast: Cast) -> None:
    data = api_as(cast.admin_a).get(f"/api/v1/partners/{cast.org_a.pk}/").json()
    assert {"id", "name", "kind", "tier", "standing"} <= set(data)
    assert data["name"] == cast.org_a.name


def test_partner_admin_adds_a_member_who_gets_a_password_link(
    celery_worker: object, live_cast: Cast
) -> None:
    """Integration: the invitation is enqueued on commit to real Redis and a real worker
    sends it."""
    cast = live_cast
    response = api_as(cast.admin_a).post(
        f"/api/v1/partners/{cast.org_a.pk}/users/",
        {"email": "New.Person@Alpha.example", "role": "member"},
        format="json",
    )
    assert response.status_code == 201, response.content
    user = User.objects.get(email="new.person@alpha.example")
    assert (user.organisation, user.role, user.has_usable_password()) == (
        cast.org_a,
        "partner_member",
        False,
    )
    assert AuditEvent.objects.filter(verb="core.partner.user_added", actor=cast.admin_a).exists()
    deadline = time.monotonic() + 20
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@alpha.example"]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_adding_an_address_already_in_the_organisation_is_a_clear_400(cast: Cast) -> None:
    response = api_as(cast.ops).post(
        f"/api/v1/partners/{cast.org_a.pk}/users/",
        {"email": cast.member_a.email.upper(), "role": "admin"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "email": ["member@alpha.example is already a member of Alpha Agency."]
    }


def test_subscription_change_appends_versions_and_closes_the_previous(cast: Cast) -> None:
    assert change(cast).status_code == 201
    assert (
        change(cast, edition="enterprise", mrr="1500", effective_from="2026-07-02").status_code
        == 201
    )
    customer = Customer.objects.get(domain="acme.com")
    versions = list(
        SubscriptionVersion.objects.filter(subscription__customer=customer).order_by(
            "effective_from"
        )
    )
    assert [(v.effective_from, v.effective_until, v.mrr) for v in versions] == [
        (date(2026, 1, 1), date(2026, 7, 2), Decimal("800.00")),
        (date(2026, 7, 2), None, Decimal("1500.00")),
    ]


def test_subscription_termination_ends_the_open_version(cast: Cast) -> None:
    change(cast)
    response = change(
        cast, terminated=True, effective_from="2026-05-01", mrr=None, currency="", edition=None
    )
    assert response.status_code == 201, response.content
    assert response.json()["version"] is None
    version = SubscriptionVersion.objects.get()
    assert version.effective_until == date(2026, 5, 1)
    assert AuditEvent.objects.filter(verb="core.subscription.terminated").count() == 1


def test_credits_and_hub_agnostic_lines_have_no_edition(cast: Cast) -> None:
    assert change(cast, product_line="credits", edition=None).status_code == 201
    response = change(cast, product_line="core_seats", edition="starter")
    assert response.status_code == 400
    assert "edition" in response.json()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "CHF"}, "currency"),
        ({"country": "XX"}, "country"),
        ({"country": "GBR"}, "country"),
        ({"mrr": "-5"}, "mrr"),
        ({"mrr": "lots"}, "mrr"),
        ({"mrr": None}, "mrr"),
        ({"customer_domain": "not a domain"}, "customer_domain"),
        ({"customer_domain": "acme"}, "customer_domain"),
        ({"edition": "ultimate"}, "edition"),
        ({"edition": None}, "edition"),
        ({"product_line": "sales_cloud"}, "product_line"),
        ({"effective_from": "01/02/2026"}, "effective_from"),
        ({"effective_from": "2026-02-30"}, "effective_from"),
        ({"segment": "huge"}, "segment"),
        ({"seats": -1}, "seats"),
    ],
)
def test_bad_subscription_input_is_a_400_naming_the_field_and_writes_nothing(
    cast: Cast, overrides: dict[str, object], field: str
) -> None:
    events_before = AuditEvent.objects.count()
    response = change(cast, **overrides)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Customer.objects.exists()
    assert not Subscription.objects.exists()
    assert AuditEvent.objects.count() == events_before


MEGABYTE = "x" * 1_000_000


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mrr": 1e25}, "mrr"),  # a JSON number
        ({"mrr": "1e25"}, "mrr"),
        ({"mrr": "1000000000000.00"}, "mrr"),  # one cent over what numeric(14, 2) holds
        ({"mrr": "12.345"}, "mrr"),
        ({"mrr": "NaN"}, "mrr"),
        ({"seats": 2**70}, "seats"),
        ({"seats": 2**31}, "seats"),  # one over what the integer column holds
        ({"seats": 2.5}, "seats"),
        ({"seats": "2.5"}, "seats"),
        ({"seats": True}, "seats"),
        ({"customer_name": MEGABYTE}, "customer_name"),
        ({"customer_domain": MEGABYTE}, "customer_domain"),
        ({"product_line": MEGABYTE}, "product_line"),
        ({"edition": MEGABYTE}, "edition"),
        ({"currency": MEGABYTE}, "currency"),
    ],
)
def test_input_the_database_cannot_hold_is_a_400_naming_the_field(
    cast: Cast, overrides: dict[str, object], field: str
) -> None:
    response = change(cast, **overrides)
    assert response.status_code == 400, response.content[:300]
    assert field in response.json(), response.json()
    assert not SubscriptionVersion.objects.exists()


def test_the_largest_amounts_the_columns_hold_are_accepted(cast: Cast) -> None:
    response = change(cast, mrr="999999999999.99", seats=2**31 - 1)
    assert response.status_code == 201, response.content
    version = SubscriptionVersion.objects.get()
    assert (version.mrr, version.seats) == (Decimal("999999999999.99"), 2**31 - 1)


def test_the_api_hands_the_service_typed_values(cast: Cast, monkeypatch) -> None:
    from partnerportal.core import services

    received: dict[str, object] = {}
    real = services.subscription_change

    def spy(**kwargs: object) -> object:
        received.update(kwargs)
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "subscription_change", spy)
    assert change(cast, mrr=800, seats="3").status_code == 201
    assert (received["mrr"], received["seats"], received["effective_from"]) == (
        Decimal("800"),
        3,
        date(2026, 1, 1),
    )
    assert type(received["mrr"]) is Decimal
    assert type(received["seats"]) is int
    assert type(received["effective_from"]) is date


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/partners/", {"name": MEGABYTE, "kind": "partner", "country": "GB"}, "name"),
        (
            "/api/v1/partners/",
            {"name": "X", "kind": "partner", "country": "GB", "pdm": "a" * 250 + "@x.example"},
            "pdm",
        ),
        (
            "/api/v1/partners/{org}/users/",
            {"email": "a" * 250 + "@x.example", "role": "admin"},
            "email",
        ),
        (
            "/api/v1/activities/",
            {
                "partner": 2**70,
                "customer_domain": "acme.com",
                "kind": "login",
                "occurred_at": "2026-03-01T10:00:00Z",
            },
            "partner",
        ),
        (
            "/api/v1/activities/",
            {
                "partner": "{org}",
                "customer_domain": MEGABYTE,
                "kind": "login",
                "occurred_at": "2026-03-01T10:00:00Z",
            },
            "customer_domain",
        ),
    ],
)
def test_oversized_kernel_input_is_a_400_naming_the_field(
    cast: Cast, path: str, body: dict[str, object], field: str
) -> None:
    org = str(cast.org_a.pk)
    body = {k: (org if v == "{org}" else v) for k, v in body.items()}
    response = api_as(cast.ops).post(path.replace("{org}", org), body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json(), response.json()


def test_bad_input_for_a_known_customer_writes_nothing(cast: Cast) -> None:
    change(cast)
    versions = SubscriptionVersion.objects.count()
    response = change(cast, effective_from="2025-12-01", mrr="900")
    assert response.status_code == 400
    assert "effective_from" in response.json()
    assert change(cast, country="ZZ", effective_from="2026-03-01").status_code == 400
    assert SubscriptionVersion.objects.count() == versions


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "teleport"}, "kind"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"customer_domain": "unknown-customer.com"}, "customer_domain"),
        ({"customer_domain": "bad domain"}, "customer_domain"),
        ({"partner": 999999}, "partner"),
        ({"partner": "abc"}, "partner"),
    ],
)
def test_bad_activity_input_is_a_400_naming_the_field(
    cast: Cast, overrides: dict[str, object], field: str
) -> None:
    change(cast)
    body = {
        "partner": cast.org_a.pk,
        "customer_domain": "acme.com",
        "kind": "asset_created",
        "occurred_at": "2026-03-01T10:00:00Z",
    } | overrides
    response = api_as(cast.ops).post("/api/v1/activities/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Activity.objects.exists()


def test_activity_is_recorded_for_the_partner(cast: Cast) -> None:
    change(cast)
    response = api_as(cast.ops).post(
        "/api/v1/activities/",
        {
            "partner": cast.org_b.pk,
            "customer_domain": "www.acme.com",
            "kind": "login",
            "occurred_at": "2026-03-01T10:00:00+01:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    activity = Activity.objects.get()
    assert (activity.organisation, activity.customer.domain, activity.kind) == (
        cast.org_b,
        "acme.com",
        "login",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "kind": "reseller", "country": "GB"}, "kind"),
        ({"name": "X", "kind": "partner", "country": "QQ"}, "country"),
        ({"name": "", "kind": "partner", "country": "GB"}, "name"),
        ({"name": "X", "kind": "partner", "country": "GB", "pdm": "nobody@vendor.example"}, "pdm"),
    ],
)
def test_bad_partner_input_is_a_400(cast: Cast, body: dict[str, object], field: str) -> None:
    count = Organisation.objects.count()
    response = api_as(cast.ops).post("/api/v1/partners/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Organisation.objects.count() == count


def test_malformed_json_is_a_400_not_a_500(cast: Cast) -> None:
    response = api_as(cast.ops).generic(
        "POST", "/api/v1/subscription-changes/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_schema_describes_the_kernel_endpoints(cast: Cast) -> None:
    response = api_as(None).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/partners/",
        "/api/v1/partners/{id}/",
        "/api/v1/partners/{id}/users/",
        "/api/v1/subscription-changes/",
        "/api/v1/activities/",
    ):
        assert path in paths, sorted(paths)


def test_schema_generates_without_warnings() -> None:
    """Every view describes itself (drf-spectacular warnings fail `check --deploy` in CI)."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "/api/v1/registrations/" in schema["paths"]
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
