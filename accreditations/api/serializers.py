"""Accreditation API shapes (SPEC 11): nested, bounded input serializers that hand the
services typed values, and the output shapes."""

from __future__ import annotations

from datetime import date
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from partnerportal.core.api.fields import IdField

from .. import presenters, rules
from ..inputs import (
    CODE_MAX,
    DATE_MAX,
    DATE_MIN,
    DIRECTOR_MAX,
    EMAIL_MAX,
    REASON_MAX,
    BoardDecisionInput,
    CertificationInput,
)
from ..models import (
    Accreditation,
    AccreditationKind,
    AccreditationStatus,
    BoardDecision,
    Certification,
    CertificationKind,
)


def _bounded_date(value: date, field: str) -> date:
    if not DATE_MIN <= value <= DATE_MAX:
        raise serializers.ValidationError(
            f"Give a {field} from {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}."
        )
    return value


class CertificationIn(serializers.Serializer):
    partner = IdField(help_text="The partner organisation whose team member holds it.")
    code = serializers.RegexField(
        r"^[A-Za-z0-9_]+$",
        max_length=CODE_MAX,
        help_text="The academy's code, e.g. solutions_partner, crm_implementation.",
    )
    kind = serializers.ChoiceField(choices=CertificationKind.choices)
    holder_email = serializers.EmailField(max_length=EMAIL_MAX)
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)

    def validate_expires_on(self, value: date | None) -> date | None:
        return None if value is None else _bounded_date(value, "date")

    def to_input(self) -> CertificationInput:
        data = self.validated_data
        return CertificationInput(
            organisation_id=data["partner"],
            code=data["code"].lower(),
            kind=rules.CertificationKind(data["kind"]),
            holder_email=data["holder_email"],
            expires_on=data["expires_on"],
        )


class CertificationOut(serializers.ModelSerializer):
    partner = serializers.IntegerField(source="organisation_id")

    class Meta:
        model = Certification
        fields = ["id", "partner", "code", "kind", "holder_email", "expires_on", "recorded_at"]


class ApplyIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AccreditationKind.choices)


class ReasonOut(serializers.Serializer):
    code = serializers.CharField(help_text="A stable code, e.g. below_platinum.")
    message = serializers.CharField(help_text="The reason in words.")


class AccreditationOut(serializers.ModelSerializer):
    partner = serializers.IntegerField(source="organisation_id")
    kind = serializers.ChoiceField(choices=AccreditationKind.choices)
    status = serializers.ChoiceField(choices=AccreditationStatus.choices)
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = Accreditation
        fields = [
            "id",
            "partner",
            "kind",
            "status",
            "issued_on",
            "expires_on",
            "grace_until",
            "reasons",
            "applied_at",
        ]

    @extend_schema_field(ReasonOut(many=True))
    def get_reasons(self, accreditation: Accreditation) -> list[dict[str, Any]]:
        return [
            {"code": code, "message": presenters.reason_text(code)}
            for code in accreditation.reasons
        ]


class ReviewRunIn(serializers.Serializer):
    as_of = serializers.DateField(
        help_text="The review date: 15 January or 15 July, not later than today."
    )

    def validate_as_of(self, value: date) -> date:
        return _bounded_date(value, "review date")


class ReviewRunOut(serializers.Serializer):
    id = serializers.IntegerField()
    as_of = serializers.DateField()
    reviewed = serializers.IntegerField(help_text="Accreditations this run reviewed.")
    changed = serializers.IntegerField(help_text="Of which changed status or validity.")


class BoardDecisionIn(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=BoardDecision.Verdict.choices)
    reason = serializers.CharField(max_length=REASON_MAX)
    director = serializers.CharField(
        max_length=DIRECTOR_MAX, help_text="The director who approved the board's decision."
    )
    director_approved_on = serializers.DateField()

    def validate_director_approved_on(self, value: date) -> date:
        return _bounded_date(value, "date")

    def to_input(self) -> BoardDecisionInput:
        data = self.validated_data
        return BoardDecisionInput(
            verdict=rules.BoardVerdict(data["verdict"]),
            reason=data["reason"],
            director=data["director"],
            director_approved_on=data["director_approved_on"],
        )


class BoardDecisionOut(serializers.ModelSerializer):
    accreditation = AccreditationOut()
    decided_by = serializers.EmailField(source="decided_by.email")

    class Meta:
        model = BoardDecision
        fields = [
            "id",
            "accreditation",
            "verdict",
            "reason",
            "director",
            "director_approved_on",
            "decided_by",
            "decided_at",
        ]
