"""Commissions API (SPEC 11): thin views. The run through the service (403 for anyone but
finance, 400 naming `month`); a partner's ledger through the selectors (404 out of reach)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partnerportal.core import access
from partnerportal.core.access import acting_user

from .. import selectors, services
from ..inputs import parse_month
from ..models import AccrualRun, LedgerLine
from ..permissions import CommissionAction
from .serializers import AccrualRunIn, AccrualRunOut, EntitlementOut, LedgerLineOut


class AccrualRunApi(APIView):
    @extend_schema(request=AccrualRunIn, responses={201: AccrualRunOut})
    def post(self, request: Request) -> Response:
        """Accrue revenue share through a month now (idempotent) and return what this run did."""
        user = acting_user(request)
        access.require(user, CommissionAction.ACCRUE)
        data = AccrualRunIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.accrual_run(
            month=parse_month(data.validated_data["month"]),
            actor=user,
            trigger=AccrualRun.Trigger.API,
        )
        return Response(AccrualRunOut(result.run).data, status=status.HTTP_201_CREATED)


class PartnerLedgerApi(generics.ListAPIView[LedgerLine]):
    """A partner's ledger lines, oldest month first: finance, and the partner's own users."""

    serializer_class = LedgerLineOut
    queryset = LedgerLine.objects.none()

    def get_queryset(self) -> QuerySet[LedgerLine]:
        partner = selectors.ledger_partner(acting_user(self.request), self.kwargs["pk"])
        return selectors.ledger_lines(partner)


class PartnerEntitlementsApi(APIView):
    @extend_schema(responses={200: EntitlementOut(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        """The partner's entitlements and what each earns by month through the current month,
        by the billing as it stands: finance, and the partner's own users."""
        partner = selectors.ledger_partner(acting_user(request), pk)
        views = selectors.entitlements_with_schedule(partner, through=timezone.localdate())
        return Response(EntitlementOut(views, many=True).data)
