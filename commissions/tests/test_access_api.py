"""Every commissions endpoint, called as every member of the cast and anonymously (see
tests/test_access_matrix.py for the rules and the route-coverage test). Only finance runs the
accrual; a partner's ledger is read by finance and its own users, another partner gets a 404."""

from __future__ import annotations

from tests.test_access_matrix import Case, statuses

from .test_statements_access import CASES as STATEMENT_CASES

A_LEDGER = statuses(
    403,
    finance=200,
    admin_a=200,
    member_a=200,
    admin_b=404,
    member_b=404,
    provider_admin=404,
)
B_LEDGER = statuses(
    403,
    finance=200,
    admin_b=200,
    member_b=200,
    admin_a=404,
    member_a=404,
    provider_admin=404,
    pdm=404,  # not B's PDM
)

CASES: list[Case] = [
    Case(
        "api-accrual-runs",
        "post",
        lambda c: "/api/v1/accrual-runs/",
        statuses(403, finance=201),
        body=lambda c, who: {"month": "2026-01"},
    ),
    Case("api-partner-ledger", "get", lambda c: f"/api/v1/partners/{c.org_a.pk}/ledger/", A_LEDGER),
    Case("api-partner-ledger", "get", lambda c: f"/api/v1/partners/{c.org_b.pk}/ledger/", B_LEDGER),
    Case(
        "api-partner-entitlements",
        "get",
        lambda c: f"/api/v1/partners/{c.org_a.pk}/entitlements/",
        A_LEDGER,
    ),
    Case(
        "api-partner-entitlements",
        "get",
        lambda c: f"/api/v1/partners/{c.org_b.pk}/entitlements/",
        B_LEDGER,
    ),
]

# The statements API's rows live beside its tests.
CASES += STATEMENT_CASES
