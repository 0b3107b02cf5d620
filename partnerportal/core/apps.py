from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "partnerportal.core"
    label = "core"
    verbose_name = "Program kernel"

    def ready(self) -> None:
        from allauth.mfa.models import Authenticator
        from django.db.models.signals import post_delete, post_save

        from .models import Organisation, User

        # A user, an organisation or an authenticator saved outside a service (a sign-in's
        # last_login, a password set or an authenticator added by allauth, the admin's own
        # forms) is a change too (core.versions).
        for model in (User, Organisation, Authenticator):
            post_save.connect(_changed, sender=model, dispatch_uid=f"versions-save-{model}")
            post_delete.connect(_changed, sender=model, dispatch_uid=f"versions-del-{model}")


def _changed(**kwargs: object) -> None:
    from . import versions

    versions.data_changed()
