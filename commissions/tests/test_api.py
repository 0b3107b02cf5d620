"""The commissions API (SPEC 11): `POST /accrual-runs/` and a partner's ledger lines."""

from __future__ import annotations

from datetime import date

import pytest

from deals.tests.api_steps import ok, start_clock
from tests.cast import Cast, api_as

from .steps import sourced_line

pytestmark = pytest.mark.django_db


def test_finance_runs_the_accrual_and_the_partner_reads_its_ledger(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    sourced_line(
        cast.org_a, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "800.00")]
    )
    sourced_line(
        cast.org_b, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "50.00")]
    )
    run = ok(
        api_as(cast.finance).post("/api/v1/accrual-runs/", {"month": "2026-03"}, format="json"), 201
    )
    assert (
        run["month"],
        run["lines_accrued"],
        run["lines_reversed"],
        run["entitlements_derived"],
    ) == ("2026-03", 6, 0, 2)
    again = ok(
        api_as(cast.finance).post("/api/v1/accrual-runs/", {"month": "2026-03"}, format="json"), 201
    )
    assert (again["lines_accrued"], again["id"] != run["id"]) == (0, True)
    lines = ok(api_as(cast.member_a).get(f"/api/v1/partners/{cast.org_a.pk}/ledger/"))["results"]
    assert [(x["month"], x["amount"], x["currency"], x["kind"]) for x in lines] == [
        ("2026-01", "160.00", "USD", "accrual"),
        ("2026-02", "160.00", "USD", "accrual"),
        ("2026-03", "160.00", "USD", "accrual"),
    ]
    assert (lines[0]["product_line"], lines[0]["program"]) == ("marketing_hub", "partner_sourced")


@pytest.mark.parametrize(
    "month", ["2026-13", "26-03", "2026-3", "1999-12", "0000-01", "", "2026-03-01"]
)
def test_accrual_run_month_must_be_yyyy_mm(cast: Cast, month: str) -> None:
    response = api_as(cast.finance).post("/api/v1/accrual-runs/", {"month": month}, format="json")
    assert response.status_code == 400
    assert "month" in response.json()


def test_accrual_run_refuses_a_month_not_started(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    response = api_as(cast.finance).post(
        "/api/v1/accrual-runs/", {"month": "2026-05"}, format="json"
    )
    assert response.status_code == 400
    assert "month" in response.json()


def test_a_partner_reads_its_entitlements_with_what_each_earns_by_month(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_clock(monkeypatch, "2026-03-20T08:00:00")
    sourced_line(
        cast.org_a, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "800.00")]
    )
    ok(api_as(cast.finance).post("/api/v1/accrual-runs/", {"month": "2026-01"}, format="json"), 201)
    (row,) = ok(api_as(cast.admin_a).get(f"/api/v1/partners/{cast.org_a.pk}/entitlements/"))
    assert (row["program"], row["months"], row["close_date"]) == (
        "partner_sourced",
        36,
        "2026-01-12",
    )
    assert [(m["month"], m["amount"]) for m in row["schedule"]] == [
        ("2026-01", "160.00"),
        ("2026-02", "160.00"),
        ("2026-03", "160.00"),
    ]
