"""Every commission page, called as every member of the cast and anonymously (rows for
tests/test_access_matrix.py). /finance/ is finance's alone (403 for everyone else, before any
lookup); a partner reads only its own statements (another's is a 404, as a missing one)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from commissions.models import QuarterClose, Statement
from partnerportal.core.models import Currency, Organisation
from tests.cast import Cast, browser_as
from tests.test_access_matrix import EVERYONE, Case, statuses

FINANCE_ONLY = statuses(403, anon=302)
A_ONLY = dict(admin_b=404, member_b=404, provider_admin=404)
B_ONLY = dict(admin_a=404, member_a=404, provider_admin=404, pdm=404)


def closed(label: str = "2026-Q1") -> QuarterClose:
    """A closed quarter (as the close writes it; its statements come from `a_statement`)."""
    year, number = int(label[:4]), int(label[6])
    starts_on = date(year, 3 * number - 2, 1)
    ends_on = {1: date(year, 3, 31), 2: date(year, 6, 30), 3: date(year, 9, 30)}.get(
        number, date(year, 12, 31)
    )
    close, _ = QuarterClose.objects.get_or_create(
        quarter=label, defaults={"starts_on": starts_on, "ends_on": ends_on}
    )
    return close


def a_statement(organisation: Organisation, *, held: bool = False) -> Statement:
    """A 2026-Q1 statement of USD 480.00; `held` for payout paperwork the partner has since
    completed (so finance may release it)."""
    return Statement.objects.create(
        close=closed(),
        organisation=organisation,
        quarter="2026-Q1",
        currency=Currency.objects.get(code="USD"),
        total=Decimal("480.00"),
        payable_on=date(2026, 5, 15),
        status=Statement.Status.HELD if held else Statement.Status.PAYABLE,
        held_reasons=[Statement.HeldReason.PAYOUT_PAPERWORK] if held else [],
    )


def _paid_body(cast: Cast, who: str) -> dict[str, str]:
    return {"payment_reference": f"TRX-{who}", "paid_on": "2026-05-20"}


CASES: list[Case] = [
    Case(
        "quarters",
        "get",
        lambda c: "/finance/quarters/",
        statuses(403, anon=302, finance=200),
        api=False,
    ),
    Case(
        "quarter",
        "get",
        lambda c: f"/finance/quarters/{closed().quarter}/",
        statuses(403, anon=302, finance=200),
        api=False,
    ),
    Case(
        "quarter-preview",
        "get",
        lambda c: "/finance/quarters/2025-Q4/preview/",
        statuses(403, anon=302, finance=200),
        api=False,
    ),
    Case(
        "quarter-close",
        "post",
        lambda c: "/finance/quarters/2025-Q4/close/",
        statuses(403, anon=302, finance=302),
        body=lambda c, who: {"confirm": "on"},
        api=False,
    ),
    Case(
        "quarter-export",
        "get",
        lambda c: f"/finance/quarters/{a_statement(c.org_a).quarter}/export.csv",
        statuses(403, anon=302, finance=200),
        api=False,
    ),
    *(
        Case("finance-statement", "get", url, statuses(403, anon=302, finance=200), api=False)
        for url in (
            lambda c: f"/finance/statements/{a_statement(c.org_a).pk}/",
            lambda c: f"/finance/statements/{a_statement(c.org_b).pk}/",
        )
    ),
    Case(
        "statement-release",
        "post",
        lambda c: f"/finance/statements/{a_statement(c.org_a, held=True).pk}/release/",
        statuses(403, anon=302, finance=302),
        api=False,
    ),
    Case(
        "statement-paid",
        "post",
        lambda c: f"/finance/statements/{a_statement(c.org_b).pk}/paid/",
        statuses(403, anon=302, finance=302),
        body=_paid_body,
        api=False,
    ),
    Case(
        "statements",
        "get",
        lambda c: "/statements/",
        statuses(
            403,
            anon=302,
            finance=302,
            admin_a=200,
            member_a=200,
            admin_b=200,
            member_b=200,
            provider_admin=200,
        ),
        api=False,
    ),
    *(
        Case(
            "statement",
            "get",
            url,
            statuses(403, anon=302, finance=302, **readers, **others),
            api=False,
        )
        for url, readers, others in (
            (
                lambda c: f"/statements/{a_statement(c.org_a).pk}/",
                dict(admin_a=200, member_a=200),
                A_ONLY,
            ),
            (
                lambda c: f"/statements/{a_statement(c.org_b).pk}/",
                dict(admin_b=200, member_b=200),
                B_ONLY,
            ),
        )
    ),
]


@pytest.mark.parametrize("who", [*EVERYONE, "anon"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method}-{c.route}")
def test_every_commission_page_enforces_tenancy_and_role(cast: Cast, case: Case, who: str) -> None:
    user = None if who == "anon" else cast.people()[who]
    url = case.url(cast)
    client = browser_as(user)
    response = client.get(url) if case.method == "get" else client.post(url, case.body(cast, who))
    assert response.status_code == case.expected[who], (who, url, response.content[-300:])
    body = response.content.decode()
    if user is not None and user.organisation is not None:
        for other in (cast.org_a, cast.org_b, cast.provider):
            if other != user.organisation:
                assert other.name not in body, (who, other.name)
