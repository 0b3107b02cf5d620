"""One home per rule (issue 9), for every app's `rules.py` and the kernel's.

- Every function of a rules module is called by production code (directly, or through another
  rule that is): a rule only tests call proves nothing about production.
- No function of a rules module is defined a second time anywhere in production code: a rule
  that exists twice drifts (we had two domain normalisers and two month-MRR rules that
  disagreed).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES_MODULES = sorted(
    path
    for path in [ROOT / "partnerportal" / "core" / "rules.py", *ROOT.glob("*/rules.py")]
    if path.exists()
)
# Names too generic to count as a second definition of a rule (dunder hooks, enum helpers).
_GENERIC = re.compile(r"^(__\w+__|_missing_|rank)$")


def _production_sources(*, excluding: Path | None = None) -> Iterator[Path]:
    """Every Python file the running program may import: not tests, benchmarks or the
    environment (and not `excluding`)."""
    for path in ROOT.rglob("*.py"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & {".venv", ".run", "tests", "node_modules", "bench", "migrations"}:
            continue
        if path == excluding or path.name.startswith("test_") or path.name == "conftest.py":
            continue
        yield path


def _rule_functions(module: Path) -> dict[str, list[ast.FunctionDef]]:
    """A rules module's functions by the name production calls them with: a module-level
    function or a method by its own name; a dunder hook (`__post_init__`, `__lt__`) by its
    class's name, since it runs whenever the class is built or compared."""
    found: dict[str, list[ast.FunctionDef]] = {}
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            found.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    name = node.name if item.name.startswith("__") else item.name
                    found.setdefault(name, []).append(item)
    return found


def _label(module: Path) -> str:
    return str(module.relative_to(ROOT))


def test_the_rules_modules_are_found() -> None:
    labels = {_label(m) for m in RULES_MODULES}
    assert {"partnerportal/core/rules.py", "deals/rules.py", "tiers/rules.py"} <= labels


def _unreached(functions: dict[str, list[ast.FunctionDef]], production: str) -> list[str]:
    """The rule functions that production text never names, directly or through a rule."""
    reached = {name for name in functions if re.search(rf"\b{name}\b", production)}
    calls = {
        name: {
            n.id if isinstance(n, ast.Name) else n.attr
            for node in nodes
            for n in ast.walk(node)
            if isinstance(n, ast.Name | ast.Attribute)
        }
        & set(functions)
        for name, nodes in functions.items()
    }
    frontier = list(reached)
    while frontier:
        for callee in calls[frontier.pop()] - reached:
            reached.add(callee)
            frontier.append(callee)
    return sorted(set(functions) - reached)


def _top_level_rules(source: str) -> set[str]:
    """A rules module's public rules (private helpers are its own business)."""
    return {
        node.name
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef)
        and not node.name.startswith("_")
        and not _GENERIC.match(node.name)
    }


def _delegates(function: ast.FunctionDef) -> bool:
    """A function of the same name that calls the rule (a selector that loads the data and asks
    `rules.<name>`) is a door to the rule, not a copy of it."""
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute | ast.Name)
        and (n.func.attr if isinstance(n.func, ast.Attribute) else n.func.id) == function.name
        for n in ast.walk(function)
    )


def _second_definitions(names: set[str], sources: dict[str, str]) -> list[str]:
    return sorted(
        f"{node.name}: {label}"
        for label, source in sources.items()
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef) and node.name in names and not _delegates(node)
    )


@pytest.mark.parametrize("module", RULES_MODULES, ids=_label)
def test_every_rule_has_a_production_caller(module: Path) -> None:
    production = "\n".join(p.read_text() for p in _production_sources(excluding=module))
    assert _unreached(_rule_functions(module), production) == [], "called only by tests"


@pytest.mark.parametrize("module", RULES_MODULES, ids=_label)
def test_no_rule_is_defined_twice(module: Path) -> None:
    sources = {_label(p): p.read_text() for p in _production_sources(excluding=module)}
    assert _second_definitions(_top_level_rules(module.read_text()), sources) == []


def test_the_checks_find_a_rule_only_tests_call_and_a_rule_defined_twice() -> None:
    rules_source = (
        "def normalise(x):\n    return helper(x)\n\n"
        "def helper(x):\n    return x\n\n"
        "def lonely(x):\n    return x\n"
    )
    functions = {
        node.name: [node]
        for node in ast.parse(rules_source).body
        if isinstance(node, ast.FunctionDef)
    }
    assert _unreached(functions, "from . import rules\nrules.normalise(raw)\n") == ["lonely"]
    copy = {
        "other/rules.py": "def normalise(raw):\n    return raw.lower()\n",
        "app/selectors.py": "def normalise(*, pk):\n    return rules.normalise(load(pk))\n",
    }
    assert _second_definitions(_top_level_rules(rules_source), copy) == [
        "normalise: other/rules.py"
    ]
