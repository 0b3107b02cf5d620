"""What partner ops and operators do on deals: settle Best Partner Wins ties (SPEC 6, step 5)
and keep the routing table of Partner Sourced requests (territories, SPEC 5)."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from partnerportal.core.access import require
from partnerportal.core.audit import audit
from partnerportal.core.errors import NON_FIELD, InvalidInput, StateConflict
from partnerportal.core.models import Region, Role, Segment, User

from .. import rules
from ..inputs import REASON_MAX
from ..models import Deal, Territory
from ..permissions import DealAction
from ._closing import grant_associations, store_resolution
from ._common import bounded_text, lock_deal, now

# --- Ties ------------------------------------------------------------------------------------


@transaction.atomic
def deal_decide(*, actor: User, deal: Deal, registration_id: int, reason: str) -> Deal:
    """Partner ops settle a Best Partner Wins tie, with a reason; the decision is final."""
    require(actor, DealAction.DECIDE)
    reason = bounded_text(reason, limit=REASON_MAX, field="reason")
    deal = lock_deal(deal)
    if deal.status != Deal.Status.AWAITING_DECISION:
        raise StateConflict("This deal is not awaiting a partner-ops decision.")
    detail = deal.resolution_detail or {}
    pending = rules.Resolution(
        rule=rules.Rule(deal.resolution_rule),
        winner=None,
        explanation=deal.resolution_explanation,
        tied=tuple(detail.get("tied", ())),
        candidates=tuple(detail.get("candidates", ())),
        excluded=tuple((rid, rules.Rule(rule)) for rid, rule in detail.get("excluded", ())),
    )
    try:
        decided = rules.ops_decision(resolution=pending, chosen=registration_id, reason=reason)
    except InvalidInput as exc:
        field = "reason" if exc.rule == rules.Rule.REASON_REQUIRED else "registration"
        raise exc.on_field(field) from exc
    store_resolution(deal, decided)
    deal.status = Deal.Status.WON
    deal.decided_by = actor
    deal.decided_at = now()
    deal.decision_reason = reason
    deal.save()
    audit(
        actor=actor,
        verb="deals.deal.decided",
        subject=deal,
        reason=deal.decision_reason,
        data={"rule": str(decided.rule), "winner": decided.winner},
    )
    grant_associations(actor=actor, deal=deal)
    return deal


# --- Territories -----------------------------------------------------------------------------


def territory_problems(
    *, region: str, segment: str, growth_specialist: User | None, territory_id: int | None = None
) -> dict[str, list[str]]:
    """Why a territory row cannot be saved, by field (empty when it can): a known region and
    segment (blank: any), an active growth specialist, one row per region and segment.
    The admin's form shows these; `territory_edit` refuses with them."""
    problems: dict[str, list[str]] = {}
    if region and region not in Region.values:
        problems["region"] = [f"'{region}' is not a region."]
    if segment and segment not in Segment.values:
        problems["segment"] = [f"'{segment}' is not a segment."]
    if growth_specialist is None or growth_specialist.role != Role.GROWTH_SPECIALIST:
        problems["growth_specialist"] = ["Only growth specialists have a territory."]
    elif not growth_specialist.is_active:
        problems["growth_specialist"] = ["This growth specialist's account is deactivated."]
    taken = Territory.objects.filter(region=region, segment=segment)
    if territory_id is not None:
        taken = taken.exclude(pk=territory_id)
    if taken.exists():
        problems[NON_FIELD] = [
            "Another row already routes this region and segment: change that row instead."
        ]
    return problems


def _territory_facts(territory: Territory) -> Mapping[str, str]:
    return {
        "region": territory.region,
        "segment": territory.segment,
        "growth_specialist": territory.growth_specialist.email,
    }


@transaction.atomic
def territory_edit(
    *,
    actor: User,
    territory: Territory | None,
    region: str,
    segment: str,
    growth_specialist: User,
) -> Territory:
    """Partner ops add a territory row (`territory` None) or change one: which growth
    specialist gets the Partner Sourced requests of a region and segment (SPEC 5). Audited
    with the row before and after."""
    require(actor, DealAction.TERRITORY_EDIT)
    if territory is not None:
        territory = (
            Territory.objects.select_for_update(of=("self",))
            .select_related("growth_specialist")
            .get(pk=territory.pk)
        )
    problems = territory_problems(
        region=region,
        segment=segment,
        growth_specialist=growth_specialist,
        territory_id=territory.pk if territory else None,
    )
    if problems:
        raise InvalidInput(errors=problems)
    before = _territory_facts(territory) if territory is not None else None
    if territory is None:
        territory = Territory(region=region, segment=segment, growth_specialist=growth_specialist)
    else:
        territory.region = region
        territory.segment = segment
        territory.growth_specialist = growth_specialist
    territory.save()
    audit(
        actor=actor,
        verb="deals.territory.added" if before is None else "deals.territory.changed",
        subject=territory,
        data={"before": before, "after": _territory_facts(territory)},
    )
    return territory


@transaction.atomic
def territory_assign(*, growth_specialist: User, region: str, segment: str) -> None:
    """Route a region and segment (blank: any) to a growth specialist: the operator command
    (`create_staff`) and demo data. Partner ops use `territory_edit`."""
    territory = Territory.objects.select_for_update().filter(region=region, segment=segment).first()
    problems = territory_problems(
        region=region,
        segment=segment,
        growth_specialist=growth_specialist,
        territory_id=territory.pk if territory else None,
    )
    if problems:
        raise InvalidInput(errors=problems)
    if territory is not None and territory.growth_specialist_id == growth_specialist.pk:
        return
    if territory is None:
        territory = Territory.objects.create(
            region=region, segment=segment, growth_specialist=growth_specialist
        )
    else:
        territory.growth_specialist = growth_specialist
        territory.save(update_fields=["growth_specialist"])
    audit(
        actor=None,
        actor_label="operator",
        verb="deals.territory.assigned",
        subject=territory,
        data={"region": region, "segment": segment, "growth_specialist": growth_specialist.email},
    )
