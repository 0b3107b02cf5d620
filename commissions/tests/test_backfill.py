"""Migration 0003 backfills the entitlements of deals credited before commissions existed."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps

from commissions import rules
from commissions.models import Entitlement, UpmarketThreshold
from partnerportal.core.models import Organisation
from tests.factories import OrganisationFactory, SoldAssociationFactory

pytestmark = pytest.mark.django_db
MIGRATION = import_module(
    "commissions.migrations.0003_upmarket_rule_sets_and_backfill_entitlements"
)


def test_backfill_gives_past_partner_sourced_lines_their_entitlements_once() -> None:
    partner = SoldAssociationFactory()  # written directly: no event, no entitlement
    provider = SoldAssociationFactory(
        organisation=OrganisationFactory(
            kind=Organisation.Kind.PROVIDER, has_partner_certification=False
        )
    )
    assisted = SoldAssociationFactory(kind="partner_assisted")
    assert not Entitlement.objects.exists()
    MIGRATION.seed_and_backfill(apps, None)
    MIGRATION.seed_and_backfill(apps, None)
    got = {e.association_id: (e.program, e.months, e.close_date) for e in Entitlement.objects.all()}
    assert got == {
        partner.pk: (
            "partner_sourced",
            rules.sourced_months(is_provider=False),
            partner.close_date,
        ),
        provider.pk: (
            "partner_sourced",
            rules.sourced_months(is_provider=True),
            provider.close_date,
        ),
    }
    assert assisted.pk not in got


def test_the_upmarket_thresholds_are_seeded_as_rule_set_data() -> None:
    rows = [  # from, until, USD, limited to some countries
        (t.effective_from.isoformat(), t.effective_until, str(t.usd), bool(t.countries))
        for t in UpmarketThreshold.objects.order_by("effective_from")
    ]
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("2000-01-01", "3000.00", False),
        ("2025-01-01", "1000.00", True),
    ]
    pilot = UpmarketThreshold.objects.get(usd=1000)
    assert pilot.effective_until.isoformat() == "2025-07-01"
    assert ("BR" in pilot.countries, "US" in pilot.countries) == (True, False)
