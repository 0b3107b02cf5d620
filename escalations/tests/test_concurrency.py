"""Races on one case, on real PostgreSQL: two moves started together from threads, each with
its own connection, against committed data. The case row is locked, so the outcome is one of
the serial ones: one move wins, the other is refused by the rules as they stand after it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.response import Response

from escalations.models import Mark, Transition
from escalations.rules import Step
from tests.cast import Cast, api_as

from .steps import DIRECTOR, case_at, open_case

pytestmark = pytest.mark.usefixtures("committed_db")


def together(*actions: Callable[[], Response]) -> list[Response]:
    """Run the actions at the same instant, each in its own thread and database connection."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Response]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = action()
        except BaseException as exc:  # reported below, in the test's thread
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def test_two_board_decisions_at_once_give_one_decision_and_at_most_one_mark(cast: Cast) -> None:
    case = case_at(cast.ops, cast.org_a, Step.REVIEW_BOARD)
    url = f"/api/v1/escalations/{case.pk}/transitions/"

    def decide(outcome: str):  # type: ignore[no-untyped-def]
        body = {"to": "closed", "outcome": outcome, "director_approval": DIRECTOR}
        return lambda: api_as(cast.ops).post(url, body, format="json")

    mark, no_mark = together(decide("mark"), decide("no_mark"))
    assert sorted([mark.status_code, no_mark.status_code]) == [201, 400]
    loser = no_mark if mark.status_code == 201 else mark
    assert loser.json()["rule"] == ["case_closed"]
    case.refresh_from_db()
    assert Mark.objects.filter(escalation=case).count() == (1 if case.outcome == "mark" else 0)
    assert list(Transition.objects.filter(escalation=case).values_list("seq", flat=True)) == [
        0,
        1,
        2,
        3,
        4,
    ]


def test_two_moves_from_one_step_at_once_move_the_case_once(cast: Cast) -> None:
    case = open_case(cast.ops, cast.org_a)
    url = f"/api/v1/escalations/{case.pk}/transitions/"
    first, second = together(
        lambda: api_as(cast.ops).post(url, {"to": "mediation"}, format="json"),
        lambda: api_as(cast.ops).post(url, {"to": "mediation"}, format="json"),
    )
    assert sorted([first.status_code, second.status_code]) == [201, 400]
    case.refresh_from_db()
    assert (case.step, case.transitions.count()) == ("mediation", 2)
