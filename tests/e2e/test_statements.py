"""Quarterly statements in a real browser: finance previews the last ended quarter (totals by
status and currency, the held partner and why), confirms the close, and downloads the quarter
as CSV, XLSX and PDF; each file is opened and its totals checked against the ledger. Then a
partner signs in and reads its statement, why it is held, and its lines.

Hand-worked, for the quarter before today's (real clock: the browser's session cookies must
not expire): Alpha sourced a line at USD 800 a month from the quarter's first day, 20 % = USD
160.00 a month, USD 480.00 the quarter, payable; Bravo a line at EUR 1 000, EUR 200.00 a month,
EUR 600.00, held (payout paperwork incomplete).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Sum
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from commissions.models import LedgerLine
from commissions.rules import Quarter, payable_on
from commissions.tests.steps import accrue, sourced_line
from partnerportal.core.models import Organisation
from tests.cast import Cast

from .test_tier_page import sign_in

pytestmark = pytest.mark.browser

D = Decimal


def ledger_totals(quarter: Quarter) -> dict[tuple[str, str], Decimal]:
    """The ledger of the quarter's months, by partner and currency."""
    rows = (
        LedgerLine.objects.filter(month__gte=quarter.starts_on, month__lte=quarter.ends_on)
        .values("organisation__name", "currency_id")
        .annotate(total=Sum("amount"))
    )
    return {(r["organisation__name"], r["currency_id"]): r["total"] for r in rows}


def download(page: Page, fmt: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.locator(f"#export-{fmt}").click()
    saved = folder / info.value.suggested_filename
    info.value.save_as(saved)
    return saved


def test_finance_closes_a_quarter_downloads_it_and_the_partner_reads_its_statement(
    live_server, page: Page, live_cast: Cast, tmp_path: Path
) -> None:
    cast = live_cast
    quarter = Quarter.of(timezone.localdate()).previous()
    first_day, label = quarter.starts_on, quarter.label
    sourced_line(
        cast.org_a,
        close_date=first_day + timedelta(days=9),
        billing=[(first_day, None, "800.00")],
        domain="acme.example",
    )
    sourced_line(
        cast.org_b,
        close_date=first_day + timedelta(days=9),
        billing=[(first_day, None, "1000.00")],
        currency="EUR",
        domain="bravo-customer.example",
    )
    Organisation.objects.filter(pk=cast.org_b.pk).update(payout_paperwork_complete=False)
    accrue(quarter.months()[-1])
    expected = {("Alpha Agency", "USD"): D("480.00"), ("Bravo Builders", "EUR"): D("600.00")}
    assert ledger_totals(quarter) == expected

    # Finance previews the close: totals by status and currency, the held partner and why.
    sign_in(page, live_server.url, cast.finance)
    page.get_by_role("navigation").get_by_role("link", name="Quarters", exact=True).click()
    page.get_by_role("link", name=f"Preview close of {label}").click()
    expect(page.locator("#preview h2")).to_have_text(f"Preview of the close of {label}")
    totals = page.locator("#preview-totals")
    expect(totals.locator("tr[data-currency=USD]")).to_contain_text("USD 480.00")
    expect(totals.locator("tr[data-currency=EUR]")).to_contain_text("EUR 600.00")
    held = page.locator("#preview-held")
    expect(held).to_contain_text("Bravo Builders")
    expect(held).to_contain_text("Payout paperwork (bank and tax details) is incomplete.")
    expect(held).not_to_contain_text("Alpha Agency")
    page.screenshot(path="test-results/statements-preview-finance.png", full_page=True)

    # Closing asks for the confirmation first.
    page.get_by_role("button", name=f"Close quarter {label}").click()
    expect(page.locator("#close-form .field-error")).to_have_text(
        "Tick the box to confirm the close: it cannot be undone."
    )
    page.get_by_label("I have read the preview: close this quarter for good").check()
    page.get_by_role("button", name=f"Close quarter {label}").click()
    expect(page.locator(".messages")).to_contain_text(
        f"{label} is closed: 2 statements from 6 ledger lines."
    )
    expect(page.locator("#quarter h1")).to_have_text(f"Statements of {label}")
    expect(page.locator("#statements-count")).to_have_text("2 statements.")
    page.screenshot(path="test-results/statements-quarter-finance.png", full_page=True)

    # Each download's totals equal the ledger's.
    rows = list(csv.DictReader(io.StringIO(download(page, "csv", tmp_path).read_text("utf-8-sig"))))
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[(row["Partner"], row["Currency"])] += D(row["Amount"])
    assert (len(rows), dict(sums)) == (6, expected)

    book = load_workbook(download(page, "xlsx", tmp_path), read_only=True)
    lines = list(book["Lines"].iter_rows(values_only=True))
    header = list(lines[0])
    partner, currency, amount = (header.index(n) for n in ("Partner", "Currency", "Amount"))
    sums = defaultdict(Decimal)
    for line in lines[1:]:
        sums[(str(line[partner]), str(line[currency]))] += D(str(line[amount])).quantize(D("0.01"))
    assert (len(lines) - 1, dict(sums)) == (6, expected)

    pdf = PdfReader(download(page, "pdf", tmp_path))
    pages = [p.extract_text() for p in pdf.pages]
    assert len(pages) == 2  # one page per statement
    alpha = next(p for p in pages if "Alpha Agency" in p)
    bravo = next(p for p in pages if "Bravo Builders" in p)
    assert "USD 480.00" in alpha
    assert "EUR 600.00" in bravo
    assert "Held" in bravo

    # The partner signs in and reads its statement: held, why, and its lines.
    page.context.clear_cookies()
    sign_in(page, live_server.url, cast.member_b)
    page.get_by_role("navigation").get_by_role("link", name="Statements", exact=True).click()
    statements = page.locator("#statements-table")
    expect(statements).to_contain_text(f"{label} in EUR")
    expect(statements).to_contain_text("EUR 600.00")
    expect(statements).to_contain_text("Held")
    expect(statements).to_contain_text(f"{payable_on(quarter):%-d %b %Y}")
    expect(statements).to_contain_text("Your payout paperwork (bank and tax details) is incomplete")
    expect(page.locator("body")).not_to_contain_text("Alpha Agency")
    page.get_by_role("link", name=f"{label} in EUR").click()
    expect(page.locator("#statement-total")).to_have_text("EUR 600.00")
    expect(page.locator("#why-held")).to_contain_text("payout paperwork")
    lines_table = page.locator("#lines-table tbody tr")
    expect(lines_table).to_have_count(3)
    for n, month in enumerate(quarter.months()):
        row = lines_table.nth(n)
        expect(row).to_contain_text(f"{month:%B %Y}")
        expect(row).to_contain_text("bravo-customer.example")
        expect(row).to_contain_text("Marketing Hub")
        expect(row).to_contain_text("EUR 1,000.00")
        expect(row).to_contain_text("20 %")
        expect(row).to_contain_text("EUR 200.00")

    # Usable on a phone: the lines stack, nothing runs off the card.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.locator("#lines").evaluate("e => e.scrollWidth <= e.clientWidth")
    page.screenshot(path="test-results/statements-partner-390.png", full_page=True)
