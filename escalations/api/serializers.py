"""Shapes of the escalations API (SPEC 11). Input is parsed and bounded here (the
`escalations.inputs` bounds, the same as the pages' forms) and handed to the services as typed
values.

A partner's view of a case carries its step, status, outcome, the dates of its moves and the
partner-visible notes only: never the summary, a staff-only note, or who acted."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from partnerportal.core.api.fields import IdField

from .. import inputs, models, rules
from ..models import Consequence, Escalation, Mark, Note, Transition

_OUTCOMES = models.OUTCOME_CHOICES


class EscalationIn(serializers.Serializer):
    partner = IdField(help_text="The partner organisation the customer complains about.")
    customer_domain = serializers.CharField(
        max_length=inputs.DOMAIN_MAX, help_text="The customer's domain, e.g. acme.com."
    )
    summary = serializers.CharField(
        max_length=inputs.SUMMARY_MAX, help_text="What the customer complains of (staff only)."
    )
    serious = serializers.BooleanField(
        default=False,
        help_text="A very serious infringement: the case opens at the review board.",
    )
    note = serializers.CharField(
        max_length=inputs.NOTE_MAX, required=False, allow_blank=True, default=""
    )
    note_partner_visible = serializers.BooleanField(
        default=False, help_text="Whether the partner may read the note (staff only otherwise)."
    )


class TransitionIn(serializers.Serializer):
    to = serializers.ChoiceField(
        choices=models.TARGET_CHOICES, help_text="The next step, or `closed`."
    )
    outcome = serializers.ChoiceField(
        choices=_OUTCOMES,
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "Required to close: `resolved` (complaint), `agreement` (mediation), "
            "`not_at_fault` (ops escalation), `mark` or `no_mark` (review board). Omitted when "
            "moving on to the next step."
        ),
    )
    note = serializers.CharField(
        max_length=inputs.NOTE_MAX, required=False, allow_blank=True, default=""
    )
    note_partner_visible = serializers.BooleanField(
        default=False, help_text="Whether the partner may read the note (staff only otherwise)."
    )
    director_approval = serializers.CharField(
        max_length=inputs.DIRECTOR_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="The approving director: required for a review board decision.",
    )


class NoteOut(serializers.ModelSerializer):
    """A partner-visible note, as the partner reads it."""

    class Meta:
        model = Note
        fields = ["at", "text"]


class StaffNoteOut(serializers.ModelSerializer):
    author = serializers.EmailField(source="author.email")
    partner_visible = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = ["at", "text", "visibility", "partner_visible", "author"]

    def get_partner_visible(self, note: Note) -> bool:
        return note.visibility == rules.Visibility.PARTNER_VISIBLE


class MoveOut(serializers.ModelSerializer):
    """A recorded move, as the partner reads it (no actor)."""

    class Meta:
        model = Transition
        fields = ["seq", "from_step", "to", "outcome", "at"]


class StaffMoveOut(serializers.ModelSerializer):
    actor = serializers.EmailField(source="actor.email")

    class Meta:
        model = Transition
        fields = [
            "seq",
            "from_step",
            "to",
            "outcome",
            "at",
            "actor",
            "actor_role",
            "director_approval",
        ]


class AllowedMoveOut(serializers.Serializer):
    to = serializers.ChoiceField(choices=models.TARGET_CHOICES)
    outcome = serializers.ChoiceField(choices=_OUTCOMES, allow_null=True)


class EscalationOut(serializers.ModelSerializer):
    """A case as its partner sees it."""

    audience = serializers.SerializerMethodField(
        help_text="`partner`: the partner's view (partner-visible notes only); `staff`: all."
    )
    partner = serializers.IntegerField(source="organisation_id")
    notes = NoteOut(many=True, source="visible_notes")
    transitions = MoveOut(many=True, source="timeline")

    class Meta:
        model = Escalation
        fields = [
            "audience",
            "id",
            "partner",
            "customer_domain",
            "step",
            "status",
            "outcome",
            "opened_at",
            "step_entered_at",
            "closed_at",
            "notes",
            "transitions",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=["partner"]))
    def get_audience(self, case: Escalation) -> str:
        return "partner"


class StaffEscalationOut(EscalationOut):
    """A case as staff see it: with the summary, every note and who acted."""

    notes = StaffNoteOut(many=True, source="visible_notes")  # type: ignore[assignment]
    transitions = StaffMoveOut(many=True, source="timeline")  # type: ignore[assignment]
    allowed_moves = serializers.SerializerMethodField(
        help_text="The moves the caller may make now."
    )

    class Meta(EscalationOut.Meta):
        fields = [*EscalationOut.Meta.fields, "summary", "serious", "allowed_moves"]

    @extend_schema_field(serializers.ChoiceField(choices=["staff"]))
    def get_audience(self, case: Escalation) -> str:
        return "staff"

    @extend_schema_field(AllowedMoveOut(many=True))
    def get_allowed_moves(self, case: Escalation) -> list[dict[str, Any]]:
        role = self.context.get("role")
        moves = rules.allowed_moves(
            step=rules.Step(case.step), status=rules.Status(case.status), role=role or ""
        )
        return [
            {"to": move.to, "outcome": move.outcome.value if move.outcome else None}
            for move in moves
        ]


class MarkOut(serializers.ModelSerializer):
    partner = serializers.IntegerField(source="organisation_id")

    class Meta:
        model = Mark
        fields = ["id", "partner", "escalation", "effective_on"]


class ConsequenceIn(serializers.Serializer):
    partner = IdField()
    kind = serializers.ChoiceField(choices=models.CONSEQUENCE_CHOICES)
    reason = serializers.CharField(max_length=inputs.REASON_MAX)
    effective_from = serializers.DateField()
    effective_until = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Exclusive; open-ended if null."
    )
    tiers_dropped = serializers.IntegerField(
        min_value=1,
        max_value=inputs.TIER_DROP_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="Tier drops only: how many tiers the next tier run takes off (default 1).",
    )
    escalation = IdField(
        required=False, allow_null=True, default=None, help_text="The case it follows, if any."
    )


class ConsequenceEndIn(serializers.Serializer):
    effective_until = serializers.DateField(help_text="No longer in effect from this date.")
    reason = serializers.CharField(max_length=inputs.REASON_MAX)


class ConsequenceOut(serializers.ModelSerializer):
    partner = serializers.IntegerField(source="organisation_id")

    class Meta:
        model = Consequence
        fields = [
            "id",
            "partner",
            "kind",
            "reason",
            "effective_from",
            "effective_until",
            "tiers_dropped",
            "escalation",
            "applied_at",
            "end_reason",
        ]


CASE_VIEW = PolymorphicProxySerializer(
    component_name="EscalationView",
    serializers={"partner": EscalationOut, "staff": StaffEscalationOut},
    resource_type_field_name="audience",
)
CASE_VIEWS = PolymorphicProxySerializer(
    component_name="EscalationView",
    serializers={"partner": EscalationOut, "staff": StaffEscalationOut},
    resource_type_field_name="audience",
    many=True,
)
