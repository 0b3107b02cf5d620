from __future__ import annotations

from django.apps import AppConfig


class DealsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "deals"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from partnerportal.core import access
        from partnerportal.core.models import Country

        from . import permissions
        from .views._common import forget_blank_customer_forms

        access.declare(permissions.GRANTS)
        # The blank customer forms list the countries: their cached rendering goes with a change.
        post_save.connect(
            forget_blank_customer_forms, sender=Country, dispatch_uid="deals-blank-forms-save"
        )
        post_delete.connect(
            forget_blank_customer_forms, sender=Country, dispatch_uid="deals-blank-forms-delete"
        )
