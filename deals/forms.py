"""Forms of the deal pages: they parse and bound input (the same bounds as the API,
`deals.inputs`) and hand the services typed values. The rules live in the services, whose
`InvalidInput` the views put back on these forms (`apply_errors`).

Choices that come from the database (countries, product lines, partners) are passed in by the
view, loaded once per page, so a page with many rows of forms stays at a bounded number of
queries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import TextChoices

from partnerportal.core.errors import NON_FIELD, InvalidInput
from partnerportal.core.models import Segment

from . import inputs, presenters
from .inputs import ClosedLineInput, PoiDecision, QuoteLineInput
from .services import SECONDARY_ACKNOWLEDGEMENT

Choices = Sequence[tuple[Any, str]]


def apply_errors(
    form: forms.BaseForm,
    exc: InvalidInput,
    *,
    rename: Mapping[str, str] | None = None,
) -> None:
    """Put a service's refusal on `form`: each message on the field it names (or
    `rename[name]`), else on the form. The refused rule, when one refused, is said after the
    first message (`presenters.refused_by`)."""
    first = True
    for key, messages in exc.errors.items():
        name = (rename or {}).get(key, key)
        target = name if name != NON_FIELD and name in form.fields else None
        for message in messages:
            text = f"{message} {presenters.refused_by(exc.rule)}" if exc.rule and first else message
            form.add_error(target, text)
            first = False


def _money(label: str, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=inputs.MONEY_MAX_DIGITS,
        decimal_places=inputs.MONEY_DECIMAL_PLACES,
        min_value=Decimal(0),
        max_value=inputs.MONEY_MAX,
        **kwargs,
    )


class CustomerForm(forms.Form):
    """A customer by its purchase domain: a partner's registration or a vendor-owned deal."""

    customer_domain = forms.CharField(
        label="Customer domain",
        max_length=inputs.DOMAIN_MAX,
        help_text="The domain the customer buys on, e.g. acme.com (no https://, no www.).",
        widget=forms.TextInput(attrs={"placeholder": "acme.com", "autocomplete": "off"}),
    )
    customer_name = forms.CharField(
        label="Customer name", max_length=inputs.CUSTOMER_NAME_MAX, required=False
    )
    country = forms.ChoiceField(label="Country")
    segment = forms.ChoiceField(label="Segment", choices=Segment.choices)

    def __init__(self, *args: Any, countries: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Choose a country"), *countries]  # type: ignore[attr-defined]


class Decision(TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class DecisionForm(forms.Form):
    """A growth specialist's answer to a Partner Sourced request."""

    decision = forms.ChoiceField(choices=Decision.choices)
    note = forms.CharField(
        label="Note (internal: the partner does not see it)",
        required=False,
        max_length=inputs.NOTE_MAX,
        widget=forms.TextInput(attrs={"placeholder": "Why (optional)"}),
    )

    def approve(self) -> bool:
        return self.cleaned_data["decision"] == Decision.APPROVE


class InviteForm(forms.Form):
    partner = forms.TypedChoiceField(label="Partner to invite", coerce=int)

    def __init__(self, *args: Any, partners: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].choices = [("", "Choose a partner"), *partners]  # type: ignore[attr-defined]


def _date_bounds(field: forms.Field, earliest: date | None, latest: date | None) -> None:
    """The browser's date picker offers only plausible dates (the service still decides)."""
    if earliest is not None:
        field.widget.attrs["min"] = earliest.isoformat()
    if latest is not None:
        field.widget.attrs["max"] = latest.isoformat()


class QuoteForm(forms.Form):
    expected_close_date = forms.DateField(
        label="Expected close date",
        required=False,
        help_text="POI links expire at the end of this day. Blank: keep it (or end of month).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(
        self, *args: Any, earliest: date | None = None, latest: date | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _date_bounds(self.fields["expected_close_date"], earliest, latest)


class QuoteLineForm(forms.Form):
    """One quote line. A row without a product line is ignored (a blank row to fill in)."""

    product_line = forms.ChoiceField(label="Product line", required=False)
    edition = forms.ChoiceField(label="Edition", required=False)
    seats = forms.IntegerField(
        label="Seats", min_value=0, max_value=inputs.SEATS_MAX, initial=1, required=False
    )
    mrr = _money("MRR", required=False)
    currency = forms.ChoiceField(label="Currency", required=False)
    discount_pct = forms.DecimalField(
        label="Discount %",
        max_digits=inputs.DISCOUNT_MAX_DIGITS,
        decimal_places=inputs.DISCOUNT_DECIMAL_PLACES,
        min_value=Decimal(0),
        max_value=inputs.DISCOUNT_MAX,
        required=False,
    )
    discount_approval = forms.CharField(
        label="Discount approval ref.", max_length=inputs.DISCOUNT_APPROVAL_MAX, required=False
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
        if data.get("product_line") and not data.get("DELETE"):
            if data.get("mrr") is None and "mrr" not in self.errors:
                self.add_error("mrr", "Enter the monthly amount.")
            if not data.get("currency") and "currency" not in self.errors:
                self.add_error("currency", "Choose the currency.")
        return data

    def as_line(self) -> QuoteLineInput | None:
        """The line as the quote service takes it, or None for a blank or removed row."""
        data = self.cleaned_data
        if not data.get("product_line") or data.get("DELETE"):
            return None
        return QuoteLineInput(
            product_line=data["product_line"],
            edition=data.get("edition") or None,
            seats=data["seats"] if data.get("seats") is not None else 1,
            mrr=data["mrr"],
            currency=data["currency"],
            discount_pct=data.get("discount_pct") or Decimal(0),
            discount_approval=data.get("discount_approval") or "",
        )


def quote_lines(formset: forms.BaseFormSet) -> list[tuple[int, QuoteLineInput]]:  # type: ignore[type-arg]
    """The kept lines of a valid quote formset, each with the index of its row."""
    kept = [(index, form.as_line()) for index, form in enumerate(formset.forms)]
    return [(index, line) for index, line in kept if line is not None]


QuoteLineFormSet = forms.formset_factory(
    QuoteLineForm,
    extra=1,
    can_delete=True,
    max_num=inputs.QUOTE_LINES_MAX,
    absolute_max=inputs.QUOTE_LINES_MAX,
    validate_max=True,
)


class CloseForm(forms.Form):
    """Close as won: the purchase, one checkbox and MRR per line of the current quote. The page
    first shows what Best Partner Wins would decide (a dry run), then asks to confirm."""

    purchase_domain = forms.CharField(label="Purchase domain", max_length=inputs.DOMAIN_MAX)
    close_date = forms.DateField(label="Close date", widget=forms.DateInput(attrs={"type": "date"}))
    onboarding_partner = forms.TypedChoiceField(
        label="Partner the customer chose for onboarding",
        required=False,
        coerce=int,
        empty_value=None,
    )
    domain_mismatch_reason = forms.CharField(
        label="Why the customer bought on another domain (only if it did)",
        required=False,
        max_length=inputs.DOMAIN_MISMATCH_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded with the close, e.g. the customer bought through its parent company.",
    )

    def __init__(
        self,
        *args: Any,
        quote_lines: Iterable[tuple[str, str, Decimal]],
        partners: Choices,
        earliest: date | None = None,
        latest: date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["onboarding_partner"].choices = [("", "None / the vendor"), *partners]  # type: ignore[attr-defined]
        _date_bounds(self.fields["close_date"], earliest, latest)
        self.line_codes: list[str] = []
        for code, label, mrr in quote_lines:
            self.line_codes.append(code)
            self.fields[f"buy_{code}"] = forms.BooleanField(
                label=label, required=False, initial=True
            )
            self.fields[f"mrr_{code}"] = _money(f"{label} MRR", required=False, initial=mrr)

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

    def lines(self) -> list[ClosedLineInput]:
        """The purchased lines of a valid form, in the quote's order."""
        return [
            ClosedLineInput(product_line=code, mrr=self.cleaned_data[f"mrr_{code}"])
            for code in self.line_codes
            if self.cleaned_data.get(f"buy_{code}")
        ]

    def line_field(self, key: str) -> str | None:
        """The form field of a service error key `lines[i].<name>` (the i-th purchased line)."""
        for index, line in enumerate(self.lines()):
            prefix = f"lines[{index}]"
            if key == prefix or key.startswith(prefix + "."):
                name = "mrr" if key.endswith(".mrr") else "buy"
                return f"{name}_{line.product_line}"
        return None


class DecideForm(forms.Form):
    """Partner ops settle a tie: which registration, and why."""

    registration = forms.TypedChoiceField(
        label="Credit this partner", widget=forms.RadioSelect, coerce=int
    )
    reason = forms.CharField(
        label="Reason (recorded, final)",
        max_length=inputs.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
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


class DirectorySearchForm(forms.Form):
    """A partner looked up by name in the public partner directory, to refer it."""

    q = forms.CharField(
        label="Partner name",
        min_length=inputs.DIRECTORY_QUERY_MIN,
        max_length=inputs.DIRECTORY_QUERY_MAX,
        help_text="As listed in the partner directory.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class ReferralForm(forms.Form):
    """The partner chosen in the directory: its reference, confirmed on the page that names it."""

    partner = forms.IntegerField(
        label="Partner to refer", min_value=1, max_value=inputs.ID_MAX, widget=forms.HiddenInput
    )


class AcknowledgeForm(forms.Form):
    statement = forms.CharField(
        label="Your written acknowledgement",
        initial=SECONDARY_ACKNOWLEDGEMENT,
        max_length=inputs.STATEMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer",
        max_length=inputs.QUESTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AskForm(forms.Form):
    question = forms.CharField(
        label="Ask this partner",
        max_length=inputs.QUESTION_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PoiAnswerForm(forms.Form):
    """The customer's answer on the POI page."""

    decision = forms.TypedChoiceField(
        choices=[(d.value, d.value) for d in PoiDecision], coerce=PoiDecision
    )
