"""Revenue share (SPEC 7), pure: plain values in, plain values out, no ORM.

- `entitlement_terms`: which credited lines of a won deal earn revenue share, under which
  program and for how many months (Partner Sourced; the Upmarket Referral Program).
- `accrual_schedule`: what one entitlement accrues month by month, from the line's billing
  (month MRR from `core.rules.version_for_month`, the one home of that rule).
- `revenue_share`: 20 % of a month's MRR, rounded to the cent by this one helper.
- `Stop.covers`: which months a loss of revenue share takes (SPEC 10).
- Quarterly statements: `Quarter`/`parse_quarter`, `payable_on`, `held_reasons`, and which ledger
  lines a close takes (`takes_line`, over months: `close_months`).

The accrual run's SQL (`services.ACCRUE_SQL`) repeats `accrual_schedule` set-based for speed;
`commissions/tests/test_property_sql_equals_rules.py` holds the two equal. The close's SQL
(`services.statements`) takes the lines of the months `close_months` gives;
`commissions/tests/test_property_close_equals_rules.py` holds it equal to `takes_line` per line.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from partnerportal.core.errors import InvalidInput
from partnerportal.core.rules import CENT, Version, first_of_month, months_back, version_for_month

RATE = Decimal("0.20")
PARTNER_MONTHS = 36
PROVIDER_MONTHS = 12
UPMARKET_MONTHS = 12
USD_100 = Decimal(100)
# Tiers from which a partner may earn an Upmarket Referral (SPEC 7: Platinum or above).
UPMARKET_TIERS = frozenset({"platinum", "diamond", "elite"})
UPMARKET_EDITIONS = frozenset({"professional", "enterprise"})


class Program(StrEnum):
    PARTNER_SOURCED = "partner_sourced"
    UPMARKET_REFERRAL = "upmarket_referral"


def revenue_share(mrr: Decimal) -> Decimal:
    """The ONE rounding of money in commissions: 20 % of `mrr`, to the cent, half up (a
    half cent goes to the partner). MRR is in whole cents, so 20 % has at most three
    decimals and only a 5 in the third rounds. The SQL uses PostgreSQL `round(x, 2)`, which
    rounds half away from zero: the same for amounts that are never negative. A reversal is
    the exact negation of the line it reverses, never rounded again."""
    return (mrr * RATE).quantize(CENT, rounding=ROUND_HALF_UP)


def sourced_months(*, is_provider: bool) -> int:
    """Partner Sourced: 36 months for a solutions partner, 12 for a provider."""
    return PROVIDER_MONTHS if is_provider else PARTNER_MONTHS


# --- Upmarket Referral Program ---------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """A rule-set row: from `effective_from` until `effective_until` (exclusive; None: open),
    deals of partners in `countries` (empty: every country) need `usd` of qualifying MRR."""

    effective_from: date
    effective_until: date | None
    countries: frozenset[str]
    usd: Decimal

    def applies(self, *, close_date: date, country: str) -> bool:
        return (
            self.effective_from <= close_date
            and (self.effective_until is None or close_date < self.effective_until)
            and (not self.countries or country in self.countries)
        )


@dataclass(frozen=True)
class ClosedLine:
    """A line the winner was granted at the close: its code, edition, MRR and currency."""

    product_line: str
    edition: str | None
    mrr: Decimal
    currency: str


@dataclass(frozen=True)
class Winner:
    """The credited partner as it stood at the close."""

    motion: str  # deals' Motion value: partner_sourced | partner_assisted
    is_provider: bool
    tier: str
    standing: str
    country: str
    crm_accredited: bool


@dataclass(frozen=True)
class Terms:
    product_line: str
    program: Program
    months: int


def usd_value(*, mrr: Decimal, currency: str, usd100_amounts: Mapping[str, Decimal]) -> Decimal:
    """`mrr` in USD by the program's currency table (`points_amount` = the amount worth USD
    100); unrounded, so a threshold is compared exactly."""
    return mrr * USD_100 / usd100_amounts[currency]


def upmarket_threshold(
    *, close_date: date, country: str, thresholds: Iterable[Threshold]
) -> Decimal | None:
    """The lowest threshold in force for a partner of `country` on `close_date` (the 2025
    pilot's USD 1 000 under the standing USD 3 000), None when no row applies."""
    found = [t.usd for t in thresholds if t.applies(close_date=close_date, country=country)]
    return min(found) if found else None


def entitlement_terms(
    *,
    winner: Winner,
    lines: Sequence[ClosedLine],
    close_date: date,
    usd100_amounts: Mapping[str, Decimal],
    thresholds: Iterable[Threshold],
    exempt_countries: frozenset[str],
) -> list[Terms]:
    """Which of the granted `lines` earn revenue share (SPEC 7).

    The winner of a close always has a POI that counted at the close (Best Partner Wins takes
    candidates only among them), so "won with a counting POI" and "POI signed at close" hold
    for every line granted; they are not facts here.

    - Partner Sourced: every granted line, 36 months (partner) or 12 (provider).
    - Partner Assisted: only the Upmarket Referral Program: a partner at Platinum or above, in
      good standing, CRM Implementation accredited or in an exempt country, whose
      Professional/Enterprise lines add up to the threshold in USD (3 000; the pilot's 1 000):
      those lines, 12 months. Otherwise nothing.
    """
    if winner.motion == "partner_sourced":
        months = sourced_months(is_provider=winner.is_provider)
        return [Terms(line.product_line, Program.PARTNER_SOURCED, months) for line in lines]
    if (
        winner.is_provider
        or winner.tier not in UPMARKET_TIERS
        or winner.standing != "good"
        or not (winner.crm_accredited or winner.country in exempt_countries)
    ):
        return []
    qualifying = [line for line in lines if line.edition in UPMARKET_EDITIONS]
    threshold = upmarket_threshold(
        close_date=close_date, country=winner.country, thresholds=thresholds
    )
    total = sum(
        (
            usd_value(mrr=line.mrr, currency=line.currency, usd100_amounts=usd100_amounts)
            for line in qualifying
        ),
        Decimal(0),
    )
    if not qualifying or threshold is None or total < threshold:
        return []
    return [
        Terms(line.product_line, Program.UPMARKET_REFERRAL, UPMARKET_MONTHS) for line in qualifying
    ]


# --- Accrual ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accrual:
    month: date  # first day of the month
    mrr: Decimal
    currency: str
    amount: Decimal


def _billed(versions: Sequence[Version], month: date) -> Version | None:
    version = version_for_month(versions, month)
    return version if version is not None and version.mrr > 0 else None


@dataclass(frozen=True)
class Stop:
    """A loss of revenue share (SPEC 10, the kernel's `RevenueShareStop`): from
    `effective_from` until `effective_until` (exclusive; None: open-ended)."""

    effective_from: date
    effective_until: date | None

    def covers(self, month: date) -> bool:
        """Whether the month whose 1st is `month` is lost: a month accrues or not by the facts
        on its 1st, as its MRR is the billing in effect on its 1st. A stop from 15 March
        leaves March accrued and takes April on; a stop from 1 March takes March."""
        return self.effective_from <= month and (
            self.effective_until is None or month < self.effective_until
        )


def accrual_schedule(
    *,
    close_date: date,
    months: int,
    versions: Sequence[Version],
    through: date,
    stops: Sequence[Stop] = (),
) -> list[Accrual]:
    """What an entitlement accrues for each month up to the month of `through` (SPEC 7).

    It starts with the month of the close if the line is billed in it (MRR > 0 in the version
    in effect on the 1st), otherwise the first billed month after; it covers at most `months`
    months counted from that start; it stops for good from the first month the line is not
    billed. Each month pays 20 % of that month's MRR in its currency, so an upsell is paid on
    the line's full value from the month it takes effect.

    A loss of revenue share (`stops`, the partner's) stops accrual from its effective date: a
    month whose 1st falls in a stop accrues nothing. The month is lost, not deferred: it still
    counts towards the `months` of the entitlement, and a month after the stop ends accrues
    again if the line is still billed and within its months.
    """
    last = first_of_month(through)
    month = first_of_month(close_date)
    while month <= last and _billed(versions, month) is None:
        month = months_back(month, -1)
    result: list[Accrual] = []
    for _ in range(months):
        if month > last:
            break
        version = _billed(versions, month)
        if version is None:
            break
        if not any(stop.covers(month) for stop in stops):
            result.append(Accrual(month, version.mrr, version.currency, revenue_share(version.mrr)))
        month = months_back(month, -1)
    return result


# --- Quarterly statements ---------------------------------------------------------------------

QUARTER_PATTERN = r"^[0-9]{4}-Q[1-4]$"
QUARTER_YEARS = (2000, 2999)
# SPEC 7: a statement is payable 45 days after its quarter closes (ends).
PAYABLE_AFTER_DAYS = 45
GOOD_STANDING = "good"
# Codes of `Statement.HeldReason`, in the order a statement lists them.
HELD_PAYOUT_PAPERWORK = "payout_paperwork"
HELD_STANDING = "standing"
STATUS_HELD = "held"
STATUS_PAYABLE = "payable"
PAYMENT_REFERENCE_MAX = 100
_QUARTER = re.compile(QUARTER_PATTERN)


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter: `number` 1 (January to March) to 4, of `year`."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not QUARTER_YEARS[0] <= self.year <= QUARTER_YEARS[1] or not 1 <= self.number <= 4:
            raise ValueError(f"No such quarter: {self.year}-Q{self.number}.")

    @property
    def starts_on(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def ends_on(self) -> date:
        return months_back(self.starts_on, -3) - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    def months(self) -> list[date]:
        """The first days of its three months."""
        return [months_back(self.starts_on, -n) for n in range(3)]

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    @classmethod
    def of(cls, day: date) -> Quarter:
        """The quarter `day` falls in."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return self.label


def parse_quarter(text: str) -> Quarter:
    """`YYYY-Qn` (year 2000 to 2999, n 1 to 4) -> the quarter; anything else is a ValueError."""
    if not isinstance(text, str) or not _QUARTER.fullmatch(text):
        raise ValueError("Write the quarter as YYYY-Qn (e.g. 2026-Q1).")
    year = int(text[:4])
    if not QUARTER_YEARS[0] <= year <= QUARTER_YEARS[1]:
        raise ValueError(
            f"Write the quarter as YYYY-Qn with a year from {QUARTER_YEARS[0]} to "
            f"{QUARTER_YEARS[1]}."
        )
    return Quarter(year, int(text[6]))


def payable_on(quarter: Quarter) -> date:
    """SPEC 7: 45 days after the quarter ends (2026-Q1 -> 2026-05-15)."""
    return quarter.ends_on + timedelta(days=PAYABLE_AFTER_DAYS)


def quarter_ended(quarter: Quarter, *, today: date) -> bool:
    """A quarter may be closed only once it has ended: from the day after its last day."""
    return today > quarter.ends_on


def held_reasons(*, payout_paperwork_complete: bool, standing: str) -> list[str]:
    """Why a partner's statement is held (SPEC 2, 7): payout paperwork (ACH and tax)
    incomplete, or not in good standing. Empty: the statement is payable."""
    reasons = []
    if not payout_paperwork_complete:
        reasons.append(HELD_PAYOUT_PAPERWORK)
    if standing != GOOD_STANDING:
        reasons.append(HELD_STANDING)
    return reasons


def statement_status(reasons: Sequence[str]) -> str:
    """A statement is held iff some reason holds it; otherwise payable."""
    return STATUS_HELD if reasons else STATUS_PAYABLE


def takes_line(
    line_month: date, quarter: Quarter, closed_quarters: Collection[Quarter]
) -> tuple[bool, bool]:
    """Whether the close of `quarter` takes a ledger line of `line_month` that is on no statement
    yet, and whether it is a prior-period adjustment: (taken, prior_period).

    A line of one of the quarter's months is taken. A late line of an earlier quarter that is
    already closed is taken as a prior-period adjustment (a closed quarter never changes). A line
    of an earlier quarter not closed yet waits for its own quarter's close; a line of a later
    month is never taken."""
    if quarter.starts_on <= line_month <= quarter.ends_on:
        return True, False
    if line_month < quarter.starts_on and Quarter.of(line_month) in closed_quarters:
        return True, True
    return False, False


def close_months(quarter: Quarter, closed_quarters: Collection[Quarter]) -> list[tuple[date, bool]]:
    """Every month whose lines (on no statement yet) the close of `quarter` takes, oldest first,
    with whether they are prior-period adjustments: `takes_line` over the months from the
    earliest closed quarter to `quarter` (a line of a month before every closed quarter can only
    wait). The close's SQL takes the lines of exactly these months."""
    earlier = [q for q in closed_quarters if q < quarter]
    first = min(earlier, default=quarter)
    quarters = [quarter]
    while quarters[-1] > first:
        quarters.append(quarters[-1].previous())
    result = []
    for q in reversed(quarters):
        for month in q.months():
            taken, prior_period = takes_line(month, quarter, closed_quarters)
            if taken:
                result.append((month, prior_period))
    return result


def check_paid_on(paid_on: date, *, quarter: Quarter, today: date) -> date:
    """A payment date is not before the quarter's end nor in the future."""
    if paid_on < quarter.ends_on:
        raise InvalidInput(
            f"A payment of {quarter.label} cannot be dated before {quarter.ends_on:%Y-%m-%d}.",
            field="paid_on",
        )
    if paid_on > today:
        raise InvalidInput("A payment cannot be dated in the future.", field="paid_on")
    return paid_on


def check_payment_reference(text: str) -> str:
    """A payment reference: 1 to 100 characters once trimmed."""
    reference = text.strip()
    if not reference:
        raise InvalidInput("Give the payment reference.", field="payment_reference")
    if len(reference) > PAYMENT_REFERENCE_MAX:
        raise InvalidInput(
            f"At most {PAYMENT_REFERENCE_MAX} characters.", field="payment_reference"
        )
    return reference
