"""Shapes of the deals API. A partner's view of a registration never names another partner,
the deal it sits on, or anything that differs when others registered the same domain."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from partnerportal.core.models import Segment

from .. import services
from ..models import Deal, Inquiry, Poi, QuoteLine, QuoteVersion, Registration, SoldAssociation


class CustomerIn(serializers.Serializer):
    customer_domain = serializers.CharField(max_length=300)
    customer_name = serializers.CharField(max_length=200, required=False, default="")
    country = serializers.CharField(max_length=2, min_length=2)
    segment = serializers.ChoiceField(choices=Segment.choices)


class RegistrationOut(serializers.ModelSerializer):
    """What a partner sees of its own registration."""

    customer_domain = serializers.CharField(source="registered_domain")
    partner = serializers.IntegerField(source="organisation_id")
    referred = serializers.SerializerMethodField()
    acknowledged_secondary = serializers.SerializerMethodField()

    class Meta:
        model = Registration
        fields = [
            "id",
            "customer_domain",
            "motion",
            "status",
            "partner",
            "created_at",
            "expires_at",
            "referred",
            "acknowledged_secondary",
        ]

    def get_referred(self, registration: Registration) -> bool:
        return registration.referred_by_id is not None

    def get_acknowledged_secondary(self, registration: Registration) -> bool:
        return registration.acknowledged_secondary_at is not None


class StaffRegistrationOut(RegistrationOut):
    """Staff also see the deal, the partner's name and the referral link."""

    deal = serializers.IntegerField(source="deal_id")
    partner_name = serializers.CharField(source="organisation.name")
    referred_by = serializers.IntegerField(source="referred_by_id", allow_null=True)
    poi = serializers.SerializerMethodField()

    class Meta(RegistrationOut.Meta):
        fields = [
            *RegistrationOut.Meta.fields,
            "deal",
            "partner_name",
            "referred_by",
            "decision_note",
            "poi",
        ]

    def get_poi(self, registration: Registration) -> dict[str, Any] | None:
        pois = [p for p in registration.pois.all() if p.status != Poi.Status.VOIDED]
        live = [p for p in pois if p.status in (Poi.Status.PENDING, Poi.Status.APPROVED)]
        chosen = live or pois
        return PoiOut(chosen[0]).data if chosen else None


class PoiOut(serializers.ModelSerializer):
    registration = serializers.IntegerField(source="registration_id")
    quote_version = serializers.IntegerField(source="quote.number")
    lines = serializers.ListField(child=serializers.CharField(), source="product_lines")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Poi
        # No POI id: POIs of one quote are created together, so consecutive ids would let a
        # partner infer that others are on the deal.
        fields = [
            "registration",
            "quote_version",
            "kind",
            "status",
            "lines",
            "provides_onboarding",
            "url",
            "created_at",
            "decided_at",
        ]

    def get_url(self, poi: Poi) -> str | None:
        return services.poi_url(poi) if poi.status == Poi.Status.PENDING else None


class QuoteLineOut(serializers.ModelSerializer):
    product_line = serializers.CharField(source="product_line_id")
    edition = serializers.CharField(source="edition_id", allow_null=True)
    currency = serializers.CharField(source="currency_id")

    class Meta:
        model = QuoteLine
        fields = [
            "product_line",
            "edition",
            "seats",
            "mrr",
            "currency",
            "discount_pct",
            "discount_approval",
        ]


class QuoteLineIn(serializers.Serializer):
    product_line = serializers.CharField()
    edition = serializers.CharField(required=False, allow_null=True)
    seats = serializers.IntegerField(required=False, default=1)
    mrr = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    discount_pct = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    discount_approval = serializers.CharField(required=False, allow_blank=True)


class QuoteIn(serializers.Serializer):
    """Documented shape; the lines are validated by the service, which names the line."""

    lines = serializers.ListField(child=serializers.JSONField())
    expected_close_date = serializers.DateField(required=False, allow_null=True)


class QuoteOut(serializers.ModelSerializer):
    version = serializers.IntegerField(source="number")
    lines = QuoteLineOut(many=True)
    pois = serializers.SerializerMethodField()

    class Meta:
        model = QuoteVersion
        fields = ["version", "created_at", "lines", "pois"]

    def get_pois(self, quote: QuoteVersion) -> list[dict[str, Any]]:
        return [
            {"registration": poi.registration_id, "url": services.poi_url(poi), "id": poi.pk}
            for poi in quote.pois.filter(status=Poi.Status.PENDING).order_by("registration_id")
        ]


class PurchasedLineOut(serializers.Serializer):
    product_line = serializers.CharField(source="product_line_id")
    edition = serializers.CharField(source="edition_id", allow_null=True)
    seats = serializers.IntegerField()
    mrr = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField(source="currency_id")
    credited = serializers.BooleanField()
    eligibility_rule = serializers.CharField()


class ResolutionOut(serializers.Serializer):
    rule = serializers.CharField()
    winner = serializers.IntegerField(allow_null=True)
    winner_partner = serializers.IntegerField(allow_null=True)
    explanation = serializers.CharField()
    candidates = serializers.ListField(child=serializers.IntegerField())
    tied = serializers.ListField(child=serializers.IntegerField())
    excluded = serializers.ListField(child=serializers.DictField())
    decided_by = serializers.EmailField(allow_null=True)
    decision_reason = serializers.CharField(allow_blank=True)


class DealOut(serializers.ModelSerializer):
    customer_domain = serializers.CharField(source="customer.domain")
    customer_name = serializers.CharField(source="customer.name")
    country = serializers.CharField(source="customer.country_id")
    segment = serializers.CharField(source="customer.segment")
    growth_specialist = serializers.EmailField(source="growth_specialist.email", default=None)
    registrations = serializers.SerializerMethodField()
    quote = serializers.SerializerMethodField()
    resolution = serializers.SerializerMethodField()
    purchased_lines = PurchasedLineOut(many=True)

    class Meta:
        model = Deal
        fields = [
            "id",
            "customer_domain",
            "customer_name",
            "country",
            "segment",
            "status",
            "vendor_owned",
            "growth_specialist",
            "expected_close_date",
            "created_at",
            "registrations",
            "quote",
            "purchase_domain",
            "close_date",
            "purchased_lines",
            "resolution",
        ]

    def get_registrations(self, deal: Deal) -> list[dict[str, Any]]:
        return StaffRegistrationOut(deal.registrations.all(), many=True).data  # type: ignore[return-value]

    def get_quote(self, deal: Deal) -> dict[str, Any] | None:
        quotes = list(deal.quote_versions.all())
        return QuoteOut(quotes[0]).data if quotes else None

    def get_resolution(self, deal: Deal) -> dict[str, Any] | None:
        if not deal.resolution_rule:
            return None
        detail = deal.resolution_detail or {}
        winner = deal.winner
        return ResolutionOut(
            {
                "rule": deal.resolution_rule,
                "winner": deal.winner_id,
                "winner_partner": winner.organisation_id if winner else None,
                "explanation": deal.resolution_explanation,
                "candidates": detail.get("candidates", []),
                "tied": detail.get("tied", []),
                "excluded": [
                    {"registration": rid, "rule": rule} for rid, rule in detail.get("excluded", [])
                ],
                "decided_by": deal.decided_by.email if deal.decided_by else None,
                "decision_reason": deal.decision_reason,
            }
        ).data


class InvitationIn(serializers.Serializer):
    partner = serializers.IntegerField()


class DecisionNoteIn(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ManualPoiIn(serializers.Serializer):
    lines = serializers.ListField(child=serializers.CharField(), allow_empty=True)
    provides_onboarding = serializers.BooleanField(default=False)


class PoiDecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])


class ReferralIn(serializers.Serializer):
    partner = serializers.IntegerField()


class AcknowledgeIn(serializers.Serializer):
    statement = serializers.CharField(required=False, allow_blank=True, default="")


class CloseLineIn(serializers.Serializer):
    product_line = serializers.CharField()
    mrr = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    edition = serializers.CharField(required=False, allow_null=True)
    seats = serializers.IntegerField(required=False)
    currency = serializers.CharField(required=False)


class CloseIn(serializers.Serializer):
    """Documented shape; the service validates and names the failing field or line."""

    purchase_domain = serializers.CharField()
    close_date = serializers.DateField()
    lines = serializers.ListField(child=serializers.JSONField())
    onboarding_partner = serializers.IntegerField(required=False, allow_null=True)


class DecideIn(serializers.Serializer):
    registration = serializers.IntegerField()
    reason = serializers.CharField(allow_blank=True)


class InquiryIn(serializers.Serializer):
    question = serializers.CharField(allow_blank=True)


class AnswerIn(serializers.Serializer):
    answer = serializers.CharField(allow_blank=True)


class InquiryOut(serializers.ModelSerializer):
    registration = serializers.IntegerField(source="registration_id")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Inquiry
        fields = [
            "id",
            "registration",
            "question",
            "asked_at",
            "answer_due_at",
            "answer",
            "answered_at",
            "breach",
            "overdue",
        ]

    def get_overdue(self, inquiry: Inquiry) -> bool:
        return inquiry.overdue()


class AssociationOut(serializers.ModelSerializer):
    customer_domain = serializers.CharField(source="customer.domain")
    product_line = serializers.CharField(source="product_line_id")
    currency = serializers.CharField(source="currency_id")

    class Meta:
        model = SoldAssociation
        fields = [
            "id",
            "customer_domain",
            "product_line",
            "kind",
            "close_date",
            "mrr_at_close",
            "currency",
            "created_at",
        ]
