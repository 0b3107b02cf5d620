"""Every code people could see has words (no raw code on a page)."""

from __future__ import annotations

from escalations import presenters, rules


def test_every_enum_member_has_words() -> None:
    assert set(presenters.STEP_WORDS) == set(rules.Step)
    assert set(presenters.STEP_OBJECTIVES) == set(rules.Step)
    assert set(presenters.OWNER_WORDS) == set(rules.Step)
    assert set(presenters.STATUS_WORDS) == set(rules.Status)
    assert set(presenters.OUTCOME_WORDS) == set(rules.Outcome)
    assert set(presenters.VISIBILITY_WORDS) == set(rules.Visibility)
    assert set(presenters.CONSEQUENCE_WORDS) == set(rules.ConsequenceKind)
    assert set(rules.STEP_OWNERS.values()) <= set(presenters.ROLE_WORDS)


def test_every_move_has_button_words_without_codes() -> None:
    for moves in rules.MOVES.values():
        for move in moves:
            words = presenters.move_words(move)
            assert words
            assert "_" not in words


def test_waited_words() -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert presenters.waited_words(start, start + timedelta(minutes=5)) == "less than an hour"
    assert presenters.waited_words(start, start + timedelta(hours=1)) == "1 hour"
    assert presenters.waited_words(start, start + timedelta(days=3, hours=2)) == "3 days"
