"""Kernel API: one thin view per operation; validation of shape here, rules in services."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import access, selectors, services
from ..errors import InvalidInput
from ..models import AuditEvent, Organisation
from .serializers import (
    ActivityIn,
    ActivityOut,
    AuditEventOut,
    PartnerCreateIn,
    PartnerOut,
    PartnerUserAddedOut,
    PartnerUserIn,
    SubscriptionChangeIn,
    SubscriptionChangeOut,
)


class PartnerListCreateApi(generics.ListAPIView):
    serializer_class = PartnerOut
    queryset = Organisation.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self) -> QuerySet[Organisation]:
        return selectors.partner_list(access.acting_user(self.request))

    @extend_schema(request=PartnerCreateIn, responses={201: PartnerOut})
    def post(self, request: Request) -> Response:
        access.require(access.acting_user(request), access.Action.PARTNER_CREATE)
        data = PartnerCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        organisation = services.partner_create(
            actor=access.acting_user(request), **data.validated_data
        )
        return Response(PartnerOut(organisation).data, status=status.HTTP_201_CREATED)


class PartnerDetailApi(APIView):
    @extend_schema(responses=PartnerOut)
    def get(self, request: Request, pk: int) -> Response:
        organisation = access.get_visible_organisation(access.acting_user(request), pk)
        return Response(PartnerOut(organisation).data)


PARTNER_USER_ADDED = (
    "If this address can be added to the organisation, an e-mail with a link to choose a "
    "password is on its way to it."
)


class PartnerUserCreateApi(APIView):
    @extend_schema(request=PartnerUserIn, responses={201: PartnerUserAddedOut})
    def post(self, request: Request, pk: int) -> Response:
        """Add a person to a partner organisation. 201, with the same body, whether the address
        was new or already has an account with another organisation (its owner is told by
        e-mail); 400 when it is already a member of this organisation."""
        organisation = access.get_visible_organisation(access.acting_user(request), pk)
        access.require(access.acting_user(request), access.Action.PARTNER_ADD_USER, organisation)
        data = PartnerUserIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.partner_user_add(  # whether an account was created is deliberately not told
            actor=access.acting_user(request),
            organisation=organisation,
            **data.validated_data,
        )
        body = {
            "email": data.validated_data["email"].strip().lower(),
            "role": data.validated_data["role"],
            "detail": PARTNER_USER_ADDED,
        }
        return Response(PartnerUserAddedOut(body).data, status=status.HTTP_201_CREATED)


class SubscriptionChangeApi(APIView):
    @extend_schema(request=SubscriptionChangeIn, responses={201: SubscriptionChangeOut})
    def post(self, request: Request) -> Response:
        access.require(access.acting_user(request), access.Action.SUBSCRIPTION_CHANGE)
        data = SubscriptionChangeIn(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.subscription_change(
            actor=access.acting_user(request), **data.validated_data
        )
        latest = subscription.versions.order_by("-effective_from").first()
        body = {
            "subscription": subscription.pk,
            "customer_domain": subscription.customer.domain,
            "product_line": subscription.product_line_id,
            "version": None if data.validated_data["terminated"] or latest is None else latest.pk,
        }
        return Response(SubscriptionChangeOut(body).data, status=status.HTTP_201_CREATED)


class ActivityCreateApi(APIView):
    @extend_schema(request=ActivityIn, responses={201: ActivityOut})
    def post(self, request: Request) -> Response:
        access.require(access.acting_user(request), access.Action.ACTIVITY_RECORD)
        data = ActivityIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        partner = (
            access.visible_organisations(access.acting_user(request))
            .filter(pk=values.pop("partner"))
            .first()
        )
        if partner is None:
            raise InvalidInput("No such partner.", field="partner")
        activity = services.activity_record(
            actor=access.acting_user(request), partner=partner, **values
        )
        return Response(ActivityOut(activity).data, status=status.HTTP_201_CREATED)


class AuditEventListApi(generics.ListAPIView):
    serializer_class = AuditEventOut
    queryset = AuditEvent.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self) -> QuerySet[AuditEvent]:
        access.require(access.acting_user(self.request), access.Action.AUDIT_VIEW)
        return selectors.audit_events()
