"""The demo loads a case at every step, closed cases and a mark, once."""

from __future__ import annotations

from django.core.management import call_command

from escalations.models import Consequence, Escalation, Mark
from escalations.rules import Step


def test_seed_demo_loads_cases_at_every_step_and_a_mark_once(db: None) -> None:
    call_command("seed_demo")
    open_steps = set(Escalation.objects.filter(status="open").values_list("step", flat=True))
    assert open_steps == set(Step)
    outcomes = set(Escalation.objects.filter(status="closed").values_list("outcome", flat=True))
    assert outcomes == {"mark", "resolved", "not_at_fault"}
    assert Mark.objects.count() == 1
    counts = (Escalation.objects.count(), Mark.objects.count(), Consequence.objects.count())
    call_command("seed_demo")
    assert (Escalation.objects.count(), Mark.objects.count(), Consequence.objects.count()) == counts
