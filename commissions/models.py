"""Commissions (SPEC 7): revenue-share entitlements, the monthly accrual ledger and its runs.

- An `Entitlement` is one credited customer product line earning revenue share, derived from a
  deals sold association when the deal is credited (`receivers.on_deal_credited`), backfilled
  by migration 0003 and re-derived by the accrual run when missing.
- A `LedgerLine` is one accrual of an entitlement for a month, or the reversal of one.
  Append-only: a database trigger refuses UPDATE and DELETE (migration 0002). The unique key
  (entitlement, month, version, kind) makes a run idempotent.
- Rule-set data for the Upmarket Referral Program: thresholds by period and country (the 2025
  pilot is a row) and the countries exempt from the accreditation requirement.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from deals.models import Deal, SoldAssociation
from partnerportal.core.models import Country, Currency, Customer, Organisation, ProductLine
from partnerportal.core.rules import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS

from .rules import Program


class Entitlement(models.Model):
    association = models.OneToOneField(
        SoldAssociation, on_delete=models.PROTECT, related_name="entitlement"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="entitlements"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    product_line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="+")
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="+")
    program = models.CharField(max_length=20, choices=[(p.value, p.value) for p in Program])
    months = models.PositiveSmallIntegerField()
    close_date = models.DateField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organisation"], name="entitlement_org")]
        constraints = [
            models.CheckConstraint(
                condition=Q(months__gte=1) & Q(months__lte=36), name="entitlement_months_range"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.program} {self.customer_id}/{self.product_line_id} for {self.organisation_id}"
        )


class AccrualRun(models.Model):
    """One invocation of the accrual run (API, command, schedule), committed before its first
    chunk so a run that stopped midway is visible (no `finished_at`)."""

    class Trigger(models.TextChoices):
        API = "api", "API"
        COMMAND = "command", "Operator command"
        SCHEDULE = "schedule", "Schedule"

    month = models.DateField()
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    entitlements_derived = models.PositiveIntegerField(default=0)
    lines_accrued = models.PositiveIntegerField(default=0)
    lines_reversed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="accrual_run_month_first"),
        ]

    def __str__(self) -> str:
        return f"Accrual run {self.pk} for {self.month:%Y-%m}"


class LedgerLine(models.Model):
    class Kind(models.TextChoices):
        ACCRUAL = "accrual", "Accrual"
        REVERSAL = "reversal", "Reversal"

    # References without a constraint of their own (`db_constraint=False`) and without an
    # index of their own (`db_index=False`): a foreign-key constraint checks each line on its
    # own at commit (a lookup and a lock of the parent row, four to six per line: most of a
    # month's run at scale, issue 12 "Scale"). The database still refuses a line whose
    # entitlement, partner, currency, run or reversed/replaced line does not exist, for the
    # whole statement at once: trigger `commissions_ledgerline_references` (migration 0009),
    # and refuses deleting an entitlement, run, partner or currency that lines refer to.
    # `ledger_line_once` (month, partner, entitlement, ...) serves every lookup; nothing reads
    # the ledger by currency or run.
    entitlement = models.ForeignKey(
        Entitlement,
        on_delete=models.PROTECT,
        related_name="lines",
        db_index=False,
        db_constraint=False,
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    month = models.DateField()
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    mrr = models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)
    currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    amount = models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)
    # A line is reversed at most once and replaced at most once (`ledger_reverses_once`,
    # `ledger_replaces_once`): unique where set, so the accrual lines that reverse or replace
    # nothing (almost all) are in neither index.
    reverses = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        db_index=False,
        db_constraint=False,
    )
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        db_index=False,
        db_constraint=False,
    )
    reason = models.CharField(max_length=200, blank=True)
    run = models.ForeignKey(
        AccrualRun,
        on_delete=models.PROTECT,
        related_name="lines",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["month", "entitlement_id", "version", "kind"]
        constraints = [
            # One line per entitlement, month, version and kind. The partner is part of the
            # key (an entitlement's partner never changes, and a line's partner is its
            # entitlement's: both held by triggers, migration 0009) so that one index serves
            # every lookup: by month (a run, a close), by month and partner (a partner's
            # ledger), by month, partner and entitlement (a changed entitlement's lines).
            # Month first: a run's lines for a new month are all added at the end of the
            # index instead of next to each entitlement's earlier months across all of it
            # (issue 12, "Scale").
            models.UniqueConstraint(
                fields=["month", "organisation", "entitlement", "version", "kind"],
                name="ledger_line_once",
            ),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=Q(reverses__isnull=False),
                name="ledger_reverses_once",
            ),
            models.UniqueConstraint(
                fields=["replaces"],
                condition=Q(replaces__isnull=False),
                name="ledger_replaces_once",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="ledger_month_first"),
            models.CheckConstraint(
                condition=(Q(kind="accrual") & Q(reverses__isnull=True) & Q(amount__gte=0))
                | (Q(kind="reversal") & Q(reverses__isnull=False) & ~Q(reason="")),
                name="ledger_reversal_has_target_and_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.entitlement_id} {self.month:%Y-%m} v{self.version}"


class UpmarketThreshold(models.Model):
    """Rule-set data (SPEC 7): the Upmarket Referral threshold in USD for deals closed in a
    period by partners in `countries` (empty: every country). The lowest row in force wins."""

    effective_from = models.DateField()
    effective_until = models.DateField(null=True, blank=True)
    countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    usd = models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["effective_from", "id"]

    def __str__(self) -> str:
        return f"USD {self.usd} from {self.effective_from}"


class AccreditationExemptCountry(models.Model):
    """Rule-set data (SPEC 7): partners in these countries need no CRM Implementation
    accreditation for the Upmarket Referral Program."""

    country = models.OneToOneField(Country, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name_plural = "accreditation-exempt countries"

    def __str__(self) -> str:
        return self.country_id


class QuarterClose(models.Model):
    """The close of a quarter (SPEC 7): done once, by finance; its statements never change
    in amount afterwards (a database trigger, migration 0005). `quarter` is `YYYY-Qn`."""

    quarter = models.CharField(max_length=7, unique=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    closed_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    statements = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quarter__regex=r"^[0-9]{4}-Q[1-4]$"), name="quarter_close_format"
            ),
        ]

    def __str__(self) -> str:
        return f"Close of {self.quarter}"


class Statement(models.Model):
    """One partner's revenue share for one quarter in one currency (SPEC 7), payable 45 days
    after the quarter ends. Its amount, lines and quarter never change once written (trigger);
    only its status moves: held -> payable (released) -> paid (with a payment reference)."""

    class Status(models.TextChoices):
        HELD = "held", "Held"
        PAYABLE = "payable", "Payable"
        PAID = "paid", "Paid"

    class HeldReason(models.TextChoices):
        PAYOUT_PAPERWORK = "payout_paperwork", "Payout paperwork is incomplete"
        STANDING = "standing", "The partner is not in good standing"

    close = models.ForeignKey(QuarterClose, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    quarter = models.CharField(max_length=7)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)
    # Of `total`, what late ledger lines of earlier, already closed quarters contribute.
    prior_period_total = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, default=0
    )
    payable_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices)
    held_reasons = ArrayField(
        models.CharField(max_length=20, choices=HeldReason.choices), default=list, blank=True
    )
    released_at = models.DateTimeField(null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    payment_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-quarter", "organisation_id", "currency_id"]
        indexes = [models.Index(fields=["quarter", "status"], name="statement_quarter_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "quarter", "currency"], name="statement_once"
            ),
            models.CheckConstraint(
                condition=(Q(status="paid") & ~Q(payment_reference="") & Q(paid_on__isnull=False))
                | (~Q(status="paid") & Q(payment_reference="") & Q(paid_on__isnull=True)),
                name="statement_paid_has_reference",
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | ~Q(held_reasons=[]),
                name="statement_held_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Statement {self.quarter} {self.currency_id} for {self.organisation_id}"


class StatementLine(models.Model):
    """One ledger line on a statement. A ledger line is on at most one statement (unique), so
    nothing is paid twice; `prior_period` marks a late line of an earlier, closed quarter.

    `ledger_line` is a one-to-one relation whose uniqueness the database enforces, without a
    foreign-key constraint (`db_constraint=False`, issue 12, "Scale"). The constraint could
    only catch a line pointing at a ledger row that does not exist, and none can: the ledger
    is append-only (a trigger refuses UPDATE and DELETE of its rows, migration 0002), so a
    ledger row, once there, stays with its id; and the close writes statement lines only by
    `INSERT ... SELECT` from ledger rows it reads in the same statement
    (`services.statements.CLOSE_SQL`). What the constraint cost: at commit, a check of every
    line that takes a FOR KEY SHARE lock on its ledger row, writing each of those ledger
    pages again: 15 of the close's 42 s for a quarter of 874 439 lines (bench/statements.py,
    docs/PERFORMANCE.md). Django still refuses deleting a ledger line on a statement
    (PROTECT), and the ledger's trigger refuses any delete anyway.
    """

    # No index of its own: `statement_line_month` (statement, month) leads with it.
    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="lines", db_index=False
    )
    ledger_line = models.OneToOneField(
        LedgerLine, on_delete=models.PROTECT, related_name="statement_line", db_constraint=False
    )
    month = models.DateField()
    amount = models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)
    prior_period = models.BooleanField(default=False)

    class Meta:
        ordering = ["month", "ledger_line_id"]
        indexes = [models.Index(fields=["statement", "month"], name="statement_line_month")]

    def __str__(self) -> str:
        return f"{self.ledger_line_id} on {self.statement_id}"
