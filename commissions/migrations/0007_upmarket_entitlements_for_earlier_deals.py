"""Upmarket Referral entitlements for Partner Assisted deals credited before commissions existed
(migration 0003 backfilled only Partner Sourced ones).

An Upmarket Referral depends on the winner *as it stood at the close* (SPEC 7), which the
organisation row no longer says, but the portal's records do, so the conditions are
re-derived from them for each such deal, and decided by the same pure rule as at a close
(`commissions.rules.entitlement_terms`):

- **tier at the close**: the `tier_after` of the partner's latest tier assessment dated on or
  before the close date. No assessment by then: the tier is unknown, and no entitlement is
  created (nothing is paid on a guess; finance can still grant it by hand).
- **standing at the close**: `good` unless a warning, suspension or termination was in effect
  on the close date (the consequences escalations records with their effective dates; the
  gravest decides, as `escalations.rules.standing_for`).
- **CRM Implementation accreditation valid on the close date**: issued on or before it and
  expiring after it, and not taken out of active/grace by then: one still active or in grace
  today, or one revoked or expired today whose first review or board decision that took it out
  of active/grace is dated after the close.
- the partner's country against the exempt list; the deal's purchased lines' editions; each
  line's MRR at the close in its currency, converted by the currency table; the thresholds
  (the 2025 pilot included), as the rule-set data stands now.

Associations that already have an entitlement are left alone, so running it again adds
nothing. Reading tiers' and escalations' records here is a one-off repair of history: the app
code of commissions still imports neither (SPEC 12).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

from commissions import rules

HELD = ("active", "grace")
NOT_GOOD = ("warning", "suspension", "termination")


def _tier_at(apps: Any, organisation_id: int, on: date) -> str | None:
    assessment = apps.get_model("tiers", "TierAssessment")
    row = (
        assessment.objects.filter(organisation_id=organisation_id, as_of__lte=on)
        .order_by("-as_of")
        .values_list("tier_after", flat=True)
        .first()
    )
    return str(row) if row is not None else None


def _standing_at(apps: Any, organisation_id: int, on: date) -> str:
    consequence = apps.get_model("escalations", "Consequence")
    in_effect = consequence.objects.filter(
        Q(effective_until__isnull=True) | Q(effective_until__gt=on),
        organisation_id=organisation_id,
        effective_from__lte=on,
        kind__in=NOT_GOOD,
    ).exists()
    return "not_good" if in_effect else "good"


def _crm_accredited_at(apps: Any, organisation_id: int, on: date) -> bool:
    accreditation = apps.get_model("accreditations", "Accreditation")
    review = apps.get_model("accreditations", "AccreditationReview")
    decision = apps.get_model("accreditations", "BoardDecision")
    for row in accreditation.objects.filter(
        organisation_id=organisation_id,
        kind="crm_implementation",
        issued_on__lte=on,
        expires_on__gt=on,
    ):
        if row.status in HELD:
            return True
        if row.status not in ("revoked", "expired"):
            continue
        left = [
            *review.objects.filter(accreditation=row)
            .exclude(status_after__in=HELD)
            .values_list("review_date", flat=True),
            *(
                timezone.localtime(at).date()
                for at in decision.objects.filter(accreditation=row)
                .exclude(status_after__in=HELD)
                .values_list("decided_at", flat=True)
            ),
        ]
        if left and min(left) > on:
            return True
    return False


def backfill(apps: Any, schema_editor: Any) -> None:
    association = apps.get_model("deals", "SoldAssociation")
    purchased = apps.get_model("deals", "PurchasedLine")
    entitlement = apps.get_model("commissions", "Entitlement")
    threshold = apps.get_model("commissions", "UpmarketThreshold")
    exempt = apps.get_model("commissions", "AccreditationExemptCountry")
    currency = apps.get_model("core", "Currency")

    pending = (
        association.objects.filter(kind="partner_assisted", entitlement__isnull=True)
        .select_related("organisation")
        .order_by("deal_id", "pk")
    )
    by_deal: dict[int, list[Any]] = defaultdict(list)
    for row in pending:
        by_deal[row.deal_id].append(row)
    if not by_deal:
        return
    usd100 = dict(currency.objects.values_list("code", "points_amount"))
    thresholds = [
        rules.Threshold(
            effective_from=t.effective_from,
            effective_until=t.effective_until,
            countries=frozenset(t.countries),
            usd=t.usd,
        )
        for t in threshold.objects.all()
    ]
    exempt_countries = frozenset(exempt.objects.values_list("country_id", flat=True))
    editions = {
        (line.deal_id, line.product_line_id): line.edition_id
        for line in purchased.objects.filter(deal_id__in=list(by_deal))
    }
    now = timezone.now()
    created = []
    for deal_id, associations in by_deal.items():
        first = associations[0]
        organisation = first.organisation
        close_date = first.close_date
        if organisation.kind == "provider":
            continue  # providers never earn an Upmarket Referral
        tier = _tier_at(apps, organisation.pk, close_date)
        if tier is None:
            continue  # the tier at the close is unknown: nothing is paid on a guess
        winner = rules.Winner(
            motion="partner_assisted",
            is_provider=False,
            tier=tier,
            standing=_standing_at(apps, organisation.pk, close_date),
            country=organisation.country_id,
            crm_accredited=_crm_accredited_at(apps, organisation.pk, close_date),
        )
        terms = rules.entitlement_terms(
            winner=winner,
            lines=[
                rules.ClosedLine(
                    product_line=a.product_line_id,
                    edition=editions.get((deal_id, a.product_line_id)),
                    mrr=a.mrr_at_close,
                    currency=a.currency_id,
                )
                for a in associations
            ],
            close_date=close_date,
            usd100_amounts=usd100,
            thresholds=thresholds,
            exempt_countries=exempt_countries,
        )
        by_line = {a.product_line_id: a for a in associations}
        for term in terms:
            a = by_line[term.product_line]
            created.append(
                entitlement(
                    association_id=a.pk,
                    organisation_id=a.organisation_id,
                    customer_id=a.customer_id,
                    product_line_id=a.product_line_id,
                    deal_id=deal_id,
                    program=term.program.value,
                    months=term.months,
                    close_date=close_date,
                    created_at=now,
                )
            )
    entitlement.objects.bulk_create(created)


class Migration(migrations.Migration):
    dependencies = [
        ("commissions", "0006_accrual_change_queue"),
        ("deals", "0004_referrals_from_referred_registrations"),
        ("tiers", "0006_partner_matching_and_tier_drops_on_assessments"),
        ("escalations", "0002_revenue_share_stops_backfill"),
        ("accreditations", "0002_default_required_certifications"),
    ]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
