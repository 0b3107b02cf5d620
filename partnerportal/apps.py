from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from importlib import import_module

from django.apps import AppConfig

#: The apps whose presenters word codes people may meet.
WORDED_APPS = ("deals", "tiers", "accreditations", "escalations", "commissions")

#: The wording maps the audit trail reads stored codes with, most specific first: maps that
#: give a code's own name (not a button's words or a step's owner).
AUDIT_WORD_MAPS: dict[str, tuple[str, ...]] = {
    "deals.presenters": ("RULE_WORDS",),
    "tiers.presenters": ("TIER_WORDS", "LINE_KIND_WORDS"),
    "accreditations.presenters": (
        "KIND_WORDS",
        "STATUS_WORDS",
        "CAUSE_WORDS",
        "CERTIFICATION_WORDS",
        "CERTIFICATION_KIND_WORDS",
    ),
    "escalations.presenters": (
        "STEP_WORDS",
        "STATUS_WORDS",
        "CONSEQUENCE_WORDS",
        "VISIBILITY_WORDS",
        "ROLE_WORDS",
    ),
    "commissions.presenters": ("PROGRAM_WORDS", "KIND_WORDS", "STATUS_WORDS", "HELD_REASON_WORDS"),
}

#: Readers of compound stored codes (`cause:argument`), by presenters module.
AUDIT_COMPOUND_READERS: dict[str, str] = {"accreditations.presenters": "reason_text"}


def wording_maps(module: object) -> dict[str, Mapping[object, object]]:
    """The wording maps a presenters module defines, by name: its public `*_WORDS` and
    `*_TITLES` mappings (keyed by enum members, or by stored codes)."""
    found: dict[str, Mapping[object, object]] = {}
    for name in dir(module):
        if name.startswith("_") or not name.endswith(("_WORDS", "_TITLES")):
            continue
        value = getattr(module, name)
        if isinstance(value, Mapping) and value and all(isinstance(k, Enum | str) for k in value):
            found[name] = value
    return found


class PartnerPortalConfig(AppConfig):
    """The project package as an app: the composition root. It owns no model; it holds the
    operator commands that span apps (`seed_demo`, `create_staff`) and the home page."""

    name = "partnerportal"
    label = "partnerportal"
    verbose_name = "Partner Portal"

    def ready(self) -> None:
        # The kernel's audit trail shows codes in words without knowing any app: the
        # composition root hands it every app's wording maps.
        from partnerportal.core.presenters import declare_code_words, declare_compound_reader

        for module_name, names in AUDIT_WORD_MAPS.items():
            try:
                presenters = import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            maps = wording_maps(presenters)
            for name in names:
                if name in maps:  # a map renamed or gone fails tests/test_every_code_has_words.py
                    declare_code_words(maps[name])
        for module_name, reader in AUDIT_COMPOUND_READERS.items():
            declare_compound_reader(getattr(import_module(module_name), reader))
