"""SPEC 7's quarterly statements on the pure rules (no database): quarters, the payable date,
why a statement is held, which ledger lines a close takes, and a payment's date and
reference."""

from __future__ import annotations

from datetime import date

import pytest

from commissions import rules
from commissions.models import Statement
from commissions.rules import Quarter, parse_quarter
from partnerportal.core.errors import InvalidInput

Q1_2026 = Quarter(2026, 1)


@pytest.mark.parametrize(
    ("text", "year", "number", "starts_on", "ends_on"),
    [
        ("2026-Q1", 2026, 1, date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q2", 2026, 2, date(2026, 4, 1), date(2026, 6, 30)),
        ("2026-Q3", 2026, 3, date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-Q4", 2026, 4, date(2026, 10, 1), date(2026, 12, 31)),
        ("2024-Q1", 2024, 1, date(2024, 1, 1), date(2024, 3, 31)),  # leap year: no matter
        ("2000-Q1", 2000, 1, date(2000, 1, 1), date(2000, 3, 31)),
        ("2999-Q4", 2999, 4, date(2999, 10, 1), date(2999, 12, 31)),
    ],
)
def test_a_quarter_is_written_yyyy_qn_and_spans_three_months(
    text: str, year: int, number: int, starts_on: date, ends_on: date
) -> None:
    quarter = parse_quarter(text)
    assert (quarter.year, quarter.number, quarter.starts_on, quarter.ends_on) == (
        year,
        number,
        starts_on,
        ends_on,
    )
    assert quarter.label == str(quarter) == text
    assert quarter.months() == [
        starts_on,
        starts_on.replace(month=starts_on.month + 1),
        starts_on.replace(month=starts_on.month + 2),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "2026-Q0",
        "2026-Q5",
        "2026-q1",
        "2026Q1",
        "2026-1",
        "26-Q1",
        " 2026-Q1",
        "2026-Q1 ",
        "2026-Q1\n",
        "1999-Q4",
        "3000-Q1",
        "0000-Q1",
        "",
        "2026-Q\u0661",  # an Arabic-Indic digit one
        "\u0662\u0660\u0662\u0666-Q1",  # 2026 in Arabic-Indic digits
    ],
)
def test_anything_but_yyyy_qn_from_2000_to_2999_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"YYYY-Qn|No such quarter"):
        parse_quarter(text)


def test_quarters_follow_each_other_across_years() -> None:
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    assert Quarter(2025, 4).next() == Quarter(2026, 1)
    assert Quarter(2026, 2).previous() == Quarter(2026, 1)
    assert Quarter(2026, 2).next() == Quarter(2026, 3)
    assert Quarter(2025, 4) < Quarter(2026, 1) < Quarter(2026, 2)


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2026, 1, 1), "2026-Q1"),
        (date(2026, 3, 31), "2026-Q1"),
        (date(2026, 4, 1), "2026-Q2"),
        (date(2026, 9, 30), "2026-Q3"),
        (date(2026, 12, 31), "2026-Q4"),
    ],
)
def test_the_quarter_of_a_day(day: date, label: str) -> None:
    assert Quarter.of(day).label == label


@pytest.mark.parametrize(
    ("label", "payable"),
    [
        ("2026-Q1", date(2026, 5, 15)),  # SPEC 7's example: 31 March + 45 days
        ("2026-Q2", date(2026, 8, 14)),  # 30 June + 45
        ("2026-Q3", date(2026, 11, 14)),  # 30 September + 45
        ("2026-Q4", date(2027, 2, 14)),  # 31 December + 45
        ("2024-Q1", date(2024, 5, 15)),  # 31 March + 45, whatever February was
    ],
)
def test_a_statement_is_payable_45_days_after_its_quarter_ends(label: str, payable: date) -> None:
    assert rules.payable_on(parse_quarter(label)) == payable


def test_a_quarter_can_be_closed_from_the_day_after_its_end() -> None:
    assert not rules.quarter_ended(Q1_2026, today=date(2026, 3, 31))
    assert rules.quarter_ended(Q1_2026, today=date(2026, 4, 1))
    assert not rules.quarter_ended(Q1_2026, today=date(2026, 1, 15))


@pytest.mark.parametrize(
    ("paperwork", "standing", "reasons"),
    [
        (True, "good", []),
        (False, "good", ["payout_paperwork"]),
        (True, "warned", ["standing"]),
        (True, "suspended", ["standing"]),
        (True, "terminated", ["standing"]),
        (False, "warned", ["payout_paperwork", "standing"]),
    ],
)
def test_a_statement_is_held_while_paperwork_is_missing_or_standing_is_not_good(
    paperwork: bool, standing: str, reasons: list[str]
) -> None:
    got = rules.held_reasons(payout_paperwork_complete=paperwork, standing=standing)
    assert got == reasons
    assert rules.statement_status(got) == ("held" if reasons else "payable")


def test_the_held_reasons_are_the_statements_codes() -> None:
    assert {rules.HELD_PAYOUT_PAPERWORK, rules.HELD_STANDING} == set(Statement.HeldReason.values)
    assert {rules.STATUS_HELD, rules.STATUS_PAYABLE} < set(Statement.Status.values)


# --- Which ledger lines a close takes ------------------------------------------------------


def q(label: str) -> Quarter:
    return parse_quarter(label)


@pytest.mark.parametrize(
    ("month", "closed", "expected"),
    [
        # The quarter's own months: taken, not prior.
        (date(2026, 4, 1), set(), (True, False)),
        (date(2026, 5, 1), set(), (True, False)),
        (date(2026, 6, 1), {"2026-Q1"}, (True, False)),
        # A late line of an earlier, closed quarter: a prior-period adjustment.
        (date(2026, 3, 1), {"2026-Q1"}, (True, True)),
        (date(2025, 11, 1), {"2025-Q4", "2026-Q1"}, (True, True)),
        (date(2024, 1, 1), {"2024-Q1"}, (True, True)),  # however old
        # An earlier quarter not closed yet: the line waits for its own close.
        (date(2026, 3, 1), set(), (False, False)),
        (date(2025, 12, 1), {"2026-Q1"}, (False, False)),
        # A later month: never.
        (date(2026, 7, 1), set(), (False, False)),
        (date(2026, 7, 1), {"2026-Q3"}, (False, False)),
        (date(2027, 1, 1), {"2026-Q1"}, (False, False)),
    ],
)
def test_which_lines_the_close_of_2026_q2_takes(
    month: date, closed: set[str], expected: tuple[bool, bool]
) -> None:
    assert rules.takes_line(month, q("2026-Q2"), {q(x) for x in closed}) == expected


def test_a_close_takes_the_quarters_months_and_the_closed_earlier_ones_as_prior_period() -> None:
    """2026-Q2 with 2025-Q4 and 2026-Q1 closed (2025-Q3 not): April to June, and October 2025
    to March 2026 as prior-period months; nothing of 2025-Q3, which waits."""
    closed = {q("2025-Q4"), q("2026-Q1"), q("2026-Q3")}  # a later closed quarter changes nothing
    assert rules.close_months(q("2026-Q2"), closed) == [
        (date(2025, 10, 1), True),
        (date(2025, 11, 1), True),
        (date(2025, 12, 1), True),
        (date(2026, 1, 1), True),
        (date(2026, 2, 1), True),
        (date(2026, 3, 1), True),
        (date(2026, 4, 1), False),
        (date(2026, 5, 1), False),
        (date(2026, 6, 1), False),
    ]


def test_a_gap_of_unclosed_quarters_is_skipped() -> None:
    """2025-Q1 closed, 2025-Q2 to Q4 not: closing 2026-Q1 takes 2025-Q1's late lines only."""
    months = rules.close_months(q("2026-Q1"), {q("2025-Q1")})
    assert [m for m, prior in months if prior] == [
        date(2025, 1, 1),
        date(2025, 2, 1),
        date(2025, 3, 1),
    ]
    assert [m for m, prior in months if not prior] == q("2026-Q1").months()


def test_the_first_close_takes_only_its_own_months() -> None:
    assert rules.close_months(q("2026-Q1"), set()) == [
        (date(2026, 1, 1), False),
        (date(2026, 2, 1), False),
        (date(2026, 3, 1), False),
    ]


def test_close_months_is_takes_line_over_every_month_it_could_take() -> None:
    """Over 12 quarters with every subset of 4 of them closed: a month is listed iff
    `takes_line` takes it, with the same prior-period flag."""
    quarter = q("2026-Q2")
    span = [q("2025-Q1")]
    while span[-1] < q("2027-Q4"):
        span.append(span[-1].next())
    candidates = [q("2025-Q1"), q("2025-Q3"), q("2026-Q1"), q("2026-Q4")]
    for mask in range(16):
        closed = {c for bit, c in enumerate(candidates) if mask >> bit & 1}
        listed = dict(rules.close_months(quarter, closed))
        for each in span:
            for month in each.months():
                taken, prior = rules.takes_line(month, quarter, closed)
                assert (month in listed) == taken, (month, closed)
                if taken:
                    assert listed[month] == prior


# --- Payment ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid_on", "ok"),
    [
        (date(2026, 3, 30), False),  # before the quarter ended
        (date(2026, 3, 31), True),  # its last day
        (date(2026, 5, 15), True),
        (date(2026, 5, 20), True),  # today
        (date(2026, 5, 21), False),  # the future
    ],
)
def test_a_payment_is_dated_between_the_quarters_end_and_today(paid_on: date, ok: bool) -> None:
    if ok:
        assert rules.check_paid_on(paid_on, quarter=Q1_2026, today=date(2026, 5, 20)) == paid_on
    else:
        with pytest.raises(InvalidInput) as refused:
            rules.check_paid_on(paid_on, quarter=Q1_2026, today=date(2026, 5, 20))
        assert refused.value.field == "paid_on"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ACH-1", "ACH-1"),
        ("  ACH-1 ", "ACH-1"),
        ("x" * 100, "x" * 100),
        ("", None),
        ("   ", None),
        ("x" * 101, None),
    ],
)
def test_a_payment_reference_is_1_to_100_characters(text: str, expected: str | None) -> None:
    if expected is not None:
        assert rules.check_payment_reference(text) == expected
    else:
        with pytest.raises(InvalidInput) as refused:
            rules.check_payment_reference(text)
        assert refused.value.field == "payment_reference"
