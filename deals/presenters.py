"""What people read about deals: the words for each code the rules store or refuse with, for
each state a partner's registration can be in, and for a POI link that cannot be answered.

Keyed by the enums (`deals.rules.Rule`, `PoiLinkProblem`, `Outcome`), so that a new code without
words fails a test (`deals/tests/test_presenters.py`) instead of showing raw on a page.
Pure: no queries; the views pass in what they loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from .models import Deal, Poi, Registration
from .rules import (
    INVITATION_TTL,
    PoiLinkProblem,
    Rule,
    invitation_lapsed,
    invitation_lapses_at,
)

if TYPE_CHECKING:
    from .services import ClosePlan

# One phrase per rule code. Where each shows: the BPW step that decided a close (deal page,
# "Rule that decided"); why a registration was not a candidate (after the partner's name);
# why a purchased line is credited or not; and the rule that refused a form (after its message).
RULE_WORDS: Mapping[Rule, str] = {
    # Quote eligibility, deal level (a refused quote).
    Rule.EMPTY_QUOTE: "a quote needs at least one line",
    Rule.STARTER_ONLY: "a quote of Starter products only is not eligible",
    Rule.NO_ELIGIBLE_LINE: "a quote needs an eligible line the customer does not hold",
    # Quote eligibility, line level (purchased lines on the deal page).
    Rule.ELIGIBLE_EDITION: "Professional or Enterprise edition",
    Rule.CREDITS: "HubSpot Credits",
    Rule.HUB_AGNOSTIC: "Hub-agnostic product",
    Rule.STARTER_UPGRADE: "Starter upgraded to Professional/Enterprise",
    Rule.BUNDLED_STARTER: "Starter bundled with an eligible line",
    Rule.STARTER_NOT_BUNDLED: "Starter, not bundled: not credited",
    Rule.ALREADY_HELD: "Already held by the customer: not credited",
    # Why a registration is not a candidate at the close.
    Rule.NO_POI: "has no proof of involvement",
    Rule.NOT_APPROVED: "its proof of involvement was not approved by the customer",
    Rule.LATE_SIGNATURE: "the customer approved its proof of involvement after the close date",
    Rule.OUTSIDE_SALE_MONTH: "its proof of involvement was approved outside the month of the sale",
    Rule.OTHER_DOMAIN: "registered on another domain than the purchase domain",
    Rule.SECONDARY_NO_CREDIT: (
        "referred by the sourcing partner and acknowledged being secondary, so it gets no sold "
        "credit"
    ),
    # Refused POIs.
    Rule.PROVIDER_CANNOT_WAIVE_ONBOARDING: "solutions providers cannot waive onboarding",
    Rule.MANUAL_POI_NOT_ALLOWED: "a manual POI follows a rejected one",
    Rule.POI_LINES_NOT_ON_QUOTE: "a POI lists lines of the quote only",
    # Best Partner Wins: the step that decided.
    Rule.NO_CANDIDATE: "No candidate: no partner is credited",
    Rule.SINGLE_CANDIDATE: "Single candidate: the only partner with a counting POI wins",
    Rule.SOURCING_PRIORITY: "Sourcing partner priority (referral and onboarding choice)",
    Rule.HIGHEST_MRR_ONBOARDING: "Onboarding of the highest-MRR line wins",
    Rule.AWAITING_DECISION: "Tie: awaiting a partner-ops decision",
    Rule.OPS_DECISION: "Decided by partner ops",
    # Refused tie decisions.
    Rule.NOT_AWAITING_DECISION: "only a tie awaits a decision",
    Rule.NOT_TIED: "partner ops choose one of the tied partners",
    Rule.REASON_REQUIRED: "a decision is recorded with its reason",
    # Registrations, discounts.
    Rule.DUPLICATE_REGISTRATION: "one open deal per partner and customer domain",
    Rule.DISCOUNT_NOT_APPROVED: "a discount needs the vendor's written approval",
    # Plausible dates, a deliberate close.
    Rule.EXPECTED_CLOSE_IN_PAST: "an expected close date is today or later",
    Rule.EXPECTED_CLOSE_BEYOND_HORIZON: "an expected close date lies within the planning horizon",
    Rule.CLOSE_DATE_IN_FUTURE: "a sale is closed on a date that has come",
    Rule.CLOSE_DATE_BEFORE_OPENING: "a sale is closed on or after the day the deal opened",
    Rule.PURCHASE_DOMAIN_NOT_REGISTERED: (
        "the purchase domain is one registered on the deal, or confirmed with a reason"
    ),
}


def rule_words(code: str) -> str:
    """The words for a stored rule code (a code no longer known shows as itself)."""
    try:
        return RULE_WORDS[Rule(code)]
    except ValueError:
        return code


def refused_by(code: str) -> str:
    """What a form says after a refused rule's message: the program rule, in words only (the
    code stays in the API's `rule` and in the audit trail)."""
    return f"(program rule: {rule_words(code)})"


# --- Purchased lines of a closed deal --------------------------------------------------------


class LineCredit(StrEnum):
    """What a purchased line's badge says: whether the line counts for credit, and whether a
    partner was in fact credited with the deal (a line is never "credited" to nobody)."""

    CREDITED = "credited"
    NOT_CREDITED = "not_credited"
    ELIGIBLE_NO_WINNER = "eligible_no_winner"
    ELIGIBLE_AWAITING = "eligible_awaiting"


LINE_CREDIT_WORDS: Mapping[LineCredit, str] = {
    LineCredit.CREDITED: "Credited",
    LineCredit.NOT_CREDITED: "Not credited",
    LineCredit.ELIGIBLE_NO_WINNER: "Eligible; no partner credited",
    LineCredit.ELIGIBLE_AWAITING: "Eligible; awaiting the tie decision",
}


def line_credit(*, eligible: bool, has_winner: bool, awaiting: bool) -> LineCredit:
    """The badge of one purchased line, from its eligibility and the deal's outcome."""
    if not eligible:
        return LineCredit.NOT_CREDITED
    if has_winner:
        return LineCredit.CREDITED
    return LineCredit.ELIGIBLE_AWAITING if awaiting else LineCredit.ELIGIBLE_NO_WINNER


def line_credit_badge(*, eligible: bool, has_winner: bool, awaiting: bool) -> tuple[str, str]:
    """(the badge's code for its style, its words) of one purchased line."""
    credit = line_credit(eligible=eligible, has_winner=has_winner, awaiting=awaiting)
    return credit.value, LINE_CREDIT_WORDS[credit]


# --- The close, before it is confirmed -------------------------------------------------------


def close_preview(
    plan: ClosePlan,
    by_id: Mapping[int, Registration],
    *,
    fingerprint: str,
    changed: bool,
) -> dict[str, Any]:
    """The dry run in words, as the deal page shows it before the confirmation."""
    resolution = plan.resolution

    def name(rid: int) -> str:
        registration = by_id.get(rid)
        return registration.organisation.name if registration else f"registration #{rid}"

    return {
        "fingerprint": fingerprint,
        "changed": changed,
        "rule": str(resolution.rule),
        "rule_words": rule_words(resolution.rule),
        "winner": name(resolution.winner) if resolution.winner else "",
        "awaiting": resolution.rule == Rule.AWAITING_DECISION,
        "explanation": resolution.explanation,
        "tied": [name(rid) for rid in resolution.tied],
        "excluded": [(name(rid), str(rule), rule_words(rule)) for rid, rule in resolution.excluded],
        "purchase_domain": plan.purchase_domain,
        "close_date": plan.close_date,
        "domain_registered": plan.domain_registered,
        "domain_mismatch_reason": plan.domain_mismatch_reason,
        "lines": [
            (
                line.product_line.name,
                line.mrr,
                line.currency.code,
                *line_credit_badge(
                    eligible=verdict.credited,
                    has_winner=resolution.winner is not None,
                    awaiting=resolution.rule == Rule.AWAITING_DECISION,
                ),
                rule_words(verdict.rule),
            )
            for line, verdict in zip(plan.lines, plan.eligibility.lines, strict=True)
        ],
    }


# --- POI links -------------------------------------------------------------------------------

POI_LINK_TITLES: Mapping[PoiLinkProblem, str] = {
    PoiLinkProblem.INVALID: "This link is not valid",
    PoiLinkProblem.USED: "Already answered",
    PoiLinkProblem.REPLACED: "This link was replaced",
    PoiLinkProblem.CLOSED: "This deal is closed",
    PoiLinkProblem.EXPIRED: "This link has expired",
}
POI_LINK_WORDS: Mapping[PoiLinkProblem, str] = {
    PoiLinkProblem.INVALID: "This link is not valid. Check that you copied the whole address.",
    PoiLinkProblem.USED: "This request has already been answered. Thank you.",
    PoiLinkProblem.REPLACED: (
        "The quote changed after this link was sent, so it was replaced by a new one: "
        "use the latest link you received."
    ),
    PoiLinkProblem.CLOSED: "This deal is closed, so this request can no longer be answered.",
    PoiLinkProblem.EXPIRED: (
        "This request expired at the deal's close date and can no longer be answered."
    ),
}


# --- A partner's registration ----------------------------------------------------------------


class Outcome(StrEnum):
    """What a partner may know of a closed deal: its own credit, nothing about why or who
    else. A partner among those tied is told the credit awaits a decision, in words a lone
    partner could read too (no count, no name); a partner the decision cannot credit reads the
    same as after any close without credit to it."""

    CREDITED = "credited"
    NOT_CREDITED = "not_credited"
    AWAITING_DECISION = "awaiting_decision"


OUTCOME_WORDS: Mapping[Outcome, str] = {
    Outcome.CREDITED: "Credited to you",
    Outcome.NOT_CREDITED: "No credit to you",
    Outcome.AWAITING_DECISION: "Awaiting a decision",
}


def partner_outcome(registration: Registration) -> Outcome | None:
    deal = registration.deal
    if deal.status == Deal.Status.OPEN:
        return None
    if deal.status == Deal.Status.AWAITING_DECISION:
        tied = (deal.resolution_detail or {}).get("tied", [])
        # Only a tied partner can still be credited; for any other the close is final.
        return Outcome.AWAITING_DECISION if registration.pk in tied else Outcome.NOT_CREDITED
    return Outcome.CREDITED if deal.winner_id == registration.pk else Outcome.NOT_CREDITED


def day_text(moment: datetime) -> str:
    """`3 Mar 2026` in the portal's time zone, as the templates' `date:"j M Y"` (formatted
    here for long lists: a tenth of the filter's time)."""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y}"


def registration_status_words(registration: Registration, now: datetime) -> str:
    """The status as people read it; an invitation past its expiry reads as expired before the
    periodic task records the lapse."""
    if (
        registration.status == Registration.Status.INVITED
        and registration.expires_at is not None
        and invitation_lapsed(
            invited_at=registration.expires_at - INVITATION_TTL, now=now, accepted=False
        )
    ):
        return "Invitation expired"
    return Registration.Status(registration.status).label


def registration_status_changes_at(registration: Registration) -> datetime | None:
    """When `registration_status_words` will read differently with no change to the data:
    an invitation's lapse (None: never by time alone). A kept page holds until then."""
    if registration.status != Registration.Status.INVITED or registration.expires_at is None:
        return None
    return invitation_lapses_at(invited_at=registration.expires_at - INVITATION_TTL)


def next_step(
    registration: Registration,
    *,
    poi: Poi | None,
    poi_link: str,
    can_accept: bool,
) -> str:
    """What happens next on a partner's registration, in one or two sentences."""
    deal = registration.deal
    outcome = partner_outcome(registration)
    status = registration.status
    Status = Registration.Status
    if outcome is Outcome.CREDITED:
        closed = f" on {deal.close_date:%d %b %Y}" if deal.close_date else ""
        return (
            f"The deal closed{closed} and you are credited with it: the products you sold are "
            "now associated with your organisation."
        )
    if outcome is Outcome.AWAITING_DECISION:
        return (
            "The deal is closed and the vendor's partner team is reviewing who is credited "
            "with it. The outcome will show here once they have decided."
        )
    if outcome is Outcome.NOT_CREDITED:
        return "The deal is closed. No credit is recorded for you on it."
    if status == Status.PENDING_APPROVAL:
        return (
            "Your registration is with the vendor's growth specialist for this customer's "
            "territory, who approves or rejects your involvement. The decision will show here."
        )
    if status == Status.REJECTED:
        return (
            "The growth specialist did not approve your involvement in this deal, so there is "
            "nothing more to do on it."
        )
    if status == Status.INVITED and can_accept and registration.expires_at is not None:
        return (
            "A growth specialist invited you to help with this deal (Partner Assisted). Accept "
            f"before {registration.expires_at:%d %b %Y %H:%M} UTC, or the invitation lapses."
        )
    if status in (Status.INVITED, Status.LAPSED):
        return "The invitation was not accepted within 72 hours, so it lapsed."
    if status == Status.REFERRED:
        return (
            "The deal's sourcing partner referred you to it. To take part, acknowledge below in "
            "writing that you are the secondary partner: you help the customer but get no sold "
            "credit."
        )
    if poi is None:
        return (
            "You are on the deal. When the growth specialist saves a quote, your "
            "proof-of-involvement (POI) link appears here: send it to your contact at the "
            "customer, who confirms you are involved."
        )
    if poi.status == Poi.Status.PENDING and poi_link:
        return (
            "Copy the link below and send it to your contact at the customer. Their "
            "confirmation counts only if given by the deal's close date and in the month of "
            "the sale."
        )
    if poi.status == Poi.Status.PENDING:
        return (
            "The proof-of-involvement link can no longer be answered (the expected close date "
            "has passed)."
        )
    if poi.status == Poi.Status.APPROVED:
        return (
            "The customer confirmed your involvement. The credit is decided when the vendor "
            "closes the deal."
        )
    return (
        "The customer rejected the proof of involvement. If you are involved in part of the "
        "purchase, create a manual POI below for the products you work on, and send the new "
        "link."
    )
