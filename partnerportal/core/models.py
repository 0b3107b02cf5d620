"""The shared kernel: organisations, people and roles, customers, the catalog, subscriptions,
activities and the audit trail (SPEC 1-3). Business rules live in `rules.py`; writes in
`services.py`; reads in `selectors.py`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Func, Q
from django.db.models.functions import Lower
from django.utils import timezone

from .rules import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


class Role(models.TextChoices):
    PARTNER_ADMIN = "partner_admin", "Partner admin"
    PARTNER_MEMBER = "partner_member", "Partner member"
    GROWTH_SPECIALIST = "growth_specialist", "Growth specialist"
    PDM = "pdm", "Partner development manager"
    PARTNER_OPS = "partner_ops", "Partner ops"
    FINANCE = "finance", "Finance"
    SERVICE_ACCELERATION = "service_acceleration", "Service acceleration"
    CUSTOMER_SUCCESS = "customer_success", "Customer success"


PARTNER_ROLES = frozenset({Role.PARTNER_ADMIN, Role.PARTNER_MEMBER})
STAFF_ROLES = frozenset(set(Role) - PARTNER_ROLES)


class Region(models.TextChoices):
    NORTH_AMERICA = "north_america", "North America"
    LATAM = "latam", "Latin America"
    EMEA = "emea", "Europe, Middle East and Africa"
    APAC = "apac", "Asia Pacific"


class Segment(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-market"
    ENTERPRISE = "enterprise", "Enterprise"


# --- Reference data (loaded by migrations, editable by partner ops in the admin) -----------


class Country(models.Model):
    code = models.CharField(max_length=2, primary_key=True, help_text="ISO 3166-1 alpha-2")
    name = models.CharField(max_length=100)
    region = models.CharField(max_length=20, choices=Region.choices)
    growth_market = models.BooleanField(
        default=False, help_text="Points are doubled for customers in this country (SPEC 4)."
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z]{2}$"), name="country_code_is_alpha2"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Currency(models.Model):
    code = models.CharField(max_length=3, primary_key=True, help_text="ISO 4217")
    name = models.CharField(max_length=60)
    points_amount = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        help_text="Amount of this currency worth USD 100 for points (SPEC 3).",
    )

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "currencies"
        constraints = [
            models.CheckConstraint(
                condition=Q(points_amount__gt=0), name="currency_points_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Edition(models.Model):
    code = models.CharField(max_length=20, primary_key=True)
    name = models.CharField(max_length=40)
    rank = models.PositiveSmallIntegerField(unique=True)

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name


class ProductLine(models.Model):
    class Kind(models.TextChoices):
        HUB = "hub", "Hub"
        CREDITS = "credits", "Credits"
        HUB_AGNOSTIC = "hub_agnostic", "Hub-agnostic product"

    code = models.SlugField(max_length=40, primary_key=True)
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    editions = models.ManyToManyField(Edition, blank=True, related_name="product_lines")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Organisations and people ----------------------------------------------------------------


class Organisation(models.Model):
    class Kind(models.TextChoices):
        PROVIDER = "provider", "Solutions provider"
        PARTNER = "partner", "Solutions partner"

    class Tier(models.TextChoices):
        UNTIERED = "untiered", "Untiered"
        GOLD = "gold", "Gold"
        PLATINUM = "platinum", "Platinum"
        DIAMOND = "diamond", "Diamond"
        ELITE = "elite", "Elite"

    class Standing(models.TextChoices):
        GOOD = "good", "Good"
        WARNED = "warned", "Warned"
        SUSPENDED = "suspended", "Suspended"
        TERMINATED = "terminated", "Terminated"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.UNTIERED)
    standing = models.CharField(max_length=20, choices=Standing.choices, default=Standing.GOOD)
    has_partner_certification = models.BooleanField(default=False)
    has_pro_subscription = models.BooleanField(
        default=False,
        help_text="Holds a self-serve Professional subscription of at least USD 400/month.",
    )
    payout_paperwork_complete = models.BooleanField(
        default=False, help_text="ACH and tax paperwork on file (statements are held until then)."
    )
    pdm = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_partners",
        limit_choices_to={"role": Role.PDM},
        verbose_name="PDM",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="provider") | Q(tier="untiered"),
                name="organisation_provider_has_no_tier",
            ),
        ]
        # Lists by name (the default order) read a page of partners from here instead of
        # sorting them all: finance's quarter view walks partners by name (10 000 at the
        # vendor's scale: 12 ms a view sorting them, issue 13).
        indexes = [models.Index(fields=["name", "id"], name="organisation_name")]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", Role.PARTNER_OPS)
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with an e-mail address and has exactly one program role."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)
    role = models.CharField(max_length=30, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        help_text="The partner organisation of a partner admin or member; empty for staff.",
    )
    region = models.CharField(
        max_length=20, choices=Region.choices, blank=True, help_text="Growth specialists only."
    )
    segment = models.CharField(
        max_length=20, choices=Segment.choices, blank=True, help_text="Growth specialists only."
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            # A partner user belongs to exactly one organisation; staff belong to none.
            models.CheckConstraint(
                condition=(
                    Q(
                        role__in=[Role.PARTNER_ADMIN, Role.PARTNER_MEMBER],
                        organisation__isnull=False,
                    )
                    | (
                        ~Q(role__in=[Role.PARTNER_ADMIN, Role.PARTNER_MEMBER])
                        & Q(organisation__isnull=True)
                    )
                ),
                name="user_partner_role_iff_organisation",
            ),
            models.CheckConstraint(
                condition=Q(role="growth_specialist") | (Q(region="") & Q(segment="")),
                name="user_territory_only_for_growth_specialists",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_partner_user(self) -> bool:
        return self.role in PARTNER_ROLES

    @property
    def is_program_staff(self) -> bool:
        return self.role in STAFF_ROLES


# --- Customers, subscriptions, activities ----------------------------------------------------


class Customer(models.Model):
    domain = models.CharField(
        max_length=253, unique=True, help_text="Purchase domain: lower-case, no scheme, no www."
    )
    name = models.CharField(max_length=200)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    segment = models.CharField(max_length=20, choices=Segment.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.CheckConstraint(
                condition=Q(domain=Lower("domain")) & ~Q(domain__startswith="www."),
                name="customer_domain_normalised",
            ),
        ]

    def __str__(self) -> str:
        return self.domain


class Subscription(models.Model):
    """A customer's line of a product, whose history is its versions."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    product_line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["customer_id", "product_line_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "product_line"], name="subscription_one_per_customer_line"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.product_line_id}"


class DateRange(Func):
    function = "DATERANGE"
    output_field = DateRangeField()


class SubscriptionVersion(models.Model):
    """One dated state of a subscription: in effect from `effective_from` (inclusive) until
    `effective_until` (exclusive; open when null). Versions of a subscription never overlap."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="versions"
    )
    edition = models.ForeignKey(
        Edition, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seats = models.PositiveIntegerField(default=1)
    mrr = models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    effective_from = models.DateField()
    effective_until = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["subscription_id", "effective_from"]
        indexes = [
            models.Index(fields=["subscription", "effective_from"], name="subversion_sub_from_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(mrr__gte=0), name="subversion_mrr_not_negative"),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gt=models.F("effective_from")),
                name="subversion_until_after_from",
            ),
            ExclusionConstraint(
                name="subversion_no_overlap",
                expressions=[
                    ("subscription", RangeOperators.EQUAL),
                    (
                        DateRange("effective_from", "effective_until", models.Value("[)")),
                        RangeOperators.OVERLAPS,
                    ),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription} from {self.effective_from}: {self.mrr} {self.currency_id}"

    def in_effect_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day < self.effective_until
        )

    @property
    def mrr_decimal(self) -> Decimal:
        return Decimal(self.mrr)


class Activity(models.Model):
    class Kind(models.TextChoices):
        LOGIN = "login", "Logged in"
        ASSET_CREATED = "asset_created", "Created an asset"
        ASSET_EDITED = "asset_edited", "Edited an asset"
        SETTINGS_CHANGED = "settings_changed", "Changed portal settings"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="activities"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(
                fields=["organisation", "customer", "occurred_at"], name="activity_org_cust_at_idx"
            ),
            models.Index(fields=["customer", "occurred_at"], name="activity_cust_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.kind} {self.customer_id} at {self.occurred_at}"


# --- Audit -------------------------------------------------------------------------------------


class AuditEvent(models.Model):
    """An append-only record of a state change: who, when, what, why. A database trigger
    refuses UPDATE and DELETE (migration 0003), so history cannot be rewritten."""

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=True,
        related_name="+",
    )
    actor_label = models.CharField(
        max_length=254, help_text="E-mail of the actor, or the process that acted."
    )
    verb = models.CharField(max_length=80, db_index=True)
    subject_type = models.CharField(max_length=80)
    subject_id = models.CharField(max_length=64)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        help_text="The partner organisation whose data this event concerns, if any.",
    )
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx"),
            models.Index(fields=["organisation", "occurred_at"], name="audit_org_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.verb}"


# --- Notifications outbox (core.notifications) -------------------------------------------------


class Notification(models.Model):
    """One e-mail to send, written in the transaction of the event it tells of and sent after
    commit by a task (`core.notifications`). `key` names the event and its recipient, so one
    event is told to one person once, whatever retries or duplicate tasks happen."""

    key = models.CharField(max_length=200, unique=True)
    recipient = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_email = models.EmailField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="notification_unsent_idx",
                condition=Q(sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.key


# --- Revenue-share stops (SPEC 7, 10) ----------------------------------------------------------


class RevenueShareStop(models.Model):
    """A partner earns no revenue share from `effective_from` until `effective_until`
    (exclusive; open-ended when empty): the "loss of revenue share" consequence of SPEC 10, as
    a kernel fact. Written only through `core.services.revenue_share_stop_start/_end`, called
    by the app that decides the consequence (escalations), and read by commissions, which
    accrues nothing for a month whose 1st falls in a stop. `source` names the decision it
    comes from (e.g. `escalations.consequence:42`), once."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="revenue_share_stops"
    )
    effective_from = models.DateField()
    effective_until = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=100, unique=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["effective_from", "id"]
        indexes = [
            models.Index(fields=["organisation", "effective_from"], name="revshare_stop_org_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gt=models.F("effective_from")),
                name="revshare_stop_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"Revenue share stopped for {self.organisation_id} from {self.effective_from}"
