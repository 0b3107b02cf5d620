"""Typed, bounded input fields for every app's serializers: money and seat counts parse to
`Decimal` and `int` within what their database columns hold (`core.rules` bounds), so an
out-of-range value is a 400 naming the field, never a 500, and the schema says so."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from ..rules import MONEY_DECIMAL_PLACES, MONEY_MAX, MONEY_MAX_DIGITS, SEATS_MAX

# A database `bigint` primary key: an id beyond it cannot name a row.
ID_MAX = 2**63 - 1


class MoneyField(serializers.DecimalField):
    """An amount of money: a decimal string or number, at most two decimals, 0 to MONEY_MAX."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", MONEY_MAX)
        super().__init__(**kwargs)


class SeatsField(serializers.IntegerField):
    """A seat count: a whole number from 0 to what the column holds."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", SEATS_MAX)
        super().__init__(**kwargs)


class IdField(serializers.IntegerField):
    """The id of a row: a whole number from 1 to what a primary key holds."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)
