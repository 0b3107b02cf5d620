from __future__ import annotations

from rest_framework import serializers

from ..inputs import MONTH_PATTERN
from ..models import AccrualRun, LedgerLine


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
