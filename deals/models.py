"""Deals (SPEC 5 and 6): the vendor's sales process for one customer domain, each partner's
registration on it, versioned quotes, proofs of involvement, the close and its Best Partner
Wins resolution, the sold associations it grants, and GS inquiries.

Invariants backed by the database, not only by services:
- one open deal per customer (`deal_one_open_per_customer`; a deal closed and awaiting a
  partner-ops decision is no longer open);
- one open registration per partner and deal (`registration_one_open_per_partner`), which with
  the first gives "one partner cannot hold two open deals on one domain";
- one partner per customer per product line (`association_one_per_customer_line`);
- one live (pending or approved) POI per registration (`poi_one_live_per_registration`);
- quote versions numbered once per deal; a deal has at most one winner (a single column);
- a sourcing registration refers a partner once (`referral_once_per_partner`).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from partnerportal.core.models import (
    Currency,
    Customer,
    Edition,
    Organisation,
    ProductLine,
    Region,
    Segment,
)


class Motion(models.TextChoices):
    PARTNER_SOURCED = "partner_sourced", "Partner Sourced"
    PARTNER_ASSISTED = "partner_assisted", "Partner Assisted"


class Territory(models.Model):
    """Which growth specialist handles Partner Sourced requests for a region and segment.

    Blank region or segment means "any". Routing takes the most specific row: region and
    segment, then region only, then segment only, then the catch-all (both blank), which is
    the GS "with no region and no segment" of SPEC 5. Staff edit this table in the admin.
    """

    region = models.CharField(max_length=20, choices=Region.choices, blank=True)
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    growth_specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="territories",
        limit_choices_to={"role": "growth_specialist"},
    )

    class Meta:
        verbose_name_plural = "territories"
        ordering = ["region", "segment"]
        constraints = [
            models.UniqueConstraint(fields=["region", "segment"], name="territory_one_gs"),
        ]

    def __str__(self) -> str:
        return f"{self.region or 'any region'} / {self.segment or 'any segment'}"


class Deal(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        AWAITING_DECISION = "awaiting_decision", "Awaiting partner-ops decision"
        WON = "won", "Closed won"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="deals")
    growth_specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    vendor_owned = models.BooleanField(
        default=False, help_text="Created by a growth specialist (Partner Assisted)."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    expected_close_date = models.DateField(
        null=True, blank=True, help_text="POI links expire at the end of this day."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The close (SPEC 6).
    purchase_domain = models.CharField(max_length=253, blank=True)
    close_date = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    onboarding_partner = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_rule = models.CharField(max_length=40, blank=True)
    resolution_explanation = models.TextField(blank=True)
    # Registration ids: candidates, tied, and [id, rule] exclusions, as the rules returned them.
    resolution_detail = models.JSONField(default=dict, blank=True)
    winner = models.ForeignKey(
        "Registration", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Only a sales process still open takes new registrations; one closed and awaiting
            # a partner-ops decision does not (a new registration opens a new deal).
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status="open"),
                name="deal_one_open_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(winner__isnull=True) | Q(status="won"),
                name="deal_winner_only_when_won",
            ),
        ]
        indexes = [models.Index(fields=["growth_specialist", "status"], name="deal_gs_status")]

    def __str__(self) -> str:
        return f"Deal {self.pk} on {self.customer_id}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Registration(models.Model):
    """One partner's involvement in a deal. A partner only ever sees its own."""

    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", "Awaiting GS approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        INVITED = "invited", "Invited"
        ACCEPTED = "accepted", "Accepted"
        LAPSED = "lapsed", "Invitation lapsed"
        REFERRED = "referred", "Referred, awaiting acknowledgement"

    # Statuses that hold the partner's place on the deal ("open" for the duplicate rule).
    OPEN_STATUSES = (
        Status.PENDING_APPROVAL,
        Status.APPROVED,
        Status.INVITED,
        Status.ACCEPTED,
        Status.REFERRED,
    )
    # Statuses in which the partner takes part: it gets a POI and can be credited.
    ACTIVE_STATUSES = (Status.APPROVED, Status.ACCEPTED)

    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="registrations")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="registrations"
    )
    motion = models.CharField(max_length=20, choices=Motion.choices)
    status = models.CharField(max_length=20, choices=Status.choices)
    registered_domain = models.CharField(max_length=253)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Invitations only.")
    decision_note = models.TextField(blank=True)
    # Referral (SPEC 6 step 3): the sourcing registration that referred this partner, and the
    # partner's written acknowledgement that it is secondary (gets no sold credit).
    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    acknowledged_secondary_at = models.DateTimeField(null=True, blank=True)
    acknowledgement = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["deal", "organisation"],
                condition=Q(
                    status__in=["pending_approval", "approved", "invited", "accepted", "referred"]
                ),
                name="registration_one_open_per_partner",
            ),
            models.CheckConstraint(
                condition=~Q(status="invited") | Q(expires_at__isnull=False),
                name="registration_invitation_expires",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status"], name="registration_org_status"),
            # A partner's "My deals", newest first, a page at a time (issue 13).
            models.Index(
                fields=["organisation", "-created_at", "-id"], name="registration_org_newest"
            ),
            models.Index(
                fields=["expires_at"],
                condition=Q(status="invited"),
                name="registration_invited_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"Registration {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class Referral(models.Model):
    """A sourcing partner's referral of a partner listed in the public directory to its deal
    (SPEC 6, step 3), as the sourcing partner made it. Its page lists these, so what it sees
    of its referrals never depends on the referred partner's own state on the deal (already
    there, referred by someone else, or not). The referred partner's registration carries the
    link that Best Partner Wins reads (`Registration.referred_by`)."""

    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="referrals_made"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["registration_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "organisation"], name="referral_once_per_partner"
            ),
        ]

    def __str__(self) -> str:
        return f"Referral of {self.organisation_id} by registration {self.registration_id}"


class QuoteVersion(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="quote_versions")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["deal_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "number"], name="quote_version_once"),
        ]

    def __str__(self) -> str:
        return f"Quote v{self.number} of deal {self.deal_id}"


class QuoteLine(models.Model):
    quote = models.ForeignKey(QuoteVersion, on_delete=models.PROTECT, related_name="lines")
    product_line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="+")
    edition = models.ForeignKey(
        Edition, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seats = models.PositiveIntegerField(default=1)
    mrr = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    discount_pct = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    discount_approval = models.CharField(
        max_length=200, blank=True, help_text="Reference of the vendor's written approval."
    )

    class Meta:
        ordering = ["quote_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "product_line"], name="quote_line_once"),
            models.CheckConstraint(condition=Q(mrr__gte=0), name="quote_line_mrr_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_line_id} {self.mrr} {self.currency_id}"


def _new_nonce() -> str:
    return secrets.token_urlsafe(16)


class Poi(models.Model):
    """A proof-of-involvement link for one registration and one quote version."""

    class Kind(models.TextChoices):
        AUTO = "auto", "Generated from the quote"
        MANUAL = "manual", "Created by the partner"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the customer"
        APPROVED = "approved", "Approved by the customer"
        REJECTED = "rejected", "Rejected by the customer"
        VOIDED = "voided", "Voided by a quote change"

    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="pois")
    quote = models.ForeignKey(QuoteVersion, on_delete=models.PROTECT, related_name="pois")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    product_lines = ArrayField(models.CharField(max_length=40))
    provides_onboarding = models.BooleanField(default=False)
    nonce = models.CharField(max_length=40, default=_new_nonce, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    # The status the POI had when a quote change voided it (e.g. an approval now void).
    status_before_void = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["registration_id", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration"],
                condition=Q(status__in=["pending", "approved"]),
                name="poi_one_live_per_registration",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "rejected"]) | Q(decided_at__isnull=False),
                name="poi_decided_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"POI {self.pk} ({self.status})"


class PurchasedLine(models.Model):
    """A line of a won deal as the GS closed it, and whether it was credited."""

    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="purchased_lines")
    product_line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="+")
    edition = models.ForeignKey(
        Edition, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seats = models.PositiveIntegerField(default=1)
    mrr = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    credited = models.BooleanField()
    eligibility_rule = models.CharField(max_length=40)

    class Meta:
        ordering = ["deal_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "product_line"], name="purchased_line_once"),
            models.CheckConstraint(condition=Q(mrr__gte=0), name="purchased_line_mrr_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_line_id} {self.mrr} {self.currency_id}"


class SoldAssociation(models.Model):
    """The partner credited with selling a customer's product line (SPEC 6). One per customer
    and product line; later upsells on the line credit its holder. Never edited."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="sold_associations"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    product_line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Motion.choices)
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="associations")
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="+")
    close_date = models.DateField()
    mrr_at_close = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["customer_id", "product_line_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "product_line"], name="association_one_per_customer_line"
            ),
        ]
        indexes = [models.Index(fields=["organisation"], name="association_org")]

    def __str__(self) -> str:
        return f"{self.organisation_id} holds {self.customer_id}/{self.product_line_id}"


class Inquiry(models.Model):
    """A GS question to a partner on a shared deal and the partner's answer (SPEC 5)."""

    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="inquiries"
    )
    question = models.TextField()
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    answer_due_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    breach = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "inquiries"
        ordering = ["-asked_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | ~Q(answer=""),
                name="inquiry_answer_has_text",
            ),
        ]

    def __str__(self) -> str:
        return f"Inquiry {self.pk}"

    def overdue(self, now: object | None = None) -> bool:
        moment = now or timezone.now()
        return self.answered_at is None and moment >= self.answer_due_at  # type: ignore[operator]
