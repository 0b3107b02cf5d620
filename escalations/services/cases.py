"""Cases: staff open a complaint about a partner; the owner of each step moves it on (SPEC 9).
Every move is decided by the pure `rules.transition`, recorded (who, when, note), audited, and
told by e-mail to the partner's primary contact and its PDM (the outbox, after commit)."""

from __future__ import annotations

from django.db import transaction

from partnerportal.core.access import require, visible_organisations
from partnerportal.core.audit import audit
from partnerportal.core.errors import NotFound
from partnerportal.core.models import User
from partnerportal.core.notifications import notify, partner_contacts
from partnerportal.core.rules import normalise_domain

from .. import presenters, rules
from ..inputs import DIRECTOR_MAX, NOTE_MAX, SUMMARY_MAX, EscalationInput, MoveInput
from ..models import Escalation, Mark, Note, Transition
from ..permissions import EscalationAction
from ._common import bounded_text, now, today


@transaction.atomic
def escalation_open(*, actor: User, data: EscalationInput) -> Escalation:
    """Raise a customer's complaint about a partner: at the complaint step, or straight at the
    review board for a very serious infringement."""
    require(actor, EscalationAction.OPEN)
    if not visible_organisations(actor).filter(pk=data.partner.pk).exists():
        raise NotFound("No such partner.")
    domain = normalise_domain(data.customer_domain)
    summary = bounded_text(data.summary, limit=SUMMARY_MAX, field="summary")
    note = bounded_text(data.note, limit=NOTE_MAX, field="note", required=False)
    step = rules.opening_step(serious=data.serious)
    at = now()
    case = Escalation.objects.create(
        organisation=data.partner,
        customer_domain=domain,
        summary=summary,
        serious=data.serious,
        step=step,
        opened_by=actor,
        opened_at=at,
        step_entered_at=at,
    )
    opening = Transition.objects.create(
        escalation=case, seq=0, from_step="", to=step, actor=actor, actor_role=actor.role, at=at
    )
    if note:
        Note.objects.create(
            escalation=case,
            transition=opening,
            author=actor,
            at=at,
            text=note,
            visibility=data.note_visibility,
        )
    audit(
        actor=actor,
        verb="escalations.case.opened",
        subject=case,
        organisation=data.partner,
        data={"step": step.value, "serious": data.serious, "customer_domain": domain},
    )
    _tell(
        case, opening, note=note if data.note_visibility == rules.Visibility.PARTNER_VISIBLE else ""
    )
    return case


@transaction.atomic
def escalation_move(*, actor: User, escalation: Escalation, data: MoveInput) -> Transition:
    """Move a case on, as the owner of its step (`rules.transition` decides). The board's
    `mark` decision creates the partner's mark on record."""
    require(actor, EscalationAction.ACT, escalation.organisation)
    case = Escalation.objects.select_for_update().get(pk=escalation.pk)
    note = bounded_text(data.note, limit=NOTE_MAX, field="note", required=False)
    director = bounded_text(
        data.director_approval, limit=DIRECTOR_MAX, field="director_approval", required=False
    )
    decision = rules.transition(
        step=rules.Step(case.step),
        status=rules.Status(case.status),
        role=actor.role,
        to=data.to,
        outcome=data.outcome,
        director_approval=director,
    )
    at = now()
    last = case.transitions.order_by("-seq").values_list("seq", flat=True).first() or 0
    move = Transition.objects.create(
        escalation=case,
        seq=last + 1,
        from_step=case.step,
        to=data.to,
        outcome=decision.outcome.value if decision.outcome else "",
        actor=actor,
        actor_role=actor.role,
        at=at,
        director_approval=director,
    )
    if note:
        Note.objects.create(
            escalation=case,
            transition=move,
            author=actor,
            at=at,
            text=note,
            visibility=data.note_visibility,
        )
    case.step = decision.step
    case.status = decision.status
    if decision.status == rules.Status.CLOSED:
        case.outcome = decision.outcome.value if decision.outcome else ""
        case.closed_at = at
    else:
        case.step_entered_at = at
    case.save(update_fields=["step", "status", "outcome", "closed_at", "step_entered_at"])
    audit(
        actor=actor,
        verb="escalations.case.moved",
        subject=case,
        organisation=case.organisation,
        reason=note if data.note_visibility == rules.Visibility.PARTNER_VISIBLE else "",
        data={
            "seq": move.seq,
            "from": move.from_step,
            "to": move.to,
            "outcome": move.outcome,
            "director_approval": director,
        },
    )
    if decision.creates_mark:
        mark = Mark.objects.create(
            organisation=case.organisation,
            escalation=case,
            effective_on=today(),
            decided_by=actor,
            director_approval=director,
        )
        audit(
            actor=actor,
            verb="escalations.mark.created",
            subject=mark,
            organisation=case.organisation,
            data={"escalation": case.pk, "director_approval": director},
        )
    for name in ("step", "status", "outcome", "closed_at", "step_entered_at"):
        setattr(escalation, name, getattr(case, name))
    _tell(case, move, note=note if data.note_visibility == rules.Visibility.PARTNER_VISIBLE else "")
    return move


def _tell(case: Escalation, move: Transition, *, note: str) -> None:
    """E-mail the partner's primary contact and its PDM that the case reached a step (one
    outbox row per move and person: never twice). Only partner-visible words go out."""
    organisation = case.organisation
    where = presenters.where_words(step=case.step, status=case.status, outcome=case.outcome)
    subject = f"Escalation {case.pk} about {organisation.name}: {where}"
    lines = [
        f"The escalation {case.pk} about {organisation.name} (customer {case.customer_domain}) "
        f"is now: {where}.",
    ]
    if case.status == rules.Status.OPEN:
        lines.append(presenters.STEP_OBJECTIVES[rules.Step(case.step)])
    if note:
        lines += ["", note]
    lines += ["", "See it in the Partner Portal, under Escalations."]
    for person in partner_contacts(organisation):
        notify(
            key=f"escalations.case.{case.pk}.transition.{move.seq}.to.{person.pk}",
            recipient=person,
            subject=subject,
            body="\n".join(lines),
            organisation=organisation,
        )
