"""Demo escalations: a case at every step, closed cases of each kind, a mark on record and a
consequence, built through the services (validated and audited like real data) on top of the
kernel's demo program. Idempotent: a second run finds the marker case and does nothing."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from partnerportal.core.models import Organisation, Role, User

from . import services
from .inputs import ConsequenceInput, EscalationInput, MoveInput
from .models import Escalation
from .rules import CLOSED, ConsequenceKind, Step, Visibility

MARKER_DOMAIN = "fabrikam-demo.example"  # the first demo case: its presence means "loaded"
DIRECTOR = "Morgan Lee, Director of Partner Programs"

STAFF_ONLY = Visibility.STAFF_ONLY
SHARED = Visibility.PARTNER_VISIBLE

# partner, customer domain, serious, [(to, outcome, note, visibility)]; the opening note first.
CASES: list[tuple[str, str, bool, list[tuple[str, str | None, str, Visibility]]]] = [
    (
        "Northwind Digital",
        MARKER_DOMAIN,
        False,
        [("", None, "The customer says the kickoff was missed twice.", STAFF_ONLY)],
    ),
    (
        "Northwind Digital",
        "tailspin-demo.example",
        False,
        [
            ("", None, "Data migration left 2,000 contacts without owners.", STAFF_ONLY),
            (Step.MEDIATION, None, "Please propose a fix plan to the customer.", SHARED),
        ],
    ),
    (
        "Bluepeak Agency",
        "litware-demo.example",
        False,
        [
            ("", None, "Workflows were built in the customer's production portal.", STAFF_ONLY),
            (Step.MEDIATION, None, "", STAFF_ONLY),
            (Step.OPS_ESCALATION, None, "The customer refused the credit offered.", SHARED),
        ],
    ),
    (
        "Bluepeak Agency",
        "wingtip-demo.example",
        True,
        [("", None, "Customer data shared with a third party without consent.", STAFF_ONLY)],
    ),
    (
        "Northwind Digital",
        "adventure-demo.example",
        False,
        [
            ("", None, "Invoices billed for hours not worked.", STAFF_ONLY),
            (Step.MEDIATION, None, "", STAFF_ONLY),
            (Step.OPS_ESCALATION, None, "", STAFF_ONLY),
            (Step.REVIEW_BOARD, None, "Fault lies with the partner.", STAFF_ONLY),
            (
                CLOSED,
                "mark",
                "The board gives a mark on record for billing hours not worked.",
                SHARED,
            ),
        ],
    ),
    (
        "Northwind Digital",
        "proseware-demo.example",
        False,
        [
            ("", None, "Slow answers to support tickets.", STAFF_ONLY),
            (CLOSED, "resolved", "Resolved: the partner now answers within a day.", SHARED),
        ],
    ),
    (
        "Bluepeak Agency",
        "northwood-demo.example",
        False,
        [
            ("", None, "The customer blames the partner for a failed import.", STAFF_ONLY),
            (Step.MEDIATION, None, "", STAFF_ONLY),
            (Step.OPS_ESCALATION, None, "", STAFF_ONLY),
            (CLOSED, "not_at_fault", "The import failed on the customer's side.", SHARED),
        ],
    ),
]


def seed_demo_escalations() -> list[str]:
    """Load the demo cases (after the kernel's demo). Return what was done."""
    if Escalation.objects.filter(customer_domain=MARKER_DOMAIN).exists():
        return ["Demo escalations already loaded."]
    demo_staff = User.objects.filter(email__endswith="@demo.partnerportal.example")
    cs = demo_staff.filter(role=Role.CUSTOMER_SUCCESS).order_by("id").first()
    sat = demo_staff.filter(role=Role.SERVICE_ACCELERATION).order_by("id").first()
    ops = demo_staff.filter(role=Role.PARTNER_OPS).order_by("id").first()
    if cs is None or sat is None or ops is None:
        return ["Demo escalations skipped: load the kernel demo first."]
    owner = {
        Step.COMPLAINT: cs,
        Step.MEDIATION: sat,
        Step.OPS_ESCALATION: ops,
        Step.REVIEW_BOARD: ops,
    }
    marks = 0
    with transaction.atomic():
        for partner_name, domain, serious, moves in CASES:
            partner = Organisation.objects.get(name=partner_name)
            (_, _, opening_note, opening_visibility), rest = moves[0], moves[1:]
            case = services.escalation_open(
                actor=ops if serious else cs,
                data=EscalationInput(
                    partner=partner,
                    customer_domain=domain,
                    summary=opening_note,
                    serious=serious,
                    note=opening_note,
                    note_visibility=opening_visibility,
                ),
            )
            for to, outcome, note, visibility in rest:
                services.escalation_move(
                    actor=owner[Step(case.step)],
                    escalation=case,
                    data=MoveInput(
                        to=to,
                        outcome=outcome,
                        note=note,
                        note_visibility=visibility,
                        director_approval=DIRECTOR if case.step == Step.REVIEW_BOARD else "",
                    ),
                )
            if case.outcome == "mark":
                marks += 1
                today = timezone.localdate()
                services.consequence_apply(
                    actor=ops,
                    data=ConsequenceInput(
                        partner=partner,
                        kind=ConsequenceKind.OPPORTUNITY_EXCLUSION,
                        reason="Billing hours not worked: no special opportunities for 6 months.",
                        effective_from=today,
                        effective_until=today + timedelta(days=182),
                        escalation_id=case.pk,
                    ),
                )
    return [f"Loaded demo escalations: {len(CASES)} cases at every step, {marks} mark on record."]
