"""Pure kernel rules: plain values in, plain values out, no ORM (SPEC 3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import InvalidInput

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")

CENT = Decimal("0.01")
MAX_MRR = Decimal("999999999999.99")


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


def parse_money(raw: object, *, field: str = "mrr") -> Decimal:
    """Return `raw` as a non-negative Decimal rounded half-up to cents; never via float."""
    if isinstance(raw, float | bool):
        # JSON numbers arrive as float only when the client sent non-integers; keep their text.
        raw = repr(raw) if isinstance(raw, float) else None
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise InvalidInput(
            field=field, message="A valid amount is required (e.g. 400.00)."
        ) from exc
    if not value.is_finite():
        raise InvalidInput(field=field, message="A valid amount is required (e.g. 400.00).")
    if value < 0:
        raise InvalidInput(field=field, message="Must not be negative.")
    value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if value > MAX_MRR:
        raise InvalidInput(field=field, message="Amount is too large.")
    return value


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def months_back(day: date, months: int) -> date:
    """Return the first day of the month `months` before the month of `day`."""
    index = day.year * 12 + (day.month - 1) - months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Version:
    """A subscription version as plain values: [effective_from, effective_until)."""

    effective_from: date
    effective_until: date | None
    mrr: Decimal


def mrr_for_month(versions: list[Version], month: date) -> Decimal:
    """Return a line's MRR for the calendar month of `month`: the MRR of the version in
    effect on its first day, or 0 when none is (not started yet, or terminated). SPEC 3."""
    first = first_of_month(month)
    for version in versions:
        if version.effective_from <= first and (
            version.effective_until is None or first < version.effective_until
        ):
            return version.mrr
    return Decimal("0")


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
