"""What the tier pages say: every code has words (people never read a code), and the pages
compare enum members, never raw strings that happen to equal their values. No database."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import pytest

from partnerportal.core.models import Role
from tiers import presenters, rules
from tiers.tests import spec

WORDS: list[tuple[type[StrEnum], Mapping[object, object]]] = [
    (rules.Tier, presenters.TIER_WORDS),
    (rules.LineKind, presenters.LINE_KIND_WORDS),
    (rules.Benefit, presenters.BENEFIT_WORDS),
    (presenters.Figure, presenters.FIGURE_WORDS),
    (presenters.Minimum, presenters.MINIMUM_WORDS),
    (presenters.Move, presenters.WHAT_IF_MOVE_WORDS),
    (presenters.Move, presenters.TREND_WORDS),
    (rules.MatchingGap, presenters.MATCHING_GAP_WORDS),
]


@pytest.mark.parametrize(("enum", "words"), WORDS, ids=lambda x: getattr(x, "__name__", ""))
def test_every_code_has_words(enum: type[StrEnum], words: Mapping[object, object]) -> None:
    assert set(words) == set(enum)
    assert all(words[member] for member in enum)


def test_every_benefit_has_words_once_in_the_matrix() -> None:
    labelled = [benefit for _, rows in presenters.BENEFIT_GROUPS for benefit, _ in rows]
    assert sorted(labelled) == sorted(rules.Benefit)
    assert len(labelled) == len(set(labelled))


ROOT = Path(__file__).resolve().parents[2]
#: The values of the enums the tier pages show: comparing a raw string with one of them would
#: break silently if the enum changed.
ENUM_VALUES = (
    {
        str(member)
        for enum in (rules.Tier, rules.LineKind, presenters.Figure, presenters.Minimum)
        for member in enum
    }
    | {str(m) for m in presenters.Move}
    | {str(role) for role in Role}
)
COMPARISON = re.compile(r"""(?:==|!=|\bis\b)\s*["']([a-z_]+)["']|["']([a-z_]+)["']\s*(?:==|!=)""")


@pytest.mark.parametrize(
    "path",
    sorted(
        [*ROOT.glob("tiers/*.py"), *ROOT.glob("tiers/api/*.py"), *ROOT.glob("templates/tiers/*")]
    ),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_pages_compare_enum_members_not_raw_strings(path: Path) -> None:
    compared = {a or b for a, b in COMPARISON.findall(path.read_text())}
    assert not compared & ENUM_VALUES


@pytest.mark.parametrize(
    ("after", "before", "move"),
    [(Decimal(2), Decimal(1), "up"), (Decimal(1), Decimal(1), "same"), (0, 3, "down")],
)
def test_move(after: Decimal | int, before: Decimal | int, move: str) -> None:
    assert presenters.move(after, before) == presenters.Move(move)


def test_a_partner_row_says_how_its_total_moved() -> None:
    row = presenters.partner_row(
        pk=1,
        name="Alpha",
        tier="gold",
        as_of=date(2026, 3, 15),
        latest_total=Decimal("180.9"),
        previous_total=Decimal("130.2"),
        at_risk=None,
    )
    assert (row.tier_label, row.total, row.previous, row.change) == (
        "Gold",
        180,
        130,
        "+50 from 130",
    )
    assert row.trend == presenters.TREND_WORDS[presenters.Move.UP]
    assert row.at_risk is False
    first = presenters.partner_row(
        pk=1,
        name="A",
        tier="untiered",
        as_of=None,
        latest_total=None,
        previous_total=None,
        at_risk=None,
    )
    assert (first.trend, first.total, first.change) == (None, None, "")


def test_the_sold_bar_says_what_the_rule_set_counts() -> None:
    rs_2026 = spec.SPEC_RULE_SETS[1]
    bars = presenters.bars(
        points=rules.Points(sourced=Decimal(50)), tier=rules.Tier.GOLD, rule_set=rs_2026
    )
    assert [(b.key, b.label, b.points, b.missing) for b in bars] == [
        ("sold", "Sold (Partner Sourced)", 50, 60),
        ("managed", "Managed", 0, 38),
        ("total", "Total", 50, 275),
    ]
