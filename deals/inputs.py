"""Typed input of the deal services, and the bounds of each value.

The API serializers (`deals.api.serializers`) and the page forms (`deals.forms`) parse and bound
the request with these limits and hand the services these values: a service never sees request
data. Money and seat counts take the kernel's bounds (`core.rules`: what `numeric(14, 2)` and
`integer` columns hold, the columns of `deals.models` included: a test holds them equal); the
services still guard them (`core.rules.check_money`, `check_seats`) for every other caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Final, Literal

from partnerportal.core.models import Customer
from partnerportal.core.rules import MONEY_DECIMAL_PLACES, MONEY_MAX, MONEY_MAX_DIGITS, SEATS_MAX

from .models import QuoteLine

__all__ = [
    "AS_QUOTED",
    "MONEY_DECIMAL_PLACES",
    "MONEY_MAX",
    "MONEY_MAX_DIGITS",
    "SEATS_MAX",
    "AsQuoted",
    "ClosedLineInput",
    "PoiDecision",
    "QuoteLineInput",
]

# A discount is a percentage, in the quote line's `numeric(5, 2)` column.
DISCOUNT_MAX_DIGITS: Final = 5
DISCOUNT_DECIMAL_PLACES: Final = 2
DISCOUNT_MAX: Final = Decimal(100)

ID_MAX: Final = 2**63 - 1  # a bigint primary key

# Text: codes as the reference tables key them, free text with a ceiling.
PRODUCT_LINE_MAX: Final = 40  # ProductLine.code
EDITION_MAX: Final = 20  # Edition.code
CURRENCY_LENGTH: Final = 3  # ISO 4217
COUNTRY_LENGTH: Final = 2  # ISO 3166 alpha-2
DOMAIN_MAX: Final = 300  # as typed, before normalisation (a scheme, `www.`, a path)
CUSTOMER_NAME_MAX: Final = Customer._meta.get_field("name").max_length or 200
DISCOUNT_APPROVAL_MAX: Final = QuoteLine._meta.get_field("discount_approval").max_length or 200
NOTE_MAX: Final = 2_000  # a GS's decision note
STATEMENT_MAX: Final = 4_000  # a secondary partner's acknowledgement
REASON_MAX: Final = 4_000  # a partner-ops tie decision
QUESTION_MAX: Final = 10_000  # GS inquiries and partner answers
DOMAIN_MISMATCH_REASON_MAX: Final = 2_000  # why a close is on a domain not registered
DIRECTORY_QUERY_MAX: Final = 100  # a partner name searched in the directory
DIRECTORY_QUERY_MIN: Final = 2
DIRECTORY_RESULTS_MAX: Final = 20

# How far ahead an expected close date may lie (POI links expire at the end of it). The
# setting `PORTAL_EXPECTED_CLOSE_HORIZON_DAYS` overrides it (`deals.services`).
EXPECTED_CLOSE_HORIZON_DAYS: Final = 730
MANUAL_POI_LINES_MAX: Final = 50  # more than there are product lines
QUOTE_LINES_MAX: Final = 50


@dataclass(frozen=True, kw_only=True)
class QuoteLineInput:
    """One line of a quote as the GS wrote it (codes of the reference data)."""

    product_line: str
    edition: str | None
    mrr: Decimal
    currency: str
    seats: int = 1
    discount_pct: Decimal = Decimal(0)
    discount_approval: str = ""


class AsQuoted(Enum):
    """A purchased line's value left out: the current quote's value is taken."""

    AS_QUOTED = "as_quoted"


AS_QUOTED: Final = AsQuoted.AS_QUOTED


@dataclass(frozen=True, kw_only=True)
class ClosedLineInput:
    """One purchased line at the close: `product_line` must be on the current quote; a value
    left out (None, or AS_QUOTED for the edition, which may be null) is the quote's."""

    product_line: str
    mrr: Decimal | None = None
    seats: int | None = None
    currency: str | None = None
    edition: str | None | Literal[AsQuoted.AS_QUOTED] = AS_QUOTED


class PoiDecision(StrEnum):
    """The customer's answer to a POI link."""

    APPROVE = "approve"
    REJECT = "reject"
