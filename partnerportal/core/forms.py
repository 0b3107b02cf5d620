"""Forms of the kernel's pages: input parsed and bounded at the edge, like the API's."""

from __future__ import annotations

from django import forms

from .models import AuditEvent


class AuditFilterForm(forms.Form):
    """The audit trail's filter: events whose action starts with `verb`."""

    verb = forms.CharField(
        label="Action starts with",
        required=False,
        max_length=AuditEvent._meta.get_field("verb").max_length,
        strip=True,
    )
