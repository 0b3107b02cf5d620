"""Migration 0007 gives Partner Assisted deals credited before commissions existed their Upmarket
Referral entitlements, deciding the winner's tier, standing and accreditation as they stood at
the close from the portal's records (tier assessments, consequences, accreditation reviews),
never from what the organisation row says today."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps

from commissions import rules
from commissions.models import AccreditationExemptCountry, Entitlement
from deals.models import PurchasedLine
from partnerportal.core.models import Currency, Edition, Organisation
from tests.factories import OrganisationFactory, SoldAssociationFactory, UserFactory

pytestmark = pytest.mark.django_db
MIGRATION = import_module("commissions.migrations.0007_upmarket_entitlements_for_earlier_deals")
CLOSE = date(2026, 3, 10)


def assessed(partner: Organisation, on: date, tier: str) -> None:
    """A tier assessment of `partner` on `on` that left it at `tier` (tiers' record, written
    through the app registry: commissions does not import tiers)."""
    apps.get_model("tiers", "TierAssessment").objects.create(
        organisation=partner,
        as_of=on,
        rule_set=apps.get_model("tiers", "TierRuleSet").objects.order_by("effective_from").first(),
        sourced_points=0,
        assisted_points=0,
        managed_points=0,
        total_points=0,
        sold_source="associations",
        tier_before=tier,
        qualified_tier=tier,
        tier_after=tier,
        at_risk=False,
        elite_qualified=False,
    )


def accredited(
    partner: Organisation, *, issued: date, status: str = "active", left_on: date | None = None
) -> None:
    """A CRM Implementation accreditation issued on `issued` for two years; `left_on`: the
    review that revoked it."""
    accreditation = apps.get_model("accreditations", "Accreditation").objects.create(
        organisation=partner,
        kind="crm_implementation",
        status=status,
        applied_by=UserFactory(),
        issued_on=issued,
        expires_on=issued.replace(year=issued.year + 2),
    )
    if left_on is not None:
        run = apps.get_model("accreditations", "ReviewRun").objects.create(
            as_of=left_on, trigger="command"
        )
        apps.get_model("accreditations", "AccreditationReview").objects.create(
            accreditation=accreditation,
            review_date=left_on,
            run=run,
            outcome="revoked",
            status_before="grace",
            status_after="revoked",
            tier="gold",
        )


def warned(partner: Organisation, start: date, until: date | None = None) -> None:
    apps.get_model("escalations", "Consequence").objects.create(
        organisation=partner,
        kind="warning",
        reason="Complaint upheld",
        effective_from=start,
        effective_until=until,
        applied_by=UserFactory(),
    )


def assisted_deal(
    partner: Organisation, *, mrr: str, currency: str = "USD", edition: str = "professional"
) -> Any:
    association = SoldAssociationFactory(
        organisation=partner,
        kind="partner_assisted",
        close_date=CLOSE,
        mrr_at_close=Decimal(mrr),
        currency=Currency.objects.get(code=currency),
    )
    PurchasedLine.objects.create(
        deal=association.deal,
        product_line=association.product_line,
        edition=Edition.objects.get(code=edition),
        mrr=Decimal(mrr),
        currency=association.currency,
        credited=True,
        eligibility_rule="eligible",
    )
    return association


def upmarket_partner(**kwargs: Any) -> Organisation:
    """Gold and warned *today*, with its accreditation since revoked: at the close it was
    Platinum (assessed in February), in good standing and accredited."""
    partner = OrganisationFactory(tier="gold", standing="warned", **kwargs)
    assessed(partner, date(2026, 2, 15), "platinum")
    assessed(partner, date(2026, 5, 15), "gold")
    accredited(partner, issued=date(2025, 6, 1), status="revoked", left_on=date(2026, 7, 15))
    warned(partner, date(2026, 6, 1))
    return partner


def backfill() -> dict[int, tuple[str, int, date]]:
    MIGRATION.backfill(apps, None)
    return {
        e.association_id: (e.program, e.months, e.close_date) for e in Entitlement.objects.all()
    }


def test_a_past_upmarket_deal_gets_its_entitlement_from_the_winner_as_it_was_at_the_close() -> None:
    association = assisted_deal(upmarket_partner(), mrr="3000.00")
    assert not Entitlement.objects.exists()
    assert backfill() == {
        association.pk: ("upmarket_referral", rules.UPMARKET_MONTHS, CLOSE),
    }
    assert backfill() == {  # a second run adds nothing
        association.pk: ("upmarket_referral", rules.UPMARKET_MONTHS, CLOSE),
    }


def test_below_the_threshold_at_the_close_nothing_is_backfilled() -> None:
    assisted_deal(upmarket_partner(), mrr="2999.99")
    assert backfill() == {}


def test_a_starter_purchase_is_not_an_upmarket_referral() -> None:
    assisted_deal(upmarket_partner(), mrr="5000.00", edition="starter")
    assert backfill() == {}


def test_without_a_tier_assessment_by_the_close_the_tier_is_unknown_and_nothing_is_paid() -> None:
    partner = OrganisationFactory(tier="diamond")  # Diamond today, never assessed before
    accredited(partner, issued=date(2025, 6, 1))
    assessed(partner, date(2026, 3, 15), "diamond")  # five days after the close
    assisted_deal(partner, mrr="4000.00")
    assert backfill() == {}


def test_a_gold_partner_at_the_close_gets_nothing_though_platinum_today() -> None:
    partner = OrganisationFactory(tier="platinum")
    assessed(partner, date(2026, 2, 15), "gold")
    accredited(partner, issued=date(2025, 6, 1))
    assisted_deal(partner, mrr="4000.00")
    assert backfill() == {}


def test_a_warning_in_effect_at_the_close_means_not_in_good_standing() -> None:
    partner = OrganisationFactory(tier="platinum")
    assessed(partner, date(2026, 2, 15), "platinum")
    accredited(partner, issued=date(2025, 6, 1))
    warned(partner, date(2026, 3, 1), until=date(2026, 4, 1))  # ended since: good today
    assisted_deal(partner, mrr="4000.00")
    assert backfill() == {}


def test_an_accreditation_revoked_before_the_close_does_not_count_but_an_exempt_country_does() -> (
    None
):
    partner = OrganisationFactory(tier="platinum", country_id="KE")
    assessed(partner, date(2026, 2, 15), "platinum")
    accredited(partner, issued=date(2025, 6, 1), status="revoked", left_on=date(2026, 1, 15))
    association = assisted_deal(partner, mrr="4000.00")
    assert backfill() == {}
    AccreditationExemptCountry.objects.create(country_id="KE")
    assert backfill() == {association.pk: ("upmarket_referral", 12, CLOSE)}


def test_the_2025_pilot_threshold_applies_to_a_growth_market_partner_then() -> None:
    partner = OrganisationFactory(tier="platinum", country_id="BR")
    assessed(partner, date(2025, 1, 15), "platinum")
    accredited(partner, issued=date(2024, 12, 1))
    association = SoldAssociationFactory(
        organisation=partner,
        kind="partner_assisted",
        close_date=date(2025, 3, 3),
        mrr_at_close=Decimal("1000.00"),
    )
    PurchasedLine.objects.create(
        deal=association.deal,
        product_line=association.product_line,
        edition=Edition.objects.get(code="enterprise"),
        mrr=Decimal("1000.00"),
        currency=association.currency,
        credited=True,
        eligibility_rule="eligible",
    )
    assert backfill() == {association.pk: ("upmarket_referral", 12, date(2025, 3, 3))}


def test_providers_and_sourced_deals_are_left_to_the_partner_sourced_backfill() -> None:
    provider = OrganisationFactory(kind=Organisation.Kind.PROVIDER, has_partner_certification=False)
    accredited(provider, issued=date(2025, 6, 1))
    assisted_deal(provider, mrr="4000.00")
    SoldAssociationFactory(organisation=upmarket_partner(), close_date=CLOSE)  # sourced
    assert backfill() == {}
