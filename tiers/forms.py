"""Forms of the tier pages. They parse, bound and render GET input only, and hand the view
typed values (`tiers.inputs`); the points and tiers come from `tiers.rules`.

Choices that come from the database (currencies, countries, product lines) are passed in by
the view, loaded once per page. An unknown code is a message on its field, never a 500."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms

from . import rules
from .inputs import MONEY_DECIMAL_PLACES, MONEY_MAX, MONEY_MAX_DIGITS, WhatIfInput
from .presenters import LINE_KIND_WORDS, TIER_WORDS

Choices = Sequence[tuple[str, str]]

#: What a person types to filter by name or customer.
SEARCH_MAX = 200

KIND_CHOICES = [(kind.value, LINE_KIND_WORDS[kind]) for kind in rules.LineKind]
TIER_CHOICES = [(tier.value, TIER_WORDS[tier]) for tier in rules.TIER_ORDER]
#: The digits before the decimal point an amount may have (12 for `numeric(14, 2)`).
_WHOLE_DIGITS = MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES
_MONEY_ERRORS = {
    "invalid": "Enter the monthly amount as a number, e.g. 1500 or 1500.50.",
    "max_digits": f"That amount is too large: at most {_WHOLE_DIGITS} digits before the decimal "
    "point.",
    "max_decimal_places": "Enter at most 2 decimal places (cents).",
    "max_whole_digits": f"That amount is too large: at most {_WHOLE_DIGITS} digits before the "
    "decimal point.",
    "max_value": f"That amount is too large: at most {MONEY_MAX:,}.",
}


class LineFilterForm(forms.Form):
    """Filters of the contributing lines table and of its CSV download."""

    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "All kinds"), *KIND_CHOICES],
        error_messages={"invalid_choice": "“%(value)s” is not a kind of line: showing all kinds."},
    )
    product_line = forms.ChoiceField(
        label="Product line",
        required=False,
        error_messages={
            "invalid_choice": "“%(value)s” is not a product line: showing all product lines."
        },
    )
    q = forms.CharField(
        label="Customer",
        required=False,
        max_length=SEARCH_MAX,
        widget=forms.TextInput(attrs={"placeholder": "Domain or name", "type": "search"}),
    )

    def __init__(self, *args: Any, product_lines: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_line"].choices = [("", "All product lines"), *product_lines]  # type: ignore[attr-defined]

    def filters(self) -> dict[str, str]:
        """Return the filters that are valid and set (an invalid one is ignored, and shown)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            name: str(data[name]).strip()
            for name in ("kind", "product_line", "q")
            if str(data.get(name) or "").strip()
        }


class WhatIfForm(forms.Form):
    """One hypothetical line: this much MRR of a kind, in a currency, for a customer in a
    country; for a sold line, optionally what it was billed the same month a year ago (an
    upsell: only the growth earns points). Codes are typed or chosen; lower case is accepted.
    The bounds are those of the run's data: an MRR a subscription version can hold."""

    kind = forms.ChoiceField(
        label="Kind of MRR",
        choices=KIND_CHOICES,
        initial=rules.LineKind.SOURCED.value,
        error_messages={
            "required": "Choose the kind of MRR: Partner Sourced, Partner Assisted or Managed.",
            "invalid_choice": "“%(value)s” is not a kind of MRR: choose Partner Sourced, Partner "
            "Assisted or Managed.",
        },
    )
    mrr = forms.DecimalField(
        label="Monthly recurring revenue (MRR)",
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        min_value=Decimal("0.01"),
        max_value=MONEY_MAX,
        error_messages={
            **_MONEY_ERRORS,
            "required": "Enter the monthly amount, e.g. 1500 or 1500.50.",
            "min_value": "Enter an amount greater than zero.",
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    currency = forms.CharField(
        label="Currency",
        max_length=10,
        error_messages={"required": "Choose the currency of the MRR."},
        widget=forms.Select,
    )
    country = forms.CharField(
        label="Customer country",
        max_length=10,
        error_messages={"required": "Choose the customer's country."},
        widget=forms.Select,
        help_text="Points are doubled for customers in a growth market.",
    )
    mrr_year_ago = forms.DecimalField(
        label="MRR the same month a year ago",
        required=False,
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        min_value=Decimal(0),
        max_value=MONEY_MAX,
        error_messages={**_MONEY_ERRORS, "min_value": "Enter zero or more."},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text="Sold lines only, for an upsell: points are earned on the growth.",
    )
    currency_year_ago = forms.CharField(
        label="Billed in, a year ago",
        required=False,
        max_length=10,
        widget=forms.Select,
        help_text="If the line was billed in another currency then.",
    )

    def __init__(self, *args: Any, currencies: Choices, countries: Choices, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "wi")
        super().__init__(*args, **kwargs)
        self._currencies = {code for code, _ in currencies}
        self._countries = {code for code, _ in countries}
        self.fields["currency"].widget.choices = list(currencies)  # type: ignore[attr-defined]
        self.fields["currency_year_ago"].widget.choices = [  # type: ignore[attr-defined]
            ("", "The same currency"),
            *currencies,
        ]
        self.fields["country"].widget.choices = [("", "Choose a country"), *countries]  # type: ignore[attr-defined]

    def _currency_code(self, raw: object) -> str:
        code = str(raw).strip().upper()
        if code not in self._currencies:
            accepted = ", ".join(sorted(self._currencies))
            raise forms.ValidationError(
                "“%(code)s” is not an accepted currency for points. Accepted: %(accepted)s.",
                code="unknown_currency",
                params={"code": code[:10], "accepted": accepted},
            )
        return code

    def clean_currency(self) -> str:
        return self._currency_code(self.cleaned_data["currency"])

    def clean_currency_year_ago(self) -> str:
        raw = str(self.cleaned_data.get("currency_year_ago") or "").strip()
        return self._currency_code(raw) if raw else ""

    def clean_country(self) -> str:
        code = str(self.cleaned_data["country"]).strip().upper()
        if code not in self._countries:
            raise forms.ValidationError(
                "“%(code)s” is not a known country: choose one from the list (ISO 3166 codes, "
                "e.g. GB, BR).",
                code="unknown_country",
                params={"code": code[:10]},
            )
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == rules.LineKind.MANAGED and data.get("mrr_year_ago") is not None:
            self.add_error(
                "mrr_year_ago",
                "Managed lines earn points on the MRR of this month alone: leave the year-ago "
                "MRR empty.",
            )
        return data

    def what_if_input(self) -> WhatIfInput | None:
        """The typed line of a valid, submitted form; None otherwise."""
        if not self.is_bound or not self.is_valid():
            return None
        data = self.cleaned_data
        currency = data["currency"]
        year_ago = None
        if data.get("mrr_year_ago") is not None:
            year_ago = rules.Mrr(
                mrr=data["mrr_year_ago"], currency=data.get("currency_year_ago") or currency
            )
        return WhatIfInput(
            kind=rules.LineKind(data["kind"]),
            this_month=rules.Mrr(mrr=data["mrr"], currency=currency),
            year_ago=year_ago,
            country=data["country"],
        )


class PartnerListFilterForm(forms.Form):
    """Filters of the partners list. An invalid filter is ignored (and the list unfiltered)."""

    q = forms.CharField(label="Partner", required=False, max_length=SEARCH_MAX, strip=True)
    tier = forms.ChoiceField(
        label="Tier", required=False, choices=[("", "All tiers"), *TIER_CHOICES]
    )
    at_risk = forms.BooleanField(label="At risk only", required=False)

    def filters(self) -> dict[str, Any]:
        """Return `q`, `tier` and `at_risk`, each emptied when invalid."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "q": str(data.get("q") or ""),
            "tier": str(data.get("tier") or ""),
            "at_risk": bool(data.get("at_risk")),
        }
