"""People read words, never codes: every member of every enum has its words."""

from __future__ import annotations

from accreditations import presenters, rules


def test_every_enum_member_has_words() -> None:
    assert set(presenters.KIND_WORDS) == set(rules.Kind)
    assert set(presenters.STATUS_WORDS) == set(rules.Status)
    assert set(presenters.OUTCOME_WORDS) == set(rules.Outcome)
    assert set(presenters.CAUSE_WORDS) == set(rules.Cause)
    assert set(presenters.VERDICT_WORDS) == set(rules.BoardVerdict)
    assert set(presenters.CERTIFICATION_KIND_WORDS) == set(rules.CertificationKind)


def test_every_reason_reads_as_a_sentence_without_its_code() -> None:
    for code in (
        "below_platinum",
        "missing_certification:data_migration",
        "too_many_marks:4",
        "not_renewed",
        "board_revoked",
        "board_rejected",
    ):
        text = presenters.reason_text(code)
        assert text.endswith(".")
        assert code.split(":")[0] not in text
    assert presenters.reason_text("missing_certification:data_migration") == (
        "No current member of the team holds the Data Migration certification."
    )
    assert "4 marks on record" in presenters.reason_text("too_many_marks:4")
