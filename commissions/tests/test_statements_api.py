"""The statements API (SPEC 11): `GET /statements/?quarter=`, `GET /statements/{id}/` with its
lines' provenance, release, payment, `POST /quarter-closes/` (and its dry run) and the export
download, with hand-worked figures (SPEC 7: USD 800 -> 160 a month, 480 a quarter, payable on
15 May for 2026-Q1)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from commissions.models import QuarterClose, Statement
from deals.tests.api_steps import ok, start_clock
from tests.cast import Cast, api_as

from .steps import accrue, close, hold, sourced_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def q1(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> Cast:
    """2026-Q1 accrued for both partners of the cast (USD 800 each; B also EUR 50), on
    20 May 2026; not closed."""
    start_clock(monkeypatch, "2026-05-20T08:00:00")
    for org, currency, mrr, domain in (
        (cast.org_a, "USD", "800.00", "acme.example"),
        (cast.org_b, "USD", "800.00", "bolt.example"),
        (cast.org_b, "EUR", "50.00", "bolt-eu.example"),
    ):
        sourced_line(
            org,
            close_date=date(2026, 1, 12),
            billing=[(date(2026, 1, 1), None, mrr)],
            currency=currency,
            domain=domain,
        )
    accrue(date(2026, 3, 1))
    return cast


def _close_q1(cast: Cast) -> dict:
    return ok(
        api_as(cast.finance).post("/api/v1/quarter-closes/", {"quarter": "2026-Q1"}, format="json"),
        201,
    )


def test_finance_closes_a_quarter_and_lists_its_statements(q1: Cast) -> None:
    closed = _close_q1(q1)
    assert (closed["quarter"], closed["dry_run"], closed["already_closed"]) == (
        "2026-Q1",
        False,
        False,
    )
    assert closed["payable_on"] == "2026-05-15"
    assert [
        (t["status"], t["currency"], t["statements"], t["amount"]) for t in closed["totals"]
    ] == [
        ("payable", "EUR", 1, "30.00"),
        ("payable", "USD", 2, "960.00"),
    ]
    page = ok(api_as(q1.finance).get("/api/v1/statements/?quarter=2026-Q1"))
    assert page["count"] == 3
    rows = {(r["partner"], r["currency"]): r for r in page["results"]}
    alpha = rows[(q1.org_a.pk, "USD")]
    assert {k: alpha[k] for k in ("quarter", "total", "payable_on", "status")} == {
        "quarter": "2026-Q1",
        "total": "480.00",
        "payable_on": "2026-05-15",
        "status": "payable",
    }
    assert (alpha["held_reasons"], alpha["prior_period_total"], alpha["paid_on"]) == (
        [],
        "0.00",
        None,
    )
    assert rows[(q1.org_b.pk, "EUR")]["total"] == "30.00"  # 50 x 20 % = 10, x 3


def test_closing_again_through_the_api_answers_already_closed_and_adds_nothing(q1: Cast) -> None:
    first = _close_q1(q1)
    again = ok(
        api_as(q1.finance).post("/api/v1/quarter-closes/", {"quarter": "2026-Q1"}, format="json")
    )
    assert again["already_closed"] is True
    assert (again["statements"], again["totals"]) == (first["statements"], first["totals"])
    assert Statement.objects.count() == 3
    assert QuarterClose.objects.count() == 1


def test_the_dry_run_previews_the_close_and_writes_nothing(q1: Cast) -> None:
    hold(q1.org_b, paperwork=False)
    preview = ok(
        api_as(q1.finance).post(
            "/api/v1/quarter-closes/", {"quarter": "2026-Q1", "dry_run": True}, format="json"
        )
    )
    assert not Statement.objects.exists()
    assert not QuarterClose.objects.exists()
    assert (preview["dry_run"], preview["already_closed"], preview["closed_at"]) == (
        True,
        False,
        None,
    )
    held = [s for s in preview["statements"] if s["status"] == "held"]
    assert [(s["partner_name"], s["currency"], s["total"]) for s in held] == [
        ("Bravo Builders", "EUR", "30.00"),
        ("Bravo Builders", "USD", "480.00"),
    ]
    assert held[0]["held_reasons"] == [
        {"code": "payout_paperwork", "text": "Payout paperwork is incomplete"}
    ]


@pytest.mark.parametrize("quarter", ["2026-Q5", "2026-1", "26-Q1", "1999-Q4", "", "2026-q1"])
def test_a_badly_written_quarter_is_a_400_on_its_field(q1: Cast, quarter: str) -> None:
    finance = api_as(q1.finance)
    response = finance.post("/api/v1/quarter-closes/", {"quarter": quarter}, format="json")
    assert response.status_code == 400
    assert "quarter" in response.json()
    if quarter:
        listed = finance.get("/api/v1/statements/", {"quarter": quarter})
        assert listed.status_code == 400
        assert "quarter" in listed.json()
        exported = finance.get("/api/v1/statements/export/", {"quarter": quarter, "format": "csv"})
        assert exported.status_code == 400
        assert "quarter" in exported.json()


def test_a_quarter_not_ended_is_a_conflict(q1: Cast) -> None:
    response = api_as(q1.finance).post(
        "/api/v1/quarter-closes/", {"quarter": "2026-Q2"}, format="json"
    )
    assert response.status_code == 409
    assert "2026-07-01" in response.json()["detail"]


def test_a_partner_lists_only_its_own_statements(q1: Cast) -> None:
    _close_q1(q1)
    for who in (q1.admin_b, q1.member_b):
        page = ok(api_as(who).get("/api/v1/statements/?quarter=2026-Q1"))
        assert {(r["partner"], r["currency"]) for r in page["results"]} == {
            (q1.org_b.pk, "USD"),
            (q1.org_b.pk, "EUR"),
        }
    assert ok(api_as(q1.provider_admin).get("/api/v1/statements/"))["results"] == []
    eur = ok(api_as(q1.admin_b).get("/api/v1/statements/?currency=EUR"))["results"]
    assert [r["total"] for r in eur] == ["30.00"]


def test_a_statement_shows_its_lines_and_where_each_comes_from(q1: Cast) -> None:
    _close_q1(q1)
    statement = Statement.objects.get(organisation=q1.org_a)
    body = ok(api_as(q1.member_a).get(f"/api/v1/statements/{statement.pk}/"))
    assert (body["total"], body["status"], len(body["lines"])) == ("480.00", "payable", 3)
    first = body["lines"][0]
    assert {
        k: first[k]
        for k in (
            "kind",
            "month",
            "customer_domain",
            "product_line",
            "mrr",
            "currency",
            "rate",
            "amount",
            "prior_period",
            "program",
        )
    } == {
        "kind": "accrual",
        "month": "2026-01",
        "customer_domain": "acme.example",
        "product_line": "marketing_hub",
        "mrr": "800.00",
        "currency": "USD",
        "rate": "0.20",
        "amount": "160.00",
        "prior_period": False,
        "program": "partner_sourced",
    }
    entitlement = statement.lines.first().ledger_line.entitlement  # type: ignore[union-attr]
    assert (first["entitlement"], first["deal"], first["registration"]) == (
        entitlement.pk,
        entitlement.deal_id,
        entitlement.association.registration_id,
    )
    assert first["resolution_rule"] == entitlement.deal.resolution_rule
    assert first["product_line_name"] == "Marketing Hub"


def test_another_partners_statement_is_a_404_like_a_missing_one(q1: Cast) -> None:
    _close_q1(q1)
    statement = Statement.objects.get(organisation=q1.org_a)
    missing = api_as(q1.admin_b).get("/api/v1/statements/999999999/")
    other = api_as(q1.admin_b).get(f"/api/v1/statements/{statement.pk}/")
    assert (missing.status_code, other.status_code) == (404, 404)
    assert missing.json() == other.json()
    paid = api_as(q1.admin_b).post(
        f"/api/v1/statements/{statement.pk}/payment/",
        {"payment_reference": "X", "paid_on": "2026-05-15"},
        format="json",
    )
    assert paid.status_code == 404


def test_a_partner_cannot_mark_its_own_statement_paid(q1: Cast) -> None:
    _close_q1(q1)
    statement = Statement.objects.get(organisation=q1.org_a)
    response = api_as(q1.admin_a).post(
        f"/api/v1/statements/{statement.pk}/payment/",
        {"payment_reference": "X", "paid_on": "2026-05-15"},
        format="json",
    )
    assert response.status_code == 403
    assert Statement.objects.get(pk=statement.pk).status == "payable"


def test_finance_releases_a_held_statement_then_marks_it_paid(q1: Cast) -> None:
    hold(q1.org_a, standing="warned")
    _close_q1(q1)
    statement = Statement.objects.get(organisation=q1.org_a)
    finance = api_as(q1.finance)
    listed = ok(finance.get("/api/v1/statements/?quarter=2026-Q1&status=held"))["results"]
    assert [(r["partner"], r["held_reasons"]) for r in listed] == [
        (q1.org_a.pk, [{"code": "standing", "text": "The partner is not in good standing"}])
    ]
    refused = finance.post(f"/api/v1/statements/{statement.pk}/release/")
    assert refused.status_code == 409
    assert "not in good standing" in refused.json()["detail"]
    hold(q1.org_a, standing="good")
    released = ok(finance.post(f"/api/v1/statements/{statement.pk}/release/"))
    assert (released["status"], released["held_reasons"]) == ("payable", [])
    paid = ok(
        finance.post(
            f"/api/v1/statements/{statement.pk}/payment/",
            {"payment_reference": "ACH-2026-05-15-7", "paid_on": "2026-05-15"},
            format="json",
        )
    )
    assert (paid["status"], paid["payment_reference"], paid["paid_on"], paid["total"]) == (
        "paid",
        "ACH-2026-05-15-7",
        "2026-05-15",
        "480.00",
    )
    again = finance.post(
        f"/api/v1/statements/{statement.pk}/payment/",
        {"payment_reference": "ACH-8", "paid_on": "2026-05-16"},
        format="json",
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"paid_on": "2026-05-15"}, "payment_reference"),
        ({"payment_reference": "x" * 101, "paid_on": "2026-05-15"}, "payment_reference"),
        ({"payment_reference": "ACH-1"}, "paid_on"),
        ({"payment_reference": "ACH-1", "paid_on": "15/05/2026"}, "paid_on"),
        ({"payment_reference": "ACH-1", "paid_on": "2026-03-30"}, "paid_on"),
        ({"payment_reference": "ACH-1", "paid_on": "2026-05-21"}, "paid_on"),
    ],
)
def test_a_payment_body_is_checked_field_by_field(q1: Cast, body: dict, field: str) -> None:
    _close_q1(q1)
    statement = Statement.objects.get(organisation=q1.org_a)
    response = api_as(q1.finance).post(
        f"/api/v1/statements/{statement.pk}/payment/", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("who", ["admin_a", "member_a", "gs", "pdm", "ops"])
def test_only_finance_closes_and_exports(q1: Cast, who: str) -> None:
    client = api_as(q1.people()[who])
    closing = client.post("/api/v1/quarter-closes/", {"quarter": "2026-Q1"}, format="json")
    dry = client.post(
        "/api/v1/quarter-closes/", {"quarter": "2026-Q1", "dry_run": True}, format="json"
    )
    assert (closing.status_code, dry.status_code) == (403, 403)
    close("2026-Q1")
    exported = client.get("/api/v1/statements/export/?quarter=2026-Q1&format=csv")
    assert exported.status_code == 403


def test_the_export_refuses_an_unknown_format_and_a_quarter_not_closed(q1: Cast) -> None:
    finance = api_as(q1.finance)
    unknown = finance.get("/api/v1/statements/export/?quarter=2026-Q1&format=docx")
    assert unknown.status_code == 400
    assert "format" in unknown.json()
    not_closed = finance.get("/api/v1/statements/export/?quarter=2026-Q1&format=csv")
    assert not_closed.status_code == 409


def test_finance_downloads_a_closed_quarter_as_csv_xlsx_and_pdf(q1: Cast) -> None:
    _close_q1(q1)
    finance = api_as(q1.finance)
    files = {}
    for fmt in ("csv", "xlsx", "pdf"):
        response = finance.get(f"/api/v1/statements/export/?quarter=2026-Q1&format={fmt}")
        assert response.status_code == 200, (fmt, response.content[:300])
        assert "attachment" in response["Content-Disposition"]
        files[fmt] = response
    assert files["csv"]["Content-Type"].startswith("text/csv")
    assert files["pdf"]["Content-Type"] == "application/pdf"
    assert files["pdf"].content.startswith(b"%PDF")
    text = files["csv"].content.decode("utf-8-sig")
    assert "480.00" in text
    assert len(list(csv.reader(io.StringIO(text)))) > 1
    workbook = load_workbook(io.BytesIO(files["xlsx"].content))
    assert workbook.sheetnames
    again = finance.get("/api/v1/statements/export/?quarter=2026-Q1&format=csv")
    assert again.content == files["csv"].content  # the same ledger, the same bytes
