"""Page forms with the API's bounds; they hand the views typed inputs."""

from __future__ import annotations

from django import forms

from . import rules
from .inputs import DATE_MAX, DATE_MIN, DIRECTOR_MAX, REASON_MAX, BoardDecisionInput
from .models import AccreditationKind, BoardDecision


class ApplyForm(forms.Form):
    kind = forms.ChoiceField(choices=AccreditationKind.choices, widget=forms.HiddenInput)

    def kind_value(self) -> rules.Kind:
        return rules.Kind(self.cleaned_data["kind"])


class BoardDecisionForm(forms.Form):
    verdict = forms.ChoiceField(
        choices=BoardDecision.Verdict.choices, widget=forms.RadioSelect, label="Decision"
    )
    reason = forms.CharField(
        max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}), label="Why"
    )
    director = forms.CharField(max_length=DIRECTOR_MAX, label="Approving director")
    director_approved_on = forms.DateField(
        label="Director's approval on", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_director_approved_on(self) -> object:
        value = self.cleaned_data["director_approved_on"]
        if not DATE_MIN <= value <= DATE_MAX:
            raise forms.ValidationError("Give a real date.")
        return value

    def to_input(self) -> BoardDecisionInput:
        data = self.cleaned_data
        return BoardDecisionInput(
            verdict=rules.BoardVerdict(data["verdict"]),
            reason=data["reason"],
            director=data["director"],
            director_approved_on=data["director_approved_on"],
        )
