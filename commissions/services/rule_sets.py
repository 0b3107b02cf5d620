"""Writes of the Upmarket Referral rule-set data (SPEC 7): thresholds by period and country and
the countries exempt from the CRM Implementation accreditation. Partner ops and finance edit
them in the admin (`commissions/admin.py`), which calls these services: permission, validation,
the write and an audit row naming what changed, in one transaction. They decide the
entitlements of deals closed from then on; entitlements already created do not change."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from partnerportal.core import access
from partnerportal.core.audit import audit
from partnerportal.core.errors import InvalidInput, NotFound
from partnerportal.core.models import Country, User

from ..models import AccreditationExemptCountry, UpmarketThreshold
from ..permissions import CommissionAction

CENT = Decimal("0.01")
MAX_USD = Decimal("1000000000")
NOTE_MAX = 200


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def check_threshold(
    *,
    effective_from: date,
    effective_until: date | None,
    countries: list[str],
    usd: Decimal,
    note: str,
) -> dict[str, Any]:
    """The threshold row's values, normalised (country codes upper-cased, sorted, once), or
    InvalidInput naming each field at fault."""
    errors: dict[str, list[str]] = {}
    if effective_until is not None and effective_until <= effective_from:
        errors["effective_until"] = ["Give a day after the first day (the last day is excluded)."]
    if not (Decimal(0) < usd < MAX_USD) or usd != usd.quantize(CENT):
        errors["usd"] = ["Give a positive amount in US dollars with at most two decimals."]
    codes = sorted({code.strip().upper() for code in countries if code.strip()})
    unknown = set(codes) - set(Country.objects.filter(pk__in=codes).values_list("pk", flat=True))
    if unknown:
        errors["countries"] = [f"Unknown country codes: {', '.join(sorted(unknown))}."]
    note = note.strip()
    if len(note) > NOTE_MAX:
        errors["note"] = [f"At most {NOTE_MAX} characters."]
    if errors:
        raise InvalidInput(errors=errors)
    return {
        "effective_from": effective_from,
        "effective_until": effective_until,
        "countries": codes,
        "usd": usd.quantize(CENT),
        "note": note,
    }


@transaction.atomic
def upmarket_threshold_save(
    *,
    actor: User,
    threshold_id: int | None,
    effective_from: date,
    effective_until: date | None,
    countries: list[str],
    usd: Decimal,
    note: str = "",
) -> tuple[UpmarketThreshold, bool]:
    """Add a threshold row (`threshold_id` None) or change one; audit what changed (nothing is
    written or audited when nothing did). Return (row, created)."""
    access.require(actor, CommissionAction.RULE_SET_EDIT)
    values = check_threshold(
        effective_from=effective_from,
        effective_until=effective_until,
        countries=countries,
        usd=usd,
        note=note,
    )
    if threshold_id is None:
        row = UpmarketThreshold.objects.create(**values)
        changes = {name: [None, _plain(value)] for name, value in values.items()}
        verb = "commissions.upmarket_threshold.created"
    else:
        found = UpmarketThreshold.objects.select_for_update().filter(pk=threshold_id).first()
        if found is None:
            raise NotFound("No such threshold.")
        row = found
        changes = {
            name: [_plain(getattr(row, name)), _plain(value)]
            for name, value in values.items()
            if getattr(row, name) != value
        }
        if not changes:
            return row, False
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
        verb = "commissions.upmarket_threshold.updated"
    audit(actor=actor, verb=verb, subject=row, data={"id": row.pk, "changes": changes})
    return row, threshold_id is None


@transaction.atomic
def upmarket_threshold_delete(*, actor: User, threshold_id: int) -> None:
    """Remove a threshold row; the audit row keeps what it said."""
    access.require(actor, CommissionAction.RULE_SET_EDIT)
    row = UpmarketThreshold.objects.select_for_update().filter(pk=threshold_id).first()
    if row is None:
        raise NotFound("No such threshold.")
    before = {
        name: _plain(getattr(row, name))
        for name in ("effective_from", "effective_until", "countries", "usd", "note")
    }
    audit(
        actor=actor,
        verb="commissions.upmarket_threshold.deleted",
        subject=row,
        data={"id": row.pk, "was": before},
    )
    row.delete()


@transaction.atomic
def exempt_country_save(
    *, actor: User, exempt_id: int | None, country: str
) -> tuple[AccreditationExemptCountry, bool]:
    """List a country as exempt from the accreditation requirement (`exempt_id` None), or
    change which country a row names; audited. Return (row, created)."""
    access.require(actor, CommissionAction.RULE_SET_EDIT)
    code = country.strip().upper()
    if not Country.objects.filter(pk=code).exists():
        raise InvalidInput("Unknown country code.", field="country")
    clash = AccreditationExemptCountry.objects.filter(country_id=code)
    if exempt_id is not None:
        clash = clash.exclude(pk=exempt_id)
    if clash.exists():
        raise InvalidInput("This country is already exempt.", field="country")
    if exempt_id is None:
        row = AccreditationExemptCountry.objects.create(country_id=code)
        audit(
            actor=actor,
            verb="commissions.exempt_country.created",
            subject=row,
            data={"id": row.pk, "changes": {"country": [None, code]}},
        )
        return row, True
    found = AccreditationExemptCountry.objects.select_for_update().filter(pk=exempt_id).first()
    if found is None:
        raise NotFound("No such exempt country.")
    if found.country_id == code:
        return found, False
    before = found.country_id
    found.country_id = code
    found.save()
    audit(
        actor=actor,
        verb="commissions.exempt_country.updated",
        subject=found,
        data={"id": found.pk, "changes": {"country": [before, code]}},
    )
    return found, False


@transaction.atomic
def exempt_country_delete(*, actor: User, exempt_id: int) -> None:
    """Take a country off the exempt list; audited."""
    access.require(actor, CommissionAction.RULE_SET_EDIT)
    row = AccreditationExemptCountry.objects.select_for_update().filter(pk=exempt_id).first()
    if row is None:
        raise NotFound("No such exempt country.")
    audit(
        actor=actor,
        verb="commissions.exempt_country.deleted",
        subject=row,
        data={"id": row.pk, "was": {"country": row.country_id}},
    )
    row.delete()
