"""Commissions API (SPEC 11): thin views. The run through the service (403 for anyone but
finance, 400 naming `month`); a partner's ledger through the selectors (404 out of reach); the
quarterly statements: read through the selectors (a partner its own, 404 otherwise), closed,
released and paid through the services (finance; 403 on a visible statement), exported by
`commissions.exports`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partnerportal.core import access
from partnerportal.core.access import acting_user
from partnerportal.core.errors import InvalidInput

from .. import exports, rules, selectors, services
from ..inputs import parse_month
from ..models import AccrualRun, LedgerLine, QuarterClose, Statement
from ..permissions import CommissionAction
from .serializers import (
    AccrualRunIn,
    AccrualRunOut,
    EntitlementOut,
    ExportQuery,
    LedgerLineOut,
    PaymentIn,
    QuarterCloseIn,
    QuarterCloseOut,
    StatementDetailOut,
    StatementOut,
    StatementQuery,
)


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


# --- Quarterly statements ---------------------------------------------------------------------


def _quarter(text: str, field: str = "quarter") -> rules.Quarter:
    try:
        return rules.parse_quarter(text)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from exc


def _valid(serializer: serializers.Serializer) -> dict[str, Any]:
    """The serializer's data, or its field messages as the one 400 of the error family."""
    if not serializer.is_valid():
        raise InvalidInput(
            errors={
                field: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
                for field, msgs in serializer.errors.items()
            }
        )
    return dict(serializer.validated_data)


class StatementListApi(generics.ListAPIView[Statement]):
    """Statements, newest quarter first: finance sees every partner's, a partner's users their
    own. Optionally of one quarter (`YYYY-Qn`), status or currency."""

    serializer_class = StatementOut
    queryset = Statement.objects.none()

    def get_queryset(self) -> QuerySet[Statement]:
        user = acting_user(self.request)
        access.require(user, CommissionAction.STATEMENT_VIEW)
        query = _valid(StatementQuery(data=self.request.query_params))
        return selectors.statements_visible(
            user,
            quarter=_quarter(query["quarter"]) if "quarter" in query else None,
            status=query.get("status"),
            currency=query.get("currency"),
        )

    @extend_schema(parameters=[StatementQuery])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class StatementDetailApi(APIView):
    @extend_schema(responses={200: StatementDetailOut})
    def get(self, request: Request, pk: int) -> Response:
        """A statement with its lines and where each comes from (ledger line, entitlement,
        deal and its resolution rule, registration, POI): finance, and the partner's users."""
        statement = selectors.statement_for(acting_user(request), pk)
        lines = selectors.statement_lines(statement)
        return Response(StatementDetailOut(statement, context={"lines": lines}).data)


class StatementReleaseApi(APIView):
    @extend_schema(request=None, responses={200: StatementOut})
    def post(self, request: Request, pk: int) -> Response:
        """Release a held statement once no reason holds it any more (finance)."""
        statement = services.release_statement(actor=acting_user(request), statement_id=pk)
        return Response(StatementOut(statement).data)


class StatementPaymentApi(APIView):
    @extend_schema(request=PaymentIn, responses={200: StatementOut})
    def post(self, request: Request, pk: int) -> Response:
        """Mark a payable statement paid, with the payment's reference and date (finance)."""
        user = acting_user(request)
        selectors.statement_for(user, pk)  # 404 outside reach before any 400 on the body
        data = _valid(PaymentIn(data=request.data))
        statement = services.mark_statement_paid(
            actor=user,
            statement_id=pk,
            payment_reference=data["payment_reference"],
            paid_on=data["paid_on"],
        )
        return Response(StatementOut(statement).data)


class QuarterCloseApi(APIView):
    @extend_schema(request=QuarterCloseIn, responses={200: QuarterCloseOut, 201: QuarterCloseOut})
    def post(self, request: Request) -> Response:
        """Close a quarter (finance): 201 with its statements and totals; 200 when it was
        already closed (nothing changes). With `dry_run`, 200 with what the close would
        produce, writing nothing."""
        user = acting_user(request)
        access.require(user, CommissionAction.QUARTER_CLOSE)
        data = _valid(QuarterCloseIn(data=request.data))
        quarter = _quarter(data["quarter"])
        created = False
        if not data["dry_run"]:
            created = services.close_quarter(actor=user, quarter=quarter).created
        preview = services.preview_quarter(actor=user, quarter=quarter)
        close = QuarterClose.objects.filter(quarter=quarter.label).first()
        body = {
            "quarter": quarter.label,
            "dry_run": data["dry_run"],
            "already_closed": preview.already_closed and not created,
            "closed_at": close.closed_at if close else None,
            "payable_on": rules.payable_on(quarter),
            "statements": preview.statements,
            "totals": preview.totals,
        }
        return Response(
            QuarterCloseOut(body).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class _TheFormatParameterIsTheFile(DefaultContentNegotiation):
    """`?format=` names the export's file format here, not DRF's renderer: errors answer JSON."""

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


EXPORT_TYPES = {
    "text/csv": OpenApiTypes.BINARY,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": OpenApiTypes.BINARY,
    "application/pdf": OpenApiTypes.BINARY,
}


class StatementExportApi(APIView):
    content_negotiation_class = _TheFormatParameterIsTheFile

    @extend_schema(
        parameters=[ExportQuery],
        responses={(200, media): kind for media, kind in EXPORT_TYPES.items()},
    )
    def get(self, request: Request) -> HttpResponse:
        """A closed quarter's statements as CSV, XLSX or PDF (finance), the same bytes for the
        same ledger."""
        access.require(acting_user(request), CommissionAction.STATEMENT_EXPORT)
        query = _valid(ExportQuery(data=request.query_params))
        export = exports.export_quarter(_quarter(query["quarter"]), query["format"])
        response = HttpResponse(export.content, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
