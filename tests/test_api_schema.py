"""The OpenAPI schema (`/api/schema/`, SPEC 11) describes every request body field by field, for
every app: no untyped or JSON-anything field, no object without its fields, no list without
the type of its items; every free-text field has a maximum length and every whole number a
maximum, as the database columns behind them do (issue 9, "typed input at the edge")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .cast import api_as

pytestmark = pytest.mark.django_db

# String formats whose values are bounded by their format, not by a length.
BOUNDED_FORMATS = {"date", "date-time", "decimal", "uuid", "binary"}


def _schema() -> dict[str, Any]:
    response = api_as(None).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def _request_bodies(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(`METHOD path`, schema) of every JSON request body in the API."""
    for path, operations in sorted(schema["paths"].items()):
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                yield f"{method.upper()} {path}", content["application/json"]["schema"]


def _fields(
    node: dict[str, Any], where: str, components: dict[str, Any], seen: frozenset[str]
) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """Every field of a request body, nested ones included, with its resolved schema (None
    when it has no type at all)."""
    ref = node.get("$ref")
    if ref is not None:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:  # a recursive shape: described once is enough
            return
        yield from _fields(components[name], where, components, seen | {name})
        return
    for combinator in ("allOf", "oneOf", "anyOf"):
        if combinator in node:
            for part in node[combinator]:
                yield from _fields(part, where, components, seen)
            return
    if "enum" in node:
        yield where, node
        return
    kind = node.get("type")
    if kind is None:
        yield where, None
        return
    yield where, node
    if kind == "object":
        for name, child in (node.get("properties") or {}).items():
            yield from _fields(child, f"{where}.{name}", components, seen)
    elif kind == "array":
        yield from _fields(node.get("items") or {}, f"{where}[]", components, seen)


def _all_fields(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    components = schema.get("components", {}).get("schemas", {})
    for operation, body in _request_bodies(schema):
        yield from _fields(body, operation, components, frozenset())


def test_every_request_body_field_has_a_type() -> None:
    schema = _schema()
    assert list(_request_bodies(schema)), "no request body found: the walk itself is broken"
    untyped = []
    for where, node in _all_fields(schema):
        if node is None:
            untyped.append(f"{where}: no type (a JSONField or an untyped value)")
        elif node.get("type") == "object" and not node.get("properties"):
            untyped.append(f"{where}: an object whose fields are not described")
    assert not untyped, "\n".join(untyped)


def test_every_free_text_and_whole_number_in_a_request_body_is_bounded() -> None:
    unbounded = []
    for where, node in _all_fields(_schema()):
        if node is None or "enum" in node:
            continue
        kind = node.get("type")
        if kind == "string" and node.get("format") not in BOUNDED_FORMATS:
            if "maxLength" not in node:
                unbounded.append(f"{where}: free text with no maximum length")
        elif kind == "integer" and "maximum" not in node:
            unbounded.append(f"{where}: a whole number with no maximum")
    assert not unbounded, "\n".join(unbounded)


def test_the_schema_walk_finds_an_untyped_field() -> None:
    """The walk itself: a JSON-anything field and a list of untyped items are found."""
    schema = {
        "paths": {"/x/": {"post": {"requestBody": {"content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/XIn"
        }}}}}}},
        "components": {"schemas": {"XIn": {"type": "object", "properties": {
            "data": {},
            "lines": {"type": "array", "items": {}},
            "name": {"type": "string", "maxLength": 10},
        }}}},
    }  # fmt: skip
    untyped = [where for where, node in _all_fields(schema) if node is None]
    assert untyped == ["POST /x/.data", "POST /x/.lines[]"]
