"""Escalations (SPEC 9 and 10): a customer's complaint about a partner, taken through the four
steps (complaint, mediation, partner-ops escalation, mark-on-record review board), every
transition recorded with who, when and a note; the marks on record the board decides; and the
rule-of-engagement consequences partner ops apply.

Invariants backed by the database, not only by services:
- a case's transitions are numbered once per case (`transition_seq_once_per_case`);
- an open case has no outcome, a closed one has one (`escalation_closed_iff_outcome`);
- a case gives at most one mark (`Mark.escalation` is one-to-one);
- a consequence ends after it starts (`consequence_ends_after_start`).
The moves themselves are decided by the pure `rules.transition`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from partnerportal.core.models import Organisation

from . import presenters
from .rules import TARGETS, ConsequenceKind, Outcome, Status, Step, Visibility

__all__ = [
    "Consequence",
    "ConsequenceKind",
    "Escalation",
    "Mark",
    "Note",
    "Outcome",
    "Status",
    "Step",
    "Transition",
    "Visibility",
]

SUMMARY_MAX = 2000
NOTE_MAX = 4000
REASON_MAX = 2000
DOMAIN_MAX = 253


# Choices with the words people read (`presenters`); the API serializers and the schema's enum
# names (settings `ENUM_NAME_OVERRIDES`) use these same lists.
STEP_CHOICES = [(m.value, presenters.STEP_WORDS[m]) for m in Step]
STATUS_CHOICES = [(m.value, presenters.STATUS_WORDS[m]) for m in Status]
OUTCOME_CHOICES = [(m.value, presenters.OUTCOME_WORDS[m]) for m in Outcome]
VISIBILITY_CHOICES = [(m.value, presenters.VISIBILITY_WORDS[m]) for m in Visibility]
CONSEQUENCE_CHOICES = [(m.value, presenters.CONSEQUENCE_WORDS[m]) for m in ConsequenceKind]
TARGET_CHOICES = [(to, presenters.target_words(to)) for to in TARGETS]


class Escalation(models.Model):
    """One case: a complaint about a partner, where it stands and how it ended."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="escalations"
    )
    customer_domain = models.CharField(max_length=DOMAIN_MAX)
    summary = models.TextField(max_length=SUMMARY_MAX, help_text="Staff only.")
    serious = models.BooleanField(
        default=False, help_text="A very serious infringement: straight to the review board."
    )
    step = models.CharField(max_length=20, choices=STEP_CHOICES)
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=Status.OPEN.value)
    outcome = models.CharField(max_length=20, choices=OUTCOME_CHOICES, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    step_entered_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["status", "step", "step_entered_at"], name="escalation_queue_idx"),
            models.Index(fields=["organisation", "opened_at"], name="escalation_org_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="open") & Q(outcome="") & Q(closed_at__isnull=True))
                | (Q(status="closed") & ~Q(outcome="") & Q(closed_at__isnull=False)),
                name="escalation_closed_iff_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk} ({self.organisation_id})"


class Transition(models.Model):
    """One recorded move of a case: from which step, to where, with which outcome, by whom,
    when. The opening is transition 0 (from no step)."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="transitions")
    seq = models.PositiveIntegerField()
    from_step = models.CharField(max_length=20, choices=STEP_CHOICES, blank=True)
    to = models.CharField(max_length=20, choices=TARGET_CHOICES)
    outcome = models.CharField(max_length=20, choices=OUTCOME_CHOICES, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=30)
    at = models.DateTimeField(default=timezone.now)
    director_approval = models.CharField(
        max_length=200, blank=True, help_text="The director who approved a board decision."
    )

    class Meta:
        ordering = ["escalation", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "seq"], name="transition_seq_once_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.escalation_id} move {self.seq} to {self.to}"


class Note(models.Model):
    """A note on a case, written with a transition or on its own; staff only unless marked
    partner visible."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="notes")
    transition = models.ForeignKey(
        Transition, null=True, blank=True, on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    text = models.TextField(max_length=NOTE_MAX)
    visibility = models.CharField(
        max_length=20, choices=VISIBILITY_CHOICES, default=Visibility.STAFF_ONLY.value
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Note {self.pk} on case {self.escalation_id}"


class Mark(models.Model):
    """A mark on record: created only by the review board's `mark` decision on a case."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="marks")
    escalation = models.OneToOneField(Escalation, on_delete=models.PROTECT, related_name="mark")
    effective_on = models.DateField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    director_approval = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-effective_on", "-id"]
        indexes = [models.Index(fields=["organisation", "effective_on"], name="mark_org_idx")]

    def __str__(self) -> str:
        return f"Mark on {self.organisation_id} from case {self.escalation_id}"


class Consequence(models.Model):
    """A rule-of-engagement consequence (SPEC 10) partner ops applied, with its reason, in
    effect from `effective_from` until `effective_until` (exclusive; open-ended when empty)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="consequences"
    )
    kind = models.CharField(max_length=30, choices=CONSEQUENCE_CHOICES)
    reason = models.TextField(max_length=REASON_MAX)
    effective_from = models.DateField()
    effective_until = models.DateField(null=True, blank=True)
    tiers_dropped = models.PositiveSmallIntegerField(
        default=0, help_text="Tier drops only: how many tiers the next tier run takes off."
    )
    escalation = models.ForeignKey(
        Escalation, null=True, blank=True, on_delete=models.PROTECT, related_name="consequences"
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(default=timezone.now)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.TextField(max_length=REASON_MAX, blank=True)

    class Meta:
        ordering = ["-effective_from", "-id"]
        indexes = [
            models.Index(fields=["organisation", "kind", "effective_from"], name="consequence_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gt=F("effective_from")),
                name="consequence_ends_after_start",
            ),
            models.CheckConstraint(
                condition=(Q(kind="tier_drop") & Q(tiers_dropped__gte=1) & Q(tiers_dropped__lte=4))
                | (~Q(kind="tier_drop") & Q(tiers_dropped=0)),
                name="consequence_tier_drop_levels",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.organisation_id} from {self.effective_from}"
