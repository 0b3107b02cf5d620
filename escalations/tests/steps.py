"""Building cases for the escalation tests, through the services (as production does)."""

from __future__ import annotations

from escalations import rules, services
from escalations.inputs import EscalationInput, MoveInput
from escalations.models import Escalation
from escalations.rules import CLOSED, Step, Visibility
from partnerportal.core.models import Organisation, Role, User
from tests.cast import enrol_totp
from tests.factories import UserFactory

DIRECTOR = "Dana Director"
STAFF_SECRET = "Staff only: the invoices look padded"  # no character HTML escapes
SHARED = "Shared: please send the customer a remediation plan"

# The forward move out of each step, in order.
FORWARD = {
    Step.COMPLAINT: Step.MEDIATION,
    Step.MEDIATION: Step.OPS_ESCALATION,
    Step.OPS_ESCALATION: Step.REVIEW_BOARD,
}


def case_workers() -> tuple[User, User]:
    """A customer success and a service acceleration colleague (with a second factor)."""
    cs = User.objects.filter(role=Role.CUSTOMER_SUCCESS).first() or UserFactory(
        email="cs@vendor.example", role=Role.CUSTOMER_SUCCESS
    )
    sat = User.objects.filter(role=Role.SERVICE_ACCELERATION).first() or UserFactory(
        email="sat@vendor.example", role=Role.SERVICE_ACCELERATION
    )
    for person in (cs, sat):
        enrol_totp(person)
    return cs, sat


def open_case(
    actor: User,
    partner: Organisation,
    *,
    domain: str = "customer.example",
    serious: bool = False,
    notes: bool = True,
) -> Escalation:
    return services.escalation_open(
        actor=actor,
        data=EscalationInput(
            partner=partner,
            customer_domain=domain,
            summary="The customer says the onboarding never happened.",
            serious=serious,
            note=STAFF_SECRET if notes else "",
            note_visibility=Visibility.STAFF_ONLY,
        ),
    )


def move(
    actor: User,
    case: Escalation,
    to: str,
    outcome: str | None = None,
    *,
    note: str = "",
    visibility: Visibility = Visibility.STAFF_ONLY,
) -> Escalation:
    services.escalation_move(
        actor=actor,
        escalation=case,
        data=MoveInput(
            to=to,
            outcome=outcome,
            note=note,
            note_visibility=visibility,
            director_approval=DIRECTOR if case.step == Step.REVIEW_BOARD else "",
        ),
    )
    return case


def case_at(ops: User, partner: Organisation, step: Step, **kwargs: object) -> Escalation:
    """An open case that has reached `step` through the forward moves (partner ops acting)."""
    case = open_case(ops, partner, **kwargs)  # type: ignore[arg-type]
    while case.step != step:
        move(ops, case, FORWARD[rules.Step(case.step)])
    return case


def case_with_mark(
    ops: User, partner: Organisation, *, domain: str = "marked.example"
) -> Escalation:
    case = case_at(ops, partner, Step.REVIEW_BOARD, domain=domain)
    move(ops, case, CLOSED, "mark", note=SHARED, visibility=Visibility.PARTNER_VISIBLE)
    return case
