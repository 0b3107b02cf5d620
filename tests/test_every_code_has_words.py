"""Every code a person can see has words (issue 13).

Walks every enum of every app (the kernel's and each app's `models`, `rules`, `presenters`
and `inputs`): a `TextChoices` member must carry a label that is words, not its code; a
`StrEnum` must be worded by a presenter map keyed by it (all its members), unless it is listed
below as never shown to people, with the reason. And every presenter wording map keyed by an
enum words all of that enum's members. A new code without words fails here instead of showing
raw on a page."""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from enum import Enum, StrEnum
from importlib import import_module
from types import ModuleType

import pytest
from django.db import models

from partnerportal.apps import AUDIT_WORD_MAPS, WORDED_APPS, wording_maps
from partnerportal.core import presenters as core_presenters

PACKAGES = ("partnerportal.core", *WORDED_APPS)
MODULES = ("models", "rules", "presenters", "inputs", "permissions", "forms", "access")

#: StrEnums never shown to people, with why. Anything else needs a wording map.
NOT_SHOWN: Mapping[str, str] = {
    # Permission actions: declared to the access layer, never displayed.
    "partnerportal.core.access.Action": "permission action",
    "deals.permissions.DealAction": "permission action",
    "tiers.permissions.TierAction": "permission action",
    "accreditations.permissions.AccreditationAction": "permission action",
    "escalations.permissions.EscalationAction": "permission action",
    "commissions.permissions.CommissionAction": "permission action",
    # Input values read from forms and the API; pages word them with model choices.
    "deals.inputs.PoiDecision": "an API input (the customer page has its own buttons)",
    # Pure-rule mirrors of model choices: pages show the model field's label.
    "deals.rules.ProductKind": "mirror of ProductLine.Kind (catalog names are shown)",
    "deals.rules.Edition": "mirror of the Edition table (its names are shown)",
    "deals.rules.Motion": "mirror of deals.models.Motion (its labels are shown)",
    "deals.rules.PoiStatus": "mirror of Poi.Status (its labels are shown)",
    "tiers.rules.OrgKind": "mirror of Organisation.Kind (its labels are shown)",
    "tiers.rules.ActivityKind": "mirror of Activity.Kind (its labels are shown)",
    # Refusal codes: the API's `rule` field; pages show the refusal's message.
    "tiers.rules.Refusal": "API `rule` code; pages show the refusal's message",
    "escalations.rules.Rule": "API `rule` code; pages show the refusal's message",
}


def _modules() -> Iterator[ModuleType]:
    for package in PACKAGES:
        for name in MODULES:
            try:
                yield import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise


def _enums_of(module: ModuleType) -> Iterator[type[Enum]]:
    """Enums defined in `module`, nested ones (a model's `Status`) included."""
    seen: set[type] = set()

    def walk(owner: object) -> Iterator[type[Enum]]:
        for _, value in inspect.getmembers(owner, inspect.isclass):
            if value in seen or getattr(value, "__module__", None) != module.__name__:
                continue
            seen.add(value)
            if issubclass(value, Enum):
                yield value
            elif issubclass(value, models.Model):
                yield from walk(value)

    yield from walk(module)


def _name(enum: type[Enum]) -> str:
    return f"{enum.__module__}.{enum.__qualname__}"


ENUMS = {_name(e): e for module in _modules() for e in _enums_of(module)}
CHOICES = {n: e for n, e in ENUMS.items() if issubclass(e, models.Choices)}
STR_ENUMS = {n: e for n, e in ENUMS.items() if n not in CHOICES and issubclass(e, StrEnum)}
#: Every wording map of every presenters module, keyed "module.NAME".
ALL_MAPS = {
    f"{package}.presenters.{name}": words
    for package in PACKAGES
    for name, words in wording_maps(import_module(f"{package}.presenters")).items()
}
#: Those keyed by an enum's members.
MAPS = [
    (name, words) for name, words in ALL_MAPS.items() if all(isinstance(k, Enum) for k in words)
]

#: Maps that word only some members of their enum, by design, with why.
PARTIAL: Mapping[str, str] = {
    "escalations.presenters.FORWARD_WORDS": "a move button exists only for steps a case moves to",
    "partnerportal.core.presenters.PROVIDER_ROLE_WORDS": "only partner roles exist at a provider",
}


def _is_words(text: object, code: str) -> bool:
    """Text a person reads: not empty, and not a code (codes are snake_case)."""
    return isinstance(text, str) and bool(text.strip()) and "_" not in text


def test_the_walk_finds_the_enums_people_meet() -> None:
    # A guard on the walk itself: these must be among what it checks.
    for name in (
        "partnerportal.core.models.Organisation.Tier",
        "deals.models.Registration.Status",
        "deals.rules.Rule",
        "escalations.rules.Step",
        "accreditations.rules.Kind",
    ):
        assert name in ENUMS, name
    assert len(MAPS) >= 10
    assert "deals.presenters.RULE_WORDS" in ALL_MAPS


@pytest.mark.parametrize("name", sorted(CHOICES))
def test_every_choice_has_a_label_in_words(name: str) -> None:
    enum = CHOICES[name]
    missing = [m.value for m in enum if not _is_words(m.label, str(m.value))]  # type: ignore[attr-defined]
    assert not missing, f"{name}: members without words: {missing}"


@pytest.mark.parametrize("name", sorted(STR_ENUMS))
def test_every_str_enum_is_worded_or_declared_never_shown(name: str) -> None:
    enum = STR_ENUMS[name]
    if name in NOT_SHOWN:
        return
    worded_by = [where for where, words in MAPS if set(words) >= set(enum)]
    assert worded_by, (
        f"{name} has no presenter map wording all its members: add one (or, if people never "
        "see it, list it in NOT_SHOWN with the reason)"
    )


@pytest.mark.parametrize("where", [name for name, _ in MAPS])
def test_every_wording_map_words_all_members_of_its_enum(where: str) -> None:
    words = ALL_MAPS[where]
    enum = type(next(iter(words)))
    missing = [m.value for m in enum if m not in words]  # type: ignore[attr-defined]
    if where not in PARTIAL:
        assert not missing, f"{where} (keyed by {_name(enum)}) misses {missing}"


@pytest.mark.parametrize("where", sorted(ALL_MAPS))
def test_every_wording_map_gives_words_not_codes(where: str) -> None:
    for key, text in ALL_MAPS[where].items():
        if isinstance(text, str):
            assert _is_words(text, str(key)), f"{where}: {key!r} -> {text!r} is not words"


def test_the_audit_trail_reads_maps_that_exist() -> None:
    # The composition root hands the audit trail these maps by name: each must exist.
    for module, names in AUDIT_WORD_MAPS.items():
        for name in names:
            assert f"{module}.{name}" in ALL_MAPS, f"{module}.{name}"


def test_every_not_shown_entry_still_exists_and_is_not_worded() -> None:
    # The list cannot hide a code that was renamed: each entry names a real enum, and one a
    # map words is no longer "never shown".
    assert set(NOT_SHOWN) <= set(ENUMS), set(NOT_SHOWN) - set(ENUMS)
    worded = {_name(type(next(iter(words)))) for _, words in MAPS}
    assert not set(NOT_SHOWN) & worded, set(NOT_SHOWN) & worded


@pytest.mark.django_db
def test_the_audit_trail_words_every_stored_choice() -> None:
    # Every model choice the audit data may hold reads as its label.
    words = core_presenters.code_words(catalog={})
    for name, enum in CHOICES.items():
        for member in enum:
            value = str(member.value)
            if not value:
                continue
            shown = core_presenters.audit_details({"x": value}, subject_type="", words=words)[0][1]
            assert "_" not in shown, (name, value, shown)
