from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import rules
from ..inputs import MONTH_PATTERN
from ..models import AccrualRun, LedgerLine, Statement
from ..rules import QUARTER_PATTERN


class AccrualRunIn(serializers.Serializer):
    month = serializers.RegexField(
        MONTH_PATTERN, max_length=7, help_text="The month to accrue through, YYYY-MM."
    )


class AccrualRunOut(serializers.ModelSerializer):
    id = serializers.IntegerField(read_only=True)
    month = serializers.DateField(read_only=True, format="%Y-%m")

    class Meta:
        model = AccrualRun
        fields = [
            "id",
            "month",
            "trigger",
            "started_at",
            "finished_at",
            "entitlements_derived",
            "lines_accrued",
            "lines_reversed",
        ]
        read_only_fields = fields


class LedgerLineOut(serializers.ModelSerializer):
    month = serializers.DateField(read_only=True, format="%Y-%m")
    customer_domain = serializers.CharField(source="entitlement.customer.domain", read_only=True)
    product_line = serializers.CharField(source="entitlement.product_line_id", read_only=True)
    program = serializers.CharField(source="entitlement.program", read_only=True)
    currency = serializers.CharField(source="currency_id", read_only=True)
    reverses = serializers.IntegerField(source="reverses_id", read_only=True, allow_null=True)
    replaces = serializers.IntegerField(source="replaces_id", read_only=True, allow_null=True)

    class Meta:
        model = LedgerLine
        fields = [
            "id",
            "entitlement",
            "customer_domain",
            "product_line",
            "program",
            "month",
            "version",
            "kind",
            "mrr",
            "currency",
            "amount",
            "reverses",
            "replaces",
            "reason",
            "created_at",
        ]
        read_only_fields = fields


class AccrualOut(serializers.Serializer):
    month = serializers.DateField(format="%Y-%m")
    mrr = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class EntitlementOut(serializers.Serializer):
    id = serializers.IntegerField(source="entitlement.pk")
    customer_domain = serializers.CharField(source="entitlement.customer.domain")
    product_line = serializers.CharField(source="entitlement.product_line_id")
    program = serializers.CharField(source="entitlement.program")
    months = serializers.IntegerField(source="entitlement.months")
    close_date = serializers.DateField(source="entitlement.close_date")
    deal = serializers.IntegerField(source="entitlement.deal_id")
    schedule = AccrualOut(many=True, help_text="What it earns by month through this month.")


# --- Quarterly statements ---------------------------------------------------------------------

STATUS_CHOICES = Statement.Status.choices
HELD_REASON_CHOICES = Statement.HeldReason.choices


class HeldReasonOut(serializers.Serializer):
    code = serializers.ChoiceField(choices=HELD_REASON_CHOICES)
    text = serializers.CharField(help_text="The reason in words.")


def held_reasons_out(codes: list[str]) -> list[dict[str, str]]:
    return [{"code": code, "text": str(Statement.HeldReason(code).label)} for code in codes]


class StatementOut(serializers.ModelSerializer):
    partner = serializers.IntegerField(source="organisation_id", read_only=True)
    partner_name = serializers.CharField(source="organisation.name", read_only=True)
    currency = serializers.CharField(source="currency_id", read_only=True)
    status = serializers.ChoiceField(choices=STATUS_CHOICES, read_only=True)
    held_reasons = serializers.SerializerMethodField(
        help_text="Why the statement is held (empty once payable or paid)."
    )

    class Meta:
        model = Statement
        fields = [
            "id",
            "partner",
            "partner_name",
            "quarter",
            "currency",
            "total",
            "prior_period_total",
            "payable_on",
            "status",
            "held_reasons",
            "released_at",
            "paid_on",
            "payment_reference",
        ]
        read_only_fields = fields

    @extend_schema_field(HeldReasonOut(many=True))
    def get_held_reasons(self, statement: Statement) -> list[dict[str, str]]:
        return held_reasons_out(list(statement.held_reasons))


class StatementLineOut(serializers.Serializer):
    """A statement line and where it comes from."""

    id = serializers.IntegerField()
    ledger_line = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LedgerLine.Kind.choices)
    month = serializers.DateField(format="%Y-%m")
    customer_name = serializers.CharField()
    customer_domain = serializers.CharField()
    product_line = serializers.CharField()
    product_line_name = serializers.CharField()
    mrr = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    rate = serializers.DecimalField(max_digits=4, decimal_places=2)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    prior_period = serializers.BooleanField(
        help_text="A late line of an earlier, closed quarter (a prior-period adjustment)."
    )
    reason = serializers.CharField(help_text="Why a reversal was made (empty for accruals).")
    reverses = serializers.IntegerField(allow_null=True)
    replaces = serializers.IntegerField(allow_null=True)
    entitlement = serializers.IntegerField()
    program = serializers.CharField()
    deal = serializers.IntegerField()
    resolution_rule = serializers.CharField(help_text="The rule that decided the deal's close.")
    registration = serializers.IntegerField()
    poi = serializers.IntegerField(allow_null=True)
    poi_status = serializers.CharField(allow_null=True)


class StatementDetailOut(StatementOut):
    lines = serializers.SerializerMethodField()

    class Meta(StatementOut.Meta):
        fields = [*StatementOut.Meta.fields, "lines"]
        read_only_fields = fields

    @extend_schema_field(StatementLineOut(many=True))
    def get_lines(self, statement: Statement) -> Any:
        return StatementLineOut(self.context["lines"], many=True).data


class StatementQuery(serializers.Serializer):
    quarter = serializers.RegexField(
        QUARTER_PATTERN, max_length=7, required=False, help_text="YYYY-Qn, e.g. 2026-Q1."
    )
    status = serializers.ChoiceField(choices=STATUS_CHOICES, required=False)
    currency = serializers.RegexField(r"^[A-Z]{3}$", max_length=3, required=False)


class ExportQuery(serializers.Serializer):
    quarter = serializers.RegexField(
        QUARTER_PATTERN, max_length=7, help_text="YYYY-Qn, e.g. 2026-Q1."
    )
    format = serializers.ChoiceField(choices=[("csv", "CSV"), ("xlsx", "XLSX"), ("pdf", "PDF")])


class PaymentIn(serializers.Serializer):
    payment_reference = serializers.CharField(
        max_length=rules.PAYMENT_REFERENCE_MAX, help_text="The bank or ACH reference."
    )
    paid_on = serializers.DateField(help_text="Not before the quarter's end, not in the future.")


class QuarterCloseIn(serializers.Serializer):
    quarter = serializers.RegexField(
        QUARTER_PATTERN, max_length=7, help_text="YYYY-Qn, e.g. 2026-Q1."
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Preview what the close would produce; write nothing."
    )


class TotalOut(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    currency = serializers.CharField()
    statements = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class PreviewStatementOut(serializers.Serializer):
    partner = serializers.IntegerField(source="organisation_id")
    partner_name = serializers.CharField(source="organisation_name")
    currency = serializers.CharField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    prior_period_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    lines = serializers.IntegerField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    held_reasons = serializers.SerializerMethodField()

    @extend_schema_field(HeldReasonOut(many=True))
    def get_held_reasons(self, statement: Any) -> list[dict[str, str]]:
        return held_reasons_out(list(statement.held_reasons))


class QuarterCloseOut(serializers.Serializer):
    quarter = serializers.CharField()
    dry_run = serializers.BooleanField(help_text="True: a preview, nothing was written.")
    already_closed = serializers.BooleanField(
        help_text="The quarter was closed before this request (nothing changed)."
    )
    closed_at = serializers.DateTimeField(allow_null=True)
    payable_on = serializers.DateField()
    statements = PreviewStatementOut(many=True)
    totals = TotalOut(many=True)
