"""Commission pages. Finance: the quarters (closed ones, and those that can be closed, with a
dry-run preview before the close), a quarter's statements with totals, filters and downloads,
and a statement with its lines' provenance, released or marked paid from there. Partners: their
own statements, why one is held, each line's provenance, and what their entitlements are
expected to accrue next.

Thin: reach from `access` and the scoped selectors, every write through a service, words from
`presenters`."""

from __future__ import annotations

import dataclasses
import hashlib
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from partnerportal.core import access, pagecache
from partnerportal.core.access import acting_user
from partnerportal.core.errors import InvalidInput, NotFound, StateConflict
from partnerportal.core.models import User

from . import exports, presenters, rules, selectors, services
from .forms import CloseQuarterForm, MarkPaidForm, ReleaseForm, StatementFilterForm
from .models import QuarterClose, Statement
from .permissions import CommissionAction

PAGE_SIZE = 50
LINES_PAGE_SIZE = 100
FILTERS_CACHE_SECONDS = 300  # the quarter page's unfiltered filter fields (a template fragment)
QUARTER_ROWS_SECONDS = 24 * 3600  # a page of a closed quarter's rows (`_quarter_rows_html`)
# Upcoming accruals on the partner's statements page (a large partner expects thousands).
UPCOMING_PAGE_SIZE = 100
# Ended quarters offered for a close, most recent first (older ones are rarely still open; the
# operator command closes any quarter).
OPEN_QUARTERS_SHOWN = 8


def _quarter(text: str) -> rules.Quarter:
    """The quarter of a path (its shape is checked by the URL): one the rules refuse is a 404."""
    try:
        return rules.parse_quarter(text)
    except ValueError as exc:
        raise NotFound("No such quarter.") from exc


# --- Finance: quarters -----------------------------------------------------------------------


def _quarters_page(
    request: HttpRequest,
    *,
    preview: Any = None,
    form: CloseQuarterForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    today = timezone.localdate()
    closed = selectors.closed_quarters()
    closed_labels = {close.quarter for close in closed}
    open_quarters = []
    quarter = rules.Quarter.of(today).previous()
    for _ in range(OPEN_QUARTERS_SHOWN):
        if quarter.label not in closed_labels:
            open_quarters.append(quarter)
        quarter = quarter.previous()
    context: dict[str, Any] = {
        "closed": closed,
        "open_quarters": open_quarters,
        "current_quarter": rules.Quarter.of(today),
        "error": error,
    }
    if preview is not None:
        held = [s for s in preview.statements if s.status == Statement.Status.HELD]
        held_page = Paginator(held, PAGE_SIZE).get_page(request.GET.get("held"))
        context.update(
            preview=preview,
            preview_payable_on=rules.payable_on(preview.quarter),
            preview_totals=presenters.total_rows(preview.totals),
            preview_statements=len(preview.statements),
            preview_lines=sum(s.lines for s in preview.statements),
            held_page=held_page,
            held_rows=[
                (
                    s,
                    presenters.money_text(s.total, s.currency),
                    presenters.held_text(s.held_reasons),
                )
                for s in held_page.object_list
            ],
            close_form=form or CloseQuarterForm(),
        )
    return render(request, "commissions/quarters.html", context, status=status)


@login_required
@require_GET
def quarters(request: HttpRequest) -> HttpResponse:
    """Finance's quarters: those closed, and those that have ended and can be closed."""
    access.require(acting_user(request), CommissionAction.QUARTER_CLOSE)
    return _quarters_page(request)


@login_required
@require_GET
def quarter_preview(request: HttpRequest, quarter: str) -> HttpResponse:
    """What closing the quarter would produce (totals, held partners and why), written nowhere."""
    user = acting_user(request)
    access.require(user, CommissionAction.QUARTER_CLOSE)
    period = _quarter(quarter)
    try:
        preview = services.preview_quarter(actor=user, quarter=period)
    except StateConflict as exc:
        return _quarters_page(request, error=exc.message, status=409)
    return _quarters_page(request, preview=preview)


@login_required
@require_POST
def quarter_close(request: HttpRequest, quarter: str) -> HttpResponse:
    user = acting_user(request)
    access.require(user, CommissionAction.QUARTER_CLOSE)
    period = _quarter(quarter)
    form = CloseQuarterForm(request.POST)
    if not form.is_valid():
        try:
            preview = services.preview_quarter(actor=user, quarter=period)
        except StateConflict as exc:
            return _quarters_page(request, error=exc.message, status=409)
        return _quarters_page(request, preview=preview, form=form, status=400)
    try:
        result = services.close_quarter(actor=user, quarter=period)
    except StateConflict as exc:
        return _quarters_page(request, error=exc.message, status=409)
    if result.created:
        messages.success(
            request,
            f"{period.label} is closed: {result.statements} statement"
            f"{'' if result.statements == 1 else 's'} from {result.lines} ledger line"
            f"{'' if result.lines == 1 else 's'}.",
        )
    else:
        messages.info(request, f"{period.label} was already closed: nothing changed.")
    return redirect("commissions:quarter", quarter=period.label)


@login_required
@require_GET
def quarter_detail(request: HttpRequest, quarter: str) -> HttpResponse:
    """A closed quarter: totals by status and currency, its statements (filtered, paged) and
    its downloads. A quarter not closed yet shows its preview instead."""
    user = acting_user(request)
    access.require(user, CommissionAction.STATEMENT_EXPORT)
    period = _quarter(quarter)
    # Unfiltered, a closed quarter's body is kept under the data version (core.pagecache):
    # only a committed change (a release, a payment) makes it read differently.
    pages = pagecache.plain_pages(request, "page")
    slot, body = pagecache.lookup(
        request, "commissions-quarter", period.label, user.role, pages, keep=pages is not None
    )
    if body is not None:
        return render(request, "commissions/quarter.html", {"quarter": period, "body": body})
    close = selectors.closed_quarter(period)
    if close is None:
        return redirect("commissions:quarter-preview", quarter=period.label)
    totals = selectors.closed_quarter_totals(close)
    currencies = sorted({t.currency for t in totals})
    form = StatementFilterForm(request.GET or None, currencies=currencies)
    filters = form.filters()
    if filters["partner"]:
        count = None  # a part of a name: counted by the database
    else:
        # Without a name filter the totals already count the statements of each status and
        # currency (finance reads every statement): no COUNT over the quarter.
        count = sum(
            t.statements
            for t in totals
            if (not filters["status"] or t.status == filters["status"])
            and (not filters["currency"] or t.currency == filters["currency"])
        )
    page = selectors.quarter_statement_ids_page(
        user,
        quarter=period,
        status=filters["status"] or None,
        currency=filters["currency"] or None,
        partner=filters["partner"],
        number=request.GET.get("page"),
        per_page=PAGE_SIZE,
        count=count,
    )
    body = pagecache.render(
        request,
        slot,
        "commissions/_quarter_body.html",
        {
            "quarter": period,
            "close": close,
            "payable_on": rules.payable_on(period),
            "totals": presenters.total_rows(totals),
            "filter_form": form,
            "filtered": any(filters.values()),
            # The unfiltered form's rendering is cached (the template), keyed by the currencies.
            "filter_currencies": ",".join(currencies),
            "filters_cache_seconds": 0 if form.is_bound else FILTERS_CACHE_SECONDS,
            "page": page,
            "rows_html": _quarter_rows_html(request, close, list(page.object_list)),
            "formats": [
                (fmt, words, reverse("commissions:quarter-export", args=[period.label, fmt]))
                for fmt, words in presenters.EXPORT_FORMATS
            ],
        },
    )
    return render(request, "commissions/quarter.html", {"quarter": period, "body": body})


def _quarter_rows_html(
    request: HttpRequest, close: QuarterClose, page_rows: list[tuple[int, str]]
) -> SafeString:
    """The rows of one page of a closed quarter's statements, rendered, "" for none.

    Kept in the cache, keyed by the close, by the page's statements and their partners' names
    (the page's `(id, name)` pairs, read anyway) and by `selectors.statements_version`: what
    the rows show of a statement changes only with a release or a payment, which replace that
    token (once made and once committed); its amounts never change once closed. So a warm
    page reads neither the statements nor renders their rows."""
    if not page_rows:
        return SafeString("")
    digest = hashlib.sha256(repr(page_rows).encode()).hexdigest()[:32]
    key = (
        f"commissions:quarter-rows:v1:{close.pk}:{close.closed_at.timestamp()}:"
        f"{selectors.statements_version()}:{digest}"
    )
    cached = cache.get(key)
    if cached is not None:
        return mark_safe(cached)  # noqa: S308 (this view's own rendering, escaped then)
    statements = selectors.statements_in_order([pk for pk, _ in page_rows])
    html = render_to_string(
        "commissions/_quarter_rows.html",
        {"rows": [presenters.statement_row(s) for s in statements]},
        request,
    )
    cache.set(key, str(html), QUARTER_ROWS_SECONDS)
    return mark_safe(html)  # noqa: S308 (rendered just now, escaped by the template)


@login_required
@require_GET
def quarter_export(request: HttpRequest, quarter: str, fmt: str) -> HttpResponse:
    """A closed quarter's statements as a file (CSV, XLSX or PDF), the same bytes each time."""
    access.require(acting_user(request), CommissionAction.STATEMENT_EXPORT)
    export = exports.export_quarter(_quarter(quarter), fmt)
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


# --- Finance: a statement --------------------------------------------------------------------


def _finance_statement_page(
    request: HttpRequest,
    user: User,
    statement: Statement,
    *,
    paid_form: MarkPaidForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    page = Paginator(selectors.statement_lines_query(statement), LINES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    may_pay = access.can(user, CommissionAction.STATEMENT_PAY)
    return render(
        request,
        "commissions/finance_statement.html",
        {
            "statement": statement,
            "row": presenters.statement_row(statement),
            "page": page,
            "lines": [
                presenters.line_row(line)
                for line in selectors.statement_line_views(page.object_list)
            ],
            "error": error,
            "may_release": may_pay and statement.status == Statement.Status.HELD,
            "may_mark_paid": may_pay and statement.status == Statement.Status.PAYABLE,
            "release_form": ReleaseForm(),
            "paid_form": paid_form or MarkPaidForm(),
        },
        status=status,
    )


@login_required
@require_GET
def finance_statement(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    access.require(user, CommissionAction.STATEMENT_EXPORT)
    return _finance_statement_page(request, user, selectors.statement_for(user, pk))


@login_required
@require_POST
def statement_release(request: HttpRequest, pk: int) -> HttpResponse:
    """Release a held statement whose reasons are gone (the service says which one remains)."""
    user = acting_user(request)
    access.require(user, CommissionAction.STATEMENT_PAY)
    statement = selectors.statement_for(user, pk)
    try:
        released = services.release_statement(actor=user, statement_id=statement.pk)
    except StateConflict as exc:
        return _finance_statement_page(request, user, statement, error=exc.message, status=409)
    messages.success(
        request,
        f"Released: the statement of {statement.organisation.name} is payable on "
        f"{released.payable_on:%-d %b %Y}.",
    )
    return redirect("commissions:finance-statement", pk=statement.pk)


@login_required
@require_POST
def statement_paid(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    access.require(user, CommissionAction.STATEMENT_PAY)
    statement = selectors.statement_for(user, pk)
    form = MarkPaidForm(request.POST)
    if form.is_valid():
        try:
            services.mark_statement_paid(
                actor=user,
                statement_id=statement.pk,
                payment_reference=form.cleaned_data["payment_reference"],
                paid_on=form.cleaned_data["paid_on"],
            )
        except InvalidInput as exc:
            for name, errors in exc.errors.items():
                for message in errors:
                    form.add_error(name if name in form.fields else None, message)
        except StateConflict as exc:
            return _finance_statement_page(request, user, statement, error=exc.message, status=409)
        else:
            messages.success(
                request,
                f"Marked paid: the statement of {statement.organisation.name} "
                f"({form.cleaned_data['payment_reference']}).",
            )
            return redirect("commissions:finance-statement", pk=statement.pk)
    return _finance_statement_page(request, user, statement, paid_form=form, status=400)


# --- Partners: their own statements ----------------------------------------------------------


@login_required
@require_GET
def partner_statements(request: HttpRequest) -> HttpResponse:
    """A partner's statements across quarters, why any is held, and what comes next."""
    user = acting_user(request)
    access.require(user, CommissionAction.STATEMENT_VIEW)
    if not user.is_partner_user or user.organisation is None:
        return redirect("commissions:quarters")  # finance reads every statement from its quarters
    organisation = access.get_visible_organisation(user, user.organisation_id)
    page = Paginator(selectors.statements_visible(user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    accruals = selectors.upcoming_accruals(organisation, today=timezone.localdate())
    upcoming_page = Paginator(accruals, UPCOMING_PAGE_SIZE).get_page(request.GET.get("upcoming"))
    # Each month heading keeps the whole month's totals (as `presenters.upcoming_rows` words
    # them); the page shows some of its rows. Summed here: wording every row of a large
    # partner (thousands) only for the totals cost more than the page.
    sums: dict[str, dict[str, Decimal]] = {}
    for accrual in accruals:
        month = sums.setdefault(presenters.month_text(accrual.month), {})
        month[accrual.currency] = month.get(accrual.currency, Decimal(0)) + accrual.amount
    month_totals = {
        month: [presenters.money_text(amount, currency) for currency, amount in sorted(by.items())]
        for month, by in sums.items()
    }
    return render(
        request,
        "commissions/partner_statements.html",
        {
            "organisation": organisation,
            "page": page,
            "rows": [presenters.statement_row(s, for_partner=True) for s in page.object_list],
            "upcoming": [
                dataclasses.replace(month, totals=month_totals[month.month])
                for month in presenters.upcoming_rows(upcoming_page.object_list)
            ],
            "upcoming_page": upcoming_page,
        },
    )


@login_required
@require_GET
def partner_statement(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    statement = selectors.statement_for(user, pk)  # another partner's: 404, as a missing one
    if not user.is_partner_user:
        return redirect("commissions:finance-statement", pk=statement.pk)
    page = Paginator(selectors.statement_lines_query(statement), LINES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "commissions/partner_statement.html",
        {
            "statement": statement,
            "row": presenters.statement_row(statement, for_partner=True),
            "page": page,
            "lines": [
                presenters.line_row(line)
                for line in selectors.statement_line_views(page.object_list)
            ],
        },
    )
