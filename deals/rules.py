"""Pure domain rules for deals (SPEC sections 3, 5 and 6; `seeds/003`, Rules of Engagement).

Plain values in, plain values out: no ORM, no Django, no hidden clock. Every time-dependent
rule takes `now`/`asked_at`/... explicitly and requires aware datetimes. Money is `Decimal`.

Rule codes are `Rule` members (a `StrEnum`, so they compare equal to their string values and
serialise as such). A refused action raises the kernel's `InvalidInput` naming the rule that
refused (`rule=Rule.X`); the service that called the rule puts it on the field at fault.
A broken contract (a float for money, a naive datetime) is a programming error: `ValueError`.
Their words for people live in `deals.presenters`, keyed by these enums.

Nothing here may reveal one partner to another: messages name the rule, the product line or
the domain, never another partner.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

import holidays

from partnerportal.core.errors import InvalidInput
from partnerportal.core.rules import normalise_domain

# --------------------------------------------------------------------------------------------
# Vocabulary (SPEC 3)
# --------------------------------------------------------------------------------------------


class ProductKind(StrEnum):
    HUB = "hub"
    CREDITS = "credits"
    HUB_AGNOSTIC = "hub_agnostic"


class Edition(StrEnum):
    STARTER = "starter"
    PROFESSIONAL = "professional"
    ENTERPRISE = "enterprise"


class Motion(StrEnum):
    PARTNER_SOURCED = "partner_sourced"
    PARTNER_ASSISTED = "partner_assisted"


class PoiStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    VOIDED = "voided"


class Rule(StrEnum):
    """Codes of the rules that decide or refuse something: stored as-is, shown in words
    (`deals.presenters.RULE_WORDS`)."""

    # Quote eligibility (SPEC 5), deal level.
    EMPTY_QUOTE = "empty_quote"
    STARTER_ONLY = "starter_only"
    NO_ELIGIBLE_LINE = "no_eligible_line"
    # Quote eligibility, line level.
    ELIGIBLE_EDITION = "eligible_edition"
    CREDITS = "credits"
    HUB_AGNOSTIC = "hub_agnostic"
    STARTER_UPGRADE = "starter_upgrade"
    BUNDLED_STARTER = "bundled_starter"
    STARTER_NOT_BUNDLED = "starter_not_bundled"
    ALREADY_HELD = "already_held"
    # Proof of involvement (SPEC 5): why a POI does not count or is refused.
    NO_POI = "no_poi"
    NOT_APPROVED = "not_approved"
    LATE_SIGNATURE = "late_signature"
    OUTSIDE_SALE_MONTH = "outside_sale_month"
    OTHER_DOMAIN = "other_domain"
    PROVIDER_CANNOT_WAIVE_ONBOARDING = "provider_cannot_waive_onboarding"
    MANUAL_POI_NOT_ALLOWED = "manual_poi_not_allowed"
    POI_LINES_NOT_ON_QUOTE = "poi_lines_not_on_quote"
    # Best Partner Wins (SPEC 6); the step that decided a close.
    NO_CANDIDATE = "no_candidate"
    SINGLE_CANDIDATE = "single_candidate"
    SOURCING_PRIORITY = "sourcing_priority"
    HIGHEST_MRR_ONBOARDING = "highest_mrr_onboarding"
    AWAITING_DECISION = "awaiting_decision"
    OPS_DECISION = "ops_decision"
    NOT_AWAITING_DECISION = "not_awaiting_decision"
    NOT_TIED = "not_tied"
    SECONDARY_NO_CREDIT = "secondary_no_credit"
    REASON_REQUIRED = "reason_required"
    # Registrations, discounts.
    DUPLICATE_REGISTRATION = "duplicate_registration"
    DISCOUNT_NOT_APPROVED = "discount_not_approved"
    # Plausible dates and a deliberate close (issue 10).
    EXPECTED_CLOSE_IN_PAST = "expected_close_in_past"
    EXPECTED_CLOSE_BEYOND_HORIZON = "expected_close_beyond_horizon"
    CLOSE_DATE_IN_FUTURE = "close_date_in_future"
    CLOSE_DATE_BEFORE_OPENING = "close_date_before_opening"
    PURCHASE_DOMAIN_NOT_REGISTERED = "purchase_domain_not_registered"


HUBS: frozenset[str] = frozenset(
    {"marketing_hub", "sales_hub", "service_hub", "content_hub", "operations_hub"}
)
CREDITS_LINE = "credits"
PAID_EDITIONS: frozenset[Edition] = frozenset({Edition.PROFESSIONAL, Edition.ENTERPRISE})

PRODUCT_LINE_LABELS: Mapping[str, str] = {
    "marketing_hub": "Marketing Hub",
    "sales_hub": "Sales Hub",
    "service_hub": "Service Hub",
    "content_hub": "Content Hub",
    "operations_hub": "Operations Hub",
    "credits": "HubSpot Credits",
    "reports_addon": "Reports Add-on",
    "core_seats": "Core Seats",
}

_PRODUCT_LINE_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def product_kind(product_line: str) -> ProductKind:
    """Return the kind of a product line code: any code that is not a hub or credits is a
    hub-agnostic product, each its own product line."""
    if not _PRODUCT_LINE_CODE.match(product_line):
        raise ValueError(f"{product_line!r} is not a product line code")
    if product_line in HUBS:
        return ProductKind.HUB
    if product_line == CREDITS_LINE:
        return ProductKind.CREDITS
    return ProductKind.HUB_AGNOSTIC


def product_line_label(product_line: str) -> str:
    return PRODUCT_LINE_LABELS.get(product_line, product_line.replace("_", " ").capitalize())


def _edition_or_none(value: str | None) -> Edition | None:
    return None if value is None else Edition(value)


def _check_edition(product_line: str, edition: Edition | None) -> None:
    if product_kind(product_line) is ProductKind.HUB:
        if edition is None:
            raise ValueError(f"{product_line} needs an edition")
    elif edition is not None:
        raise ValueError(f"{product_line} has no edition")


def _check_money(value: Decimal, what: str) -> None:
    # Money is Decimal, never float (SPEC 3).
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite() or value < 0:
        raise ValueError(f"{what} must be a finite amount >= 0")


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime")


# --------------------------------------------------------------------------------------------
# Quote eligibility (SPEC 5)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class QuoteLine:
    product_line: str
    edition: Edition | None
    mrr: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "edition", _edition_or_none(self.edition))
        _check_edition(self.product_line, self.edition)
        _check_money(self.mrr, f"MRR of {self.product_line}")

    @property
    def kind(self) -> ProductKind:
        return product_kind(self.product_line)


@dataclass(frozen=True, kw_only=True)
class HeldLine:
    """A product line the customer already holds (an active subscription)."""

    edition: Edition | None
    # True when a partner other than the one being assessed holds its sold association.
    held_by_other_partner: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "edition", _edition_or_none(self.edition))


@dataclass(frozen=True, kw_only=True)
class RuleFailure:
    rule: Rule
    message: str
    product_line: str | None = None  # None: the failure is about the whole quote


@dataclass(frozen=True, kw_only=True)
class LineEligibility:
    product_line: str
    credited: bool
    rule: Rule  # why it is credited (or not)


@dataclass(frozen=True, kw_only=True)
class EligibilityResult:
    eligible: bool
    lines: tuple[LineEligibility, ...]
    # Every rule that failed: the quote-level one (product_line None) when not eligible, and
    # one per line that is not credited because the customer already holds it. An eligible
    # quote may still list failures for the lines it does not credit.
    failures: tuple[RuleFailure, ...]

    def raise_if_ineligible(self) -> None:
        if self.eligible:
            return
        failure = next(f for f in self.failures if f.product_line is None)
        raise InvalidInput(failure.message, rule=failure.rule)


def _held_line_verdict(line: QuoteLine, held: HeldLine) -> tuple[Rule, str | None]:
    label = product_line_label(line.product_line)
    upgrade = (
        line.kind is ProductKind.HUB
        and held.edition is Edition.STARTER
        and line.edition in PAID_EDITIONS
    )
    if upgrade and not held.held_by_other_partner:
        return Rule.STARTER_UPGRADE, None
    if upgrade:
        # Worded as the rule, so that it confirms nothing about who holds the association.
        return Rule.ALREADY_HELD, (
            f"The customer already holds {label}; upgrading it from Starter is eligible only "
            "while no other partner holds its sold association."
        )
    held_as = f" ({held.edition.value.capitalize()})" if held.edition else ""
    return Rule.ALREADY_HELD, f"The customer already holds {label}{held_as}."


def check_quote_eligibility(
    *, lines: Sequence[QuoteLine], held_lines: Mapping[str, HeldLine]
) -> EligibilityResult:
    """Return which quote lines are credited and whether the quote is eligible at all.

    Eligible lines: a Professional/Enterprise hub, credits or a hub-agnostic product the
    customer does not hold, or a held Starter hub upgraded to Professional/Enterprise while no
    other partner holds its association. Starter lines are credited only when bundled with an
    eligible line. A line the customer already holds is otherwise never credited.
    """
    if not lines:
        failure = RuleFailure(rule=Rule.EMPTY_QUOTE, message="The quote has no lines.")
        return EligibilityResult(eligible=False, lines=(), failures=(failure,))
    seen: set[str] = set()
    for line in lines:
        if line.product_line in seen:
            raise ValueError(f"{line.product_line} appears twice on the quote")
        seen.add(line.product_line)

    verdicts: dict[str, tuple[Rule, str | None]] = {}
    starters: list[str] = []
    for line in lines:
        held = held_lines.get(line.product_line)
        if held is not None:
            verdicts[line.product_line] = _held_line_verdict(line, held)
        elif line.edition is Edition.STARTER:
            starters.append(line.product_line)  # decided once we know if it is bundled
        elif line.kind is ProductKind.HUB:
            verdicts[line.product_line] = (Rule.ELIGIBLE_EDITION, None)
        elif line.kind is ProductKind.CREDITS:
            verdicts[line.product_line] = (Rule.CREDITS, None)
        else:
            verdicts[line.product_line] = (Rule.HUB_AGNOSTIC, None)

    # Starter lines are not in `verdicts` yet, so any credited verdict is an eligible line.
    anchored = any(rule is not Rule.ALREADY_HELD for rule, _ in verdicts.values())
    for product_line in starters:
        verdicts[product_line] = (
            (Rule.BUNDLED_STARTER, None) if anchored else (Rule.STARTER_NOT_BUNDLED, None)
        )

    results: list[LineEligibility] = []
    failures: list[RuleFailure] = []
    for line in lines:
        rule, message = verdicts[line.product_line]
        credited = rule not in (Rule.ALREADY_HELD, Rule.STARTER_NOT_BUNDLED)
        results.append(
            LineEligibility(product_line=line.product_line, credited=credited, rule=rule)
        )
        if message is not None:
            failures.append(RuleFailure(rule=rule, message=message, product_line=line.product_line))

    if not anchored:
        if all(line.edition is Edition.STARTER for line in lines):
            failures.insert(
                0,
                RuleFailure(
                    rule=Rule.STARTER_ONLY,
                    message=(
                        "A quote of Starter products only is not eligible: it needs a "
                        "Professional or Enterprise hub, HubSpot Credits or a hub-agnostic "
                        "product."
                    ),
                ),
            )
        else:
            failures.insert(
                0,
                RuleFailure(
                    rule=Rule.NO_ELIGIBLE_LINE,
                    message=(
                        "No line of the quote is eligible: it needs a Professional or "
                        "Enterprise hub, HubSpot Credits or a hub-agnostic product that the "
                        "customer does not already hold."
                    ),
                ),
            )
    return EligibilityResult(eligible=anchored, lines=tuple(results), failures=tuple(failures))


# --------------------------------------------------------------------------------------------
# Proof of involvement (SPEC 5)
# --------------------------------------------------------------------------------------------


def _to_date(value: date | datetime, *, tz: tzinfo, what: str) -> date:
    if isinstance(value, datetime):  # before `date`: a datetime is a date too
        _require_aware(value, what)
        return value.astimezone(tz).date()
    return value


def poi_failure(
    *,
    status: str,
    approved_at: date | datetime | None,
    close_date: date,
    sale_date: date | None = None,
    tz: tzinfo = UTC,
) -> Rule | None:
    """Return why a POI does not count, or None when it counts.

    It counts only if approved on or before the close date and in the calendar month of the
    sale (`sale_date`, the close date when not given). An aware `approved_at` is read as a
    date in `tz`.
    """
    if status != PoiStatus.APPROVED or approved_at is None:
        return Rule.NOT_APPROVED
    approved_on = _to_date(approved_at, tz=tz, what="approved_at")
    if approved_on > close_date:
        return Rule.LATE_SIGNATURE
    sale = sale_date or close_date
    if (approved_on.year, approved_on.month) != (sale.year, sale.month):
        return Rule.OUTSIDE_SALE_MONTH
    return None


def poi_token_expires_at(*, expires_on: date, tz: tzinfo = UTC) -> datetime:
    """Return the instant a POI link stops working: the end of the deal's close date in `tz`,
    so that a signature on the close date itself still counts."""
    return datetime.combine(expires_on + timedelta(days=1), time.min, tzinfo=tz)


def poi_token_valid(*, expires_on: date, used: bool, now: datetime, tz: tzinfo = UTC) -> bool:
    """Return whether a POI link can still be answered: single use, until its expiry."""
    _require_aware(now, "now")
    return not used and now < poi_token_expires_at(expires_on=expires_on, tz=tz)


class PoiLinkProblem(StrEnum):
    """Why a customer's POI link cannot be answered."""

    INVALID = "invalid"  # forged, mangled or unknown
    USED = "used"  # already answered
    REPLACED = "replaced"  # voided by a quote change
    CLOSED = "closed"  # the deal is closed
    EXPIRED = "expired"  # past the end of the expected close date


def poi_link_problem(
    *,
    status: str,
    deal_open: bool,
    expires_on: date | None,
    now: datetime,
    tz: tzinfo = UTC,
) -> PoiLinkProblem | None:
    """Return why a POI link cannot be answered any more, or None when it can."""
    if status == PoiStatus.VOIDED:
        return PoiLinkProblem.REPLACED
    if status != PoiStatus.PENDING:
        return PoiLinkProblem.USED
    if not deal_open:
        return PoiLinkProblem.CLOSED
    if expires_on is not None and not poi_token_valid(
        expires_on=expires_on, used=False, now=now, tz=tz
    ):
        return PoiLinkProblem.EXPIRED
    return None


def check_poi_onboarding(*, is_provider: bool, provides_onboarding: bool) -> None:
    """Refuse a POI on which a solutions provider claims to provide (waive) onboarding."""
    if is_provider and provides_onboarding:
        raise InvalidInput(
            "Solutions providers cannot waive onboarding for their clients.",
            rule=Rule.PROVIDER_CANNOT_WAIVE_ONBOARDING,
        )


def manual_poi_allowed(*, current_poi_status: str | None) -> bool:
    """Return whether a partner may create a manual POI: the customer rejected the current one."""
    return current_poi_status == PoiStatus.REJECTED


def check_manual_poi(
    *, current_poi_status: str | None, lines: Collection[str], quote_lines: Collection[str]
) -> None:
    """Refuse a manual POI unless the customer rejected the current one and its lines are a
    non-empty subset of the quote's product lines."""
    if not manual_poi_allowed(current_poi_status=current_poi_status):
        raise InvalidInput(
            "A manual POI can be created only after the customer rejected the current one.",
            rule=Rule.MANUAL_POI_NOT_ALLOWED,
        )
    unknown = sorted(set(lines) - set(quote_lines))
    if not lines or unknown:
        listed = ", ".join(product_line_label(line) for line in unknown) or "none"
        raise InvalidInput(
            f"A POI lists product lines of the quote only (not on the quote: {listed}).",
            rule=Rule.POI_LINES_NOT_ON_QUOTE,
        )


# --------------------------------------------------------------------------------------------
# Plausible dates: the expected close of a quote, the close date of a sale (issue 10)
# --------------------------------------------------------------------------------------------


def check_expected_close_date(*, expected: date, today: date, horizon_days: int) -> None:
    """Refuse an expected close date in the past or more than `horizon_days` ahead: POI links
    expire at the end of it, so a date years away makes links that never expire."""
    if horizon_days < 0:
        raise ValueError("a horizon cannot be negative")
    if expected < today:
        raise InvalidInput(
            "The expected close date is in the past.", rule=Rule.EXPECTED_CLOSE_IN_PAST
        )
    latest = today + timedelta(days=horizon_days)
    if expected > latest:
        raise InvalidInput(
            f"The expected close date is more than {horizon_days} days away: choose a date on "
            f"or before {latest:%d %b %Y}. Proof-of-involvement links expire on it.",
            rule=Rule.EXPECTED_CLOSE_BEYOND_HORIZON,
        )


def check_close_date(*, close_date: date, opened_on: date, today: date) -> None:
    """Refuse a close dated in the future or before the deal opened: a sale is recorded on
    the day it happened, which lies within the deal's life."""
    if close_date > today:
        raise InvalidInput(
            "A deal cannot be closed on a future date.", rule=Rule.CLOSE_DATE_IN_FUTURE
        )
    if close_date < opened_on:
        raise InvalidInput(
            f"The close date is before the deal opened on {opened_on:%d %b %Y}: check the "
            "date of the sale.",
            rule=Rule.CLOSE_DATE_BEFORE_OPENING,
        )


def purchase_domain_registered(*, purchase_domain: str, registered_domains: Iterable[str]) -> bool:
    """Return whether the purchase domain is a domain registered on the deal (both normalised,
    so `www.Acme.com` is `acme.com`)."""
    registered = {normalise_domain(domain) for domain in registered_domains}
    return normalise_domain(purchase_domain) in registered


def check_purchase_domain(
    *, purchase_domain: str, registered_domains: Collection[str], reason: str
) -> None:
    """Refuse a purchase on a domain not registered on the deal unless the close confirms it
    with a reason (e.g. the customer bought through its parent company's domain). Errors name
    the purchase domain and the reason to give."""
    if reason.strip() or purchase_domain_registered(
        purchase_domain=purchase_domain, registered_domains=registered_domains
    ):
        return
    registered = ", ".join(sorted({normalise_domain(d) for d in registered_domains})) or "none"
    domain = normalise_domain(purchase_domain)
    message = (
        f"{domain} is not a domain registered on this deal ({registered}). Correct it, or "
        "confirm it with the reason the customer bought on another domain."
    )
    raise InvalidInput(
        message,
        rule=Rule.PURCHASE_DOMAIN_NOT_REGISTERED,
        errors={
            "purchase_domain": [message],
            "domain_mismatch_reason": [
                "Say why the customer bought on a domain not registered on the deal: the "
                "reason is recorded with the close."
            ],
        },
    )


# --------------------------------------------------------------------------------------------
# Best Partner Wins (SPEC 6)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PoiFacts:
    status: str
    approved_at: date | datetime | None
    provides_onboarding: bool = False
    lines: frozenset[str] = frozenset()  # product lines the POI covers

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", frozenset(self.lines))


@dataclass(frozen=True, kw_only=True)
class BpwCandidate:
    """One partner registration on the sales process, with its latest POI."""

    registration_id: int
    partner_id: int
    motion: Motion
    registered_domain: str
    poi: PoiFacts | None
    is_provider: bool = False
    # Set on a partner referred by the sourcing partner: the sourcing registration's id, and
    # whether the referred partner acknowledged in writing that it is secondary.
    referred_by: int | None = None
    acknowledged_secondary: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "motion", Motion(self.motion))


@dataclass(frozen=True, kw_only=True)
class PurchasedLine:
    product_line: str
    mrr: Decimal

    def __post_init__(self) -> None:
        product_kind(self.product_line)
        _check_money(self.mrr, f"MRR of {self.product_line}")


@dataclass(frozen=True, kw_only=True)
class Resolution:
    rule: Rule
    winner: int | None  # winning registration id
    explanation: str  # one sentence for staff pages; names no partner
    tied: tuple[int, ...] = ()  # registration ids awaiting (or settled by) an ops decision
    candidates: tuple[int, ...] = ()  # registration ids whose POI counts
    excluded: tuple[tuple[int, Rule], ...] = ()  # (registration id, why it is not a candidate)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule", Rule(self.rule))


def _exclusion(
    candidate: BpwCandidate, *, domain: str, close_date: date, sale_date: date, tz: tzinfo
) -> Rule | None:
    if normalise_domain(candidate.registered_domain) != domain:
        return Rule.OTHER_DOMAIN
    if candidate.poi is None:
        return Rule.NO_POI
    return poi_failure(
        status=candidate.poi.status,
        approved_at=candidate.poi.approved_at,
        close_date=close_date,
        sale_date=sale_date,
        tz=tz,
    )


def _sourcing_winner(
    *,
    counting: Sequence[BpwCandidate],
    everyone: Sequence[BpwCandidate],
    onboarding_partner: int | None,
) -> BpwCandidate | None:
    if onboarding_partner is None:
        return None
    for source in counting:
        if source.motion != Motion.PARTNER_SOURCED:
            continue
        referred = [
            c
            for c in everyone
            if c.referred_by == source.registration_id and c.acknowledged_secondary
        ]
        referred_ids = {c.registration_id for c in referred}
        others_referred = all(
            c.registration_id in referred_ids for c in counting if c is not source
        )
        if others_referred and onboarding_partner in {c.partner_id for c in referred}:
            return source
    return None


def _onboarded_top_line(
    candidate: BpwCandidate, mrr_by_line: Mapping[str, Decimal]
) -> tuple[Decimal, str] | None:
    # Providers cannot waive onboarding, so their claim to provide it is ignored.
    if candidate.is_provider or candidate.poi is None or not candidate.poi.provides_onboarding:
        return None
    onboarded = [(mrr_by_line[pl], pl) for pl in candidate.poi.lines if pl in mrr_by_line]
    return max(onboarded) if onboarded else None


def resolve_best_partner_wins(
    *,
    candidates: Sequence[BpwCandidate],
    purchase_domain: str,
    close_date: date,
    lines: Sequence[PurchasedLine],
    sale_date: date | None = None,
    onboarding_partner: int | None = None,
    tz: tzinfo = UTC,
) -> Resolution:
    """Return which registration (if any) gets the credit for a won sales process.

    `candidates` are all partner registrations on the process; step 1 keeps those registered
    on the purchase domain whose POI counts. `onboarding_partner` is the partner id the
    customer chose for onboarding, if any. The steps of SPEC 6 are tried in order and the
    first that decides names the rule.
    """
    ids = [c.registration_id for c in candidates]
    if len(set(ids)) != len(ids):
        raise ValueError("a registration appears twice among the candidates")
    domain = normalise_domain(purchase_domain)
    sale = sale_date or close_date
    mrr_by_line: dict[str, Decimal] = {}
    for line in lines:
        if line.product_line in mrr_by_line:
            raise ValueError(f"{line.product_line} is purchased twice")
        mrr_by_line[line.product_line] = line.mrr

    counting: list[BpwCandidate] = []
    excluded: list[tuple[int, Rule]] = []
    for candidate in candidates:
        reason = _exclusion(candidate, domain=domain, close_date=close_date, sale_date=sale, tz=tz)
        if reason is None:
            counting.append(candidate)
        else:
            excluded.append((candidate.registration_id, reason))
    counting_ids = tuple(c.registration_id for c in counting)

    def resolved(
        rule: Rule, *, winner: int | None, explanation: str, tied: tuple[int, ...] = ()
    ) -> Resolution:
        return Resolution(
            rule=rule,
            winner=winner,
            explanation=explanation,
            tied=tied,
            candidates=counting_ids,
            excluded=tuple(excluded),
        )

    # 3. The sourcing partner referred the others, who acknowledged in writing that they are
    #    secondary, and the customer chose a referred partner for onboarding. (Tried first: it
    #    needs two counting candidates, so it never pre-empts steps 1 and 2.)
    source = (
        _sourcing_winner(
            counting=counting, everyone=candidates, onboarding_partner=onboarding_partner
        )
        if len(counting) >= 2
        else None
    )
    if source is not None:
        return resolved(
            Rule.SOURCING_PRIORITY,
            winner=source.registration_id,
            explanation=(
                "The sourcing partner referred the other partners, who acknowledged in writing "
                "that they are secondary, and the customer chose a referred partner for "
                "onboarding, so the sourcing partner is credited."
            ),
        )
    # A referred partner that acknowledged being secondary is not eligible for sold credit
    # (`seeds/003`), so it takes no further part.
    secondaries = [c for c in counting if c.referred_by is not None and c.acknowledged_secondary]
    if secondaries:
        counting = [c for c in counting if c not in secondaries]
        excluded.extend((c.registration_id, Rule.SECONDARY_NO_CREDIT) for c in secondaries)
        counting_ids = tuple(c.registration_id for c in counting)
    # 1. No candidate.
    if not counting:
        return resolved(
            Rule.NO_CANDIDATE,
            winner=None,
            explanation=(
                f"No partner registered on {domain} has a proof of involvement approved by the "
                "close date and in the month of the sale (a referred secondary partner is not "
                "eligible for sold credit), so no partner is credited."
            ),
        )
    # 2. One candidate.
    if len(counting) == 1:
        return resolved(
            Rule.SINGLE_CANDIDATE,
            winner=counting[0].registration_id,
            explanation=(
                "One partner eligible for sold credit has a proof of involvement approved by "
                "the close date and in the month of the sale, so it is credited."
            ),
        )
    # 4. Signed POIs dividing the services: onboarding of the highest-MRR line wins.
    scores = {c.registration_id: _onboarded_top_line(c, mrr_by_line) for c in counting}
    scored = {rid: score for rid, score in scores.items() if score is not None}
    if scored:
        top_mrr = max(mrr for mrr, _ in scored.values())
        leaders = sorted(rid for rid, (mrr, _) in scored.items() if mrr == top_mrr)
        if len(leaders) == 1:
            winner = leaders[0]
            top_line = product_line_label(scored[winner][1])
            return resolved(
                Rule.HIGHEST_MRR_ONBOARDING,
                winner=winner,
                explanation=(
                    "The customer signed proofs of involvement with more than one partner; the "
                    f"partner providing onboarding for {top_line}, the highest-MRR purchased "
                    f"line that any of them onboards (MRR {top_mrr}), is credited."
                ),
            )
        tied = tuple(leaders)
        why = "the leading partners provide onboarding for purchased lines of equal MRR"
    else:
        tied = tuple(sorted(counting_ids))
        why = "no partner provides onboarding for a purchased line"
    # 5. Still tied: partner ops decides.
    return resolved(
        Rule.AWAITING_DECISION,
        winner=None,
        tied=tied,
        explanation=(
            f"The customer signed proofs of involvement with more than one partner and {why}, "
            "so partner ops must decide."
        ),
    )


def ops_decision(*, resolution: Resolution, chosen: int, reason: str) -> Resolution:
    """Return the final resolution of a tie decided by partner ops, with its reason."""
    if resolution.rule != Rule.AWAITING_DECISION:
        raise InvalidInput(
            "This sales process is not awaiting a partner-ops decision.",
            rule=Rule.NOT_AWAITING_DECISION,
        )
    if chosen not in resolution.tied:
        raise InvalidInput(
            "Partner ops can only choose one of the tied registrations.",
            rule=Rule.NOT_TIED,
        )
    reason = reason.strip()
    if not reason:
        raise InvalidInput("A decision needs a reason.", rule=Rule.REASON_REQUIRED)
    return Resolution(
        rule=Rule.OPS_DECISION,
        winner=chosen,
        tied=resolution.tied,
        candidates=resolution.candidates,
        excluded=resolution.excluded,
        explanation=f"No rule separated the partners, so partner ops decided: {reason}",
    )


# --------------------------------------------------------------------------------------------
# Sold associations (SPEC 6)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Allocation:
    granted: tuple[str, ...]  # new sold associations for the winner
    kept: tuple[str, ...]  # lines the winner already holds
    held_by_other: tuple[str, ...]  # lines another partner holds: no association, no credit


def allocate_associations(
    *,
    winner_partner: int,
    purchased_lines: Iterable[str],
    existing_holders: Mapping[str, int | None],
) -> Allocation:
    """Split the credited purchased lines by who holds their sold association.

    One partner per customer per product line: the winner gets each line nobody holds.
    Pass the lines the quote credits (`LineEligibility.credited`), not every line.
    """
    granted: list[str] = []
    kept: list[str] = []
    held_by_other: list[str] = []
    for product_line in dict.fromkeys(purchased_lines):
        holder = existing_holders.get(product_line)
        if holder is None:
            granted.append(product_line)
        elif holder == winner_partner:
            kept.append(product_line)
        else:
            held_by_other.append(product_line)
    return Allocation(granted=tuple(granted), kept=tuple(kept), held_by_other=tuple(held_by_other))


# --------------------------------------------------------------------------------------------
# Responsiveness (SPEC 5)
# --------------------------------------------------------------------------------------------

RESPONSE_WINDOW = timedelta(hours=48)
HOLIDAY_ANSWER_BY = time(17, 0)
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def _country(code: str) -> str:
    country = code.strip().upper()
    if not _COUNTRY_CODE.match(country):
        raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 country code")
    return country


@lru_cache(maxsize=1024)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    # The national calendar, with observed days (e.g. US 2026-07-03 for 4 July), no
    # subdivisions. A country the `holidays` package does not know has weekends only.
    try:
        calendar = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        return frozenset()
    return frozenset(calendar.keys())


def is_public_holiday(*, day: date, country: str) -> bool:
    return day in _public_holidays(_country(country), day.year)


def is_business_day(*, day: date, country: str) -> bool:
    """Return whether `day` is Monday to Friday and not a public holiday in `country`."""
    return day.weekday() < 5 and not is_public_holiday(day=day, country=country)


def next_business_day(*, after: date, country: str) -> date:
    day = after + timedelta(days=1)
    while not is_business_day(day=day, country=country):
        day += timedelta(days=1)
    return day


def answer_deadline(*, asked_at: datetime, country: str, tz: tzinfo = UTC) -> datetime:
    """Return when a partner's answer to a GS inquiry is due, as an aware datetime in `tz`.

    Days are read in `tz` (the deal region's zone; UTC by default). An inquiry asked on a
    public holiday of `country` is due at 17:00 of the next business day. Otherwise 48 hours
    of elapsed time are counted, and the clock runs only during business days (weekends and
    public holidays are skipped whole). An answer exactly at the deadline is on time.
    """
    _require_aware(asked_at, "asked_at")
    local = asked_at.astimezone(tz)
    if is_public_holiday(day=local.date(), country=country):
        due_day = next_business_day(after=local.date(), country=country)
        return datetime.combine(due_day, HOLIDAY_ANSWER_BY, tzinfo=tz)
    remaining = RESPONSE_WINDOW
    cursor = local
    while True:
        next_midnight = datetime.combine(cursor.date() + timedelta(days=1), time.min, tzinfo=tz)
        if is_business_day(day=cursor.date(), country=country):
            # Subtract in UTC: aware datetimes sharing a tzinfo subtract as wall-clock times.
            available = next_midnight.astimezone(UTC) - cursor.astimezone(UTC)
            if remaining <= available:
                return (cursor.astimezone(UTC) + remaining).astimezone(tz)
            remaining -= available
        cursor = next_midnight


def is_breach(
    *,
    asked_at: datetime,
    answered_at: datetime | None,
    country: str,
    now: datetime | None = None,
    tz: tzinfo = UTC,
) -> bool:
    """Return whether an inquiry was answered late, or is unanswered and overdue at `now`."""
    deadline = answer_deadline(asked_at=asked_at, country=country, tz=tz)
    if answered_at is not None:
        _require_aware(answered_at, "answered_at")
        return answered_at > deadline
    if now is None:
        raise ValueError("now is required to judge an unanswered inquiry")
    _require_aware(now, "now")
    return now > deadline


# --------------------------------------------------------------------------------------------
# Invitations, registrations, discounts (SPEC 5)
# --------------------------------------------------------------------------------------------

INVITATION_TTL = timedelta(hours=72)


def invitation_expires_at(*, invited_at: datetime) -> datetime:
    """Return `invited_at` plus 72 elapsed hours (across DST changes), in its own zone."""
    _require_aware(invited_at, "invited_at")
    return (invited_at.astimezone(UTC) + INVITATION_TTL).astimezone(invited_at.tzinfo)


def invitation_lapses_at(*, invited_at: datetime) -> datetime:
    """Return the first instant at which an unaccepted invitation has lapsed: just after its
    expiry (accepting at the expiry instant itself is in time)."""
    return invitation_expires_at(invited_at=invited_at) + timedelta(microseconds=1)


def invitation_lapsed(*, invited_at: datetime, now: datetime, accepted: bool) -> bool:
    """Return whether an invitation lapsed: not accepted and past its expiry (accepting at the
    expiry instant itself is in time)."""
    _require_aware(now, "now")
    return not accepted and now >= invitation_lapses_at(invited_at=invited_at)


def can_register(*, own_open_registrations_on_domain: int) -> bool:
    """Return whether a partner may register a deal on a domain.

    Only the partner's own open registrations count: another partner's open deal on the same
    domain is allowed (it starts Best Partner Wins) and is deliberately not an input.
    """
    if own_open_registrations_on_domain < 0:
        raise ValueError("a count of registrations cannot be negative")
    return own_open_registrations_on_domain == 0


def check_can_register(*, domain: str, own_open_registrations_on_domain: int) -> None:
    if not can_register(own_open_registrations_on_domain=own_open_registrations_on_domain):
        raise InvalidInput(
            f"You already have an open deal on {domain}.",
            rule=Rule.DUPLICATE_REGISTRATION,
        )


def discount_allowed(*, discount: Decimal, approval_present: bool) -> bool:
    """Return whether a quote line's discount (amount or rate) may stand: any discount above
    zero needs the vendor's written approval on record."""
    _check_money(discount, "discount")
    return discount == 0 or approval_present


def check_discount_allowed(*, product_line: str, discount: Decimal, approval_present: bool) -> None:
    if not discount_allowed(discount=discount, approval_present=approval_present):
        raise InvalidInput(
            (
                f"The discount on {product_line_label(product_line)} needs the vendor's written "
                "approval; without it, it will not be honoured."
            ),
            rule=Rule.DISCOUNT_NOT_APPROVED,
        )


# --------------------------------------------------------------------------------------------
# What a partner may do on its registration (SPEC 5, 6): each returns why not, or None
# --------------------------------------------------------------------------------------------

DEAL_CLOSED = "This deal is closed; it can no longer change."


def acceptance_refusal(
    *, invited: bool, expires_at: datetime | None, deal_open: bool, now: datetime
) -> str | None:
    """Return why an invitation cannot be accepted at `now`, or None when it can (accepting at
    the expiry instant itself is in time)."""
    if not invited or expires_at is None:
        return "There is no open invitation to accept."
    if invitation_lapsed(invited_at=expires_at - INVITATION_TTL, now=now, accepted=False):
        return "This invitation has lapsed: it was not accepted within 72 hours."
    if not deal_open:
        return DEAL_CLOSED
    return None


def referral_refusal(*, motion: str, active: bool, deal_open: bool) -> str | None:
    """Return why a partner cannot refer another to its deal, or None when it can: only an
    active Partner Sourced registration on an open deal refers (SPEC 6, step 3)."""
    if Motion(motion) != Motion.PARTNER_SOURCED or not active:
        return "Only an approved Partner Sourced registration can refer a partner."
    if not deal_open:
        return DEAL_CLOSED
    return None


def acknowledgement_refusal(*, referred: bool, acknowledged: bool, deal_open: bool) -> str | None:
    """Return why a partner cannot acknowledge being secondary, or None when it can."""
    if not referred:
        return "This registration was not referred by a sourcing partner."
    if acknowledged:
        return "You have already acknowledged this referral."
    if not deal_open:
        return DEAL_CLOSED
    return None


def manual_poi_refusal(*, active: bool, deal_open: bool) -> str | None:
    """Return why a partner's registration cannot take a manual POI in its state, or None.
    (Whether the customer's answer allows one is `check_manual_poi`.)"""
    if not deal_open:
        return DEAL_CLOSED
    if not active:
        return "Your registration is not active on this deal."
    return None
