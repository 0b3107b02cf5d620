"""Forms of the tier pages. They parse and render GET input only; the points and tiers come
from `tiers.rules`.

Choices that come from the database (currencies, countries, product lines) are passed in by
the view, loaded once per page. An unknown code is a message on its field, never a 500."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms

from .models import LineKind

Choices = Sequence[tuple[str, str]]

#: Whole units of MRR a what-if accepts: as wide as a subscription version's MRR column.
MRR_MAX_DIGITS = 14


class LineFilterForm(forms.Form):
    """Filters of the contributing lines table and of its CSV download."""

    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "All kinds"), *LineKind.choices],
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
        max_length=200,
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
    country. Codes are typed or chosen; lower case is accepted."""

    kind = forms.ChoiceField(
        label="Kind of MRR",
        choices=LineKind.choices,
        initial=LineKind.SOURCED,
        error_messages={
            "required": "Choose the kind of MRR: Partner Sourced, Partner Assisted or Managed.",
            "invalid_choice": "“%(value)s” is not a kind of MRR: choose Partner Sourced, Partner "
            "Assisted or Managed.",
        },
    )
    mrr = forms.DecimalField(
        label="Monthly recurring revenue (MRR)",
        max_digits=MRR_MAX_DIGITS,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={
            "required": "Enter the monthly amount, e.g. 1500 or 1500.50.",
            "invalid": "Enter the monthly amount as a number, e.g. 1500 or 1500.50.",
            "min_value": "Enter an amount greater than zero.",
            "max_digits": "That amount is too large: at most 12 digits before the decimal point.",
            "max_decimal_places": "Enter at most 2 decimal places (cents).",
            "max_whole_digits": "That amount is too large: at most 12 digits before the decimal "
            "point.",
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

    def __init__(self, *args: Any, currencies: Choices, countries: Choices, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "wi")
        super().__init__(*args, **kwargs)
        self._currencies = {code for code, _ in currencies}
        self._countries = {code for code, _ in countries}
        self.fields["currency"].widget.choices = list(currencies)  # type: ignore[attr-defined]
        self.fields["country"].widget.choices = [("", "Choose a country"), *countries]  # type: ignore[attr-defined]

    def clean_currency(self) -> str:
        code = str(self.cleaned_data["currency"]).strip().upper()
        if code not in self._currencies:
            accepted = ", ".join(sorted(self._currencies))
            raise forms.ValidationError(
                "“%(code)s” is not an accepted currency for points. Accepted: %(accepted)s.",
                code="unknown_currency",
                params={"code": code[:10], "accepted": accepted},
            )
        return code

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
