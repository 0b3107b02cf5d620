"""Consequences (SPEC 10): partner ops apply a rule-of-engagement consequence to a partner, with
a reason, effective-dated; the partner's standing follows the consequences in effect (the
gravest of warning, suspension, termination: `rules.standing_for`), written through the kernel
service `core.services.organisation_standing_set`. A loss of revenue share is recorded (and
ended) as the kernel's revenue-share stop (`core.services.revenue_share_stop_start/_end`), in
the same transaction, for commissions to read. A consequence that starts or ends on a later
date takes effect through `standings_refresh`, run daily (`escalations.refresh_standings`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction

from partnerportal.core.access import require, visible_organisations
from partnerportal.core.audit import audit
from partnerportal.core.errors import InvalidInput, NotFound, StateConflict
from partnerportal.core.models import Organisation, User
from partnerportal.core.notifications import notify, partner_contacts
from partnerportal.core.services import (
    organisation_standing_set,
    revenue_share_stop_end,
    revenue_share_stop_start,
)

from .. import presenters, rules
from ..inputs import REASON_MAX, ConsequenceEnd, ConsequenceInput
from ..models import Consequence, Escalation
from ..permissions import EscalationAction
from ..selectors import consequences_in_effect
from ._common import bounded_text, today


@transaction.atomic
def consequence_apply(*, actor: User, data: ConsequenceInput) -> Consequence:
    """Apply a consequence to a partner with a reason, from a date (and until one, if given)."""
    require(actor, EscalationAction.CONSEQUENCES_APPLY)
    if not visible_organisations(actor).filter(pk=data.partner.pk).exists():
        raise NotFound("No such partner.")
    reason = bounded_text(data.reason, limit=REASON_MAX, field="reason")
    levels = rules.check_tiers_dropped(kind=data.kind, tiers_dropped=data.tiers_dropped)
    if data.effective_until is not None and data.effective_until <= data.effective_from:
        raise InvalidInput("The end must come after the start.", field="effective_until")
    case = None
    if data.escalation_id is not None:
        case = Escalation.objects.filter(pk=data.escalation_id, organisation=data.partner).first()
        if case is None:
            raise InvalidInput("No such escalation for this partner.", field="escalation")
    consequence = Consequence.objects.create(
        organisation=data.partner,
        kind=data.kind,
        reason=reason,
        effective_from=data.effective_from,
        effective_until=data.effective_until,
        tiers_dropped=levels,
        escalation=case,
        applied_by=actor,
    )
    audit(
        actor=actor,
        verb="escalations.consequence.applied",
        subject=consequence,
        organisation=data.partner,
        reason=reason,
        data={
            "kind": data.kind.value,
            "effective_from": data.effective_from.isoformat(),
            "effective_until": data.effective_until.isoformat() if data.effective_until else None,
            "tiers_dropped": levels,
            "escalation": case.pk if case else None,
        },
    )
    if data.kind == rules.ConsequenceKind.REVENUE_SHARE_LOSS:
        revenue_share_stop_start(
            actor=actor,
            organisation=data.partner,
            source=_stop_source(consequence),
            effective_from=data.effective_from,
            effective_until=data.effective_until,
            reason=reason,
        )
    _refresh(actor=actor, organisation_ids=[data.partner.pk], as_of=today())
    words = presenters.CONSEQUENCE_WORDS[data.kind]
    for person in partner_contacts(data.partner):
        notify(
            key=f"escalations.consequence.{consequence.pk}.applied.to.{person.pk}",
            recipient=person,
            subject=f"{words} for {data.partner.name}",
            body=(
                f"Partner ops applied a consequence to {data.partner.name}: {words}, "
                f"from {data.effective_from:%d %B %Y}"
                + (f" until {data.effective_until:%d %B %Y}" if data.effective_until else "")
                + f".\n\nReason: {reason}\n"
            ),
            organisation=data.partner,
        )
    return consequence


@transaction.atomic
def consequence_end(*, actor: User, consequence: Consequence, data: ConsequenceEnd) -> Consequence:
    """End a consequence on a date (it is no longer in effect from that date), with a reason."""
    require(actor, EscalationAction.CONSEQUENCES_APPLY)
    row = Consequence.objects.select_for_update().get(pk=consequence.pk)
    reason = bounded_text(data.reason, limit=REASON_MAX, field="reason")
    if row.ended_by_id is not None:
        raise StateConflict("This consequence was already ended.")
    if data.effective_until <= row.effective_from:
        raise InvalidInput("The end must come after the start.", field="effective_until")
    if row.effective_until is not None and data.effective_until > row.effective_until:
        raise InvalidInput("It already ends before that date.", field="effective_until")
    row.effective_until = data.effective_until
    row.ended_by = actor
    row.end_reason = reason
    row.save(update_fields=["effective_until", "ended_by", "end_reason"])
    audit(
        actor=actor,
        verb="escalations.consequence.ended",
        subject=row,
        organisation=row.organisation,
        reason=reason,
        data={"effective_until": data.effective_until.isoformat()},
    )
    if row.kind == rules.ConsequenceKind.REVENUE_SHARE_LOSS:
        revenue_share_stop_end(
            actor=actor,
            source=_stop_source(row),
            effective_until=data.effective_until,
            reason=reason,
        )
    _refresh(actor=actor, organisation_ids=[row.organisation_id], as_of=today())
    return row


def _stop_source(consequence: Consequence) -> str:
    """How the kernel's revenue-share stop names the consequence it comes from."""
    return f"escalations.consequence:{consequence.pk}"


@transaction.atomic
def standings_refresh(*, as_of: date, organisation_ids: Iterable[int] | None = None) -> int:
    """Bring every partner with consequences (or those given) to the standing its consequences
    in effect on `as_of` give (the daily task). Idempotent; return how many changed."""
    return _refresh(actor=None, organisation_ids=organisation_ids, as_of=as_of)


def _refresh(*, actor: User | None, organisation_ids: Iterable[int] | None, as_of: date) -> int:
    with_consequences = Consequence.objects.values_list("organisation_id", flat=True).distinct()
    ids = set(with_consequences) if organisation_ids is None else set(organisation_ids)
    in_effect = consequences_in_effect(organisation_ids=ids, as_of=as_of)
    changed = 0
    for organisation in Organisation.objects.filter(pk__in=ids).order_by("pk"):
        standing = rules.standing_for(c.kind for c in in_effect.get(organisation.pk, []))
        if organisation_standing_set(
            actor=actor,
            actor_label=None if actor else "escalations.refresh_standings",
            organisation=organisation,
            standing=standing,
            reason=f"Consequences in effect on {as_of.isoformat()}",
        ):
            changed += 1
    return changed
