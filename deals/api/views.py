"""Deals API (SPEC 11): thin views. Objects come through the selectors (404 outside the
caller's reach), actions through the services (403 for a forbidden action, 400 naming the
field, 409 for a state that does not allow it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partnerportal.core import access
from partnerportal.core.access import acting_user
from partnerportal.core.errors import NON_FIELD, InvalidInput
from partnerportal.core.models import PARTNER_ROLES

from .. import selectors, services
from ..inputs import PoiDecision
from ..models import Deal, Registration, SoldAssociation
from ..permissions import DealAction
from ..rules import PoiLinkProblem
from .serializers import (
    AcknowledgeIn,
    AnswerIn,
    AssociationOut,
    CloseIn,
    ClosePreviewOut,
    CustomerIn,
    DealOut,
    DecideIn,
    DecisionNoteIn,
    InquiryIn,
    InquiryOut,
    InvitationIn,
    ManualPoiIn,
    PoiDecisionIn,
    PoiOut,
    QuoteIn,
    QuoteOut,
    ReferralIn,
    RegistrationOut,
    StaffRegistrationOut,
    close_preview_data,
)

_S = TypeVar("_S", bound=serializers.Serializer)


def _flatten(errors: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as the deals API names fields: `lines[1].currency`; an item's or a
    list's own error on the item or list (`lines[0]`, `lines`)."""
    if isinstance(errors, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            if key == NON_FIELD and path:
                name = path
            elif isinstance(key, int):
                name = f"{path}[{key}]"
            else:
                name = f"{path}.{key}" if path else str(key)
            for field, messages in _flatten(value, name).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(errors, list) and any(isinstance(item, Mapping | list) for item in errors):
        flat = {}
        for index, item in enumerate(errors):
            for field, messages in _flatten(item, f"{path}[{index}]").items():
                flat.setdefault(field, []).extend(messages)
        return flat
    messages = [str(m) for m in errors] if isinstance(errors, list) else [str(errors)]
    return {path or NON_FIELD: messages}


def _valid(serializer_class: type[_S], request: Request) -> _S:
    """The request body parsed by `serializer_class`; a 400 naming each field otherwise."""
    serializer = serializer_class(data=request.data)
    if not serializer.is_valid():
        raise InvalidInput(errors=_flatten(serializer.errors))
    return serializer


def _registration_out(request: Request, registration: Registration) -> dict[str, Any]:
    user = acting_user(request)
    if user.role in PARTNER_ROLES:
        return RegistrationOut(registration, context={"request": request}).data  # type: ignore[return-value]
    return StaffRegistrationOut(registration, context={"request": request}).data  # type: ignore[return-value]


def _deal_out(request: Request, deal: Deal) -> dict[str, Any]:
    return DealOut(
        selectors.deal_detail(acting_user(request), deal.pk), context={"request": request}
    ).data  # type: ignore[return-value]


class RegistrationListCreateApi(generics.ListAPIView):
    serializer_class = RegistrationOut
    queryset = Registration.objects.none()

    def get_queryset(self) -> QuerySet[Registration]:
        return selectors.registration_list(acting_user(self.request))

    def get_serializer_class(self) -> type:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return StaffRegistrationOut
        if acting_user(self.request).role in PARTNER_ROLES:
            return RegistrationOut
        return StaffRegistrationOut

    @extend_schema(request=CustomerIn, responses={201: RegistrationOut})
    def post(self, request: Request) -> Response:
        access.require(acting_user(request), DealAction.REGISTER)
        registration = services.registration_create(
            actor=acting_user(request), **_valid(CustomerIn, request).validated_data
        )
        return Response(_registration_out(request, registration), status=status.HTTP_201_CREATED)


class RegistrationDetailApi(APIView):
    @extend_schema(responses=StaffRegistrationOut)
    def get(self, request: Request, pk: int) -> Response:
        registration = selectors.get_registration(acting_user(request), pk)
        return Response(_registration_out(request, registration))


class _RegistrationAction(APIView):
    def registration(self, request: Request, pk: int) -> Registration:
        return selectors.get_registration(acting_user(request), pk)


class RegistrationApproveApi(_RegistrationAction):
    approve = True

    @extend_schema(request=DecisionNoteIn, responses=StaffRegistrationOut)
    def post(self, request: Request, pk: int) -> Response:
        registration = self.registration(request, pk)
        registration = services.registration_decide(
            actor=acting_user(request),
            registration=registration,
            approve=self.approve,
            note=_valid(DecisionNoteIn, request).validated_data["note"],
        )
        return Response(_registration_out(request, registration))


class RegistrationRejectApi(RegistrationApproveApi):
    approve = False


class RegistrationAcceptApi(_RegistrationAction):
    @extend_schema(request=None, responses=RegistrationOut)
    def post(self, request: Request, pk: int) -> Response:
        registration = services.invitation_accept(
            actor=acting_user(request), registration=self.registration(request, pk)
        )
        return Response(_registration_out(request, registration))


class RegistrationPoiApi(_RegistrationAction):
    @extend_schema(responses=PoiOut)
    def get(self, request: Request, pk: int) -> Response:
        registration = self.registration(request, pk)
        poi = selectors.current_poi(registration)
        if poi is None:
            return Response(
                {"detail": "There is no proof of involvement yet: the deal has no quote."},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(PoiOut(poi, context={"request": request}).data)

    @extend_schema(request=ManualPoiIn, responses={201: PoiOut})
    def post(self, request: Request, pk: int) -> Response:
        registration = self.registration(request, pk)
        data = _valid(ManualPoiIn, request).validated_data
        poi = services.manual_poi_create(
            actor=acting_user(request),
            registration=registration,
            product_lines=data["lines"],
            provides_onboarding=data["provides_onboarding"],
        )
        return Response(
            PoiOut(poi, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class RegistrationReferralApi(_RegistrationAction):
    @extend_schema(
        request=ReferralIn,
        responses={201: RegistrationOut},
        description=(
            "The sourcing partner refers a partner listed in the public directory. The answer "
            "(201, the sourcing registration) is the same for a listed partner, one already on "
            "the deal, and an unlisted or unknown id, which refers nobody."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        registration = self.registration(request, pk)
        registration = services.referral_create(
            actor=acting_user(request),
            registration=registration,
            partner_id=_valid(ReferralIn, request).validated_data["partner"],
        )
        return Response(_registration_out(request, registration), status=status.HTTP_201_CREATED)


class RegistrationAcknowledgeApi(_RegistrationAction):
    @extend_schema(request=AcknowledgeIn, responses=RegistrationOut)
    def post(self, request: Request, pk: int) -> Response:
        registration = services.secondary_acknowledge(
            actor=acting_user(request),
            registration=self.registration(request, pk),
            statement=_valid(AcknowledgeIn, request).validated_data["statement"],
        )
        return Response(_registration_out(request, registration))


class RegistrationInquiriesApi(_RegistrationAction):
    @extend_schema(responses=InquiryOut(many=True))
    def get(self, request: Request, pk: int) -> Response:
        registration = self.registration(request, pk)
        return Response(InquiryOut(selectors.registration_inquiries(registration), many=True).data)

    @extend_schema(request=InquiryIn, responses={201: InquiryOut})
    def post(self, request: Request, pk: int) -> Response:
        inquiry = services.inquiry_ask(
            actor=acting_user(request),
            registration=self.registration(request, pk),
            question=_valid(InquiryIn, request).validated_data["question"],
        )
        return Response(InquiryOut(inquiry).data, status=status.HTTP_201_CREATED)


class InquiryAnswerApi(APIView):
    @extend_schema(request=AnswerIn, responses=InquiryOut)
    def post(self, request: Request, pk: int) -> Response:
        user = acting_user(request)
        inquiry = selectors.get_inquiry(user, pk)
        inquiry = services.inquiry_answer(
            actor=user, inquiry=inquiry, answer=_valid(AnswerIn, request).validated_data["answer"]
        )
        return Response(InquiryOut(inquiry).data)


class DealCreateApi(APIView):
    @extend_schema(request=CustomerIn, responses={201: DealOut})
    def post(self, request: Request) -> Response:
        access.require(acting_user(request), DealAction.MANAGE)
        deal = services.deal_create(
            actor=acting_user(request), **_valid(CustomerIn, request).validated_data
        )
        return Response(_deal_out(request, deal), status=status.HTTP_201_CREATED)


class DealDetailApi(APIView):
    @extend_schema(responses=DealOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            DealOut(
                selectors.deal_detail(acting_user(request), pk), context={"request": request}
            ).data
        )


class DealInvitationApi(APIView):
    @extend_schema(request=InvitationIn, responses={201: StaffRegistrationOut})
    def post(self, request: Request, pk: int) -> Response:
        deal = selectors.get_deal(acting_user(request), pk)
        access.require(acting_user(request), DealAction.MANAGE)
        registration = services.invitation_create(
            actor=acting_user(request),
            deal=deal,
            partner_id=_valid(InvitationIn, request).validated_data["partner"],
        )
        return Response(_registration_out(request, registration), status=status.HTTP_201_CREATED)


class DealQuoteApi(APIView):
    @extend_schema(responses=QuoteOut)
    def get(self, request: Request, pk: int) -> Response:
        deal = selectors.get_deal(acting_user(request), pk)
        quote = selectors.current_quote(deal)
        if quote is None:
            return Response({"detail": "This deal has no quote yet."}, status=404)
        return Response(QuoteOut(quote, context={"request": request}).data)

    @extend_schema(request=QuoteIn, responses=QuoteOut)
    def put(self, request: Request, pk: int) -> Response:
        deal = selectors.get_deal(acting_user(request), pk)
        access.require(acting_user(request), DealAction.MANAGE)
        body = _valid(QuoteIn, request)
        quote = services.quote_save(
            actor=acting_user(request),
            deal=deal,
            lines=body.lines_input(),
            expected_close_date=body.validated_data["expected_close_date"],
        )
        return Response(QuoteOut(quote, context={"request": request}).data)


def _close_arguments(request: Request, pk: int) -> dict[str, Any]:
    """What the close and its preview both hand the service: the same deal, check and body."""
    deal = selectors.get_deal(acting_user(request), pk)
    access.require(acting_user(request), DealAction.MANAGE)
    body = _valid(CloseIn, request)
    data = body.validated_data
    return {
        "actor": acting_user(request),
        "deal": deal,
        "purchase_domain": data["purchase_domain"],
        "close_date": data["close_date"],
        "lines": body.lines_input(),
        "onboarding_partner": data["onboarding_partner"],
        "domain_mismatch_reason": data["domain_mismatch_reason"],
    }


class DealCloseApi(APIView):
    @extend_schema(
        request=CloseIn,
        responses=DealOut,
        description=(
            "Close the deal as won; Best Partner Wins decides the credit. Irreversible: "
            "`POST .../close-preview/` with the same body shows the outcome first. The close "
            "date lies between the day the deal opened and today; a purchase domain not "
            "registered on the deal needs `domain_mismatch_reason`."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        deal = services.deal_close(**_close_arguments(request, pk))
        return Response(_deal_out(request, deal))


class DealClosePreviewApi(APIView):
    @extend_schema(
        request=CloseIn,
        responses=ClosePreviewOut,
        description=(
            "A dry run of `POST .../close/` with the same body: the same checks (the same 400s "
            "and 409s) and the resolution Best Partner Wins would record, with nothing written."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        plan = services.deal_close_preview(**_close_arguments(request, pk))
        return Response(ClosePreviewOut(close_preview_data(plan)).data)


class DealDecideApi(APIView):
    @extend_schema(request=DecideIn, responses=DealOut)
    def post(self, request: Request, pk: int) -> Response:
        deal = selectors.get_deal(acting_user(request), pk)
        access.require(acting_user(request), DealAction.DECIDE)
        data = _valid(DecideIn, request).validated_data
        deal = services.deal_decide(
            actor=acting_user(request),
            deal=deal,
            registration_id=data["registration"],
            reason=data["reason"],
        )
        return Response(_deal_out(request, deal))


class PoiAnswerApi(APIView):
    """The customer's answer through the link: no account, the signed token is the key."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(request=PoiDecisionIn, responses=PoiOut)
    def post(self, request: Request, token: str) -> Response:
        decision = PoiDecision(_valid(PoiDecisionIn, request).validated_data["decision"])
        try:
            poi = services.poi_decide(token=token, decision=decision)
        except services.PoiLinkError as exc:
            if exc.problem is PoiLinkProblem.INVALID:
                return Response({"detail": "This link is not valid."}, status=exc.status)
            return Response({"detail": exc.message, "reason": exc.problem}, status=exc.status)
        return Response({"status": poi.status, "decided_at": poi.decided_at})


class PartnerAssociationsApi(generics.ListAPIView):
    serializer_class = AssociationOut
    queryset = SoldAssociation.objects.none()

    def get_queryset(self) -> QuerySet[SoldAssociation]:
        user = acting_user(self.request)
        organisation = access.get_visible_organisation(user, self.kwargs["pk"])
        access.require(user, DealAction.ASSOCIATIONS_VIEW, organisation)
        return selectors.associations_for(organisation.pk)
