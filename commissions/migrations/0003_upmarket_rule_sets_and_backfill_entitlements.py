"""Seed the Upmarket Referral rule-set data (SPEC 7) and backfill the entitlements of deals
credited before this app existed.

- Thresholds: USD 3 000 from 2000-01-01, open-ended, every country; the 2025 pilot, USD 1 000
  from 2025-01-01 until 2025-07-01 (exclusive) for partners in the growth-market countries
  (the kernel's list as it stands when this runs). No accreditation-exempt country is listed
  by the program documents: partner ops add them in the admin.
- Backfill: a Partner Sourced entitlement for every Partner Sourced sold association (36
  months for a partner, 12 for a provider), as the accrual run re-derives them. Upmarket
  Referrals of past deals are not backfilled: they depend on the partner's tier, standing and
  accreditation at the close, which were not recorded (see docs/decisions.md).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import migrations
from django.utils import timezone


def seed_and_backfill(apps: Any, schema_editor: Any) -> None:
    threshold = apps.get_model("commissions", "UpmarketThreshold")
    country = apps.get_model("core", "Country")
    if not threshold.objects.exists():
        threshold.objects.create(
            effective_from=date(2000, 1, 1),
            usd=Decimal("3000.00"),
            note="Upmarket Referral Program: Professional/Enterprise purchase of USD 3 000+",
        )
        threshold.objects.create(
            effective_from=date(2025, 1, 1),
            effective_until=date(2025, 7, 1),
            countries=sorted(
                country.objects.filter(growth_market=True).values_list("code", flat=True)
            ),
            usd=Decimal("1000.00"),
            note="2025 pilot in growth markets",
        )
    association = apps.get_model("deals", "SoldAssociation")
    entitlement = apps.get_model("commissions", "Entitlement")
    done = set(entitlement.objects.values_list("association_id", flat=True))
    now = timezone.now()
    entitlement.objects.bulk_create(
        entitlement(
            association_id=a.pk,
            organisation_id=a.organisation_id,
            customer_id=a.customer_id,
            product_line_id=a.product_line_id,
            deal_id=a.deal_id,
            program="partner_sourced",
            months=12 if a.organisation.kind == "provider" else 36,
            close_date=a.close_date,
            created_at=now,
        )
        for a in association.objects.filter(kind="partner_sourced")
        .select_related("organisation")
        .order_by("pk")
        if a.pk not in done
    )


class Migration(migrations.Migration):
    dependencies = [
        ("commissions", "0002_ledger_append_only"),
        ("core", "0002_reference_data"),
    ]
    operations = [migrations.RunPython(seed_and_backfill, migrations.RunPython.noop)]
