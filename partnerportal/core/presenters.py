"""How kernel pages present kernel data: plain values in, plain values out, no queries."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

from .models import Customer, Organisation, Role, SubscriptionVersion

CustomerRows = list[tuple[Customer, list[SubscriptionVersion]]]

#: A solutions provider has no tier (SPEC 2): said the same way in every list and page.
PROVIDER_TIER_WORDS = "Provider (no tiers)"

#: The words of a partner role for a person of a solutions provider (the role is the same
#: program role; a provider is not called a partner).
PROVIDER_ROLE_WORDS: Mapping[str, str] = MappingProxyType(
    {Role.PARTNER_ADMIN: "Provider admin", Role.PARTNER_MEMBER: "Provider member"}
)


def tier_words(*, kind: str, tier: str) -> str:
    """An organisation's tier as people read it; a provider's is `PROVIDER_TIER_WORDS`."""
    if kind == Organisation.Kind.PROVIDER:
        return PROVIDER_TIER_WORDS
    return Organisation.Tier(tier).label


def role_words(*, role: str, organisation_kind: str | None) -> str:
    """A person's role as people read it: "Provider admin" for a provider's admin."""
    if organisation_kind == Organisation.Kind.PROVIDER and role in PROVIDER_ROLE_WORDS:
        return PROVIDER_ROLE_WORDS[role]
    return Role(role).label


def customer_rows(
    customers: Iterable[Customer], lines: Iterable[SubscriptionVersion]
) -> CustomerRows:
    """Each customer with its subscription lines, in the customers' order (a customer with no
    line in effect is listed with none)."""
    by_customer: dict[int, list[SubscriptionVersion]] = {}
    for line in lines:
        by_customer.setdefault(line.subscription.customer_id, []).append(line)
    return [(customer, by_customer.get(customer.pk, [])) for customer in customers]


# --- The audit trail's details ----------------------------------------------------------------
#
# An audit event's `data` is a small JSON object whose keys and code values differ by verb. The
# trail shows it as "label: value" pairs: curated words for the keys people meet most, the
# words of each code value (the subject model's own field choices first, then every wording map
# the apps declare through the composition root, then every model's choices, then the catalog's
# names), dates and times read as dates, ids as "#12". Pure: the caller passes what it loaded.

AUDIT_KEY_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "as_of": "As of",
        "associations": "Sold associations",
        "breach": "Answered late",
        "close_date": "Close date",
        "code": "Code",
        "country": "Country",
        "currency": "Currency",
        "customer": "Customer",
        "customer_domain": "Customer domain",
        "deal": "Deal",
        "director_approval": "Director's approval",
        "domain": "Domain",
        "domain_registered": "Purchase domain registered on the deal",
        "due": "Answer due",
        "edition": "Edition",
        "effective_from": "Effective from",
        "effective_until": "Effective until",
        "elite_qualified": "Meets the Elite points",
        "email": "E-mail",
        "entitlements": "Entitlements",
        "escalation": "Escalation",
        "expires_at": "Expires at",
        "expires_on": "Expires on",
        "from": "From",
        "granted": "Granted",
        "growth_specialist": "Growth specialist",
        "held_by_other": "Held by another partner",
        "holder": "Holder",
        "kept": "Already held",
        "kind": "Kind",
        "latest_assessment": "Latest assessment",
        "lines": "Lines",
        "months": "Months",
        "mrr": "MRR",
        "name": "Name",
        "occurred_at": "Occurred at",
        "outcome": "Outcome",
        "partners_assessed": "Partners assessed",
        "product_line": "Product line",
        "program": "Program",
        "provides_onboarding": "Provides onboarding",
        "purchase_domain": "Purchase domain",
        "qualified_tier": "Qualified tier",
        "quote": "Quote",
        "quote_version": "Quote version",
        "reasons": "Reasons",
        "referred_by": "Referred by (registration)",
        "region": "Region",
        "registration": "Registration",
        "role": "Role",
        "rule": "Rule",
        "rule_set_effective_from": "Rule set in force from",
        "seats": "Seats",
        "segment": "Segment",
        "seq": "Step number",
        "serious": "Serious",
        "sold_source": "Sold points from",
        "status": "Status",
        "step": "Step",
        "tier": "Tier",
        "tier_changes": "Tier changes",
        "tiers_dropped": "Tiers dropped",
        "to": "To",
        "total_points": "Total points",
        "trigger": "Triggered by",
        "version": "Version",
        "winner": "Winner (registration)",
    }
)

#: Keys whose integer value is the id of a record (shown as "#12").
AUDIT_ID_KEYS: frozenset[str] = frozenset(
    {
        "associations",
        "deal",
        "escalation",
        "growth_specialist",
        "id",
        "quote",
        "referred_by",
        "registration",
        "winner",
    }
)

#: Keys whose text is what someone typed or a name: shown as it is, never read as a code.
AUDIT_FREE_TEXT_KEYS: frozenset[str] = frozenset(
    {
        "answer",
        "customer",
        "customer_domain",
        "director_approval",
        "domain",
        "email",
        "holder",
        "name",
        "note",
        "purchase_domain",
        "question",
        "reason",
    }
)

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_LONG_DECIMAL = re.compile(r"^-?\d+\.\d{3,}$")

# What the apps declare (the composition root does, when the project loads): code -> words,
# and the readers of compound stored codes (`cause:argument`, e.g. an accreditation reason).
_declared_code_words: dict[str, str] = {}
_compound_readers: list[Callable[[str], str]] = []
_COMPOUND = re.compile(r"^[a-z][a-z0-9_]*:[A-Za-z0-9_.-]+$")


def declare_code_words(words: Mapping[Any, Any]) -> None:
    """Add an app's wording map (enum member -> words) to the words the audit trail reads; the
    first declaration of a code wins (the composition root declares the most specific first).
    Values that are not plain text (badges, tuples) are skipped."""
    for code, text in words.items():
        # A wording with blanks to fill (`{certification}`) is a compound code's, read whole.
        if isinstance(text, str) and text.strip() and "{" not in text:
            _declared_code_words.setdefault(str(code), text)


def declare_compound_reader(reader: Callable[[str], str]) -> None:
    """Add an app's reader of compound stored codes (`cause:argument`) for the audit trail; a
    reader refuses a code it does not know by raising ValueError or KeyError."""
    if reader not in _compound_readers:
        _compound_readers.append(reader)


def _compound_words(text: str) -> str | None:
    for reader in _compound_readers:
        try:
            return reader(text)
        except (ValueError, KeyError):
            continue
    return None


def declared_code_words() -> Mapping[str, str]:
    return MappingProxyType(_declared_code_words)


@dataclass(frozen=True)
class CodeWords:
    """Everything `audit_details` reads codes with (built once per page)."""

    #: (model label, field name) -> code -> words, from every model field's choices.
    by_field: Mapping[tuple[str, str], Mapping[str, str]]
    #: code -> words: the catalog's names (product lines, editions, countries) first, then
    #: the declared maps, then every model's choices.
    flat: Mapping[str, str]


def code_words(catalog: Mapping[str, str]) -> CodeWords:
    """The code words of this project: every model's field choices (the project's own apps,
    found through the app registry, so the kernel imports no app), the declared wording maps
    and the catalog's names (`catalog`: product line, edition and country code -> name)."""
    from django.apps import apps
    from django.conf import settings

    base = str(settings.BASE_DIR)
    by_field: dict[tuple[str, str], dict[str, str]] = {}
    choices_flat: dict[str, str] = {}
    for config in apps.get_app_configs():
        if not str(config.path).startswith(base):
            continue  # Django's and third parties' own models: never in our audit data
        for model in config.get_models():
            for model_field in model._meta.get_fields():
                flat_choices = getattr(model_field, "flatchoices", None)
                if not flat_choices:
                    continue
                words = {str(value): str(label) for value, label in flat_choices if value != ""}
                by_field[(model._meta.label_lower, model_field.name)] = words
                for value, label in words.items():
                    choices_flat.setdefault(value, label)
    flat = {**choices_flat, **_declared_code_words, **catalog}
    return CodeWords(by_field=by_field, flat=flat)


def humanise_key(key: str) -> str:
    """The words of a data key: curated, else the key with spaces ("tier_changes" -> "Tier
    changes")."""
    return AUDIT_KEY_WORDS.get(key) or key.replace("_", " ").strip().capitalize() or key


def _value_words(key: str, value: Any, *, subject_type: str, words: CodeWords) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return f"#{value}" if key in AUDIT_ID_KEYS and isinstance(value, int) else str(value)
    if isinstance(value, list):
        if not value:
            return "none"
        return "; ".join(
            _value_words(key, item, subject_type=subject_type, words=words) for item in value
        )
    if isinstance(value, dict):
        return ", ".join(
            f"{label}: {words_}"
            for label, words_ in audit_details(value, subject_type=subject_type, words=words)
        )
    text = str(value)
    if key in AUDIT_FREE_TEXT_KEYS:
        return text
    if key == "country":  # an ISO code: the catalog's name of the country
        return words.flat.get(text, text)
    if _DATETIME.match(text):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return f"{moment:%d %b %Y %H:%M} UTC"
    if _DATE.match(text):
        try:
            return f"{date.fromisoformat(text):%d %b %Y}"
        except ValueError:
            return text
    if _LONG_DECIMAL.match(text):
        whole, _, fraction = text.partition(".")
        fraction = fraction.rstrip("0")
        return f"{whole}.{fraction}" if fraction else whole
    if _COMPOUND.match(text) and (read := _compound_words(text)) is not None:
        return read
    if _CODE.match(text):
        own = words.by_field.get((subject_type, key), {})
        # A code no map words (a certification code from the academy's feed): its own
        # words, spaced, rather than the raw code.
        return own.get(text) or words.flat.get(text) or text.replace("_", " ").capitalize()
    return text


def audit_details(
    data: Mapping[str, Any], *, subject_type: str, words: CodeWords
) -> list[tuple[str, str]]:
    """An audit event's data as (label, value) pairs, in words, in the data's key order."""
    if not isinstance(data, Mapping):
        return [("Details", str(data))]
    return [
        (
            humanise_key(str(key)),
            _value_words(str(key), value, subject_type=subject_type, words=words),
        )
        for key, value in data.items()
    ]
