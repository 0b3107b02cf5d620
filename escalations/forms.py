"""The escalation pages' forms, bounded as the API serializers are (`escalations.inputs`)."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms

from partnerportal.core.errors import NON_FIELD, InvalidInput

from . import inputs, presenters, rules


def apply_errors(form: forms.BaseForm, exc: InvalidInput) -> None:
    """Put a service's refusal on `form`: each message on the field it names, else the form."""
    for key, messages in exc.errors.items():
        target = key if key != NON_FIELD and key in form.fields else None
        for message in messages:
            form.add_error(target, message)


def move_value(move: rules.Move) -> str:
    """A move as one form value: `closed:resolved`, `mediation`."""
    return f"{move.to}:{move.outcome.value}" if move.outcome else move.to


def parse_move(value: str) -> tuple[str, str | None]:
    to, _, outcome = value.partition(":")
    return to, outcome or None


class EscalationForm(forms.Form):
    partner = forms.TypedChoiceField(label="Partner", coerce=int)
    customer_domain = forms.CharField(
        label="Customer domain", max_length=inputs.DOMAIN_MAX, help_text="e.g. acme.com"
    )
    summary = forms.CharField(
        label="What the customer complains of (staff only)",
        max_length=inputs.SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    serious = forms.BooleanField(
        label="A very serious infringement: send straight to the review board", required=False
    )
    note = forms.CharField(
        label="Note",
        max_length=inputs.NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    note_partner_visible = forms.BooleanField(
        label="The partner may read this note", required=False
    )

    def __init__(
        self, *args: object, partners: Sequence[tuple[int, str]], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["partner"].choices = [("", "Choose a partner"), *partners]  # type: ignore[attr-defined]


class MoveForm(forms.Form):
    """One of the moves allowed at the case's step (the buttons the page shows)."""

    move = forms.ChoiceField(label="Decision")  # sent by the button pressed
    note = forms.CharField(
        label="Note",
        max_length=inputs.NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    note_partner_visible = forms.BooleanField(
        label="The partner may read this note", required=False
    )
    director_approval = forms.CharField(
        label="Approving director",
        max_length=inputs.DIRECTOR_MAX,
        required=False,
        help_text="Required for a review board decision.",
    )

    def __init__(
        self, *args: object, moves: Sequence[rules.Move], board: bool, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Every move of the machine is a valid choice, so a move not allowed now reaches the
        # rules and is refused with the allowed moves named (as through the API).
        every = [m for step in rules.Step for m in rules.MOVES[step]]
        self.fields["move"].choices = [  # type: ignore[attr-defined]
            (move_value(m), presenters.move_words(m)) for m in dict.fromkeys(every)
        ]
        self.offered = [(move_value(m), presenters.move_words(m)) for m in moves]
        if not board:
            del self.fields["director_approval"]


class ConsequenceForm(forms.Form):
    partner = forms.TypedChoiceField(label="Partner", coerce=int)
    kind = forms.ChoiceField(
        label="Consequence",
        choices=[(k.value, presenters.CONSEQUENCE_WORDS[k]) for k in rules.ConsequenceKind],
    )
    reason = forms.CharField(
        label="Reason", max_length=inputs.REASON_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    effective_from = forms.DateField(
        label="In effect from", widget=forms.DateInput(attrs={"type": "date"})
    )
    effective_until = forms.DateField(
        label="Until (not included; leave empty for no end)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    tiers_dropped = forms.IntegerField(
        label="Tiers dropped (tier drop only)",
        min_value=1,
        max_value=inputs.TIER_DROP_MAX,
        required=False,
    )

    def __init__(
        self, *args: object, partners: Sequence[tuple[int, str]], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["partner"].choices = [("", "Choose a partner"), *partners]  # type: ignore[attr-defined]
