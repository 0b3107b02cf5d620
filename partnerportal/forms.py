"""Forms of the project package's pages."""

from __future__ import annotations

from typing import Any

from django import forms

from partnerportal.core.models import Organisation
from tiers.inputs import ELITE_REASON_MAX


class EliteInvitationForm(forms.Form):
    """Partner ops invite a partner to Elite: why, and an explicit confirmation."""

    reason = forms.CharField(
        label="Why this partner is invited",
        max_length=ELITE_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        required=True,
        error_messages={"required": "Tick the box to confirm the invitation."},
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["confirm"].label = (
            f"I confirm: invite {organisation.name} to Elite. The invitation is final; the "
            "partner becomes Elite at the first tier run that also finds the Elite points, "
            "retention and team certifications."
        )
