"""Forms of the deal pages. They parse and render input only: the rules live in
`deals.services`, whose ValidationError messages the views put back on these forms.

Choices that come from the database (countries, product lines, partners) are passed in by the
view, loaded once per page, so a page with many rows of forms stays at a bounded number of
queries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from partnerportal.core.errors import InvalidInput
from partnerportal.core.models import Segment

from .services import SECONDARY_ACKNOWLEDGEMENT

Choices = Sequence[tuple[Any, str]]


def apply_errors(
    form: forms.BaseForm,
    exc: ValidationError | InvalidInput,
    *,
    rename: Mapping[str, str] | None = None,
) -> None:
    """Put a service's ValidationError on `form`: each message on the field it names (or
    `rename[name]`), else on the form. The refused rule's code, when there is one, is shown
    with the first message."""
    errors: dict[str, list[str]]
    if isinstance(exc, InvalidInput):
        errors = dict(exc.errors)
        rule = [exc.rule] if exc.rule else None
    else:
        errors = (
            {key: list(value) for key, value in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {NON_FIELD_ERRORS: list(exc.messages)}
        )
        rule = errors.pop("rule", None)
    first = True
    for key, messages in errors.items():
        name = (rename or {}).get(key, key)
        target = name if name in form.fields else None
        for message in messages:
            text = f"{message} (rule: {rule[0]})" if rule and first else message
            form.add_error(target, text)
            first = False
    if first and rule:
        form.add_error(None, f"Refused by rule {rule[0]}.")


class CustomerForm(forms.Form):
    """A customer by its purchase domain: a partner's registration or a vendor-owned deal."""

    customer_domain = forms.CharField(
        label="Customer domain",
        max_length=300,
        help_text="The domain the customer buys on, e.g. acme.com (no https://, no www.).",
        widget=forms.TextInput(attrs={"placeholder": "acme.com", "autocomplete": "off"}),
    )
    customer_name = forms.CharField(label="Customer name", max_length=200, required=False)
    country = forms.ChoiceField(label="Country")
    segment = forms.ChoiceField(label="Segment", choices=Segment.choices)

    def __init__(self, *args: Any, countries: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Choose a country"), *countries]  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    """A growth specialist's answer to a Partner Sourced request."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    note = forms.CharField(
        label="Note (internal: the partner does not see it)",
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "Why (optional)"}),
    )


class InviteForm(forms.Form):
    partner = forms.ChoiceField(label="Partner to invite")

    def __init__(self, *args: Any, partners: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].choices = [("", "Choose a partner"), *partners]  # type: ignore[attr-defined]


class QuoteForm(forms.Form):
    expected_close_date = forms.DateField(
        label="Expected close date",
        required=False,
        help_text="POI links expire at the end of this day. Blank: keep it (or end of month).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class QuoteLineForm(forms.Form):
    """One quote line. A row without a product line is ignored (a blank row to fill in)."""

    product_line = forms.ChoiceField(label="Product line", required=False)
    edition = forms.ChoiceField(label="Edition", required=False)
    seats = forms.IntegerField(label="Seats", min_value=0, initial=1, required=False)
    mrr = forms.DecimalField(
        label="MRR", max_digits=14, decimal_places=2, required=False, min_value=Decimal("0")
    )
    currency = forms.ChoiceField(label="Currency", required=False)
    discount_pct = forms.DecimalField(
        label="Discount %", max_digits=5, decimal_places=2, required=False
    )
    discount_approval = forms.CharField(
        label="Discount approval ref.", max_length=200, required=False
    )

    def __init__(
        self,
        *args: Any,
        product_lines: Choices,
        editions: Choices,
        currencies: Choices,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_line"].choices = [("", "—"), *product_lines]  # type: ignore[attr-defined]
        self.fields["edition"].choices = [("", "No edition"), *editions]  # type: ignore[attr-defined]
        self.fields["currency"].choices = [("", "—"), *currencies]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("product_line") and data.get("mrr") is None and "mrr" not in self.errors:
            self.add_error("mrr", "Enter the monthly amount.")
        return data

    def as_line(self) -> dict[str, Any] | None:
        """The line as the quote service takes it, or None for a blank or removed row."""
        data = self.cleaned_data
        if not data.get("product_line") or data.get("DELETE"):
            return None
        return {
            "product_line": data["product_line"],
            "edition": data.get("edition") or None,
            "seats": data["seats"] if data.get("seats") is not None else 1,
            "mrr": data["mrr"],
            "currency": data.get("currency") or "",
            "discount_pct": data.get("discount_pct") or 0,
            "discount_approval": data.get("discount_approval") or "",
        }


QuoteLineFormSet = forms.formset_factory(QuoteLineForm, extra=1, can_delete=True)


class CloseForm(forms.Form):
    """Close as won: the purchase, one checkbox and MRR per line of the current quote."""

    purchase_domain = forms.CharField(label="Purchase domain", max_length=300)
    close_date = forms.DateField(label="Close date", widget=forms.DateInput(attrs={"type": "date"}))
    onboarding_partner = forms.ChoiceField(
        label="Partner the customer chose for onboarding", required=False
    )

    def __init__(
        self,
        *args: Any,
        quote_lines: Iterable[tuple[str, str, Decimal]],
        partners: Choices,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["onboarding_partner"].choices = [("", "None / the vendor"), *partners]  # type: ignore[attr-defined]
        self.line_codes: list[str] = []
        for code, label, mrr in quote_lines:
            self.line_codes.append(code)
            self.fields[f"buy_{code}"] = forms.BooleanField(
                label=label, required=False, initial=True
            )
            self.fields[f"mrr_{code}"] = forms.DecimalField(
                label=f"{label} MRR",
                max_digits=14,
                decimal_places=2,
                required=False,
                initial=mrr,
            )

    def line_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"buy_{code}"], self[f"mrr_{code}"]) for code in self.line_codes]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        bought = [code for code in self.line_codes if data.get(f"buy_{code}")]
        if not bought:
            raise ValidationError("Tick at least one purchased line.")
        for code in bought:
            if data.get(f"mrr_{code}") is None and f"mrr_{code}" not in self.errors:
                self.add_error(f"mrr_{code}", "Enter the purchased MRR.")
        return data

    def lines(self) -> list[dict[str, Any]]:
        return [
            {"product_line": code, "mrr": self.cleaned_data[f"mrr_{code}"]}
            for code in self.line_codes
            if self.cleaned_data.get(f"buy_{code}")
        ]


class DecideForm(forms.Form):
    """Partner ops settle a tie: which registration, and why."""

    registration = forms.ChoiceField(label="Credit this partner", widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Reason (recorded, final)", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, tied: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["registration"].choices = list(tied)  # type: ignore[attr-defined]


class ManualPoiForm(forms.Form):
    lines = forms.MultipleChoiceField(
        label="Products you are involved in", widget=forms.CheckboxSelectMultiple
    )
    provides_onboarding = forms.BooleanField(
        label="We provide the customer's onboarding (in place of the vendor's)", required=False
    )

    def __init__(
        self, *args: Any, quote_lines: Choices, is_provider: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = list(quote_lines)  # type: ignore[attr-defined]
        if not kwargs.get("initial"):
            self.fields["lines"].initial = [code for code, _ in quote_lines]
        if is_provider:
            field = self.fields["provides_onboarding"]
            field.disabled = True
            field.help_text = "Solutions providers cannot waive the vendor's onboarding."


class ReferralForm(forms.Form):
    partner = forms.IntegerField(
        label="Partner id to refer",
        min_value=1,
        help_text="Ask the partner: each partner sees its own id on its My deals page.",
    )


class AcknowledgeForm(forms.Form):
    statement = forms.CharField(
        label="Your written acknowledgement",
        initial=SECONDARY_ACKNOWLEDGEMENT,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer", max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AskForm(forms.Form):
    question = forms.CharField(
        label="Ask this partner", max_length=10000, widget=forms.Textarea(attrs={"rows": 2})
    )
