"""The access layer: apps declare their own actions (`access.declare` in `AppConfig.ready`), so
the kernel names no app's action; every action any code asks about is declared."""

from __future__ import annotations

import ast
from enum import StrEnum
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from partnerportal.core import access
from partnerportal.core.models import Role

from .cast import Cast


@pytest.fixture
def grants(monkeypatch: pytest.MonkeyPatch) -> dict[str, frozenset[str]]:
    """The access layer's registry, restored after the test."""
    registry = dict(access._GRANTS)
    monkeypatch.setattr(access, "_GRANTS", registry)
    return registry


@pytest.mark.django_db
def test_a_declared_action_is_granted_to_its_roles_only(
    cast: Cast, grants: dict[str, frozenset[str]]
) -> None:
    access.declare({"reports.export": [Role.FINANCE, Role.PARTNER_ADMIN]})
    assert access.can(cast.finance, "reports.export")
    assert not access.can(cast.ops, "reports.export")
    # A partner role acts only on its own organisation.
    assert access.can(cast.admin_a, "reports.export", cast.org_a)
    assert not access.can(cast.admin_a, "reports.export", cast.org_b)
    assert not access.can(cast.member_a, "reports.export", cast.org_a)


def test_declaring_an_action_twice_with_the_same_roles_is_harmless(
    grants: dict[str, frozenset[str]],
) -> None:
    access.declare({"reports.export": [Role.FINANCE]})
    access.declare({"reports.export": {Role.FINANCE}})  # an app loaded again
    assert access.declared_actions()["reports.export"] == frozenset({Role.FINANCE})


def test_declaring_an_action_again_with_other_roles_is_a_configuration_error(
    grants: dict[str, frozenset[str]],
) -> None:
    access.declare({"reports.export": [Role.FINANCE]})
    with pytest.raises(ImproperlyConfigured, match="declared twice"):
        access.declare({"reports.export": [Role.FINANCE, Role.PDM]})
    assert access.declared_actions()["reports.export"] == frozenset({Role.FINANCE})


def test_declaring_an_unknown_role_is_a_configuration_error(
    grants: dict[str, frozenset[str]],
) -> None:
    with pytest.raises(ImproperlyConfigured, match="unknown roles"):
        access.declare({"reports.export": ["auditor"]})
    assert "reports.export" not in access.declared_actions()


@pytest.mark.django_db
def test_asking_about_an_undeclared_action_is_a_programming_error(cast: Cast) -> None:
    with pytest.raises(ImproperlyConfigured, match="No app declared"):
        access.can(cast.ops, "reports.export")
    with pytest.raises(ImproperlyConfigured, match="No app declared"):
        access.require(cast.ops, "reports.export")


def _action_enums() -> dict[str, type[StrEnum]]:
    """The kernel's `Action` and every StrEnum of every app's `permissions` module, by name."""
    enums: dict[str, type[StrEnum]] = {"Action": access.Action}
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.permissions")
        except ModuleNotFoundError:
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, StrEnum)
                and value.__module__ == module.__name__  # its own, not an imported Role
            ):
                enums[value.__name__] = value
    return enums


def test_every_action_an_app_names_is_declared() -> None:
    declared = access.declared_actions()
    enums = _action_enums()
    assert {"Action", "DealAction", "TierAction"} <= set(enums)
    undeclared = [
        f"{name}.{member.name}"
        for name, enum in enums.items()
        for member in enum
        if member.value not in declared
    ]
    assert not undeclared


def _action_arguments(tree: ast.AST) -> list[ast.expr]:
    """The action argument of every `can(...)`/`require(...)` call (access layer style)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in {"can", "require"} and len(node.args) >= 2:
            found.append(node.args[1])
    return found


def test_every_action_the_code_asks_about_is_declared() -> None:
    """Scan the production code: each action passed to `can`/`require` is a declared one."""
    declared = access.declared_actions()
    enums = _action_enums()
    root = Path(settings.BASE_DIR)
    packages = ["partnerportal", *(c.name for c in apps.get_app_configs() if "." not in c.name)]
    files = [
        path
        for package in packages
        for path in (root / package).rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    ]
    problems, checked = [], 0
    for path in files:
        for argument in _action_arguments(ast.parse(path.read_text(), filename=str(path))):
            where = f"{path.relative_to(root)}:{argument.lineno}"
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                checked += 1
                if argument.value not in declared:
                    problems.append(f"{where}: {argument.value!r} is not declared")
            elif (
                isinstance(argument, ast.Attribute)
                and isinstance(argument.value, ast.Attribute | ast.Name)
                and (enum_name := getattr(argument.value, "attr", None)
                     or getattr(argument.value, "id", None)) in enums
            ):  # fmt: skip
                checked += 1
                member = enums[enum_name].__members__.get(argument.attr)
                if member is None or member.value not in declared:
                    problems.append(f"{where}: {enum_name}.{argument.attr} is not declared")
    assert checked > 20, "the scan found almost no permission check: it is broken"
    assert not problems, "\n".join(problems)
