"""Pure kernel rules (SPEC 3), no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from partnerportal.core.errors import InvalidInput
from partnerportal.core.rules import (
    Version,
    check_new_version,
    months_back,
    mrr_for_month,
    normalise_domain,
    parse_money,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.com", "acme.com"),
        ("ACME.com", "acme.com"),
        ("https://www.Acme.com/pricing?x=1", "acme.com"),
        ("http://shop.acme.co.uk:8080", "shop.acme.co.uk"),
        ("  www.acme.io.  ", "acme.io"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("a-b.example.org", "a-b.example.org"),
    ],
)
def test_customer_domain_is_normalised(raw: str, expected: str) -> None:
    assert normalise_domain(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "acme",
        "acme.",
        "-acme.com",
        "acme-.com",
        "ac me.com",
        "acme..com",
        "acme.c",
        "user@acme.com",
        "acme.123",
        "a" * 64 + ".com",
        "acme_corp.com",
    ],
)
def test_malformed_domain_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidInput) as error:
        normalise_domain(raw)
    assert error.value.field == "customer_domain"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("400", Decimal("400.00")),
        ("0", Decimal("0.00")),
        ("12.345", Decimal("12.35")),
        (Decimal("62.5"), Decimal("62.50")),
        (400, Decimal("400.00")),
        (0.1, Decimal("0.10")),
    ],
)
def test_money_is_decimal_rounded_half_up_to_cents(raw: object, expected: Decimal) -> None:
    assert parse_money(raw) == expected


@pytest.mark.parametrize("raw", ["-1", "-0.01", "abc", "", None, "NaN", "Infinity", True, "1e20"])
def test_negative_or_non_numeric_mrr_is_rejected(raw: object) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_money(raw)
    assert error.value.field == "mrr"


VERSIONS = [
    Version(date(2025, 1, 1), date(2025, 7, 2), Decimal("50")),
    Version(date(2025, 7, 2), date(2026, 2, 1), Decimal("400")),
]


@pytest.mark.parametrize(
    ("month", "expected"),
    [
        (date(2024, 12, 1), Decimal("0")),  # not started
        (date(2025, 1, 31), Decimal("50")),  # any day of the month counts as that month
        (date(2025, 7, 1), Decimal("50")),  # the July change started on the 2nd
        (date(2025, 8, 15), Decimal("400")),
        (date(2026, 1, 1), Decimal("400")),
        (date(2026, 2, 1), Decimal("0")),  # terminated on the 1st
    ],
)
def test_mrr_for_month_is_version_in_effect_on_first_day(month: date, expected: Decimal) -> None:
    assert mrr_for_month(VERSIONS, month) == expected


def test_months_back_crosses_years() -> None:
    assert months_back(date(2026, 1, 20), 12) == date(2025, 1, 1)
    assert months_back(date(2026, 3, 31), 3) == date(2025, 12, 1)
    assert months_back(date(2026, 3, 31), 0) == date(2026, 3, 1)


def test_subscription_feed_only_appends() -> None:
    check_new_version(
        latest_from=None, latest_until=None, effective_from=date(2026, 1, 1), terminated=False
    )
    check_new_version(
        latest_from=date(2026, 1, 1),
        latest_until=None,
        effective_from=date(2026, 2, 1),
        terminated=True,
    )
    with pytest.raises(InvalidInput, match="after 2026-01-01"):
        check_new_version(
            latest_from=date(2026, 1, 1),
            latest_until=None,
            effective_from=date(2026, 1, 1),
            terminated=False,
        )


def test_termination_needs_an_open_version() -> None:
    with pytest.raises(InvalidInput) as error:
        check_new_version(
            latest_from=None, latest_until=None, effective_from=date(2026, 1, 1), terminated=True
        )
    assert error.value.field == "terminated"
    with pytest.raises(InvalidInput):
        check_new_version(
            latest_from=date(2026, 1, 1),
            latest_until=date(2026, 3, 1),
            effective_from=date(2026, 4, 1),
            terminated=True,
        )


def test_new_version_cannot_overlap_a_terminated_one() -> None:
    with pytest.raises(InvalidInput, match="2026-03-01"):
        check_new_version(
            latest_from=date(2026, 1, 1),
            latest_until=date(2026, 3, 1),
            effective_from=date(2026, 2, 1),
            terminated=False,
        )
    check_new_version(
        latest_from=date(2026, 1, 1),
        latest_until=date(2026, 3, 1),
        effective_from=date(2026, 3, 1),
        terminated=False,
    )
