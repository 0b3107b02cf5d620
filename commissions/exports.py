"""Finance's exports of a closed quarter's statements (SPEC 7): CSV, XLSX and PDF.

`export_quarter(quarter, fmt)` reads the quarter's statements and their lines with three
set-based queries (the close, the statements, the lines streamed from one server-side cursor),
in one read-only REPEATABLE READ snapshot so the statements and the lines agree (when the
export runs outside any transaction, as the API and the page call it), and renders one format.
The same ledger gives the same bytes on every call: no "now" anywhere, every timestamp a file
carries is the quarter's `QuarterClose.closed_at`. (A statement's status, payment and the
partner's name are part of the export, so a statement paid or released since gives a new
file, as it should.)

Order, in every format: statements by partner id, then currency; the lines of a statement by
month (a prior-period line comes first, its month being earlier), then ledger line. (Not by
partner name: sorting a million lines by a text column joined from the partner takes the
database twice as long; finance sorts by name in the spreadsheet.)

Layouts (the columns are `STATEMENT_COLUMNS` and `LINE_COLUMNS`):

- CSV (UTF-8 with a byte-order mark so Excel reads accents, CRLF, RFC 4180 quoting): a header,
  then one row per statement line, the statement's columns repeated on each; a statement
  without lines has one row with the line columns empty. Money as plain decimals (`-160.00`),
  dates ISO (`2026-05-15`), months `2026-01`, the rate `0.20`, words for status, held reasons
  (`; `-separated), kind and the prior-period flag (`Yes`/`No`). A text cell a person typed
  (partner, customer, domain, payment reference) that starts with `= + - @` or a tab/CR gets a
  leading `'` so a spreadsheet never runs it as a formula (OWASP CSV injection).
- XLSX: sheet "Statements" (one row per statement, with its number of lines), sheets "Lines",
  "Lines 2", ... (one row per statement line with its statement id, partner id, partner and
  currency; 1 048 575 lines a sheet, Excel's 1 048 576 rows less the header), and "Totals" (by
  currency and status: statements and amount). Header row bold and frozen. Money is written
  from the Decimal as an exact number with the format `#,##0.00`, dates as dates
  (`yyyy-mm-dd`, months `yyyy-mm`), the rate as 0.2 formatted `0%`, ids as integers.
  openpyxl (write-only) writes the package (workbook, styles, properties, sheet headers,
  widths, frozen header); the rows are streamed into its sheets' `<sheetData>` as the cell XML
  openpyxl itself writes (inline strings, numbers, style ids it registered), one string per
  row: openpyxl's per-cell writer takes minutes for a million lines, this about ten seconds.
  The zip is rewritten with every entry dated `closed_at` (zlib level 1), and the workbook's
  created/modified properties are `closed_at`.
- PDF (WeasyPrint, A4 landscape): one section per statement, each starting on a new page (a
  long statement continues on further pages, its table header and the partner's name
  repeated); the statement's facts at the top, then its lines, prior-period lines marked
  "Prior period" and shaded; a quarter without statements is one page that says so.
  CreationDate/ModDate are `closed_at` and the file identifier is derived from the quarter and
  `closed_at`. Fonts: DejaVu Sans (the system's), so the bytes depend on the installed fonts
  and WeasyPrint version, as the XLSX bytes depend on zlib's.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import groupby, islice
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string

from partnerportal.core.errors import InvalidInput, StateConflict

from . import presenters, rules
from .models import LedgerLine, QuarterClose, Statement, StatementLine

FORMATS = ("csv", "xlsx", "pdf")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
# Excel's rows per sheet (1 048 576) less the header row.
XLSX_SHEET_LINES = 1_048_575
# The lines the server-side cursor fetches at a time.
FETCH_CHUNK = 20_000
# For this transaction only: plan the lines' cursor for reading every row (PostgreSQL plans a
# cursor for its first 10 % by default: nested loops, 3x slower on a million lines) and sort
# them in memory.
TUNE_SQL = (
    "SELECT set_config('cursor_tuple_fraction', '1', true), set_config('work_mem', '256MB', true)"
)
PDF_CSS = Path(__file__).resolve().parent / "export_assets" / "statement_pdf.css"
PDF_TEMPLATE = "commissions/export_pdf.html"
YES, NO = "Yes", "No"


@dataclass(frozen=True)
class Export:
    """A rendered export: the file's bytes, its media type and its download name."""

    content: bytes
    content_type: str
    filename: str


@dataclass(frozen=True)
class StatementRow:
    """One statement as the exports read it (plain values of one `.values_list` row)."""

    id: int
    partner_id: int
    partner: str
    quarter: str
    currency: str
    status: str
    held_reasons: tuple[str, ...]
    payable_on: date
    total: Decimal
    prior_period_total: Decimal
    lines: int
    paid_on: date | None
    payment_reference: str

    @property
    def status_words(self) -> str:
        return presenters.status_text(self.status)

    @property
    def held_words(self) -> str:
        """Why it is held, in words; empty once it is not held (released or paid)."""
        if self.status != Statement.Status.HELD:
            return ""
        return "; ".join(presenters.held_text(self.held_reasons))


# One statement line: (statement id, customer, customer domain, product line, month, MRR,
# amount, kind, prior period, ledger line id, entitlement id, deal id).
LineRow = tuple[int, str, str, str, date, Decimal, Decimal, str, bool, int, int, int]

LINE_FIELDS = (
    "statement_id",
    "ledger_line__entitlement__customer__name",
    "ledger_line__entitlement__customer__domain",
    "ledger_line__entitlement__product_line__name",
    "month",
    "ledger_line__mrr",
    "amount",
    "ledger_line__kind",
    "prior_period",
    "ledger_line_id",
    "ledger_line__entitlement_id",
    "ledger_line__entitlement__deal_id",
)


@dataclass(frozen=True)
class QuarterExport:
    """What every format renders: the quarter, its close time (the files' only timestamp), its
    statements in order, and their lines streamed in the same order."""

    quarter: rules.Quarter
    closed_at: datetime
    statements: list[StatementRow]
    lines: Iterable[LineRow]

    def grouped(self) -> Iterator[tuple[StatementRow, list[LineRow]]]:
        """Each statement with its lines (one statement's lines in memory at a time)."""
        groups = groupby(self.lines, key=lambda line: line[0])
        pending = next(groups, None)
        for statement in self.statements:
            if pending is not None and pending[0] == statement.id:
                yield statement, list(pending[1])
                pending = next(groups, None)
            else:
                yield statement, []
        if pending is not None:
            # The snapshot makes this impossible; never write a file that drops lines.
            raise RuntimeError(f"Statement line of statement {pending[0]} out of order.")


def export_quarter(quarter: rules.Quarter, fmt: str) -> Export:
    """Render the statements of the closed `quarter` as `fmt` (csv, xlsx or pdf). A format
    outside these is InvalidInput on `format`; a quarter not closed is a StateConflict."""
    if fmt not in FORMATS:
        raise InvalidInput(field="format", message=f"Choose one of {', '.join(FORMATS)}.")
    render = _RENDERERS[fmt]
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            # Our own transaction: one snapshot for the statements and their lines (a statement
            # paid meanwhile would otherwise differ between the two), and settings that end
            # with it. (Inside a caller's transaction neither: its isolation is set, and
            # transaction-local settings would outlive the export.)
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute(TUNE_SQL)
        closed_at = (
            QuarterClose.objects.filter(quarter=quarter.label)
            .values_list("closed_at", flat=True)
            .first()
        )
        if closed_at is None:
            raise StateConflict(
                f"{quarter.label} is not closed: only a closed quarter's statements export."
            )
        data = QuarterExport(
            quarter=quarter,
            closed_at=closed_at.astimezone(UTC),
            statements=_statements(quarter),
            lines=_lines(quarter),
        )
        content = render(data)
    return Export(content, CONTENT_TYPES[fmt], f"statements-{quarter.label}.{fmt}")


def _statements(quarter: rules.Quarter) -> list[StatementRow]:
    rows = (
        Statement.objects.filter(quarter=quarter.label)
        .annotate(
            # A count per statement on the (statement, month) index: a tenth of a GROUP BY's
            # time over a million lines.
            line_count=Coalesce(
                Subquery(
                    StatementLine.objects.filter(statement=OuterRef("pk"))
                    .order_by()
                    .values("statement")
                    .annotate(count=Count("*"))
                    .values("count")
                ),
                0,
            )
        )
        .order_by("organisation_id", "currency_id")
        .values_list(
            "id",
            "organisation_id",
            "organisation__name",
            "quarter",
            "currency_id",
            "status",
            "held_reasons",
            "payable_on",
            "total",
            "prior_period_total",
            "line_count",
            "paid_on",
            "payment_reference",
        )
    )
    return [
        StatementRow(
            id=sid,
            partner_id=org,
            partner=name,
            quarter=label,
            currency=currency,
            status=status,
            held_reasons=tuple(reasons),
            payable_on=payable_on,
            total=total,
            prior_period_total=prior,
            lines=count,
            paid_on=paid_on,
            payment_reference=reference,
        )
        for (
            sid,
            org,
            name,
            label,
            currency,
            status,
            reasons,
            payable_on,
            total,
            prior,
            count,
            paid_on,
            reference,
        ) in rows
    ]


def _lines(quarter: rules.Quarter) -> Iterator[LineRow]:
    """The quarter's statement lines in the statements' order, from one server-side cursor."""
    return (
        StatementLine.objects.filter(statement__quarter=quarter.label)
        .order_by(
            "statement__organisation_id",
            "statement__currency_id",
            "month",
            "ledger_line_id",
        )
        .values_list(*LINE_FIELDS)
        .iterator(chunk_size=FETCH_CHUNK)
    )


# --- Columns ---------------------------------------------------------------------------------

STATEMENT_COLUMNS = (
    "Statement id",
    "Partner id",
    "Partner",
    "Quarter",
    "Currency",
    "Status",
    "Held reasons",
    "Payable on",
    "Statement total",
    "Prior-period adjustments",
    "Paid on",
    "Payment reference",
)
LINE_COLUMNS = (
    "Customer",
    "Customer domain",
    "Product line",
    "Month",
    "MRR",
    "Rate",
    "Amount",
    "Kind",
    "Prior period",
    "Ledger line id",
    "Entitlement id",
    "Deal id",
)
# The XLSX's statement sheet has the number of lines after the statement's columns; its line
# sheets lead with these columns of the statement.
XLSX_STATEMENT_COLUMNS = (*STATEMENT_COLUMNS[:10], "Lines", *STATEMENT_COLUMNS[10:])
XLSX_LINE_COLUMNS = ("Statement id", "Partner id", "Partner", "Currency", *LINE_COLUMNS)
XLSX_TOTAL_COLUMNS = ("Currency", "Status", "Statements", "Amount")


def _kind_words() -> dict[str, str]:
    return {kind.value: presenters.kind_text(kind.value) for kind in LedgerLine.Kind}


# --- CSV -------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    """Text a person typed, defused for spreadsheets (a leading `'` before a formula start)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _render_csv(data: QuarterExport) -> bytes:
    # Encoded as written (the text of a million lines is not held twice); utf-8-sig writes
    # the byte-order mark first.
    buffer = io.BytesIO()
    out = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow((*STATEMENT_COLUMNS, *LINE_COLUMNS))
    kinds = _kind_words()
    rate = str(rules.RATE)
    blank = ("",) * len(LINE_COLUMNS)
    for statement, lines in data.grouped():
        head = (
            statement.id,
            statement.partner_id,
            _csv_text(statement.partner),
            statement.quarter,
            statement.currency,
            statement.status_words,
            statement.held_words,
            statement.payable_on.isoformat(),
            statement.total,
            statement.prior_period_total,
            statement.paid_on.isoformat() if statement.paid_on else "",
            _csv_text(statement.payment_reference),
        )
        if not lines:
            writer.writerow((*head, *blank))
            continue
        writer.writerows(
            (
                *head,
                _csv_text(customer),
                _csv_text(domain),
                product_line,
                f"{month:%Y-%m}",
                mrr,
                rate,
                amount,
                kinds[kind],
                YES if prior else NO,
                ledger_line,
                entitlement,
                deal,
            )
            for (
                _sid,
                customer,
                domain,
                product_line,
                month,
                mrr,
                amount,
                kind,
                prior,
                ledger_line,
                entitlement,
                deal,
            ) in lines
        )
    out.flush()
    content = buffer.getvalue()
    out.detach()
    return content


# --- XLSX ------------------------------------------------------------------------------------

# Excel's day 0 (1900 date system, with its 1900 leap-year quirk: right for dates from 1900-03).
_EXCEL_EPOCH = date(1899, 12, 30)
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|^\s|\s$")
# zlib level 1: the sheets are repetitive XML (a tenth of its size at level 1 too), and level 6
# costs seconds a hundred thousand lines.
ZIP_LEVEL = 1
# `ZipFile.open(info, "w")` takes the level from the entry only; Python 3.13 names it
# `compress_level`, earlier versions `_compresslevel`.
_LEVEL_ATTRIBUTE = (
    "compress_level" if hasattr(zipfile.ZipInfo(), "compress_level") else "_compresslevel"
)
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
MONTH_FORMAT = "yyyy-mm"
RATE_FORMAT = "0%"
# Column widths (characters) by header, for the columns that need more than the default.
_WIDTHS = {
    "Partner": 32,
    "Customer": 32,
    "Customer domain": 28,
    "Product line": 22,
    "Held reasons": 48,
    "Status": 10,
    "Payable on": 12,
    "Paid on": 12,
    "Statement total": 16,
    "Prior-period adjustments": 16,
    "Payment reference": 22,
    "Amount": 16,
    "MRR": 14,
    "Statement id": 12,
    "Ledger line id": 14,
    "Entitlement id": 14,
}


def _serial(day: date) -> int:
    return (day - _EXCEL_EPOCH).days


def _xml_text(value: str) -> str:
    """An inline string's `<is>` element, escaped, without the characters XML cannot hold, and
    kept verbatim when it has edge spaces (the slow path only for text that needs it)."""
    if not _XML_SPECIAL.search(value):
        return "<is><t>" + value + "</t></is>"
    value = _XML_ILLEGAL.sub("", value)
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if escaped != escaped.strip():
        return f'<is><t xml:space="preserve">{escaped}</t></is>'
    return f"<is><t>{escaped}</t></is>"


def _optional_text(value: str) -> str:
    return f' t="inlineStr">{_xml_text(value)}' if value else ">"


def _optional_number(value: object | None) -> str:
    return f"><v>{value}</v>" if value is not None else ">"


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


class _SheetRows:
    """Rows of one sheet as SpreadsheetML, by one template per row (what openpyxl writes for
    the same cells). Column kinds: `n` a number (its value written in `<v>`), `s` an inline
    string (its value already `_xml_text`), `o` an optional cell (its value `_optional_text` or
    `_optional_number`: the cell's type and value, or none). A style is an index of the
    workbook's cell formats."""

    def __init__(self, kinds: Sequence[tuple[str, int | None]]) -> None:
        cells = []
        for index, (kind, style) in enumerate(kinds):
            ref = f'<c r="{_column_letter(index)}{{0}}"'
            styled = f' s="{style}"' if style is not None else ""
            value = f"{{{index + 1}}}"
            if kind == "s":
                cells.append(f'{ref}{styled} t="inlineStr">{value}</c>')
            elif kind == "o":
                cells.append(f"{ref}{styled}{value}</c>")
            else:
                cells.append(f"{ref}{styled}><v>{value}</v></c>")
        self.template = '<row r="{0}">' + "".join(cells) + "</row>"

    def row(self, number: int, *values: object) -> str:
        return self.template.format(number, *values)


def _render_xlsx(data: QuarterExport) -> bytes:
    """The workbook: openpyxl writes the package with each sheet's header row; the rows are
    spliced into the sheets' `<sheetData>` while the zip is rewritten with fixed dates."""
    sheet_lines = XLSX_SHEET_LINES
    total_lines = sum(s.lines for s in data.statements)
    line_titles = ["Lines"] + [
        f"Lines {n}" for n in range(2, max(1, -(-total_lines // sheet_lines)) + 1)
    ]
    titles = ["Statements", *line_titles, "Totals"]
    headers = {
        "Statements": XLSX_STATEMENT_COLUMNS,
        "Totals": XLSX_TOTAL_COLUMNS,
        **{title: XLSX_LINE_COLUMNS for title in line_titles},
    }
    closed = data.closed_at.replace(tzinfo=None)
    skeleton, styles = _xlsx_skeleton(data, titles, headers, closed)

    lines = _line_rows(data, styles, sheet_lines)
    bodies: dict[str, Iterator[str]] = {
        "Statements": _statement_rows(data, styles),
        "Totals": _total_rows(data, styles),
        # The line sheets are written in order, each taking the next `sheet_lines` rows.
        **{title: islice(lines, sheet_lines) for title in line_titles},
    }
    sheet_paths = {f"xl/worksheets/sheet{n}.xml": title for n, title in enumerate(titles, 1)}
    stamp = closed.timetuple()[:6]
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(skeleton)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            setattr(info, _LEVEL_ATTRIBUTE, ZIP_LEVEL)
            info.external_attr = 0o644 << 16
            content = source.read(entry.filename)
            title = sheet_paths.get(entry.filename)
            if title is None:
                target.writestr(info, content)
                continue
            head, tail = content.split(b"</sheetData>")
            with target.open(info, "w") as stream:
                stream.write(head)
                _write_batched(stream, bodies[title])
                stream.write(b"</sheetData>" + tail)
    return out.getvalue()


def _xlsx_skeleton(
    data: QuarterExport,
    titles: Sequence[str],
    headers: dict[str, tuple[str, ...]],
    closed: datetime,
) -> tuple[bytes, dict[str, int]]:
    """The package openpyxl writes (sheets with their header rows, widths, frozen header,
    styles, properties dated `closed`), and the style ids of the number formats."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    workbook = Workbook(write_only=True)
    workbook.properties.creator = "Partner Program Portal"
    workbook.properties.lastModifiedBy = "Partner Program Portal"
    workbook.properties.title = f"Revenue-share statements {data.quarter.label}"
    workbook.properties.created = closed
    workbook.properties.modified = closed
    styles: dict[str, int] = {}
    bold = Font(bold=True)
    for title in titles:
        sheet = workbook.create_sheet(title)
        sheet.freeze_panes = "A2"
        for index, header in enumerate(headers[title]):
            if header in _WIDTHS:
                sheet.column_dimensions[_column_letter(index)].width = _WIDTHS[header]
        row = []
        for header in headers[title]:
            cell = WriteOnlyCell(sheet, header)
            cell.font = bold
            row.append(cell)
        sheet.append(row)
        if not styles:
            # Register the number formats; the rows refer to their style ids.
            for name, number_format in _NUMBER_FORMATS.items():
                cell = WriteOnlyCell(sheet)
                cell.number_format = number_format
                styles[name] = cell.style_id
    skeleton = io.BytesIO()
    with zipfile.ZipFile(skeleton, "w", zipfile.ZIP_DEFLATED) as archive:
        # ExcelWriter itself: `Workbook.save` would stamp `modified` with now.
        ExcelWriter(workbook, archive).save()
    return skeleton.getvalue(), styles


_NUMBER_FORMATS = {
    "money": MONEY_FORMAT,
    "day": DATE_FORMAT,
    "month": MONTH_FORMAT,
    "rate": RATE_FORMAT,
}


def _write_batched(stream: Any, rows: Iterable[str], size: int = 4000) -> None:
    batch: list[str] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            stream.write("".join(batch).encode("utf-8"))
            batch.clear()
    if batch:
        stream.write("".join(batch).encode("utf-8"))


def _statement_rows(data: QuarterExport, styles: dict[str, int]) -> Iterator[str]:
    sheet = _SheetRows(
        [
            ("n", None),
            ("n", None),
            ("s", None),
            ("s", None),
            ("s", None),
            ("s", None),
            ("o", None),
            ("n", styles["day"]),
            ("n", styles["money"]),
            ("n", styles["money"]),
            ("n", None),
            ("o", styles["day"]),
            ("o", None),
        ]
    )
    for number, s in enumerate(data.statements, start=2):
        yield sheet.row(
            number,
            s.id,
            s.partner_id,
            _xml_text(s.partner),
            _xml_text(s.quarter),
            _xml_text(s.currency),
            _xml_text(s.status_words),
            _optional_text(s.held_words),
            _serial(s.payable_on),
            s.total,
            s.prior_period_total,
            s.lines,
            _optional_number(_serial(s.paid_on) if s.paid_on else None),
            _optional_text(s.payment_reference),
        )


def _totals(statements: Iterable[StatementRow]) -> list[tuple[str, str, int, Decimal]]:
    """(currency, status, statements, amount) by currency, then status in its order."""
    sums: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for s in statements:
        count, amount = sums.get((s.currency, s.status), (0, Decimal(0)))
        sums[(s.currency, s.status)] = (count + 1, amount + s.total)
    order = {status.value: n for n, status in enumerate(Statement.Status)}
    return [
        (currency, status, count, amount)
        for (currency, status), (count, amount) in sorted(
            sums.items(), key=lambda item: (item[0][0], order[item[0][1]])
        )
    ]


def _total_rows(data: QuarterExport, styles: dict[str, int]) -> Iterator[str]:
    sheet = _SheetRows([("s", None), ("s", None), ("n", None), ("n", styles["money"])])
    for number, (currency, status, count, amount) in enumerate(_totals(data.statements), start=2):
        yield sheet.row(
            number,
            _xml_text(currency),
            _xml_text(presenters.status_text(status)),
            count,
            amount,
        )


def _line_rows(data: QuarterExport, styles: dict[str, int], sheet_lines: int) -> Iterator[str]:
    """Every line's row (`XLSX_LINE_COLUMNS`), numbered from 2 in each line sheet of
    `sheet_lines` rows. The hot loop of a large export, so one f-string a row (a template's
    `format` parses it again each call) and what repeats (a statement's cells, product lines,
    months, words) is rendered once."""
    heads = {
        s.id: (str(s.id), str(s.partner_id), _xml_text(s.partner), _xml_text(s.currency))
        for s in data.statements
    }
    kinds = {code: _xml_text(words) for code, words in _kind_words().items()}
    prior_words = {True: _xml_text(YES), False: _xml_text(NO)}
    product_lines: dict[str, str] = {}
    months: dict[date, str] = {}
    # The cells' constant parts with their style ids, rendered once.
    money = f' s="{styles["money"]}"><v>'
    rate_cell = f' s="{styles["rate"]}"><v>{rules.RATE!s}</v></c>'
    month_style = styles["month"]
    # A customer has several lines (every month, every product line): its cells once each.
    customers: dict[str, str] = {}
    domains: dict[str, str] = {}
    for index, (
        sid,
        customer,
        domain,
        product_line,
        month,
        mrr,
        amount,
        kind,
        prior,
        ledger_line,
        entitlement,
        deal,
    ) in enumerate(data.lines):
        line_xml = product_lines.get(product_line)
        if line_xml is None:
            line_xml = product_lines[product_line] = _xml_text(product_line)
        month_cell = months.get(month)
        if month_cell is None:
            month_cell = months[month] = f' s="{month_style}"><v>{_serial(month)}</v></c>'
        customer_xml = customers.get(customer)
        if customer_xml is None:
            customer_xml = customers[customer] = _xml_text(customer)
        domain_xml = domains.get(domain)
        if domain_xml is None:
            domain_xml = domains[domain] = _xml_text(domain)
        statement, partner_id, partner, currency = heads[sid]
        r = str(2 + index % sheet_lines)  # once, not once a cell
        # str() of a Decimal is exact (and far faster than format()).
        yield (
            f'<row r="{r}"><c r="A{r}"><v>{statement}</v></c><c r="B{r}"><v>{partner_id}</v></c>'
            f'<c r="C{r}" t="inlineStr">{partner}</c><c r="D{r}" t="inlineStr">{currency}</c>'
            f'<c r="E{r}" t="inlineStr">{customer_xml}</c>'
            f'<c r="F{r}" t="inlineStr">{domain_xml}</c>'
            f'<c r="G{r}" t="inlineStr">{line_xml}</c>'
            f'<c r="H{r}"{month_cell}'
            f'<c r="I{r}"{money}{mrr!s}</v></c>'
            f'<c r="J{r}"{rate_cell}'
            f'<c r="K{r}"{money}{amount!s}</v></c>'
            f'<c r="L{r}" t="inlineStr">{kinds[kind]}</c>'
            f'<c r="M{r}" t="inlineStr">{prior_words[prior]}</c>'
            f'<c r="N{r}"><v>{ledger_line}</v></c><c r="O{r}"><v>{entitlement}</v></c>'
            f'<c r="P{r}"><v>{deal}</v></c></row>'
        )


# --- PDF -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PdfLine:
    customer: str
    domain: str
    product_line: str
    month: str
    mrr: str
    rate: str
    amount: str
    kind: str
    prior_period: bool
    ledger_line: int
    entitlement: int
    deal: int


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _render_pdf(data: QuarterExport) -> bytes:
    from weasyprint import CSS, HTML

    kinds = _kind_words()
    rate = presenters.rate_text(rules.RATE)
    statements = [
        {
            "statement": statement,
            "total": presenters.money_text(statement.total, statement.currency),
            "prior_period_total": presenters.money_text(
                statement.prior_period_total, statement.currency
            ),
            "held": presenters.held_text(statement.held_reasons)
            if statement.status == Statement.Status.HELD
            else [],
            "lines": [
                _PdfLine(
                    customer=customer,
                    domain=domain,
                    product_line=product_line,
                    month=presenters.month_text(month),
                    mrr=_money(mrr),
                    rate=rate,
                    amount=_money(amount),
                    kind=kinds[kind],
                    prior_period=prior,
                    ledger_line=ledger_line,
                    entitlement=entitlement,
                    deal=deal,
                )
                for (
                    _sid,
                    customer,
                    domain,
                    product_line,
                    month,
                    mrr,
                    amount,
                    kind,
                    prior,
                    ledger_line,
                    entitlement,
                    deal,
                ) in lines
            ],
        }
        for statement, lines in data.grouped()
    ]
    stamp = data.closed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    html = render_to_string(
        PDF_TEMPLATE,
        {
            "quarter": data.quarter,
            "closed_at": data.closed_at,
            "stamp": stamp,
            "statements": statements,
            "totals": [
                (currency, presenters.status_text(status), count, _money(amount))
                for currency, status, count, amount in _totals(data.statements)
            ],
        },
    )
    identifier = hashlib.sha256(f"statements {data.quarter.label} {stamp}".encode()).hexdigest()
    pdf = HTML(string=html).write_pdf(
        stylesheets=[CSS(filename=str(PDF_CSS))],
        pdf_identifier=identifier[:32].encode(),
    )
    assert pdf is not None  # noqa: S101 (write_pdf without a target returns the bytes)
    return pdf


_RENDERERS: dict[str, Callable[[QuarterExport], bytes]] = {
    "csv": _render_csv,
    "xlsx": _render_xlsx,
    "pdf": _render_pdf,
}
