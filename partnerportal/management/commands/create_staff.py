from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from deals.services import territory_assign
from partnerportal.core.errors import InvalidInput
from partnerportal.core.models import STAFF_ROLES, Role
from partnerportal.core.services import staff_create


class Command(BaseCommand):
    """An operator command of the project package: it spans the kernel (the account) and the
    deals app (the growth specialist's territory), which the kernel does not know."""

    help = "Create (or update) a vendor staff account with a program role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=sorted(STAFF_ROLES))
        parser.add_argument("--region", default="", help="Growth specialists: territory region")
        parser.add_argument("--segment", default="", help="Growth specialists: territory segment")
        parser.add_argument("--password", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            # One transaction: a growth specialist is never left without its territory.
            with transaction.atomic():
                user, created = staff_create(
                    email=options["email"],
                    role=options["role"],
                    region=options["region"],
                    segment=options["segment"],
                    password=options["password"],
                )
                if user.role == Role.GROWTH_SPECIALIST:
                    # Route the GS's region and segment to it (blank: any; none: every other
                    # territory). Staff can change the routing in the admin's Territories.
                    territory_assign(
                        growth_specialist=user, region=user.region, segment=user.segment
                    )
        except InvalidInput as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
            ) from exc
        territory = ""
        if user.region or user.segment:
            territory = (
                f" (territory: {user.region or 'any region'}/{user.segment or 'any segment'})"
            )
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} {user.role} {user.email}{territory}")
