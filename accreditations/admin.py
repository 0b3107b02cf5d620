"""Admin for partner ops: the certifications each accreditation kind requires are data they
edit here, written by `services.requirements_set` (permission, validation, the write and the
audit row in one transaction); every other record is read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from partnerportal.core.access import acting_user
from partnerportal.core.admin import OpsAdmin
from partnerportal.core.errors import InvalidInput

from . import rules, services
from .inputs import REQUIRED_MAX
from .models import (
    Accreditation,
    AccreditationRequirement,
    AccreditationReview,
    BoardDecision,
    Certification,
)


class RequirementForm(forms.ModelForm):
    certifications = forms.CharField(
        max_length=REQUIRED_MAX * 61,
        help_text="Certification codes, separated by commas (e.g. solutions_partner, onboarding).",
    )

    class Meta:
        model = AccreditationRequirement
        fields = ["kind", "certifications"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["certifications"] = ", ".join(self.instance.certifications)

    def clean_certifications(self) -> list[str]:
        codes = self.cleaned_data["certifications"].split(",")
        if len(codes) > REQUIRED_MAX:
            raise forms.ValidationError(f"At most {REQUIRED_MAX} certifications.")
        try:
            return list(rules.check_requirement_codes(codes))
        except InvalidInput as exc:
            raise forms.ValidationError(exc.messages()) from exc


@admin.register(AccreditationRequirement)
class AccreditationRequirementAdmin(OpsAdmin):
    editable = True
    form = RequirementForm
    list_display = ("kind", "certifications", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("kind",) if obj is not None else ()

    def save_model(
        self, request: HttpRequest, obj: AccreditationRequirement, form: Any, change: bool
    ) -> None:
        # The service writes and audits; the admin's own save() never runs.
        saved = services.requirements_set(
            actor=acting_user(request),
            kind=rules.Kind(form.cleaned_data.get("kind") or obj.kind),
            certifications=form.cleaned_data["certifications"],
        )
        obj.pk = saved.pk


@admin.register(Certification)
class CertificationAdmin(OpsAdmin):
    list_display = ("organisation", "code", "kind", "holder_email", "expires_on")
    list_filter = ("kind",)
    search_fields = ("code", "holder_email", "organisation__name")


@admin.register(Accreditation)
class AccreditationAdmin(OpsAdmin):
    list_display = ("organisation", "kind", "status", "issued_on", "expires_on")
    list_filter = ("kind", "status")


@admin.register(AccreditationReview)
class AccreditationReviewAdmin(OpsAdmin):
    list_display = ("accreditation", "review_date", "outcome", "status_after")
    list_filter = ("review_date", "outcome")


@admin.register(BoardDecision)
class BoardDecisionAdmin(OpsAdmin):
    list_display = ("accreditation", "verdict", "director", "director_approved_on", "decided_at")
