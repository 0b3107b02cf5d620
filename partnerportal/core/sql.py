"""Helpers for set-based SQL written by hand (batch jobs)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

#: What `array_literal` accepts: values whose text form PostgreSQL reads back unchanged.
ArrayItem = int | Decimal | str | bool | date | datetime | None


def _item(value: ArrayItem) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):  # before int: a bool is an int
        return "t" if value else "f"
    if isinstance(value, int | Decimal):
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError(f"{value} cannot be stored")
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    raise TypeError(f"{type(value).__name__} is not an array item")


def array_literal(values: Iterable[ArrayItem]) -> str:
    """Return `values` as one PostgreSQL array literal (text), for a `%s::type[]` parameter.

    Django binds parameters on the client (psycopg's ClientCursor), quoting every element of
    a list parameter in Python: about 6 µs an element, over a second for the columns of
    10 000 rows. A literal is one string, quoted once. Strings are double-quoted with their
    backslashes and quotes escaped, so any text survives; None is NULL.
    """
    return "{" + ",".join(_item(value) for value in values) + "}"
