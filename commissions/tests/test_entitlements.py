"""Entitlements (SPEC 7, 12): created when a deal is credited, in the crediting transaction,
through the event deals publishes; the Upmarket Referral decided on the winner at the close."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from accreditations.models import Accreditation
from commissions import services
from commissions.models import AccreditationExemptCountry, Entitlement
from commissions.services import accrual as accrual_service
from deals.models import Deal, PurchasedLine, SoldAssociation
from deals.tests.api_steps import (
    PRO_MARKETING,
    STARTER_SALES,
    approved,
    close,
    deal_of,
    ok,
    quoted,
    sign,
    start_clock,
)
from partnerportal.core.models import Country, Currency, Edition, Organisation
from tests.cast import Cast
from tests.factories import OrganisationFactory, SoldAssociationFactory

pytestmark = pytest.mark.django_db


def _won_sourced(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> Any:
    start_clock(monkeypatch, "2026-03-10T10:00:00")
    registration = approved(cast.gs, cast.admin_a)
    deal_id = deal_of(cast.gs, registration)
    quoted(cast.gs, deal_id, [PRO_MARKETING, STARTER_SALES])
    sign(cast.admin_a, registration)
    return close(
        cast.gs,
        deal_id,
        close_date="2026-03-10",
        lines=[{"product_line": "marketing_hub"}, {"product_line": "sales_hub"}],
    )


def test_a_credited_partner_sourced_deal_gets_one_entitlement_per_credited_line(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(_won_sourced(cast, monkeypatch))
    rows = Entitlement.objects.order_by("product_line_id")
    assert [(e.product_line_id, e.program, e.months, e.organisation) for e in rows] == [
        ("marketing_hub", "partner_sourced", 36, cast.org_a),
        ("sales_hub", "partner_sourced", 36, cast.org_a),
    ]
    assert all(e.association.deal_id == e.deal_id for e in rows)


def test_entitlements_commit_with_the_associations_or_not_at_all(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("commissions is down")

    monkeypatch.setattr(accrual_service, "entitlements_for_deal", broken)
    with pytest.raises(RuntimeError):
        _won_sourced(cast, monkeypatch)
    assert not SoldAssociation.objects.exists()
    assert not Deal.objects.filter(status=Deal.Status.WON).exists()


def _assisted(
    organisation: Organisation,
    *,
    mrr: str,
    edition: str = "professional",
    close_date: date = date(2026, 3, 2),
) -> list[Entitlement]:
    association = SoldAssociationFactory(
        organisation=organisation,
        kind="partner_assisted",
        close_date=close_date,
        mrr_at_close=Decimal(mrr),
    )
    PurchasedLine.objects.create(
        deal=association.deal,
        product_line=association.product_line,
        edition=Edition.objects.get(code=edition),
        mrr=Decimal(mrr),
        currency=Currency.objects.get(code="USD"),
        credited=True,
        eligibility_rule="eligible",
    )
    return services.entitlements_for_deal(
        deal=association.deal, associations=[association], actor=None
    )


def _accredited(organisation: Organisation, cast: Cast) -> None:
    Accreditation.objects.create(
        organisation=organisation,
        kind="crm_implementation",
        status="active",
        applied_by=cast.admin_a,
        issued_on=date(2025, 1, 1),
        expires_on=date(2027, 1, 1),
    )


def test_upmarket_referral_pays_12_months_from_usd_3000_and_nothing_below(cast: Cast) -> None:
    platinum = OrganisationFactory(tier="platinum")
    _accredited(platinum, cast)
    assert [(e.program, e.months) for e in _assisted(platinum, mrr="3000.00")] == [
        ("upmarket_referral", 12)
    ]
    assert _assisted(platinum, mrr="2999.99") == []


def test_upmarket_pilot_threshold_is_usd_1000_for_growth_markets_in_the_first_half_of_2025(
    cast: Cast,
) -> None:
    brazil = OrganisationFactory(tier="diamond", country=Country.objects.get(code="BR"))
    _accredited(brazil, cast)
    assert _assisted(brazil, mrr="1000.00", close_date=date(2025, 3, 3)) != []
    assert _assisted(brazil, mrr="1000.00", close_date=date(2025, 7, 1)) == []


def test_upmarket_needs_the_crm_accreditation_unless_the_country_is_exempt(cast: Cast) -> None:
    platinum = OrganisationFactory(tier="platinum", country=Country.objects.get(code="JP"))
    assert _assisted(platinum, mrr="5000.00") == []
    AccreditationExemptCountry.objects.create(country_id="JP")
    assert _assisted(platinum, mrr="5000.00") != []


def test_upmarket_needs_platinum_and_good_standing_at_the_close(cast: Cast) -> None:
    gold = OrganisationFactory(tier="gold")
    _accredited(gold, cast)
    warned = OrganisationFactory(tier="elite", standing="warned")
    _accredited(warned, cast)
    assert _assisted(gold, mrr="5000.00") == []
    assert _assisted(warned, mrr="5000.00") == []
