"""Page forms of commissions: they parse and bound what a page sends and hand the views typed
values; the rules (a payment date after the quarter, not in the future) stay in the service."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from .models import Statement
from .presenters import STATUS_WORDS
from .rules import PAYMENT_REFERENCE_MAX

PARTNER_SEARCH_MAX = 100

# Dates a person can mean (a typo like 0026 or 20266 is refused here, not by the database).
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2999, 12, 31)


class StatementFilterForm(forms.Form):
    """Filters of a quarter's statement list. An invalid filter is ignored (the list shows
    unfiltered by it) and says so next to its field."""

    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Every status"), *((s.value, STATUS_WORDS[s]) for s in Statement.Status)],
        error_messages={"invalid_choice": "“%(value)s” is not a status: showing every status."},
    )
    currency = forms.ChoiceField(
        label="Currency",
        required=False,
        error_messages={
            "invalid_choice": "“%(value)s” is not a currency of the program: showing every one."
        },
    )
    partner = forms.CharField(
        label="Partner",
        required=False,
        max_length=PARTNER_SEARCH_MAX,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name contains"}),
    )

    def __init__(self, *args: Any, currencies: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [("", "Every currency"), *((c, c) for c in currencies)]  # type: ignore[attr-defined]

    def filters(self) -> dict[str, str]:
        """Return `status`, `currency` and `partner`, each emptied when invalid."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: str(data.get(name) or "") for name in ("status", "currency", "partner")}


class CloseQuarterForm(forms.Form):
    """The confirmation of a close: a closed quarter's statements never change."""

    confirm = forms.BooleanField(
        label="I have read the preview: close this quarter for good",
        error_messages={"required": "Tick the box to confirm the close: it cannot be undone."},
    )


class ReleaseForm(forms.Form):
    """Releasing a held statement asks nothing: the service checks the reasons are gone."""


class MarkPaidForm(forms.Form):
    payment_reference = forms.CharField(
        label="Payment reference",
        max_length=PAYMENT_REFERENCE_MAX,
        strip=True,
        help_text="As it appears on the bank transfer.",
        error_messages={"required": "Give the payment reference of the transfer."},
    )
    paid_on = forms.DateField(
        label="Paid on",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Give the day the statement was paid.",
            "invalid": "Give the day as YYYY-MM-DD, e.g. 2026-05-20.",
        },
    )

    def clean_paid_on(self) -> date:
        value: date = self.cleaned_data["paid_on"]
        if not DATE_MIN <= value <= DATE_MAX:
            raise forms.ValidationError("Give a real date.")
        return value
