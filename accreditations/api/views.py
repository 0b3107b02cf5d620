"""Accreditation API (SPEC 11): one thin view per operation. A row outside the caller's
reach is a 404; a forbidden action on a visible one, a 403."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partnerportal.core import access
from partnerportal.core.access import acting_user

from .. import rules, selectors, services
from ..models import Accreditation, Certification, ReviewRun
from ..permissions import AccreditationAction
from .serializers import (
    AccreditationOut,
    ApplyIn,
    BoardDecisionIn,
    BoardDecisionOut,
    CertificationIn,
    CertificationOut,
    ReviewRunIn,
    ReviewRunOut,
)


def _partner_filter(request: Request, queryset: QuerySet) -> QuerySet:  # type: ignore[type-arg]
    partner = request.query_params.get("partner", "")
    if partner.isdigit():
        return queryset.filter(organisation_id=int(partner))
    return queryset


class CertificationListCreateApi(generics.ListAPIView):
    """The certifications the caller may see (`?partner=<id>` to narrow); partner ops record
    the academy's (idempotent on partner, code and holder)."""

    serializer_class = CertificationOut
    queryset = Certification.objects.none()

    @extend_schema(parameters=[OpenApiParameter("partner", int, required=False)])
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Certification]:
        user = acting_user(self.request)
        access.require(user, AccreditationAction.VIEW)
        return _partner_filter(self.request, selectors.visible_certifications(user)).order_by(
            "organisation_id", "code", "pk"
        )

    @extend_schema(
        request=CertificationIn, responses={201: CertificationOut, 200: CertificationOut}
    )
    def post(self, request: Request) -> Response:
        user = acting_user(request)
        access.require(user, AccreditationAction.CERTIFICATION_RECORD)
        data = CertificationIn(data=request.data)
        data.is_valid(raise_exception=True)
        row, what = services.certification_record(actor=user, data=data.to_input())
        return Response(
            CertificationOut(row).data,
            status=status.HTTP_201_CREATED if what == "created" else status.HTTP_200_OK,
        )


class AccreditationListCreateApi(generics.ListAPIView):
    """The accreditations the caller may see (ops all, a PDM its partners', a partner's users
    their own); a partner admin applies for one."""

    serializer_class = AccreditationOut
    queryset = Accreditation.objects.none()

    @extend_schema(parameters=[OpenApiParameter("partner", int, required=False)])
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Accreditation]:
        user = acting_user(self.request)
        access.require(user, AccreditationAction.VIEW)
        return _partner_filter(self.request, selectors.visible_accreditations(user))

    @extend_schema(request=ApplyIn, responses={201: AccreditationOut})
    def post(self, request: Request) -> Response:
        """Apply: the answer is `active` (with `expires_on`), `rejected` with the reasons, or
        `board_review` (more than three marks on record)."""
        user = acting_user(request)
        access.require(user, AccreditationAction.APPLY)
        data = ApplyIn(data=request.data)
        data.is_valid(raise_exception=True)
        accreditation = services.accreditation_apply(
            actor=user, kind=rules.Kind(data.validated_data["kind"])
        )
        return Response(AccreditationOut(accreditation).data, status=status.HTTP_201_CREATED)


class AccreditationDetailApi(APIView):
    @extend_schema(responses=AccreditationOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            AccreditationOut(selectors.accreditation_for(acting_user(request), pk)).data
        )


class BoardDecisionApi(APIView):
    @extend_schema(request=BoardDecisionIn, responses={201: BoardDecisionOut})
    def post(self, request: Request, pk: int) -> Response:
        """The review board's decision (partner ops), with the director's approval."""
        user = acting_user(request)
        selectors.accreditation_for(user, pk)  # 404 before 403: never confirm it exists
        access.require(user, AccreditationAction.BOARD_DECIDE)
        data = BoardDecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.board_decide(actor=user, accreditation_id=pk, data=data.to_input())
        return Response(BoardDecisionOut(decision).data, status=status.HTTP_201_CREATED)


class ReviewRunApi(APIView):
    @extend_schema(request=ReviewRunIn, responses={201: ReviewRunOut})
    def post(self, request: Request) -> Response:
        """Run the review of a date (15 January or 15 July) now; a second run of a date
        reviews nothing more."""
        user = acting_user(request)
        access.require(user, AccreditationAction.REVIEW_RUN)
        data = ReviewRunIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.review_run(
            as_of=data.validated_data["as_of"], actor=user, trigger=ReviewRun.Trigger.API
        )
        return Response(
            ReviewRunOut(
                {
                    "id": result.run_id,
                    "as_of": result.as_of,
                    "reviewed": result.reviewed,
                    "changed": result.changed,
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )
