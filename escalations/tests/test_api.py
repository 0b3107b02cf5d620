"""The escalations API (SPEC 11): opening, every allowed move and every forbidden one through
HTTP, owners, the serious shortcut, marks, and what a partner may read."""

from __future__ import annotations

import itertools

import pytest

from escalations.models import Escalation, Mark, Transition
from escalations.rules import CLOSED, TARGETS, Outcome, Step
from partnerportal.core.models import AuditEvent
from tests.cast import Cast, api_as

from .steps import DIRECTOR, SHARED, STAFF_SECRET, case_at, case_with_mark, case_workers, open_case

ALLOWED = {
    (Step.COMPLAINT, CLOSED, "resolved"): ("complaint", "closed", "resolved"),
    (Step.COMPLAINT, "mediation", None): ("mediation", "open", ""),
    (Step.MEDIATION, CLOSED, "agreement"): ("mediation", "closed", "agreement"),
    (Step.MEDIATION, "ops_escalation", None): ("ops_escalation", "open", ""),
    (Step.OPS_ESCALATION, CLOSED, "not_at_fault"): ("ops_escalation", "closed", "not_at_fault"),
    (Step.OPS_ESCALATION, "review_board", None): ("review_board", "open", ""),
    (Step.REVIEW_BOARD, CLOSED, "mark"): ("review_board", "closed", "mark"),
    (Step.REVIEW_BOARD, CLOSED, "no_mark"): ("review_board", "closed", "no_mark"),
}
FORBIDDEN = [
    ask
    for ask in itertools.product(list(Step), TARGETS, [None, *[o.value for o in Outcome]])
    if ask not in ALLOWED
]


def _post_move(client, case: Escalation, to: str, outcome: str | None, **extra: object):  # type: ignore[no-untyped-def]
    body: dict[str, object] = {"to": to, **extra}
    if outcome is not None:
        body["outcome"] = outcome
    if case.step == Step.REVIEW_BOARD:
        body.setdefault("director_approval", DIRECTOR)
    return client.post(f"/api/v1/escalations/{case.pk}/transitions/", body, format="json")


def test_staff_open_a_complaint_at_the_complaint_step(cast: Cast) -> None:
    cs, _ = case_workers()
    response = api_as(cs).post(
        "/api/v1/escalations/",
        {
            "partner": cast.org_a.pk,
            "customer_domain": "https://www.Customer.example/x",
            "summary": "No onboarding.",
            "serious": False,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["step"], body["status"], body["customer_domain"]) == (
        "complaint",
        "open",
        "customer.example",
    )
    case = Escalation.objects.get(pk=body["id"])
    assert case.transitions.get().to == "complaint"
    assert AuditEvent.objects.filter(
        verb="escalations.case.opened", subject_id=str(case.pk)
    ).exists()


def test_serious_infringement_opens_at_the_review_board_through_the_api(cast: Cast) -> None:
    response = api_as(cast.ops).post(
        "/api/v1/escalations/",
        {
            "partner": cast.org_a.pk,
            "customer_domain": "x.example",
            "summary": "Fraud.",
            "serious": True,
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["step"] == "review_board"


@pytest.mark.parametrize(("step", "to", "outcome"), list(ALLOWED), ids=str)
def test_allowed_move_through_the_api(cast: Cast, step: Step, to: str, outcome: str | None) -> None:
    case = case_at(cast.ops, cast.org_a, step)
    response = _post_move(api_as(cast.ops), case, to, outcome, note="n")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["step"], body["status"], body["outcome"]) == ALLOWED[(step, to, outcome)]
    last = Transition.objects.filter(escalation=case).order_by("-seq").first()
    assert last is not None
    assert (last.from_step, last.to, last.actor, last.outcome) == (
        step,
        to,
        cast.ops,
        outcome or "",
    )
    assert Mark.objects.filter(escalation=case).exists() is (outcome == "mark")


@pytest.mark.parametrize(("step", "to", "outcome"), FORBIDDEN, ids=str)
def test_forbidden_move_through_the_api_is_a_400_naming_the_allowed_moves(
    cast: Cast, step: Step, to: str, outcome: str | None
) -> None:
    case = case_at(cast.ops, cast.org_a, step, notes=False)
    before = case.transitions.count()
    response = _post_move(api_as(cast.ops), case, to, outcome)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["rule"] == ["move_not_allowed"]
    assert "allowed are" in body["to"][0]
    case.refresh_from_db()
    assert (case.step, case.status, case.transitions.count()) == (step, "open", before)


def test_a_closed_case_refuses_every_move(cast: Cast) -> None:
    case = case_with_mark(cast.ops, cast.org_a)
    response = _post_move(api_as(cast.ops), case, "mediation", None)
    assert response.status_code == 400
    assert response.json()["rule"] == ["case_closed"]


def test_only_the_owner_of_the_step_acts(cast: Cast) -> None:
    cs, sat = case_workers()
    case = open_case(cs, cast.org_a)
    assert _post_move(api_as(sat), case, "mediation", None).status_code == 403
    assert _post_move(api_as(cs), case, "mediation", None).status_code == 201
    case.refresh_from_db()
    assert _post_move(api_as(cs), case, "ops_escalation", None).status_code == 403
    assert _post_move(api_as(sat), case, "ops_escalation", None).status_code == 201
    case.refresh_from_db()
    for person in (cs, sat, cast.pdm):
        assert _post_move(api_as(person), case, "review_board", None).status_code == 403
    assert _post_move(api_as(cast.ops), case, "review_board", None).status_code == 201


def test_board_decision_without_a_director_is_refused(cast: Cast) -> None:
    case = case_at(cast.ops, cast.org_a, Step.REVIEW_BOARD)
    response = _post_move(api_as(cast.ops), case, CLOSED, "mark", director_approval="")
    assert response.status_code == 400
    assert response.json()["rule"] == ["director_approval_required"]
    assert not Mark.objects.exists()


def test_mark_on_record_comes_only_from_the_boards_decision(cast: Cast) -> None:
    case = case_with_mark(cast.ops, cast.org_a)
    mark = Mark.objects.get()
    assert (mark.organisation, mark.escalation, mark.director_approval) == (
        cast.org_a,
        case,
        DIRECTOR,
    )
    audited = AuditEvent.objects.filter(organisation=cast.org_a).values_list("verb", flat=True)
    assert sorted(audited) == [
        "escalations.case.moved",
        "escalations.case.moved",
        "escalations.case.moved",
        "escalations.case.moved",
        "escalations.case.opened",
        "escalations.mark.created",
    ]
    rows = api_as(cast.admin_a).get(f"/api/v1/partners/{cast.org_a.pk}/marks/").json()["results"]
    assert [row["escalation"] for row in rows] == [case.pk]
    assert api_as(cast.pdm).get(f"/api/v1/partners/{cast.org_a.pk}/marks/").status_code == 200


def test_partner_reads_own_case_with_partner_visible_notes_only(cast: Cast) -> None:
    case = case_with_mark(cast.ops, cast.org_a)
    for url in (f"/api/v1/escalations/{case.pk}/", "/api/v1/escalations/"):
        response = api_as(cast.admin_a).get(url)
        assert response.status_code == 200
        text = response.content.decode()
        assert STAFF_SECRET not in text
        assert "onboarding never happened" not in text  # the summary is staff only
        assert cast.ops.email not in text
        assert SHARED in text
    body = api_as(cast.admin_a).get(f"/api/v1/escalations/{case.pk}/").json()
    assert [note["text"] for note in body["notes"]] == [SHARED]
    assert body["step"] == "review_board"
    assert body["outcome"] == "mark"
    staff = api_as(cast.ops).get(f"/api/v1/escalations/{case.pk}/").json()
    assert {note["text"] for note in staff["notes"]} == {STAFF_SECRET, SHARED}


@pytest.mark.parametrize("who", ["admin_b", "member_b", "provider_admin"])
def test_another_partner_gets_404_on_every_escalation_and_mark_endpoint(
    cast: Cast, who: str
) -> None:
    case = case_with_mark(cast.ops, cast.org_a)
    client = api_as(cast.people()[who])
    for response in (
        client.get(f"/api/v1/escalations/{case.pk}/"),
        client.post(
            f"/api/v1/escalations/{case.pk}/transitions/", {"to": "mediation"}, format="json"
        ),
        client.get(f"/api/v1/partners/{cast.org_a.pk}/marks/"),
    ):
        assert response.status_code == 404
        assert cast.org_a.name not in response.content.decode()
    listed = client.get("/api/v1/escalations/").json()["results"]
    assert listed == []


def test_pdm_sees_only_its_partners_cases(cast: Cast) -> None:
    mine = open_case(cast.ops, cast.org_a)
    other = open_case(cast.ops, cast.org_b)
    rows = api_as(cast.pdm).get("/api/v1/escalations/").json()["results"]
    assert [row["id"] for row in rows] == [mine.pk]
    assert api_as(cast.pdm).get(f"/api/v1/escalations/{other.pk}/").status_code == 404


def test_bad_input_is_a_400_naming_the_field(cast: Cast) -> None:
    client = api_as(cast.ops)
    response = client.post(
        "/api/v1/escalations/",
        {"partner": 0, "customer_domain": "x" * 301, "summary": "", "serious": "maybe"},
        format="json",
    )
    assert response.status_code == 400
    assert {"partner", "customer_domain", "summary", "serious"} <= set(response.json())
    missing = client.post(
        "/api/v1/escalations/",
        {"partner": 10**9, "customer_domain": "a.example", "summary": "s"},
        format="json",
    )
    assert missing.status_code == 400
    assert "partner" in missing.json()
    case = open_case(cast.ops, cast.org_a)
    bad = client.post(
        f"/api/v1/escalations/{case.pk}/transitions/",
        {"to": "complaint", "outcome": "maybe", "note": "x" * 4001},
        format="json",
    )
    assert bad.status_code == 400
    assert {"to", "outcome", "note"} <= set(bad.json())
