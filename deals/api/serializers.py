"""Shapes of the deals API. Input is parsed and bounded here (the `deals.inputs` bounds, the
same as the pages' forms) and handed to the services as typed values.

A partner's view of a registration never names another partner, the deal it sits on, or
anything that differs when others registered the same domain."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from partnerportal.core.api.fields import IdField, MoneyField, SeatsField
from partnerportal.core.models import Segment

from .. import inputs, presenters, selectors, services
from ..inputs import AS_QUOTED, ClosedLineInput, PoiDecision, QuoteLineInput
from ..models import Deal, Inquiry, Poi, QuoteLine, QuoteVersion, Registration, SoldAssociation


def request_base_url(context: dict[str, Any]) -> str | None:
    """Where the API call reached the portal (scheme, host, port), for the POI links it
    returns; None outside a request (`PORTAL_BASE_URL` then)."""
    request = context.get("request")
    return request.build_absolute_uri("/").rstrip("/") if request is not None else None


class CustomerIn(serializers.Serializer):
    customer_domain = serializers.CharField(
        max_length=inputs.DOMAIN_MAX, help_text="The purchase domain, e.g. acme.com."
    )
    customer_name = serializers.CharField(
        max_length=inputs.CUSTOMER_NAME_MAX, required=False, allow_blank=True, default=""
    )
    country = serializers.CharField(
        max_length=inputs.COUNTRY_LENGTH,
        min_length=inputs.COUNTRY_LENGTH,
        help_text="ISO 3166 alpha-2",
    )
    segment = serializers.ChoiceField(choices=Segment.choices)


class RegistrationOut(serializers.ModelSerializer):
    """What a partner sees of its own registration."""

    customer_domain = serializers.CharField(source="registered_domain")
    partner = serializers.IntegerField(source="organisation_id")
    referred = serializers.SerializerMethodField()
    acknowledged_secondary = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField(
        help_text=(
            "Null while the deal is open; then `credited`, `not_credited`, or "
            "`awaiting_decision` while partner ops decide who among the tied is credited."
        )
    )

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
            "outcome",
        ]

    def get_referred(self, registration: Registration) -> bool:
        return registration.referred_by_id is not None

    def get_acknowledged_secondary(self, registration: Registration) -> bool:
        return registration.acknowledged_secondary_at is not None

    @extend_schema_field(
        serializers.ChoiceField(choices=[o.value for o in presenters.Outcome], allow_null=True)
    )
    def get_outcome(self, registration: Registration) -> str | None:
        outcome = presenters.partner_outcome(registration)
        return outcome.value if outcome else None


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
        poi = selectors.choose_current_poi(
            sorted(registration.pois.all(), key=lambda p: (p.created_at, p.pk), reverse=True)
        )
        return PoiOut(poi, context=self.context).data if poi else None


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
        if poi.status != Poi.Status.PENDING:
            return None
        return services.poi_url(poi, base_url=request_base_url(self.context))


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
    """One quote line: codes of the reference data (`GET /api/v1/...` lists them)."""

    product_line = serializers.CharField(max_length=inputs.PRODUCT_LINE_MAX)
    edition = serializers.CharField(
        max_length=inputs.EDITION_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="starter, professional or enterprise for a hub; null otherwise.",
    )
    seats = SeatsField(required=False, default=1)
    mrr = MoneyField(help_text='Monthly amount, in `currency`: a decimal string, e.g. "800.00".')
    currency = serializers.CharField(
        min_length=inputs.CURRENCY_LENGTH, max_length=inputs.CURRENCY_LENGTH, help_text="ISO 4217"
    )
    discount_pct = serializers.DecimalField(
        max_digits=inputs.DISCOUNT_MAX_DIGITS,
        decimal_places=inputs.DISCOUNT_DECIMAL_PLACES,
        min_value=Decimal(0),
        max_value=inputs.DISCOUNT_MAX,
        required=False,
        default=Decimal(0),
    )
    discount_approval = serializers.CharField(
        max_length=inputs.DISCOUNT_APPROVAL_MAX, required=False, allow_blank=True, default=""
    )

    def to_input(self) -> QuoteLineInput:
        return QuoteLineInput(**self.validated_data)


class QuoteIn(serializers.Serializer):
    lines = QuoteLineIn(many=True, allow_empty=False, max_length=inputs.QUOTE_LINES_MAX)  # type: ignore[call-arg]
    expected_close_date = serializers.DateField(required=False, allow_null=True, default=None)

    def lines_input(self) -> list[QuoteLineInput]:
        return [QuoteLineInput(**line) for line in self.validated_data["lines"]]


class QuoteOut(serializers.ModelSerializer):
    version = serializers.IntegerField(source="number")
    lines = QuoteLineOut(many=True)
    pois = serializers.SerializerMethodField()

    class Meta:
        model = QuoteVersion
        fields = ["version", "created_at", "lines", "pois"]

    def get_pois(self, quote: QuoteVersion) -> list[dict[str, Any]]:
        return [
            {
                "registration": poi.registration_id,
                "url": services.poi_url(poi, base_url=request_base_url(self.context)),
                "id": poi.pk,
            }
            for poi in selectors.pending_pois(quote)
        ]


class PurchasedLineOut(serializers.Serializer):
    product_line = serializers.CharField(source="product_line_id")
    edition = serializers.CharField(source="edition_id", allow_null=True)
    seats = serializers.IntegerField()
    mrr = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField(source="currency_id")
    credited = serializers.BooleanField()
    eligibility_rule = serializers.CharField()


class ExclusionOut(serializers.Serializer):
    registration = serializers.IntegerField()
    rule = serializers.CharField()


class DecisionOut(serializers.Serializer):
    """What Best Partner Wins decided (or would decide: the close preview)."""

    rule = serializers.CharField()
    winner = serializers.IntegerField(allow_null=True)
    winner_partner = serializers.IntegerField(allow_null=True)
    explanation = serializers.CharField()
    candidates = serializers.ListField(child=serializers.IntegerField())
    tied = serializers.ListField(child=serializers.IntegerField())
    excluded = ExclusionOut(many=True)


class ResolutionOut(DecisionOut):
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
        return StaffRegistrationOut(deal.registrations.all(), many=True, context=self.context).data  # type: ignore[return-value]

    def get_quote(self, deal: Deal) -> dict[str, Any] | None:
        quotes = list(deal.quote_versions.all())
        return QuoteOut(quotes[0], context=self.context).data if quotes else None

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
    partner = IdField(help_text="The id of the partner organisation to invite.")


class DecisionNoteIn(serializers.Serializer):
    note = serializers.CharField(
        max_length=inputs.NOTE_MAX, required=False, allow_blank=True, default=""
    )


class ManualPoiIn(serializers.Serializer):
    lines = serializers.ListField(
        child=serializers.CharField(max_length=inputs.PRODUCT_LINE_MAX),
        allow_empty=True,
        max_length=inputs.MANUAL_POI_LINES_MAX,
        help_text="Product line codes of the current quote.",
    )
    provides_onboarding = serializers.BooleanField(default=False)


class PoiDecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[d.value for d in PoiDecision])


class ReferralIn(serializers.Serializer):
    partner = IdField(
        help_text=(
            "The id of a partner listed in the public partner directory. The answer is the "
            "same whatever the id: only a listed partner is referred, and whether a partner "
            "exists or is already on the deal is never told."
        )
    )


class AcknowledgeIn(serializers.Serializer):
    statement = serializers.CharField(
        max_length=inputs.STATEMENT_MAX, required=False, allow_blank=True, default=""
    )


class CloseLineIn(serializers.Serializer):
    """A purchased line: on the current quote; a value left out is the quote's."""

    product_line = serializers.CharField(max_length=inputs.PRODUCT_LINE_MAX)
    mrr = MoneyField(required=False)
    edition = serializers.CharField(max_length=inputs.EDITION_MAX, required=False, allow_null=True)
    seats = SeatsField(required=False)
    currency = serializers.CharField(
        min_length=inputs.CURRENCY_LENGTH, max_length=inputs.CURRENCY_LENGTH, required=False
    )


class CloseIn(serializers.Serializer):
    purchase_domain = serializers.CharField(
        max_length=inputs.DOMAIN_MAX,
        help_text=(
            "A domain registered on the deal (its customer's); another one needs "
            "`domain_mismatch_reason`."
        ),
    )
    close_date = serializers.DateField()
    lines = CloseLineIn(many=True, allow_empty=False, max_length=inputs.QUOTE_LINES_MAX)  # type: ignore[call-arg]
    onboarding_partner = IdField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The partner the customer chose for onboarding, if any.",
    )
    domain_mismatch_reason = serializers.CharField(
        max_length=inputs.DOMAIN_MISMATCH_REASON_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text=(
            "Why the customer bought on a domain not registered on the deal: required then, "
            "and recorded in the audit trail with the close."
        ),
    )

    def lines_input(self) -> list[ClosedLineInput]:
        return [
            ClosedLineInput(
                product_line=line["product_line"],
                mrr=line.get("mrr"),
                seats=line.get("seats"),
                currency=line.get("currency"),
                edition=line.get("edition", AS_QUOTED),
            )
            for line in self.validated_data["lines"]
        ]


class ClosedLinePreviewOut(serializers.Serializer):
    product_line = serializers.CharField()
    credited = serializers.BooleanField()
    eligibility_rule = serializers.CharField()


class ClosePreviewOut(serializers.Serializer):
    """What `POST /deals/{id}/close/` would record with the same body, written nowhere."""

    purchase_domain = serializers.CharField()
    close_date = serializers.DateField()
    domain_registered = serializers.BooleanField()
    domain_mismatch_reason = serializers.CharField(allow_blank=True)
    resolution = DecisionOut()
    lines = ClosedLinePreviewOut(many=True)


def close_preview_data(plan: services.ClosePlan) -> dict[str, Any]:
    resolution = plan.resolution
    return {
        "purchase_domain": plan.purchase_domain,
        "close_date": plan.close_date,
        "domain_registered": plan.domain_registered,
        "domain_mismatch_reason": plan.domain_mismatch_reason,
        "resolution": {
            "rule": str(resolution.rule),
            "winner": resolution.winner,
            "winner_partner": plan.winner_partner,
            "explanation": resolution.explanation,
            "candidates": list(resolution.candidates),
            "tied": list(resolution.tied),
            "excluded": [
                {"registration": rid, "rule": str(rule)} for rid, rule in resolution.excluded
            ],
        },
        "lines": [
            {
                "product_line": line.product_line,
                "credited": line.credited,
                "eligibility_rule": str(line.rule),
            }
            for line in plan.eligibility.lines
        ],
    }


class DecideIn(serializers.Serializer):
    registration = IdField(help_text="The id of one of the tied registrations.")
    reason = serializers.CharField(max_length=inputs.REASON_MAX, allow_blank=True)


class InquiryIn(serializers.Serializer):
    question = serializers.CharField(max_length=inputs.QUESTION_MAX, allow_blank=True)


class AnswerIn(serializers.Serializer):
    answer = serializers.CharField(max_length=inputs.QUESTION_MAX, allow_blank=True)


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
