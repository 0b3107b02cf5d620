"""The shape of the deals app (issue 9): every rule has a production caller, the domain rule has
one home, the API describes every request body field by field with the bounds the columns hold,
and the services and views stay split by audience."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import Resolver404, resolve

from deals import inputs
from deals.models import PurchasedLine, QuoteLine, SoldAssociation
from partnerportal.core.rules import MONEY_DECIMAL_PLACES, MONEY_MAX, MONEY_MAX_DIGITS
from tests.cast import api_as

ROOT = Path(__file__).resolve().parents[2]


def _production_sources() -> Iterator[Path]:
    """Every Python file the running program may import: not tests, not the environment."""
    for path in ROOT.rglob("*.py"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & {".venv", "tests", "node_modules", "bench"}:
            continue
        if path.name.startswith("test_") or path.name == "conftest.py":
            continue
        yield path


def test_the_domain_rule_has_one_home() -> None:
    definitions = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _production_sources()
        for line in path.read_text().splitlines()
        if re.match(r"\s*def normali[sz]e_domain\b", line)
    ]
    assert definitions == ["partnerportal/core/rules.py:def normalise_domain(raw: str) -> str:"]


@pytest.mark.parametrize("model", [QuoteLine, PurchasedLine, SoldAssociation])
def test_money_input_bounds_are_what_the_deal_columns_hold(model: Any) -> None:
    field = model._meta.get_field("mrr" if model is not SoldAssociation else "mrr_at_close")
    assert (field.max_digits, field.decimal_places) == (MONEY_MAX_DIGITS, MONEY_DECIMAL_PLACES)
    assert inputs.MONEY_MAX == MONEY_MAX == Decimal("999999999999.99")


# --- The API schema: deals request bodies, field by field -----------------------------------


def _is_deals_path(path: str) -> bool:
    concrete = re.sub(r"\{(\w+)\}", lambda m: "t" if m.group(1) == "token" else "1", path)
    try:
        match = resolve(concrete)
    except Resolver404:
        return False
    return getattr(match.func, "view_class", match.func).__module__ == "deals.api.views"


def _untyped(
    node: dict[str, Any], where: str, components: dict[str, Any], seen: frozenset[str]
) -> Iterator[str]:
    """Every place in a request body schema without a type, or unbounded: an untyped value
    (a JSONField), an object whose fields are not described, a list of untyped items, free
    text with no maximum length, a number with no maximum."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _untyped(components[name], where, components, seen | {name})
        return
    for combinator in ("allOf", "oneOf", "anyOf"):
        if combinator in node:
            for part in node[combinator]:
                yield from _untyped(part, where, components, seen)
            return
    if "enum" in node:
        return
    kind = node.get("type")
    if kind is None:
        yield f"{where}: no type"
    elif kind == "object":
        if not node.get("properties"):
            yield f"{where}: an object whose fields are not described"
        for name, child in (node.get("properties") or {}).items():
            yield from _untyped(child, f"{where}.{name}", components, seen)
    elif kind == "array":
        yield from _untyped(node.get("items") or {}, f"{where}[]", components, seen)
    elif kind == "string" and node.get("format") not in {"date", "decimal"}:
        if "maxLength" not in node:
            yield f"{where}: free text with no maximum length"
    elif kind == "string" and node.get("format") == "decimal" and "pattern" not in node:
        yield f"{where}: a decimal with no bound on its digits"
    elif kind in {"integer", "number"} and "maximum" not in node:
        yield f"{where}: a number with no maximum"


@pytest.mark.django_db
def test_every_deals_request_body_is_described_field_by_field() -> None:
    schema = api_as(None).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    bodies = {
        f"{method.upper()} {path}": operation["requestBody"]["content"]["application/json"]
        for path, operations in schema["paths"].items()
        if _is_deals_path(path)
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    # The walk covers the quote and the close, nested lines included.
    assert {"PUT /api/v1/deals/{id}/quote/", "POST /api/v1/deals/{id}/close/"} <= set(bodies)
    quote = components[bodies["PUT /api/v1/deals/{id}/quote/"]["schema"]["$ref"].rsplit("/")[-1]]
    line = components[quote["properties"]["lines"]["items"]["$ref"].rsplit("/")[-1]]
    assert {"product_line", "edition", "seats", "mrr", "currency"} <= set(line["properties"])
    problems = [
        problem
        for where, body in sorted(bodies.items())
        for problem in _untyped(body["schema"], where, components, frozenset())
    ]
    assert problems == []


def test_the_schema_walk_finds_untyped_and_unbounded_fields() -> None:
    body = {
        "type": "object",
        "properties": {
            "lines": {"type": "array", "items": {}},
            "data": {"type": "object"},
            "name": {"type": "string"},
            "seats": {"type": "integer", "minimum": 0},
        },
    }
    assert list(_untyped(body, "POST /x/", {}, frozenset())) == [
        "POST /x/.lines[]: no type",
        "POST /x/.data: an object whose fields are not described",
        "POST /x/.name: free text with no maximum length",
        "POST /x/.seats: a number with no maximum",
    ]


# --- Split by audience ----------------------------------------------------------------------


@pytest.mark.parametrize("package", ["services", "views"])
def test_services_and_views_stay_split_by_audience(package: str) -> None:
    modules = sorted((ROOT / "deals" / package).glob("*.py"))
    assert {m.stem for m in modules} >= {"__init__", "_common", "partner", "staff", "customer"}
    too_long = {m.name: n for m in modules if (n := len(m.read_text().splitlines())) > 600}
    assert too_long == {}


# --- Content-Security-Policy: no inline script or style (issue 10) --------------------------

TEMPLATES = ROOT / "templates" / "deals"
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>"  # a script element without a source file
    r"|<style\b"  # a style element
    r"|\sstyle\s*="  # a style attribute
    r"|\son[a-z]+\s*="  # an event handler attribute (onclick, onfocus, ...)
    r"|javascript:",
    re.IGNORECASE,
)


def test_the_inline_finder_finds_inline_script_and_style() -> None:
    found = INLINE.findall(
        '<script>x()</script><script src="/a.js"></script><style>p{}</style>'
        '<p style="color: red"><input onfocus="this.select()"><a href="javascript:x()">'
    )
    assert len(found) == 5


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_deal_templates_have_no_inline_script_or_style(template: Path) -> None:
    """The pages pass a CSP without 'unsafe-inline': behaviour lives in static/js/deals-*.js,
    loaded with {% static %}."""
    assert INLINE.findall(template.read_text()) == []


def test_deal_scripts_and_styles_are_static_files_of_the_deals_app() -> None:
    """Each script and style sheet the deal templates load is a file of ours, named deals-*."""
    sources = set()
    for template in TEMPLATES.glob("*.html"):
        sources |= set(
            re.findall(r"(?:src|href)=\"\{% static '([^']+)' %\}\"", template.read_text())
        )
    assert sources == {"js/deals-copy.js", "css/deals-close.css"}
    for source in sources:
        assert (ROOT / "static" / source).is_file()
