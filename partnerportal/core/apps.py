from __future__ import annotations

import logging

from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "partnerportal.core"
    label = "core"
    verbose_name = "Program kernel"

    def ready(self) -> None:
        from allauth.mfa.models import Authenticator
        from django.db.models.signals import post_delete, post_migrate, post_save

        from .models import Organisation, User

        # A user, an organisation or an authenticator saved outside a service (a sign-in's
        # last_login, a password set or an authenticator added by allauth, the admin's own
        # forms) is a change too (core.versions).
        for model in (User, Organisation, Authenticator):
            post_save.connect(_changed, sender=model, dispatch_uid=f"versions-save-{model}")
            post_delete.connect(_changed, sender=model, dispatch_uid=f"versions-del-{model}")
        # A migration or a flush (a rebuilt database reuses ids) is one too.
        post_migrate.connect(_migrated, sender=self, dispatch_uid="versions-migrate")


def _changed(**kwargs: object) -> None:
    from . import versions

    versions.data_changed()


def _migrated(**kwargs: object) -> None:
    """After `migrate` or `flush`. Migrating needs no cache: if it cannot be reached, say so
    and go on (nothing can be served from a cache nobody reaches; docker-compose starts
    Redis before its migrate)."""
    from . import versions

    try:
        versions.data_changed()
    except Exception as exc:  # any cache failure: the migration stands
        logging.getLogger(__name__).warning(
            "The data version could not be replaced after migrating (%s): cached pages and "
            "users expire on their own within 15 minutes.",
            exc,
        )
