"""Pure kernel rules: plain values in, plain values out, no ORM (SPEC 3)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .errors import InvalidInput

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")

# Bounds of the database columns for money and seat counts (`numeric(14, 2)`, `integer`).
# Models declare their columns with them and the edge (serializers, forms) bounds input with
# them, so a value the database cannot hold is a 400 naming the field, never a 500.
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2
MONEY_MAX = Decimal("999999999999.99")
SEATS_MAX = 2_147_483_647
CENT = Decimal("0.01")


def normalise_domain(raw: str) -> str:
    """Return the purchase domain of `raw`: lower-case, no scheme, path, port or `www.`.

    Raise InvalidInput when what remains is not a valid host name with a public suffix.
    """
    value = (raw or "").strip().lower()
    value = _SCHEME.sub("", value)
    value = value.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" in value:
        raise InvalidInput(field="customer_domain", message=f"'{raw}' is not a domain name.")
    value = value.split(":", 1)[0].rstrip(".")
    if value.startswith("www."):
        value = value[4:]
    try:
        value = value.encode("idna").decode("ascii") if value and not value.isascii() else value
    except UnicodeError as exc:
        raise InvalidInput(
            field="customer_domain", message=f"'{raw}' is not a valid domain name."
        ) from exc
    labels = value.split(".")
    if (
        len(value) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or not _TLD.match(labels[-1])
    ):
        raise InvalidInput(
            field="customer_domain",
            message=f"'{raw}' is not a valid domain name (expected e.g. acme.com).",
        )
    return value


def check_money(amount: Decimal, *, field: str = "mrr") -> Decimal:
    """Return `amount` if it is an amount of money the program records: a finite, non-negative
    Decimal in whole cents that its column can hold. Raise InvalidInput otherwise.

    Input was parsed at the edge (API serializers, forms, with the same bounds); this is the
    service's own guard for every other caller (demo data, operator code, other apps)."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise InvalidInput(field=field, message="A valid amount is required (e.g. 400.00).")
    if amount < 0:
        raise InvalidInput(field=field, message="Must not be negative.")
    if amount != amount.quantize(CENT):
        raise InvalidInput(field=field, message="Give the amount in whole cents (e.g. 400.50).")
    if amount > MONEY_MAX:
        raise InvalidInput(field=field, message=f"Must be at most {MONEY_MAX:,}.")
    return amount.quantize(CENT)


def check_seats(seats: int, *, field: str = "seats") -> int:
    """Return `seats` if it is a seat count its column can hold (0 to SEATS_MAX)."""
    if isinstance(seats, bool) or not isinstance(seats, int):
        raise InvalidInput(field=field, message="A whole number is required.")
    if seats < 0:
        raise InvalidInput(field=field, message="Must be zero or more.")
    if seats > SEATS_MAX:
        raise InvalidInput(field=field, message=f"Must be at most {SEATS_MAX:,}.")
    return seats


def check_points_amount(amount: Decimal) -> Decimal:
    """Return a currency's amount worth USD 100 for points (SPEC 3) if it is a positive amount
    of money; points are MRR divided by it, so zero or less is refused."""
    amount = check_money(amount, field="points_amount")
    if amount <= 0:
        raise InvalidInput(field="points_amount", message="Must be more than zero.")
    return amount


_CODE = re.compile(r"^[A-Z]+$")


def check_code(code: str, *, length: int, field: str = "code") -> str:
    """Return an ISO code (country: 2 letters, currency: 3) in capitals, or raise."""
    value = (code or "").strip().upper()
    if len(value) != length or not _CODE.match(value):
        raise InvalidInput(field=field, message=f"Use the {length}-letter ISO code.")
    return value


def first_of_month(day: date) -> date:
    """Return the first day of the calendar month of `day`."""
    return day.replace(day=1)


def months_back(day: date, months: int) -> date:
    """Return the first day of the month `months` before the month of `day`."""
    index = day.year * 12 + (day.month - 1) - months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Version:
    """A subscription version as plain values: `mrr` in `currency` (ISO 4217), in effect from
    `effective_from` (inclusive) until `effective_until` (exclusive; None while open)."""

    effective_from: date
    effective_until: date | None
    mrr: Decimal
    currency: str

    def in_effect_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day < self.effective_until
        )


def version_for_month(versions: Iterable[Version], month: date) -> Version | None:
    """Return the version that sets a line's MRR for the calendar month of `month` (SPEC 3):
    the one in effect on the month's first day; None when none is (not started yet, or
    terminated on or before that day), and the line's MRR for the month is then 0.

    A line's versions never overlap: the billing feed only appends, each version starting
    after the latest one started and closing it (`check_new_version`), and the database
    refuses overlaps (`subversion_no_overlap`). Should overlapping versions reach this rule
    anyway, the one that took effect last wins, as the one appended later; of two that took
    effect on the same day, the one listed last. A re-billed line (terminated, then billed
    again, or billed again in another currency) is simply its next version.
    """
    first = first_of_month(month)
    found: Version | None = None
    for version in versions:
        if version.in_effect_on(first) and (
            found is None or version.effective_from >= found.effective_from
        ):
            found = version
    return found


def check_new_version(
    *,
    latest_from: date | None,
    latest_until: date | None,
    effective_from: date,
    terminated: bool,
) -> None:
    """Validate appending a version (or a termination) after the latest one.

    The billing feed is append-only: a change must start after the latest version started,
    and a termination needs an open version to end.
    """
    if latest_from is not None and effective_from <= latest_from:
        raise InvalidInput(
            field="effective_from",
            message=f"Must be after {latest_from.isoformat()}, the start of the latest version "
            "of this subscription (the billing feed only appends).",
        )
    latest_open = latest_from is not None and latest_until is None
    if terminated and not latest_open:
        raise InvalidInput(
            field="terminated", message="This subscription has no open version to terminate."
        )
    if latest_until is not None and effective_from < latest_until:
        raise InvalidInput(
            field="effective_from",
            message=f"Must be on or after {latest_until.isoformat()}, when the latest version "
            "ended.",
        )
