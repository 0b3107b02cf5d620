"""Finance's exports of a closed quarter (SPEC 7): CSV, XLSX and PDF. Each file is opened as a
reader would (csv, openpyxl, pypdf) and its totals checked against the ledger; the same ledger
gives the same bytes; the PDF has one page per statement; prior-period lines are marked.

The quarter every test closes (clock 2 April 2026), hand-worked:
- Alpha Partners, USD 800 a month from January: 20 % = 160 a month, 3 x 160 = USD 480, payable.
- Bravo Partners, payout paperwork incomplete (held): USD 250 a month -> 50 x 3 = USD 150, and
  EUR 100 a month -> 20 x 3 = EUR 60; two statements, both held.
So 3 statements, 9 lines; USD payable 480, USD held 150, EUR held 60; payable on 15 May 2026.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from pypdf import PdfReader

from commissions import exports, rules
from commissions.models import StatementLine
from deals.tests.api_steps import Clock, start_clock
from partnerportal.core.errors import InvalidInput, StateConflict
from partnerportal.core.models import Organisation
from tests.factories import OrganisationFactory

from .steps import accrue, close, hold, rebill, sourced_line

D = Decimal
pytestmark = pytest.mark.django_db
Q1 = rules.parse_quarter("2026-Q1")
Q2 = rules.parse_quarter("2026-Q2")
JANUARY = date(2026, 1, 1)


@dataclass
class Books:
    """The closed quarter's world: the clock, the two partners and Alpha's credited line."""

    clock: Clock
    alpha: Organisation
    bravo: Organisation
    alpha_line: Any


@pytest.fixture
def quarter_one(monkeypatch: pytest.MonkeyPatch) -> Books:
    clock = start_clock(monkeypatch, "2026-04-02T08:00:00")
    alpha = OrganisationFactory(name="Alpha Partners")
    bravo = OrganisationFactory(name="Bravo Partners")
    hold(bravo, paperwork=False)
    alpha_line = sourced_line(
        alpha,
        close_date=date(2026, 1, 12),
        billing=[(JANUARY, None, "800.00")],
        domain="alpha-customer.example",
    )
    sourced_line(bravo, close_date=date(2026, 1, 12), billing=[(JANUARY, None, "250.00")])
    sourced_line(
        bravo,
        close_date=date(2026, 1, 12),
        billing=[(JANUARY, None, "100.00")],
        currency="EUR",
        product_line="sales_hub",
    )
    accrue(date(2026, 3, 1))
    close("2026-Q1")
    return Books(clock=clock, alpha=alpha, bravo=bravo, alpha_line=alpha_line)


@pytest.fixture
def quarter_two(quarter_one: Books) -> Books:
    """Q2 (closed 2 July): Alpha's billing is corrected after Q1's close: from 1 March the line
    was at 1 000. March's 160 is reversed (-160) and replaced (+200): both prior-period lines
    of Q2 (+40); April to June at 200 each = 600; Alpha's Q2 = 640, of which 40 prior period.
    Bravo: USD 150 and EUR 60 again, held."""
    quarter_one.clock.set("2026-07-02T08:00:00")
    rebill(
        quarter_one.alpha_line,
        [(JANUARY, date(2026, 3, 1), "800.00"), (date(2026, 3, 1), None, "1000.00")],
    )
    accrue(date(2026, 6, 1))
    close("2026-Q2")
    return quarter_one


def ledger_totals(quarter: rules.Quarter) -> dict[tuple[str, str], Decimal]:
    """What the ledger lines on the quarter's statements add up to, by partner and currency."""
    rows = (
        StatementLine.objects.filter(statement__quarter=quarter.label)
        .values("statement__organisation__name", "ledger_line__currency_id")
        .annotate(total=Sum("ledger_line__amount"))
    )
    return {
        (row["statement__organisation__name"], row["ledger_line__currency_id"]): row["total"]
        for row in rows
    }


def csv_rows(quarter: rules.Quarter) -> list[dict[str, str]]:
    export = exports.export_quarter(quarter, "csv")
    assert export.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))


def pdf_pages(quarter: rules.Quarter) -> list[str]:
    export = exports.export_quarter(quarter, "pdf")
    return [page.extract_text() for page in PdfReader(io.BytesIO(export.content)).pages]


def missing(text: str, *needles: str) -> list[str]:
    return [needle for needle in needles if needle not in text]


def money(value: object) -> Decimal:
    """A number openpyxl read back (a float or an int), as the cents it was written with."""
    return D(str(value)).quantize(D("0.01"))


# --- CSV -------------------------------------------------------------------------------------


def test_csv_has_one_row_per_line_with_its_statement_and_totals_equal_to_the_ledger(
    quarter_one: Books,
) -> None:
    rows = csv_rows(Q1)
    assert len(rows) == 9
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[(row["Partner"], row["Currency"])] += D(row["Amount"])
    assert (
        dict(sums)
        == ledger_totals(Q1)
        == {
            ("Alpha Partners", "USD"): D("480.00"),
            ("Bravo Partners", "EUR"): D("60.00"),
            ("Bravo Partners", "USD"): D("150.00"),
        }
    )
    # Statements by partner id (Alpha's is lower) then currency; a statement's lines by month.
    assert [(r["Partner"], r["Currency"], r["Month"]) for r in rows[:4]] == [
        ("Alpha Partners", "USD", "2026-01"),
        ("Alpha Partners", "USD", "2026-02"),
        ("Alpha Partners", "USD", "2026-03"),
        ("Bravo Partners", "EUR", "2026-01"),
    ]
    alpha = rows[0]
    assert alpha["Partner id"] == str(quarter_one.alpha.pk)
    assert (alpha["Quarter"], alpha["Status"], alpha["Held reasons"]) == ("2026-Q1", "Payable", "")
    assert (alpha["Payable on"], alpha["Statement total"], alpha["Prior-period adjustments"]) == (
        "2026-05-15",
        "480.00",
        "0.00",
    )
    assert (alpha["Customer domain"], alpha["Product line"]) == (
        "alpha-customer.example",
        "Marketing Hub",
    )
    assert (alpha["MRR"], alpha["Rate"], alpha["Amount"], alpha["Kind"]) == (
        "800.00",
        "0.20",
        "160.00",
        "Accrual",
    )
    assert alpha["Prior period"] == "No"
    line = StatementLine.objects.select_related("ledger_line__entitlement").get(
        ledger_line_id=int(alpha["Ledger line id"])
    )
    assert (alpha["Entitlement id"], alpha["Deal id"]) == (
        str(line.ledger_line.entitlement_id),
        str(line.ledger_line.entitlement.deal_id),
    )
    bravo = rows[3]
    assert (bravo["Status"], bravo["Statement total"]) == ("Held", "60.00")
    assert "Payout paperwork" in bravo["Held reasons"]


def test_text_a_person_typed_stays_text_in_the_csv_and_the_xlsx(
    quarter_one: Books,
) -> None:
    """A partner named like a formula gets a leading `'` in the CSV (a spreadsheet would run
    it); the XLSX keeps it as a text cell, as it keeps markup characters and edge spaces."""
    formula = '=HYPERLINK("http://evil.example","Alpha")'
    Organisation.objects.filter(pk=quarter_one.alpha.pk).update(name=formula)
    Organisation.objects.filter(pk=quarter_one.bravo.pk).update(name=" Bravo <&> Co ")
    assert {r["Partner"] for r in csv_rows(Q1)} == {"'" + formula, " Bravo <&> Co "}
    book = load_workbook(io.BytesIO(exports.export_quarter(Q1, "xlsx").content))
    cells = [row[2] for row in book["Statements"].iter_rows(min_row=2)]
    assert [(c.value, c.data_type) for c in cells] == [
        (formula, "s"),
        (" Bravo <&> Co ", "s"),
        (" Bravo <&> Co ", "s"),
    ]


# --- XLSX ------------------------------------------------------------------------------------


def test_xlsx_has_statements_lines_and_totals_sheets_whose_totals_equal_the_ledger(
    quarter_one: Books,
) -> None:
    export = exports.export_quarter(Q1, "xlsx")
    assert export.filename == "statements-2026-Q1.xlsx"
    assert export.content_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(export.content))
    assert book.sheetnames == ["Statements", "Lines", "Totals"]

    statements = list(book["Statements"].iter_rows(values_only=True))
    assert statements[0] == exports.XLSX_STATEMENT_COLUMNS
    by_key = {(r[2], r[4]): r for r in statements[1:]}
    assert {key: money(r[8]) for key, r in by_key.items()} == ledger_totals(Q1)
    alpha = by_key[("Alpha Partners", "USD")]
    assert alpha[3:7] == ("2026-Q1", "USD", "Payable", None)
    assert alpha[7].date() == date(2026, 5, 15)  # a date cell (openpyxl reads a datetime)
    assert (money(alpha[9]), alpha[10], alpha[11], alpha[12]) == (D("0.00"), 3, None, None)
    assert by_key[("Bravo Partners", "EUR")][5] == "Held"

    lines = list(book["Lines"].iter_rows(values_only=True))
    assert lines[0] == exports.XLSX_LINE_COLUMNS
    assert len(lines) == 1 + 9
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in lines[1:]:
        sums[(row[2], row[3])] += money(row[10])
    assert dict(sums) == ledger_totals(Q1)
    first = lines[1]
    assert first[2:7] == (
        "Alpha Partners",
        "USD",
        first[4],
        "alpha-customer.example",
        "Marketing Hub",
    )
    assert (first[7].date(), first[8:11]) == (JANUARY, (800, 0.2, 160))
    assert first[11:13] == ("Accrual", "No")

    totals = list(book["Totals"].iter_rows(values_only=True))
    assert [(c, s, n, money(a)) for c, s, n, a in totals[1:]] == [
        ("EUR", "Held", 1, D("60.00")),
        ("USD", "Held", 1, D("150.00")),
        ("USD", "Payable", 1, D("480.00")),
    ]


def test_xlsx_money_dates_and_rate_carry_number_formats(quarter_one: Books) -> None:
    book = load_workbook(io.BytesIO(exports.export_quarter(Q1, "xlsx").content))
    line = book["Lines"]
    assert [line.cell(2, column).number_format for column in (8, 9, 10, 11)] == [
        "yyyy-mm",
        "#,##0.00",
        "0%",
        "#,##0.00",
    ]
    statement = book["Statements"]
    assert [statement.cell(2, column).number_format for column in (8, 9, 10)] == [
        "yyyy-mm-dd",
        "#,##0.00",
        "#,##0.00",
    ]
    assert line.freeze_panes == "A2"


def test_xlsx_lines_continue_on_further_sheets_past_the_row_limit(
    quarter_one: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 4 lines a sheet, 9 lines make "Lines" (4), "Lines 2" (4) and "Lines 3" (1), each
    with its header, in the order of the one sheet a normal limit gives."""
    whole = load_workbook(io.BytesIO(exports.export_quarter(Q1, "xlsx").content))
    in_order = [row[13] for row in whole["Lines"].iter_rows(min_row=2, values_only=True)]
    monkeypatch.setattr(exports, "XLSX_SHEET_LINES", 4)
    book = load_workbook(io.BytesIO(exports.export_quarter(Q1, "xlsx").content))
    assert book.sheetnames == ["Statements", "Lines", "Lines 2", "Lines 3", "Totals"]
    sheets = [list(book[name].iter_rows(values_only=True)) for name in book.sheetnames[1:4]]
    assert [len(rows) - 1 for rows in sheets] == [4, 4, 1]
    assert all(rows[0] == exports.XLSX_LINE_COLUMNS for rows in sheets)
    assert [row[13] for rows in sheets for row in rows[1:]] == in_order


# --- PDF -------------------------------------------------------------------------------------


def test_pdf_has_one_page_per_statement_with_its_totals(quarter_one: Books) -> None:
    export = exports.export_quarter(Q1, "pdf")
    assert (export.content_type, export.filename) == ("application/pdf", "statements-2026-Q1.pdf")
    pages = pdf_pages(Q1)
    assert len(pages) == 3
    alpha, bravo_eur, bravo_usd = pages
    assert "Bravo Partners" not in alpha
    assert missing(alpha, "Alpha Partners", "USD 480.00", "Payable", "2026-05-15") == []
    assert missing(alpha, "20 %", "January 2026", "March 2026") == []
    assert alpha.count("160.00") == 3
    assert missing(bravo_eur, "Bravo Partners", "EUR 60.00", "Held", "Payout paperwork") == []
    assert missing(bravo_usd, "Bravo Partners", "USD 150.00", "Held") == []


def test_pdf_continues_a_long_statement_on_further_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """40 customers at USD 100 from January: 40 x 3 = 120 lines of 20.00, USD 2 400 on one
    statement that needs more than one page; the next partner still starts a new page."""
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    big = OrganisationFactory(name="Big Partner")
    small = OrganisationFactory(name="Small Partner")
    for _ in range(40):
        sourced_line(big, close_date=date(2026, 1, 12), billing=[(JANUARY, None, "100.00")])
    sourced_line(small, close_date=date(2026, 1, 12), billing=[(JANUARY, None, "100.00")])
    accrue(date(2026, 3, 1))
    close("2026-Q1")
    pages = pdf_pages(Q1)
    big_pages = [p for p in pages if "Big Partner" in p]
    assert len(big_pages) >= 2
    assert "USD 2,400.00" in big_pages[0]
    assert sum(p.count("20.00") for p in big_pages) >= 120
    assert "Small Partner" in pages[-1]
    assert "Big Partner" not in pages[-1]
    assert len(pages) == len(big_pages) + 1


# --- Prior period, reproducibility, refusals -------------------------------------------------


def test_prior_period_lines_are_marked_in_every_format(quarter_two: Books) -> None:
    rows = [r for r in csv_rows(Q2) if r["Partner"] == "Alpha Partners"]
    # The reversal and its replacement share March: in ledger line order.
    assert sorted(rows[:2], key=lambda r: int(r["Ledger line id"])) == rows[:2]
    assert sorted((r["Month"], r["Kind"], r["Amount"], r["Prior period"]) for r in rows) == [
        ("2026-03", "Accrual", "200.00", "Yes"),
        ("2026-03", "Reversal", "-160.00", "Yes"),
        ("2026-04", "Accrual", "200.00", "No"),
        ("2026-05", "Accrual", "200.00", "No"),
        ("2026-06", "Accrual", "200.00", "No"),
    ]
    assert {(r["Statement total"], r["Prior-period adjustments"]) for r in rows} == {
        ("640.00", "40.00")
    }

    book = load_workbook(io.BytesIO(exports.export_quarter(Q2, "xlsx").content))
    marked = [
        (money(r[10]), r[11])
        for r in book["Lines"].iter_rows(min_row=2, values_only=True)
        if r[12] == "Yes"
    ]
    assert sorted(marked) == [(D("-160.00"), "Reversal"), (D("200.00"), "Accrual")]
    alpha = next(
        r for r in book["Statements"].iter_rows(values_only=True) if r[2] == "Alpha Partners"
    )
    assert (money(alpha[8]), money(alpha[9])) == (D("640.00"), D("40.00"))

    alpha_page = next(p for p in pdf_pages(Q2) if "Alpha Partners" in p)
    assert alpha_page.count("Prior period") >= 2
    assert missing(alpha_page, "USD 640.00", "USD 40.00", "March 2026", "-160.00") == []


def test_the_same_ledger_exports_the_same_bytes_whenever_it_is_exported(
    quarter_one: Books,
) -> None:
    """Every format twice, the second an hour later: identical bytes; the only date inside is
    the close's (2 April 2026 08:00 UTC)."""
    first = {fmt: exports.export_quarter(Q1, fmt).content for fmt in exports.FORMATS}
    quarter_one.clock.set("2026-04-02T09:13:00")
    second = {fmt: exports.export_quarter(Q1, fmt).content for fmt in exports.FORMATS}
    assert first == second

    archive = zipfile.ZipFile(io.BytesIO(first["xlsx"]))
    assert {info.date_time for info in archive.infolist()} == {(2026, 4, 2, 8, 0, 0)}
    core = archive.read("docProps/core.xml").decode()
    assert core.count("2026-04-02T08:00:00Z") == 2
    metadata = PdfReader(io.BytesIO(first["pdf"])).metadata
    assert metadata is not None
    closed_at = datetime.fromisoformat("2026-04-02T08:00:00+00:00")
    assert (metadata.creation_date, metadata.modification_date) == (closed_at, closed_at)


def test_a_quarter_not_closed_is_refused_and_an_unknown_format_is_invalid(
    quarter_one: Books,
) -> None:
    with pytest.raises(StateConflict, match="2026-Q2 is not closed"):
        exports.export_quarter(Q2, "csv")
    with pytest.raises(InvalidInput) as refused:
        exports.export_quarter(Q1, "xls")
    assert refused.value.field == "format"


def test_an_export_reads_with_the_same_few_queries_however_many_lines(
    quarter_two: Books,
) -> None:
    """Q1 has 9 lines, Q2 11: the same queries, in every format: the close, the statements,
    and the lines from one server-side cursor (DECLARE), in a savepoint of the test's
    transaction."""
    counts = []
    for quarter in (Q1, Q2):
        for fmt in exports.FORMATS:
            with CaptureQueriesContext(connection) as queries:
                exports.export_quarter(quarter, fmt)
            counts.append([q["sql"].split()[0] for q in queries])
    assert all(c == ["SAVEPOINT", "SELECT", "SELECT", "DECLARE", "RELEASE"] for c in counts), counts


def test_a_close_without_statements_exports_empty_files(monkeypatch: pytest.MonkeyPatch) -> None:
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    close("2026-Q1")
    assert csv_rows(Q1) == []
    book = load_workbook(io.BytesIO(exports.export_quarter(Q1, "xlsx").content))
    assert [book[name].max_row for name in book.sheetnames] == [1, 1, 1]
    pages = pdf_pages(Q1)
    assert len(pages) == 1
    assert "made no statement" in pages[0]


@pytest.mark.usefixtures("committed_db")
def test_an_export_outside_a_transaction_reads_one_repeatable_read_snapshot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As the API and the page call it (no transaction open): the statements and the lines are
    read in one read-only REPEATABLE READ transaction, planned for reading every line."""
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    sourced_line(
        OrganisationFactory(), close_date=date(2026, 1, 12), billing=[(JANUARY, None, "800.00")]
    )
    accrue(date(2026, 3, 1))
    close("2026-Q1")
    with CaptureQueriesContext(connection) as queries:
        rows = csv_rows(Q1)
    assert [row["Amount"] for row in rows] == ["160.00", "160.00", "160.00"]
    assert [q["sql"] for q in queries[:3]] == [
        "BEGIN",
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        exports.TUNE_SQL,
    ]
    assert [q["sql"].split()[0] for q in queries[3:]] == ["SELECT", "SELECT", "DECLARE", "COMMIT"]
