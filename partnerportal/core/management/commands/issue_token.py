from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partnerportal.core.errors import InvalidInput
from partnerportal.core.services import token_issue


class Command(BaseCommand):
    help = "Print the API token of an account (created on first use). The key is the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            token = token_issue(email=options["email"])
        except InvalidInput as exc:
            raise CommandError(" ".join(exc.messages())) from exc
        self.stdout.write(
            f"API token for {token.user.email} (send as 'Authorization: Token <key>'):"
        )
        self.stdout.write(token.key)
