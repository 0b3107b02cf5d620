"""Certifications, accreditations and their reviews (SPEC 8).

The rules live in `rules.py`; writes in `services.py`; reads in `selectors.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from partnerportal.core.models import Organisation

from . import rules

CODE_MAX = 60
DIRECTOR_MAX = 200
REASON_MAX = 4_000


class CertificationKind(models.TextChoices):
    SOFTWARE = rules.CertificationKind.SOFTWARE.value, "Software"
    IMPLEMENTATION = rules.CertificationKind.IMPLEMENTATION.value, "Implementation"
    PROGRAM = rules.CertificationKind.PROGRAM.value, "Program"


class Certification(models.Model):
    """A certification held by one person of a partner's team (the academy's feed). One per
    partner, code and holder: the feed sending it again updates its kind and expiry."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="certifications"
    )
    code = models.CharField(max_length=CODE_MAX)
    kind = models.CharField(max_length=20, choices=CertificationKind.choices)
    holder_email = models.EmailField(max_length=254)
    expires_on = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["organisation_id", "code", "holder_email"]
        constraints = [
            models.UniqueConstraint(
                "organisation", "code", Lower("holder_email"), name="certification_one_per_holder"
            ),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[a-z0-9_]+$"), name="certification_code_is_a_code"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "expires_on"], name="cert_org_expiry_idx")]

    def __str__(self) -> str:
        return f"{self.code} ({self.holder_email})"


class AccreditationKind(models.TextChoices):
    CRM_IMPLEMENTATION = rules.Kind.CRM_IMPLEMENTATION.value, "CRM Implementation"
    ONBOARDING = rules.Kind.ONBOARDING.value, "Onboarding"
    DATA_MIGRATION = rules.Kind.DATA_MIGRATION.value, "Data Migration"
    CUSTOM_INTEGRATION = rules.Kind.CUSTOM_INTEGRATION.value, "Custom Integration"


class AccreditationStatus(models.TextChoices):
    ACTIVE = rules.Status.ACTIVE.value, "Active"
    GRACE = rules.Status.GRACE.value, "In grace"
    REVOKED = rules.Status.REVOKED.value, "Revoked"
    EXPIRED = rules.Status.EXPIRED.value, "Expired"
    BOARD_REVIEW = rules.Status.BOARD_REVIEW.value, "With the review board"
    REJECTED = rules.Status.REJECTED.value, "Rejected"


class AccreditationRequirement(models.Model):
    """The certifications a kind requires (data partner ops edit, SPEC 8), each held by at
    least one current member of the partner's team."""

    kind = models.CharField(max_length=30, choices=AccreditationKind.choices, primary_key=True)
    certifications = ArrayField(models.CharField(max_length=CODE_MAX))
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(
                condition=Q(certifications__len__gt=0), name="accreditationrequirement_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {', '.join(self.certifications)}"


_LIVE = sorted(s.value for s in rules.LIVE_STATUSES)


class Accreditation(models.Model):
    """A partner's accreditation of one kind, from its application on. A rejected application
    stays as history; a partner holds at most one live (active, in grace or with the board)
    accreditation of a kind."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="accreditations"
    )
    kind = models.CharField(max_length=30, choices=AccreditationKind.choices)
    status = models.CharField(max_length=20, choices=AccreditationStatus.choices)
    #: Stored reason codes (`rules.Reason.code`): why it was rejected, is in grace, revoked,
    #: expired or with the board. Empty while all is well.
    reasons = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(default=timezone.now)
    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    #: In grace: since which review, and the review that revokes it if the cause remains.
    grace_since = models.DateField(null=True, blank=True)
    grace_until = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organisation_id", "kind", "-applied_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind"],
                condition=Q(status__in=_LIVE),
                name="accreditation_one_live_per_kind",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["active", "grace"])
                | Q(issued_on__isnull=False, expires_on__isnull=False),
                name="accreditation_held_has_validity",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(issued_on__isnull=False),
                name="accreditation_expiry_needs_issue",
            ),
            models.CheckConstraint(
                condition=~Q(status="grace") | Q(grace_until__isnull=False),
                name="accreditation_grace_has_end",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | Q(issued_on__isnull=True),
                name="accreditation_rejected_never_issued",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="accreditation_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.organisation_id}: {self.status}"


class AccreditationReview(models.Model):
    """What the review of one date did to one accreditation (SPEC 8), with its reasons. One per
    accreditation and date: a second run of the date changes nothing, and a run that stopped
    midway completes with the accreditations still missing a record."""

    class Outcome(models.TextChoices):
        KEPT = rules.Outcome.KEPT.value, "Kept"
        RENEWED = rules.Outcome.RENEWED.value, "Renewed"
        GRACE = rules.Outcome.GRACE.value, "Put into grace"
        RECOVERED = rules.Outcome.RECOVERED.value, "Recovered from grace"
        REVOKED = rules.Outcome.REVOKED.value, "Revoked"
        EXPIRED = rules.Outcome.EXPIRED.value, "Expired"
        BOARD = rules.Outcome.BOARD.value, "Sent to the review board"

    accreditation = models.ForeignKey(
        Accreditation, on_delete=models.PROTECT, related_name="reviews"
    )
    review_date = models.DateField()
    run = models.ForeignKey("ReviewRun", on_delete=models.PROTECT, related_name="reviews")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    status_before = models.CharField(max_length=20, choices=AccreditationStatus.choices)
    status_after = models.CharField(max_length=20, choices=AccreditationStatus.choices)
    reasons = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    tier = models.CharField(max_length=20)
    marks = models.PositiveIntegerField(default=0)
    expires_on_after = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-review_date", "accreditation_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["accreditation", "review_date"], name="accreditationreview_one_per_date"
            ),
        ]

    def __str__(self) -> str:
        return f"Review of {self.accreditation_id} on {self.review_date}: {self.outcome}"


class ReviewRun(models.Model):
    """One invocation of the review for a date (API, operator command or schedule). Several
    per date are normal: each only adds the records still missing."""

    class Trigger(models.TextChoices):
        API = "api", "Partner ops, through the API"
        COMMAND = "command", "Operator command"
        SCHEDULE = "schedule", "Half-yearly schedule"

    as_of = models.DateField()
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    reviewed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(changed__lte=models.F("reviewed")), name="reviewrun_changed_le_reviewed"
            ),
        ]

    def __str__(self) -> str:
        return f"Review run {self.pk} for {self.as_of}"


class BoardDecision(models.Model):
    """The accreditation review board's decision on an accreditation in its queue, with the
    director's approval (SPEC 8)."""

    class Verdict(models.TextChoices):
        GRANT = rules.BoardVerdict.GRANT.value, "Grant (issue or renew)"
        REFUSE = rules.BoardVerdict.REFUSE.value, "Refuse (reject or revoke)"

    accreditation = models.ForeignKey(
        Accreditation, on_delete=models.PROTECT, related_name="board_decisions"
    )
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    reason = models.TextField(max_length=REASON_MAX)
    director = models.CharField(max_length=DIRECTOR_MAX)
    director_approved_on = models.DateField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)
    status_after = models.CharField(max_length=20, choices=AccreditationStatus.choices)

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="boarddecision_has_reason"),
            models.CheckConstraint(condition=~Q(director=""), name="boarddecision_has_director"),
        ]

    def __str__(self) -> str:
        return f"Board {self.verdict} on {self.accreditation_id}"
