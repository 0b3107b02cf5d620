from __future__ import annotations

from django.apps import AppConfig


class CommissionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "commissions"

    def ready(self) -> None:
        from deals.services import deal_credited
        from partnerportal.core import access

        from . import permissions, services

        access.declare(permissions.GRANTS)
        deal_credited.connect(
            services.on_deal_credited, dispatch_uid="commissions.entitlements_on_credit"
        )
