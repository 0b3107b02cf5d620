from __future__ import annotations

from rest_framework import serializers

from ..models import Activity, AuditEvent, Organisation, Segment, User


class PartnerCreateIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices)
    country = serializers.CharField(max_length=2, min_length=2)
    has_partner_certification = serializers.BooleanField(default=False)
    has_pro_subscription = serializers.BooleanField(default=False)
    payout_paperwork_complete = serializers.BooleanField(default=False)
    pdm = serializers.EmailField(required=False, help_text="E-mail of the assigned PDM.")


class PartnerOut(serializers.ModelSerializer):
    country = serializers.CharField(source="country_id")
    pdm = serializers.EmailField(source="pdm.email", default=None)

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "kind",
            "country",
            "tier",
            "standing",
            "has_partner_certification",
            "has_pro_subscription",
            "payout_paperwork_complete",
            "pdm",
            "created_at",
        ]


class PartnerUserIn(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=["admin", "member"])


class PartnerUserOut(serializers.ModelSerializer):
    organisation = serializers.IntegerField(source="organisation_id")
    role = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "role", "organisation"]

    def get_role(self, user: User) -> str:
        return {"partner_admin": "admin", "partner_member": "member"}.get(user.role, user.role)


class SubscriptionChangeIn(serializers.Serializer):
    customer_domain = serializers.CharField(max_length=300)
    customer_name = serializers.CharField(max_length=200, required=False, default="")
    country = serializers.CharField(max_length=2, min_length=2)
    segment = serializers.ChoiceField(choices=Segment.choices)
    product_line = serializers.CharField(max_length=40)
    edition = serializers.CharField(max_length=20, required=False, allow_null=True, default=None)
    mrr = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        default=None,
        allow_null=True,
    )
    currency = serializers.CharField(max_length=3, required=False, default="", allow_blank=True)
    seats = serializers.IntegerField(min_value=0, default=1)
    effective_from = serializers.DateField()
    terminated = serializers.BooleanField(default=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs["terminated"]:
            missing = {
                f: ["This field is required."]
                for f in ("mrr", "currency")
                if attrs.get(f) in (None, "")
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class SubscriptionChangeOut(serializers.Serializer):
    subscription = serializers.IntegerField()
    customer_domain = serializers.CharField()
    product_line = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)


class ActivityIn(serializers.Serializer):
    partner = serializers.IntegerField()
    customer_domain = serializers.CharField(max_length=300)
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    occurred_at = serializers.DateTimeField()


class ActivityOut(serializers.ModelSerializer):
    partner = serializers.IntegerField(source="organisation_id")
    customer_domain = serializers.CharField(source="customer.domain")

    class Meta:
        model = Activity
        fields = ["id", "partner", "customer_domain", "kind", "occurred_at"]


class AuditEventOut(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_label",
            "verb",
            "subject_type",
            "subject_id",
            "organisation",
            "reason",
            "data",
            "request_id",
        ]
