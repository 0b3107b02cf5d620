"""Revenue share (SPEC 7), pure: plain values in, plain values out, no ORM.

- `entitlement_terms`: which credited lines of a won deal earn revenue share, under which
  program and for how many months (Partner Sourced; the Upmarket Referral Program).
- `accrual_schedule`: what one entitlement accrues month by month, from the line's billing
  (month MRR from `core.rules.version_for_month`, the one home of that rule).
- `revenue_share`: 20 % of a month's MRR, rounded to the cent by this one helper.
- `Stop.covers`: which months a loss of revenue share takes (SPEC 10).

The accrual run's SQL (`services.ACCRUE_SQL`) repeats `accrual_schedule` set-based for speed;
`commissions/tests/test_property_sql_equals_rules.py` holds the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

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
