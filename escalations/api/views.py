"""Escalations API (SPEC 11): thin views. Objects come through the selectors (404 outside the
caller's reach), actions through the services (403 for a forbidden action, 400 naming the
field and the allowed moves)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partnerportal.core import access
from partnerportal.core.access import acting_user
from partnerportal.core.errors import InvalidInput, NotFound
from partnerportal.core.models import Organisation, User

from .. import rules, selectors, services
from ..inputs import ConsequenceEnd, ConsequenceInput, EscalationInput, MoveInput
from ..models import Consequence, Escalation, Mark
from ..permissions import EscalationAction
from .serializers import (
    CASE_VIEW,
    CASE_VIEWS,
    ConsequenceEndIn,
    ConsequenceIn,
    ConsequenceOut,
    EscalationIn,
    EscalationOut,
    MarkOut,
    StaffEscalationOut,
    TransitionIn,
)

_S = TypeVar("_S", bound=serializers.Serializer)


def _valid(serializer_class: type[_S], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    if not serializer.is_valid():
        raise InvalidInput(
            errors={
                field: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
                for field, msgs in serializer.errors.items()
            }
        )
    return dict(serializer.validated_data)


def _partner(user: User, pk: int) -> Organisation:
    """A partner named in a request body: unknown or out of reach is a 400 on `partner`."""
    try:
        return access.get_visible_organisation(user, pk)
    except NotFound as exc:
        raise InvalidInput("No such partner.", field="partner") from exc


def _visibility(partner_visible: bool) -> rules.Visibility:
    return rules.Visibility.PARTNER_VISIBLE if partner_visible else rules.Visibility.STAFF_ONLY


def case_out(user: User, case: Escalation) -> dict[str, Any]:
    """A case as `user` may read it (a partner: partner-visible notes only)."""
    case.visible_notes = selectors.case_notes(user, case)  # type: ignore[attr-defined]
    case.timeline = selectors.case_timeline(case)  # type: ignore[attr-defined]
    if selectors.is_partner(user):
        return EscalationOut(case).data  # type: ignore[return-value]
    return StaffEscalationOut(case, context={"role": user.role}).data  # type: ignore[return-value]


class EscalationListCreateApi(generics.ListAPIView):
    queryset = Escalation.objects.none()
    serializer_class = StaffEscalationOut

    def get_serializer_class(self) -> type:
        if getattr(self, "swagger_fake_view", False):
            return StaffEscalationOut
        if selectors.is_partner(acting_user(self.request)):
            return EscalationOut
        return StaffEscalationOut

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["role"] = acting_user(self.request).role
        return context

    def get_queryset(self) -> QuerySet[Escalation]:
        user = acting_user(self.request)
        access.require(user, EscalationAction.VIEW)
        partner = self.request.query_params.get("partner")
        return selectors.case_list(
            user,
            status=self.request.query_params.get("status"),
            partner_id=int(partner) if partner and partner.isdigit() else None,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=[s.value for s in rules.Status]),
            OpenApiParameter("partner", int),
        ],
        responses=CASE_VIEWS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=EscalationIn, responses={201: CASE_VIEW})
    def post(self, request: Request) -> Response:
        user = acting_user(request)
        access.require(user, EscalationAction.OPEN)
        data = _valid(EscalationIn, request)
        case = services.escalation_open(
            actor=user,
            data=EscalationInput(
                partner=_partner(user, data["partner"]),
                customer_domain=data["customer_domain"],
                summary=data["summary"],
                serious=data["serious"],
                note=data["note"],
                note_visibility=_visibility(data["note_partner_visible"]),
            ),
        )
        return Response(case_out(user, case), status=status.HTTP_201_CREATED)


class EscalationDetailApi(APIView):
    @extend_schema(responses=CASE_VIEW)
    def get(self, request: Request, pk: int) -> Response:
        user = acting_user(request)
        return Response(case_out(user, selectors.get_case(user, pk)))


class EscalationTransitionApi(APIView):
    @extend_schema(
        request=TransitionIn,
        responses={201: CASE_VIEW},
        description=(
            "Move a case on, as the owner of its step. Allowed: from complaint to=closed "
            "outcome=resolved or to=mediation; from mediation to=closed outcome=agreement or "
            "to=ops_escalation; from ops_escalation to=closed outcome=not_at_fault or "
            "to=review_board; from review_board to=closed outcome=mark or outcome=no_mark (with "
            "director_approval). Anything else is a 400 naming the allowed moves."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        user = acting_user(request)
        case = selectors.get_case(user, pk)
        access.require(user, EscalationAction.ACT, case.organisation)
        data = _valid(TransitionIn, request)
        services.escalation_move(
            actor=user,
            escalation=case,
            data=MoveInput(
                to=data["to"],
                outcome=data["outcome"],
                note=data["note"],
                note_visibility=_visibility(data["note_partner_visible"]),
                director_approval=data["director_approval"],
            ),
        )
        return Response(case_out(user, case), status=status.HTTP_201_CREATED)


class PartnerMarksApi(generics.ListAPIView):
    serializer_class = MarkOut
    queryset = Mark.objects.none()

    def get_queryset(self) -> QuerySet[Mark]:
        user = acting_user(self.request)
        organisation = selectors.partner_for(user, self.kwargs["pk"], EscalationAction.MARKS_VIEW)
        return selectors.visible_marks(user).filter(organisation=organisation)


class ConsequenceListCreateApi(generics.ListAPIView):
    serializer_class = ConsequenceOut
    queryset = Consequence.objects.none()

    def get_queryset(self) -> QuerySet[Consequence]:
        user = acting_user(self.request)
        access.require(user, EscalationAction.CONSEQUENCES_VIEW)
        partner = self.request.query_params.get("partner")
        return selectors.visible_consequences(
            user, partner_id=int(partner) if partner and partner.isdigit() else None
        )

    @extend_schema(parameters=[OpenApiParameter("partner", int)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ConsequenceIn, responses={201: ConsequenceOut})
    def post(self, request: Request) -> Response:
        user = acting_user(request)
        access.require(user, EscalationAction.CONSEQUENCES_APPLY)
        data = _valid(ConsequenceIn, request)
        consequence = services.consequence_apply(
            actor=user,
            data=ConsequenceInput(
                partner=_partner(user, data["partner"]),
                kind=rules.ConsequenceKind(data["kind"]),
                reason=data["reason"],
                effective_from=data["effective_from"],
                effective_until=data["effective_until"],
                tiers_dropped=data["tiers_dropped"],
                escalation_id=data["escalation"],
            ),
        )
        return Response(ConsequenceOut(consequence).data, status=status.HTTP_201_CREATED)


class ConsequenceEndApi(APIView):
    @extend_schema(request=ConsequenceEndIn, responses=ConsequenceOut)
    def post(self, request: Request, pk: int) -> Response:
        user = acting_user(request)
        consequence = selectors.get_consequence(user, pk)
        access.require(user, EscalationAction.CONSEQUENCES_APPLY, consequence.organisation)
        data = _valid(ConsequenceEndIn, request)
        consequence = services.consequence_end(
            actor=user,
            consequence=consequence,
            data=ConsequenceEnd(effective_until=data["effective_until"], reason=data["reason"]),
        )
        return Response(ConsequenceOut(consequence).data)
