"""The close of a deal and its Best Partner Wins credit (SPEC 6), shared by the growth
specialist's close and its dry run (`staff`) and partner ops' tie decision (`ops`).

`plan_close` checks a close and decides its outcome without writing anything; the close writes
what it decided, and the preview shows it, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from partnerportal.core.audit import audit
from partnerportal.core.errors import InvalidInput
from partnerportal.core.models import Organisation, ProductLine, User
from partnerportal.core.rules import normalise_domain

from .. import rules
from ..inputs import AS_QUOTED, DOMAIN_MISMATCH_REASON_MAX, ClosedLineInput, QuoteLineInput
from ..models import Deal, Poi, QuoteVersion, Registration, SoldAssociation
from ..selectors import current_poi
from ..signals import deal_credited
from ._common import (
    ResolvedLine,
    bounded_text,
    check_eligible,
    require_deal_open,
    resolve_lines,
    tz,
)


def _candidates(deal: Deal) -> list[rules.BpwCandidate]:
    candidates = []
    for registration in deal.registrations.filter(
        status__in=Registration.ACTIVE_STATUSES
    ).select_related("organisation"):
        poi = current_poi(registration)
        facts = None
        if poi is not None:
            facts = rules.PoiFacts(
                status=poi.status,
                approved_at=poi.decided_at if poi.status == Poi.Status.APPROVED else None,
                provides_onboarding=poi.provides_onboarding,
                lines=frozenset(poi.product_lines),
            )
        candidates.append(
            rules.BpwCandidate(
                registration_id=registration.pk,
                partner_id=registration.organisation_id,
                motion=rules.Motion(registration.motion),
                registered_domain=registration.registered_domain,
                poi=facts,
                is_provider=registration.organisation.kind == Organisation.Kind.PROVIDER,
                referred_by=registration.referred_by_id,
                acknowledged_secondary=registration.acknowledged_secondary_at is not None,
            )
        )
    return candidates


def _purchased(quote: QuoteVersion, lines: Sequence[ClosedLineInput]) -> list[QuoteLineInput]:
    """The purchased lines, each completed from the quote; every one must be on it."""
    if not lines:
        raise InvalidInput("Give the purchased lines.", field="lines")
    quoted = {
        line.product_line_id: line
        for line in quote.lines.select_related("product_line", "edition", "currency")
    }
    filled: list[QuoteLineInput] = []
    for index, item in enumerate(lines):
        code = item.product_line.strip()
        on_quote = quoted.get(code)
        if on_quote is None:
            if not ProductLine.objects.filter(code=code).exists():
                raise InvalidInput(
                    f"Unknown product line '{code}'.", field=f"lines[{index}].product_line"
                )
            raise InvalidInput(
                f"'{code}' is not on the deal's quote (version {quote.number}).",
                field=f"lines[{index}].product_line",
            )
        filled.append(
            QuoteLineInput(
                product_line=code,
                edition=on_quote.edition_id if item.edition is AS_QUOTED else item.edition,
                seats=on_quote.seats if item.seats is None else item.seats,
                mrr=on_quote.mrr if item.mrr is None else item.mrr,
                currency=on_quote.currency_id if item.currency is None else item.currency,
            )
        )
    return filled


@dataclass(frozen=True, kw_only=True)
class ClosePlan:
    """What a close records, decided by the rules and not yet written: the purchase checked
    and normalised, the purchased lines with their eligibility, and the Best Partner Wins
    resolution. `deal_close` writes it; `deal_close_preview` shows it (the same function
    decides both, so the preview is the close)."""

    purchase_domain: str
    close_date: date
    domain_registered: bool
    domain_mismatch_reason: str  # "" when the purchase domain is registered on the deal
    lines: tuple[ResolvedLine, ...]
    eligibility: rules.EligibilityResult
    onboarding_partner: Organisation | None
    resolution: rules.Resolution
    winner_partner: int | None


def plan_close(
    *,
    deal: Deal,
    purchase_domain: str,
    close_date: date,
    lines: Sequence[ClosedLineInput],
    onboarding_partner: int | None,
    domain_mismatch_reason: str,
) -> ClosePlan:
    """Check a close of `deal` and decide its outcome; read only."""
    require_deal_open(deal)
    try:
        domain = normalise_domain(purchase_domain)
    except InvalidInput as exc:
        raise exc.on_field("purchase_domain") from exc
    try:
        rules.check_close_date(
            close_date=close_date,
            opened_on=timezone.localdate(deal.created_at),
            today=timezone.localdate(),
        )
    except InvalidInput as exc:
        raise exc.on_field("close_date") from exc
    reason = bounded_text(
        domain_mismatch_reason, limit=DOMAIN_MISMATCH_REASON_MAX, field="domain_mismatch_reason"
    )
    registered = {
        deal.customer.domain,
        *deal.registrations.values_list("registered_domain", flat=True),
    }
    rules.check_purchase_domain(
        purchase_domain=domain, registered_domains=registered, reason=reason
    )
    domain_registered = rules.purchase_domain_registered(
        purchase_domain=domain, registered_domains=registered
    )
    quote = deal.quote_versions.order_by("-number").first()
    if quote is None:
        raise InvalidInput("The deal has no quote: save a quote before closing.", field="lines")
    resolved = resolve_lines(_purchased(quote, lines))
    eligibility = check_eligible(deal, resolved)
    onboarding_org: Organisation | None = None
    if onboarding_partner is not None:
        onboarding_org = Organisation.objects.filter(
            pk=onboarding_partner, registrations__deal=deal
        ).first()
        if onboarding_org is None:
            raise InvalidInput("That partner is not on this deal.", field="onboarding_partner")
    candidates = _candidates(deal)
    resolution = rules.resolve_best_partner_wins(
        candidates=candidates,
        purchase_domain=domain,
        close_date=close_date,
        lines=[rules.PurchasedLine(product_line=p.product_line.code, mrr=p.mrr) for p in resolved],
        onboarding_partner=onboarding_org.pk if onboarding_org else None,
        tz=tz(),
    )
    partners = {c.registration_id: c.partner_id for c in candidates}
    return ClosePlan(
        purchase_domain=domain,
        close_date=close_date,
        domain_registered=domain_registered,
        domain_mismatch_reason="" if domain_registered else reason,
        lines=tuple(resolved),
        eligibility=eligibility,
        onboarding_partner=onboarding_org,
        resolution=resolution,
        winner_partner=partners.get(resolution.winner) if resolution.winner else None,
    )


def store_resolution(deal: Deal, resolution: rules.Resolution) -> None:
    deal.resolution_rule = str(resolution.rule)
    deal.resolution_explanation = resolution.explanation
    deal.resolution_detail = {
        "candidates": list(resolution.candidates),
        "tied": list(resolution.tied),
        "excluded": [[rid, str(rule)] for rid, rule in resolution.excluded],
    }
    deal.winner_id = resolution.winner


def grant_associations(*, actor: User, deal: Deal) -> None:
    """Give the winner the sold association of each credited purchased line nobody holds."""
    if deal.winner_id is None or deal.close_date is None:
        raise ValueError("only a won deal with a winner grants associations")
    winner = Registration.objects.select_related("organisation").get(pk=deal.winner_id)
    purchased = list(deal.purchased_lines.filter(credited=True))
    holders = dict(
        SoldAssociation.objects.select_for_update()
        .filter(customer=deal.customer, product_line__in=[p.product_line_id for p in purchased])
        .values_list("product_line_id", "organisation_id")
    )
    allocation = rules.allocate_associations(
        winner_partner=winner.organisation_id,
        purchased_lines=[p.product_line_id for p in purchased],
        existing_holders=holders,
    )
    by_line = {p.product_line_id: p for p in purchased}
    created = SoldAssociation.objects.bulk_create(
        SoldAssociation(
            organisation=winner.organisation,
            customer=deal.customer,
            product_line_id=code,
            kind=winner.motion,
            deal=deal,
            registration=winner,
            close_date=deal.close_date,
            mrr_at_close=by_line[code].mrr,
            currency_id=by_line[code].currency_id,
        )
        for code in allocation.granted
    )
    audit(
        actor=actor,
        verb="deals.associations.granted",
        subject=deal,
        organisation=winner.organisation,
        data={
            "registration": winner.pk,
            "granted": list(allocation.granted),
            "kept": list(allocation.kept),
            "held_by_other": list(allocation.held_by_other),
            "associations": [a.pk for a in created],
        },
    )
    deal_credited.send(sender=Deal, deal=deal, associations=created, actor=actor)
