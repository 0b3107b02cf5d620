"""Tier API (SPEC 11): one thin view per operation. A partner outside the caller's reach is
a 404 (`access.get_visible_organisation`); a forbidden action on a visible one, a 403."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from partnerportal.core import access
from partnerportal.core.access import acting_user

from .. import rules, selectors, services
from ..models import TierAssessment, TierRun
from ..permissions import TierAction
from .serializers import (
    AssessmentOut,
    EliteInvitationIn,
    EliteInvitationOut,
    PartnerTierOut,
    PartnerTierQuery,
    TierRunIn,
    TierRunOut,
)


class TierRunApi(APIView):
    @extend_schema(request=TierRunIn, responses={201: TierRunOut})
    def post(self, request: Request) -> Response:
        """Run the re-tiering for a date now and return what this run did."""
        access.require(acting_user(request), TierAction.RUN)
        data = TierRunIn(data=request.data)
        data.is_valid(raise_exception=True)
        # A date the rules refuse (no rule set in force, in the future) is an `InvalidInput`
        # on `as_of`: a 400 through the one error mapping (`core.api.errors`).
        result = services.tier_run(
            as_of=data.validated_data["as_of"],
            actor=acting_user(request),
            trigger=TierRun.Trigger.API,
        )
        run = selectors.tier_run_detail(result.run_id)
        return Response(TierRunOut(run).data, status=status.HTTP_201_CREATED)


class PartnerTierApi(APIView):
    @extend_schema(parameters=[PartnerTierQuery], responses=PartnerTierOut)
    def get(self, request: Request, pk: int) -> Response:
        """The partner's tier, its latest assessment's points, the gap to the next tier and
        one page of the assessment's contributing lines (the first unless `lines_page`)."""
        organisation = selectors.tiered_partner(acting_user(request), pk)
        query = PartnerTierQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        page, size = query.validated_data["lines_page"], query.validated_data["lines_page_size"]
        picture = selectors.partner_tier(organisation, lines_page=page, lines_page_size=size)
        body = _tier_body(picture)
        body.update(
            lines_page=page,
            lines_page_size=size,
            next=(_page_url(request, page + 1) if page * size < picture.lines_count else None),
            previous=_page_url(request, page - 1) if page > 1 else None,
        )
        return Response(PartnerTierOut(body).data)


def _page_url(request: Request, page: int) -> str:
    """This request's URL (its other parameters kept) for another page of lines."""
    return replace_query_param(request.build_absolute_uri(), "lines_page", page)


def _tier_body(picture: selectors.PartnerTier) -> dict[str, Any]:
    assessment, points, gap = picture.assessment, picture.points, picture.next_tier
    return {
        "partner": picture.organisation.pk,
        "tier": picture.organisation.tier,
        "as_of": assessment.as_of if assessment else None,
        "rule_set_effective_from": picture.rule_set.effective_from if picture.rule_set else None,
        "at_risk": assessment.at_risk if assessment else False,
        "next_down_tiering_window": picture.next_down_tiering_window,
        "elite_qualified": assessment.elite_qualified if assessment else False,
        "elite_invited": assessment.elite_invited if assessment else False,
        "points": {
            "sourced": rules.settle_points(points.sourced),
            "assisted": rules.settle_points(points.assisted),
            "managed": rules.settle_points(points.managed),
            "total": rules.settle_points(points.total),
        },
        "next_tier": (
            {
                "name": gap.tier.value,
                "missing": {"sold": gap.sold, "managed": gap.managed, "total": gap.total},
            }
            if gap is not None
            else None
        ),
        "partner_matching": (
            {
                "eligible": assessment.matching_eligible,
                "reasons": assessment.matching_gaps,
                "sourced_share_pct": assessment.sourced_share_pct,
            }
            if assessment is not None and assessment.matching_eligible is not None
            else None
        ),
        "lines": picture.lines,
        "lines_count": picture.lines_count,
    }


class PartnerAssessmentListApi(generics.ListAPIView):
    """The partner's assessments, newest first (paginated)."""

    serializer_class = AssessmentOut
    queryset = TierAssessment.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self) -> QuerySet[TierAssessment]:
        organisation = selectors.tiered_partner(acting_user(self.request), self.kwargs["pk"])
        return selectors.organisation_assessments(organisation)


class EliteInvitationApi(APIView):
    @extend_schema(
        request=EliteInvitationIn, responses={201: EliteInvitationOut, 200: EliteInvitationOut}
    )
    def post(self, request: Request, pk: int) -> Response:
        """Invite the partner to Elite (201); an existing invitation is returned as is (200)."""
        user = acting_user(request)
        organisation = access.get_visible_organisation(user, pk)
        access.require(user, TierAction.ELITE_INVITE, organisation)
        data = EliteInvitationIn(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, created = services.elite_invite(
            actor=user, organisation=organisation, reason=data.validated_data["reason"]
        )
        return Response(
            EliteInvitationOut(invitation).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
