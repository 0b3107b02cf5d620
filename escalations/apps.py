from __future__ import annotations

from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "escalations"

    def ready(self) -> None:
        from partnerportal.core import access

        from . import permissions

        access.declare(permissions.GRANTS)
