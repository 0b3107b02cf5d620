"""Pure kernel rules (SPEC 3), no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from partnerportal.core.errors import InvalidInput
from partnerportal.core.rules import (
    MONEY_MAX,
    SEATS_MAX,
    Version,
    check_money,
    check_new_version,
    check_seats,
    months_back,
    normalise_domain,
    version_for_month,
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
    ("amount", "expected"),
    [
        (Decimal("400"), Decimal("400.00")),
        (Decimal("0"), Decimal("0.00")),
        (Decimal("62.5"), Decimal("62.50")),
        (Decimal("12.340"), Decimal("12.34")),  # trailing zeros are still whole cents
        (MONEY_MAX, MONEY_MAX),
    ],
)
def test_money_is_a_non_negative_decimal_in_whole_cents(amount: Decimal, expected: Decimal) -> None:
    assert check_money(amount) == expected


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("-0.01"),
        Decimal("12.345"),
        Decimal("NaN"),
        Decimal("Infinity"),
        MONEY_MAX + Decimal("0.01"),
        Decimal("1e25"),
        "400",  # a service takes a Decimal parsed at the edge, never raw text
        400.0,
    ],
)
def test_money_the_column_cannot_hold_is_refused(amount: object) -> None:
    with pytest.raises(InvalidInput) as error:
        check_money(amount)  # type: ignore[arg-type]
    assert error.value.field == "mrr"


@pytest.mark.parametrize("seats", [-1, SEATS_MAX + 1, 2**70, 2.5, True, "3"])
def test_seat_count_the_column_cannot_hold_is_refused(seats: object) -> None:
    with pytest.raises(InvalidInput) as error:
        check_seats(seats)  # type: ignore[arg-type]
    assert error.value.field == "seats"
    assert check_seats(0) == 0
    assert check_seats(SEATS_MAX) == SEATS_MAX


def _v(start: date, until: date | None, mrr: str, currency: str = "USD") -> Version:
    return Version(effective_from=start, effective_until=until, mrr=Decimal(mrr), currency=currency)


def _mrr(versions: list[Version], month: date) -> Decimal:
    """A line's MRR for `month`: its version's, 0 when none is in effect (SPEC 3)."""
    version = version_for_month(versions, month)
    return version.mrr if version is not None else Decimal(0)


FAQ = [_v(date(2025, 1, 1), date(2025, 7, 2), "50"), _v(date(2025, 7, 2), date(2026, 2, 1), "400")]


@pytest.mark.parametrize(
    ("versions", "month", "expected"),
    [
        pytest.param([], date(2026, 3, 1), "0", id="no-versions"),
        pytest.param(FAQ, date(2024, 12, 1), "0", id="not-started"),
        pytest.param(FAQ, date(2025, 1, 31), "50", id="any-day-of-the-month"),
        pytest.param(FAQ, date(2025, 7, 1), "50", id="a-change-on-the-2nd-counts-next-month"),
        pytest.param(FAQ, date(2025, 8, 15), "400", id="after-the-change"),
        pytest.param(FAQ, date(2026, 2, 1), "0", id="terminated-on-the-1st"),
        pytest.param(
            [_v(date(2025, 1, 1), date(2026, 3, 2), "100")],
            date(2026, 3, 1),
            "100",
            id="terminated-on-the-2nd-still-billed-that-month",
        ),
        pytest.param(
            [_v(date(2025, 1, 1), date(2026, 3, 1), "50"), _v(date(2026, 3, 1), None, "400")],
            date(2026, 3, 1),
            "400",
            id="upgrade-on-the-1st",
        ),
        pytest.param(
            [_v(date(2025, 1, 1), date(2025, 9, 1), "100"), _v(date(2025, 11, 1), None, "300")],
            date(2025, 10, 1),
            "0",
            id="terminated-then-re-billed-a-gap-month",
        ),
        pytest.param(
            [_v(date(2025, 1, 1), date(2025, 9, 1), "100"), _v(date(2025, 11, 1), None, "300")],
            date(2025, 11, 1),
            "300",
            id="terminated-then-re-billed",
        ),
    ],
)
def test_mrr_for_a_month_is_the_version_in_effect_on_its_first_day(
    versions: list[Version], month: date, expected: str
) -> None:
    assert _mrr(versions, month) == Decimal(expected)


def test_a_line_re_billed_in_another_currency_is_its_next_version() -> None:
    versions = [
        _v(date(2025, 1, 1), date(2025, 12, 1), "130", "CAD"),
        _v(date(2025, 12, 1), None, "300", "USD"),
    ]
    assert version_for_month(versions, date(2025, 11, 15)) == versions[0]
    assert version_for_month(versions, date(2025, 12, 15)) == versions[1]


@pytest.mark.parametrize("order", [1, -1], ids=["appended-order", "reversed"])
def test_of_overlapping_versions_the_one_that_took_effect_last_wins(order: int) -> None:
    """Overlaps cannot be stored (`subversion_no_overlap`); given some anyway, the rule picks
    the later version, whatever the order it is handed them in."""
    versions = [_v(date(2025, 1, 1), None, "50"), _v(date(2026, 3, 1), None, "400")][::order]

    assert _mrr(versions, date(2026, 3, 1)) == Decimal(400)
    assert _mrr(versions, date(2026, 2, 1)) == Decimal(50)


def test_of_overlapping_versions_from_the_same_day_the_one_appended_last_wins() -> None:
    versions = [_v(date(2026, 1, 1), None, "50", "USD"), _v(date(2026, 1, 1), None, "40", "EUR")]
    assert version_for_month(versions, date(2026, 3, 1)) == versions[1]


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
