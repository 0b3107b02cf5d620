"""Reference data that changes money or routing (currencies' points amounts, countries' growth
markets and regions, the catalog) is edited in the admin through kernel services: permission,
validation, write and audit row in one transaction (issue 9)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partnerportal.core import services
from partnerportal.core.errors import Forbidden, InvalidInput
from partnerportal.core.models import AuditEvent, Country, Currency, Edition, ProductLine

from .cast import Cast, browser_as

pytestmark = pytest.mark.django_db


def _post(cast: Cast, url: str, data: dict[str, object]) -> object:
    return browser_as(cast.ops).post(url, {**data, "_save": "Save"})


def test_a_currency_edit_in_the_admin_is_written_and_audited(cast: Cast) -> None:
    response = _post(
        cast, "/admin/core/currency/EUR/change/", {"name": "Euro", "points_amount": "80.00"}
    )
    assert response.status_code == 302, response.content[:500]
    assert Currency.objects.get(code="EUR").points_amount == Decimal("80.00")
    event = AuditEvent.objects.get(verb="core.currency.updated")
    assert (event.actor, event.subject_id) == (cast.ops, "EUR")
    assert event.data == {"code": "EUR", "changes": {"points_amount": ["75.00", "80.00"]}}


@pytest.mark.parametrize("amount", ["0", "-5", "0.00", "12.345", "1e20", "lots", ""])
def test_a_bad_points_amount_is_refused_in_the_admin_without_a_write(
    cast: Cast, amount: str
) -> None:
    response = _post(
        cast, "/admin/core/currency/EUR/change/", {"name": "Euro", "points_amount": amount}
    )
    assert response.status_code == 200  # the form again, with the error on the field
    assert response.context["adminform"].form.errors["points_amount"]
    assert Currency.objects.get(code="EUR").points_amount == Decimal("75.00")
    assert not AuditEvent.objects.exists()


def test_a_currency_added_in_the_admin_is_audited(cast: Cast) -> None:
    response = _post(
        cast,
        "/admin/core/currency/add/",
        {"code": "chf", "name": "Swiss franc", "points_amount": "90"},
    )
    assert response.status_code == 302, response.content[:500]
    assert Currency.objects.get(code="CHF").points_amount == Decimal("90.00")
    event = AuditEvent.objects.get(verb="core.currency.created")
    assert event.data["changes"]["points_amount"] == [None, "90.00"]


def test_a_save_that_changes_nothing_writes_no_audit_row(cast: Cast) -> None:
    response = _post(
        cast,
        "/admin/core/currency/GBP/change/",
        {"name": "Pound sterling", "points_amount": "62.5"},
    )
    assert response.status_code == 302
    assert not AuditEvent.objects.exists()


def test_the_currency_code_cannot_be_changed_in_the_admin(cast: Cast) -> None:
    _post(
        cast,
        "/admin/core/currency/EUR/change/",
        {"code": "EUX", "name": "Euro", "points_amount": "75"},
    )
    assert not Currency.objects.filter(code="EUX").exists()


def test_a_growth_market_change_in_the_admin_is_audited(cast: Cast) -> None:
    assert not Country.objects.get(code="FR").growth_market
    response = _post(
        cast,
        "/admin/core/country/FR/change/",
        {"name": "France", "region": "emea", "growth_market": "on"},
    )
    assert response.status_code == 302, response.content[:500]
    assert Country.objects.get(code="FR").growth_market
    event = AuditEvent.objects.get(verb="core.country.updated")
    assert event.data["changes"] == {"growth_market": [False, True]}


def test_a_product_lines_editions_change_in_the_admin_is_audited(cast: Cast) -> None:
    response = _post(
        cast,
        "/admin/core/productline/credits/change/",
        {"name": "HubSpot Credits", "kind": "credits", "editions": ["starter"]},
    )
    assert response.status_code == 302, response.content[:500]
    assert list(
        ProductLine.objects.get(code="credits").editions.values_list("code", flat=True)
    ) == ["starter"]
    event = AuditEvent.objects.get(verb="core.productline.editions_changed")
    assert event.data["editions"] == [[], ["starter"]]


def test_reference_data_services_check_permission_and_validate_before_writing(
    cast: Cast,
) -> None:
    with pytest.raises(Forbidden):
        services.currency_save(
            actor=cast.finance, code="EUR", name="Euro", points_amount=Decimal("1")
        )
    with pytest.raises(InvalidInput) as error:
        services.currency_save(actor=cast.ops, code="EUR", name="Euro", points_amount=Decimal("-1"))
    assert error.value.field == "points_amount"
    with pytest.raises(InvalidInput) as error:
        services.country_save(
            actor=cast.ops, code="FR", name="France", region="mars", growth_market=False
        )
    assert error.value.field == "region"
    with pytest.raises(InvalidInput) as error:
        services.edition_save(actor=cast.ops, code="premium", name="Premium", rank=1)
    assert error.value.field == "rank"
    assert Currency.objects.get(code="EUR").points_amount == Decimal("75.00")
    assert not Edition.objects.filter(code="premium").exists()
    assert not AuditEvent.objects.exists()
