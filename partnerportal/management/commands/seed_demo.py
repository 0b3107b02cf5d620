from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accreditations.demo import seed_demo_accreditations
from deals.demo import seed_demo_deals
from escalations.demo import seed_demo_escalations
from partnerportal.core.demo import DEMO_PASSWORD, demo_sign_ins, seed_demo
from partnerportal.demo_history import seed_demo_history, seed_demo_statements
from tiers.demo import demo_tier_sign_ins, seed_demo_assessments


class Command(BaseCommand):
    """An operator command of the project package: the demo spans the kernel and every app."""

    help = "Load the demo program (idempotent) and print the demo sign-ins."

    def handle(self, *args: Any, **options: Any) -> None:
        for line in [
            *seed_demo(),
            *seed_demo_deals(),
            # Past deals before the tier runs (their sold lines count), their statements last.
            *seed_demo_history(),
            *seed_demo_assessments(),
            *seed_demo_accreditations(),
            *seed_demo_escalations(),
            *seed_demo_statements(),
        ]:
            self.stdout.write(line)
        self.stdout.write(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD}):")
        for email, what in [*demo_sign_ins(), *demo_tier_sign_ins()]:
            self.stdout.write(f"  {email:<40} {what}")
