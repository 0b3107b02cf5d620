"""Reads of commissions: the facts entitlements are decided on (rule-set data, the winner's
accreditation), the ledger and the quarterly statements as each caller may see them (through
`core.access`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils.functional import cached_property

from accreditations.models import Accreditation, AccreditationKind, AccreditationStatus
from deals.models import Poi
from partnerportal.core import access
from partnerportal.core.errors import NotFound
from partnerportal.core.models import Currency, Organisation, RevenueShareStop, User
from partnerportal.core.rules import first_of_month, months_back
from partnerportal.core.selectors import line_versions

from . import rules
from .models import (
    AccreditationExemptCountry,
    AccrualRun,
    Entitlement,
    LedgerLine,
    QuarterClose,
    Statement,
    StatementLine,
    UpmarketThreshold,
)
from .permissions import CommissionAction


def thresholds() -> list[rules.Threshold]:
    return [
        rules.Threshold(
            effective_from=row.effective_from,
            effective_until=row.effective_until,
            countries=frozenset(row.countries),
            usd=row.usd,
        )
        for row in UpmarketThreshold.objects.all()
    ]


def exempt_countries() -> frozenset[str]:
    return frozenset(AccreditationExemptCountry.objects.values_list("country_id", flat=True))


def usd100_amounts() -> dict[str, Decimal]:
    """The program's currency table: the amount of each currency worth USD 100."""
    return dict(Currency.objects.values_list("code", "points_amount"))


def crm_accredited(*, organisation_id: int, on: date) -> bool:
    """Whether the partner held a valid CRM Implementation accreditation on `on` (active or in
    grace, issued by then and expiring after)."""
    return Accreditation.objects.filter(
        Q(expires_on__isnull=True) | Q(expires_on__gt=on),
        organisation_id=organisation_id,
        kind=AccreditationKind.CRM_IMPLEMENTATION,
        status__in=[AccreditationStatus.ACTIVE, AccreditationStatus.GRACE],
        issued_on__lte=on,
    ).exists()


def revenue_share_stops(*, organisation_ids: Iterable[int]) -> dict[int, list[rules.Stop]]:
    """The losses of revenue share (the kernel's stops) of these partners, by partner. One
    query."""
    result: dict[int, list[rules.Stop]] = {}
    for row in RevenueShareStop.objects.filter(organisation_id__in=list(organisation_ids)):
        result.setdefault(row.organisation_id, []).append(
            rules.Stop(effective_from=row.effective_from, effective_until=row.effective_until)
        )
    return result


def ledger_partner(user: User, pk: object) -> Organisation:
    """The partner whose ledger `user` asks for: out of reach is a 404, a visible partner whose
    ledger the role may not read a 403."""
    organisation = access.get_visible_organisation(user, pk)
    access.require(user, CommissionAction.LEDGER_VIEW, organisation)
    return organisation


def ledger_lines(organisation: Organisation) -> QuerySet[LedgerLine]:
    """The partner's ledger, read month by month through `ledger_line_once` (month, partner,
    ...): every month from its earliest entitlement's close through the latest run's."""
    first = Entitlement.objects.filter(organisation=organisation).aggregate(
        first=Min("close_date")
    )["first"]
    last = AccrualRun.objects.aggregate(last=Max("month"))["last"]
    months: list[date] = []
    if first is not None and last is not None:
        month = first_of_month(first)
        while month <= last:
            months.append(month)
            month = months_back(month, -1)
    return (
        LedgerLine.objects.filter(organisation=organisation, month__in=months)
        .select_related("entitlement__customer", "entitlement__product_line")
        .order_by("month", "entitlement_id", "version", "kind", "id")
    )


@dataclass(frozen=True)
class EntitlementView:
    entitlement: Entitlement
    schedule: list[rules.Accrual]


def entitlements_with_schedule(
    organisation: Organisation, *, through: date
) -> list[EntitlementView]:
    """A partner's entitlements, each with what it earns month by month through `through`
    by the billing and the partner's revenue-share stops as they stand
    (`rules.accrual_schedule`): the ledger after the next run. Three queries."""
    entitlements = list(
        Entitlement.objects.filter(organisation=organisation)
        .select_related("customer", "product_line")
        .order_by("close_date", "id")
    )
    versions = line_versions({e.customer_id for e in entitlements})
    stops = revenue_share_stops(organisation_ids=[organisation.pk]).get(organisation.pk, [])
    return [
        EntitlementView(
            entitlement=e,
            schedule=rules.accrual_schedule(
                close_date=e.close_date,
                months=e.months,
                versions=versions.get((e.customer_id, e.product_line_id), []),
                through=through,
                stops=stops,
            ),
        )
        for e in entitlements
    ]


# --- Quarterly statements ---------------------------------------------------------------------


@dataclass(frozen=True)
class Total:
    """What a quarter's statements of one status and currency add up to."""

    status: str
    currency: str
    statements: int
    amount: Decimal


def statements_visible(
    user: User,
    *,
    quarter: rules.Quarter | None = None,
    status: str | None = None,
    currency: str | None = None,
) -> QuerySet[Statement]:
    """The statements `user` may read (finance: all; a partner's users: their own; anyone else:
    none), newest quarter first, optionally of one quarter, status or currency."""
    statements = Statement.objects.select_related("organisation", "currency")
    if not access.can(user, CommissionAction.STATEMENT_VIEW):
        return statements.none()
    statements = access.scope_to_user(user, statements, organisation_field="organisation")
    if quarter is not None:
        statements = statements.filter(quarter=quarter.label)
    if status:
        statements = statements.filter(status=status)
    if currency:
        statements = statements.filter(currency_id=currency)
    return statements.order_by("-quarter", "organisation__name", "currency_id", "id")


class _CountedPaginator(Paginator):
    """A paginator told its count (when the caller already knows it) instead of asking."""

    def __init__(self, object_list: Any, per_page: int, *, known_count: int | None) -> None:
        super().__init__(object_list, per_page)
        self._known_count = known_count

    @cached_property
    def count(self) -> int:
        if self._known_count is None:
            return super().count
        return self._known_count


class _QuarterStatementIds:
    """The ids of a quarter's statements that `user` may read, each with its partner's name
    (`(id, name)`), in `statements_visible`'s order (partner name, currency, id), read a slice
    at a time.

    The partners come first, read in name order from their index (`organisation_name`, a
    page reads only its first partners), and each one's statements are reached through
    the (organisation, quarter, currency) unique index, so a page stops after its rows instead
    of joining and sorting every statement of the quarter (47 660 at the vendor's scale)."""

    def __init__(
        self,
        user: User,
        *,
        quarter: rules.Quarter,
        status: str | None,
        currency: str | None,
        partner: str,
    ) -> None:
        organisations = access.visible_organisations(user)
        if not access.can(user, CommissionAction.STATEMENT_VIEW):
            organisations = organisations.none()
        if partner:
            organisations = organisations.filter(name__icontains=partner)
        self.organisations = organisations
        self.quarter = quarter
        self.status = status
        self.currency = currency

    def count(self) -> int:
        statements = Statement.objects.filter(
            quarter=self.quarter.label, organisation__in=self.organisations
        )
        if self.status:
            statements = statements.filter(status=self.status)
        if self.currency:
            statements = statements.filter(currency_id=self.currency)
        return statements.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[tuple[int, str]]:
        if not isinstance(key, slice) or key.step is not None:
            raise TypeError("Only plain slices of statement ids are read.")
        offset = key.start or 0
        limit = (key.stop - offset) if key.stop is not None else None
        # No order in the partners' subquery: PostgreSQL then joins it into the statement, and
        # the outer ORDER BY reads the partners from the name index (`organisation_name`), only
        # as many as the page needs. (Ordered, the subquery is planned alone and sorts every
        # partner's name for each page: 12-14 ms at the vendor's 10 000 partners.)
        organisations = self.organisations.order_by().values_list("id", "name")
        try:
            organisation_sql, params = organisations.query.sql_with_params()
        except EmptyResultSet:
            return []
        conditions = ["s.organisation_id = o.id", "s.quarter = %s"]
        args: list[Any] = [*params, self.quarter.label]
        if self.status:
            conditions.append("s.status = %s")
            args.append(self.status)
        if self.currency:
            conditions.append("s.currency_id = %s")
            args.append(self.currency)
        # Only placeholders, our own table's name and the SQL Django compiled for the partners
        # go into the text; every value is a parameter.
        sql = (
            f"SELECT s.id, o.name FROM ({organisation_sql}) AS o (id, name) CROSS JOIN LATERAL "  # noqa: S608
            f"(SELECT s.id, s.currency_id FROM {Statement._meta.db_table} s "
            f"WHERE {' AND '.join(conditions)}) AS s "
            "ORDER BY o.name, s.currency_id, s.id OFFSET %s"
        )
        args.append(offset)
        if limit is not None:
            sql += " LIMIT %s"
            args.append(max(limit, 0))
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return [(row[0], row[1]) for row in cursor.fetchall()]


def quarter_statement_ids_page(
    user: User,
    *,
    quarter: rules.Quarter,
    status: str | None = None,
    currency: str | None = None,
    partner: str = "",
    number: str | int | None = None,
    per_page: int,
    count: int | None = None,
) -> Page:
    """One page of the quarter's statements `user` may read (as `statements_visible` orders
    and filters them, `partner` a part of the partner's name), as `(id, partner name)`; the
    page reads the statements themselves (`statements_in_order`) only if they are not cached.
    `count`: how many there are, if the caller knows it (the quarter's totals count each status
    and currency), else one COUNT. One query with `count`, two without."""
    ids = _QuarterStatementIds(
        user, quarter=quarter, status=status, currency=currency, partner=partner
    )
    page = _CountedPaginator(ids, per_page, known_count=count).get_page(number)
    page.object_list = list(page.object_list)
    return page


def statements_in_order(ids: list[int]) -> list[Statement]:
    """The statements `ids` (already visible) in that order, each with its partner."""
    found = Statement.objects.select_related("organisation").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def statement_for(user: User, pk: object) -> Statement:
    """The statement `pk` if `user` may read it. Outside the caller's reach is a 404, the same
    answer whether it exists or not; a staff role that sees the partner but not statements gets
    a 403 (`access.require`)."""
    try:
        statement = access.scope_to_user(
            user,
            Statement.objects.select_related("organisation", "currency"),
            organisation_field="organisation",
        ).get(pk=int(str(pk)))
    except (Statement.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound("No such statement.") from exc
    access.require(user, CommissionAction.STATEMENT_VIEW, statement.organisation)
    return statement


@dataclass(frozen=True)
class StatementLineView:
    """A statement line with where it comes from: the ledger line, the entitlement, the deal and
    its resolution rule, the sold association's registration and the POI behind it."""

    id: int
    ledger_line: int
    kind: str  # accrual | reversal
    month: date
    customer_name: str
    customer_domain: str
    product_line: str  # code
    product_line_name: str
    mrr: Decimal
    currency: str
    rate: Decimal
    amount: Decimal
    prior_period: bool
    reason: str
    reverses: int | None
    replaces: int | None
    entitlement: int
    program: str
    deal: int
    resolution_rule: str
    registration: int
    poi: int | None
    poi_status: str | None


def _counting_pois(registration_ids: Iterable[int]) -> dict[int, Poi]:
    """The POI behind each registration: its approved one, else its latest. One query."""
    found: dict[int, Poi] = {}
    for poi in Poi.objects.filter(registration_id__in=set(registration_ids)).order_by(
        "registration_id", "-created_at", "-id"
    ):
        current = found.get(poi.registration_id)
        if current is None or (
            poi.status == Poi.Status.APPROVED and current.status != Poi.Status.APPROVED
        ):
            found[poi.registration_id] = poi
    return found


def statement_lines_query(statement: Statement) -> QuerySet[StatementLine]:
    """A statement's lines, oldest month first, with what their provenance reads (for paging:
    `statement_line_views` of a page)."""
    return (
        StatementLine.objects.filter(statement=statement)
        .select_related(
            "ledger_line__entitlement__customer",
            "ledger_line__entitlement__product_line",
            "ledger_line__entitlement__association",
            "ledger_line__entitlement__deal",
        )
        .order_by("month", "ledger_line_id")
    )


def statement_lines(statement: Statement) -> list[StatementLineView]:
    """A statement's lines, oldest month first, each with its provenance. Two queries."""
    return statement_line_views(statement_lines_query(statement))


def statement_line_views(rows: Iterable[StatementLine]) -> list[StatementLineView]:
    """These statement lines (from `statement_lines_query`) with their provenance. One query
    besides reading them (the POIs)."""
    lines = list(rows)
    pois = _counting_pois(sl.ledger_line.entitlement.association.registration_id for sl in lines)
    result = []
    for sl in lines:
        ledger = sl.ledger_line
        entitlement = ledger.entitlement
        registration = entitlement.association.registration_id
        poi = pois.get(registration)
        result.append(
            StatementLineView(
                id=sl.pk,
                ledger_line=ledger.pk,
                kind=ledger.kind,
                month=sl.month,
                customer_name=entitlement.customer.name,
                customer_domain=entitlement.customer.domain,
                product_line=entitlement.product_line_id,
                product_line_name=entitlement.product_line.name,
                mrr=ledger.mrr,
                currency=ledger.currency_id,
                rate=rules.RATE,
                amount=sl.amount,
                prior_period=sl.prior_period,
                reason=ledger.reason,
                reverses=ledger.reverses_id,
                replaces=ledger.replaces_id,
                entitlement=entitlement.pk,
                program=entitlement.program,
                deal=entitlement.deal_id,
                resolution_rule=entitlement.deal.resolution_rule,
                registration=registration,
                poi=poi.pk if poi else None,
                poi_status=poi.status if poi else None,
            )
        )
    return result


def quarter_totals(quarter: rules.Quarter) -> list[Total]:
    """A closed quarter's statements by status and currency: count and amount. One GROUP BY."""
    rows = (
        Statement.objects.filter(quarter=quarter.label)
        .values("status", "currency_id")
        .annotate(statements=Count("id"), amount=Sum("total"))
        .order_by("status", "currency_id")
    )
    return [
        Total(
            status=row["status"],
            currency=row["currency_id"],
            statements=row["statements"],
            amount=row["amount"],
        )
        for row in rows
    ]


# A closed quarter's totals are read on every view of its page (a GROUP BY over its tens of
# thousands of statements) and change only when a statement is released or paid: kept in the
# cache, keyed by the close (a new close is read afresh) and by a token the release and the
# payment replace once they commit (`statements_changed`). A lost token is a new one, so an
# evicted token never brings back an old entry.
_STATEMENTS_VERSION_KEY = "commissions:statements:version"
_TOTALS_SECONDS = 24 * 3600


def statements_version() -> str:
    """The token `statements_changed` replaces: what was read of a closed quarter's
    statements (totals, rows) is still true while it is the same."""
    return str(cache.get_or_set(_STATEMENTS_VERSION_KEY, lambda: uuid4().hex, timeout=None))


def statements_changed() -> None:
    """A statement's status changed: every cached quarter total is stale. Called when the
    change is made and again once it commits (a page read in between, from the data before
    the commit, is then not kept)."""
    cache.set(_STATEMENTS_VERSION_KEY, uuid4().hex, timeout=None)


def closed_quarter_totals(close: QuarterClose) -> list[Total]:
    """`quarter_totals` of a closed quarter, from the cache when nothing changed since."""
    token = statements_version()
    key = f"commissions:quarter-totals:{close.pk}:{close.closed_at.timestamp()}:{token}"
    cached = cache.get(key)
    if cached is not None:
        return [Total(*row) for row in cached]
    totals = quarter_totals(rules.parse_quarter(close.quarter))
    cache.set(
        key,
        [(t.status, t.currency, t.statements, t.amount) for t in totals],
        timeout=_TOTALS_SECONDS,
    )
    return totals


def closed_quarters() -> list[QuarterClose]:
    """Every quarter closed so far, latest first."""
    return list(QuarterClose.objects.select_related("closed_by").order_by("-starts_on"))


def closed_quarter(quarter: rules.Quarter) -> QuarterClose | None:
    """The close of `quarter`, None while it is open."""
    return QuarterClose.objects.select_related("closed_by").filter(quarter=quarter.label).first()


def closed_quarter_set() -> frozenset[rules.Quarter]:
    return frozenset(
        rules.parse_quarter(label)
        for label in QuarterClose.objects.values_list("quarter", flat=True)
    )


@dataclass(frozen=True)
class UpcomingAccrual:
    """What one entitlement is expected to accrue for a coming month, by the billing as it
    stands (it may still change: only the monthly run writes the ledger)."""

    month: date
    entitlement: int
    customer_name: str
    customer_domain: str
    product_line: str
    product_line_name: str
    mrr: Decimal
    currency: str
    amount: Decimal


def upcoming_accruals(
    organisation: Organisation, *, today: date, months: int = 3
) -> list[UpcomingAccrual]:
    """What the partner's entitlements are expected to accrue from the current month for
    `months` months (`rules.accrual_schedule` on the current billing and revenue-share stops),
    by month then customer. Three queries."""
    start = first_of_month(today)
    through = months_back(start, -(months - 1))
    # The same reads as `entitlements_with_schedule`, as plain values: a large partner has
    # thousands of entitlements, and building model instances for them (with their customers
    # and product lines) cost more than the schedules.
    entitlements = list(
        Entitlement.objects.filter(organisation=organisation)
        .order_by("close_date", "id")
        .values_list(
            "id",
            "customer_id",
            "product_line_id",
            "close_date",
            "months",
            "customer__name",
            "customer__domain",
            "product_line__name",
        )
    )
    versions = line_versions({row[1] for row in entitlements})
    stops = revenue_share_stops(organisation_ids=[organisation.pk]).get(organisation.pk, [])
    upcoming = [
        UpcomingAccrual(
            month=accrual.month,
            entitlement=pk,
            customer_name=customer_name,
            customer_domain=customer_domain,
            product_line=product_line,
            product_line_name=product_line_name,
            mrr=accrual.mrr,
            currency=accrual.currency,
            amount=accrual.amount,
        )
        for (
            pk,
            customer_id,
            product_line,
            close_date,
            entitlement_months,
            customer_name,
            customer_domain,
            product_line_name,
        ) in entitlements
        for accrual in rules.accrual_schedule(
            close_date=close_date,
            months=entitlement_months,
            versions=versions.get((customer_id, product_line), []),
            through=through,
            stops=stops,
        )
        if accrual.month >= start
    ]
    return sorted(upcoming, key=lambda u: (u.month, u.customer_domain, u.product_line))
