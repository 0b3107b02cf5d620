from __future__ import annotations

from django.apps import AppConfig


class PartnerPortalConfig(AppConfig):
    """The project package as an app: the composition root. It owns no model; it holds the
    operator commands that span apps (`seed_demo`, `create_staff`) and the home page."""

    name = "partnerportal"
    label = "partnerportal"
    verbose_name = "Partner Portal"
