"""The escalation pages: the review queue, a case with its timeline and only the moves allowed
at its step, staff-only notes marked for staff and absent for partners, the partner's
escalations and marks pages, the PDM's view."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from escalations.models import Escalation
from escalations.rules import CLOSED, Step, Visibility
from tests.cast import Cast, browser_as

from .steps import SHARED, STAFF_SECRET, case_at, case_with_mark, case_workers, move, open_case


def _buttons(html: str) -> list[str]:
    return re.findall(r'<button type="submit" name="move" value="([^"]+)"', html)


def test_case_page_offers_only_the_moves_allowed_at_the_step(cast: Cast) -> None:
    cs, sat = case_workers()
    case = open_case(cs, cast.org_a)
    assert _buttons(browser_as(cs).get(f"/escalations/{case.pk}/").content.decode()) == [
        "closed:resolved",
        "mediation",
    ]
    assert _buttons(browser_as(sat).get(f"/escalations/{case.pk}/").content.decode()) == []
    move(cs, case, Step.MEDIATION)
    assert _buttons(browser_as(sat).get(f"/escalations/{case.pk}/").content.decode()) == [
        "closed:agreement",
        "ops_escalation",
    ]
    board = case_at(cast.ops, cast.org_a, Step.REVIEW_BOARD, domain="board.example")
    page = browser_as(cast.ops).get(f"/escalations/{board.pk}/").content.decode()
    assert _buttons(page) == ["closed:mark", "closed:no_mark"]
    assert "Approving director" in page
    for person in (cast.pdm, cast.admin_a):
        assert _buttons(browser_as(person).get(f"/escalations/{board.pk}/").content.decode()) == []


def test_a_move_not_allowed_is_refused_on_the_page_naming_the_allowed_moves(cast: Cast) -> None:
    case = open_case(cast.ops, cast.org_a)
    response = browser_as(cast.ops).post(
        f"/escalations/{case.pk}/move/", {"move": "closed:mark", "note": ""}
    )
    assert response.status_code == 400
    assert (
        "allowed are to=closed with outcome=resolved, or to=mediation" in response.content.decode()
    )
    case.refresh_from_db()
    assert case.step == Step.COMPLAINT


def test_partner_ops_take_a_case_to_a_mark_on_the_pages(cast: Cast) -> None:
    case = open_case(cast.ops, cast.org_a)
    client = browser_as(cast.ops)
    for value in ("mediation", "ops_escalation", "review_board"):
        assert client.post(f"/escalations/{case.pk}/move/", {"move": value}).status_code == 302
    refused = client.post(f"/escalations/{case.pk}/move/", {"move": "closed:mark"})
    assert refused.status_code == 400
    assert "records the approving director" in refused.content.decode()
    done = client.post(
        f"/escalations/{case.pk}/move/",
        {
            "move": "closed:mark",
            "director_approval": "Dana Director",
            "note": SHARED,
            "note_partner_visible": "on",
        },
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("closed", "mark")


def test_staff_only_notes_are_marked_for_staff_and_never_shown_to_the_partner(cast: Cast) -> None:
    case = case_with_mark(cast.ops, cast.org_a)
    staff = browser_as(cast.ops).get(f"/escalations/{case.pk}/").content.decode()
    assert re.search(
        r'class="note note-staff"><span class="note-flag">Staff only</span>\s*<p>'
        + re.escape(STAFF_SECRET),
        staff,
    )
    assert 'class="note note-partner"' in staff
    assert SHARED in staff
    for url in (f"/escalations/{case.pk}/", "/escalations/", "/marks/"):
        html = browser_as(cast.admin_a).get(url).content.decode()
        assert STAFF_SECRET not in html, url
        assert "onboarding never happened" not in html, url  # the summary
        assert cast.ops.email not in html, url
    partner_case = browser_as(cast.admin_a).get(f"/escalations/{case.pk}/").content.decode()
    assert SHARED in partner_case
    assert "note-staff" not in partner_case


def test_partner_marks_page_shows_its_marks_and_standing(cast: Cast) -> None:
    case = case_with_mark(cast.ops, cast.org_a)
    html = browser_as(cast.member_a).get("/marks/").content.decode()
    assert f"Escalation {case.pk}" in html
    assert "No mark on record" not in html
    other = browser_as(cast.admin_b).get("/marks/").content.decode()
    assert "No mark on record" in other
    assert f"Escalation {case.pk}" not in other


@pytest.mark.parametrize("url", ["/escalations/{pk}/", "/marks/?partner={org}"])
def test_another_partners_case_and_marks_are_404_on_pages(cast: Cast, url: str) -> None:
    case = case_with_mark(cast.ops, cast.org_a)
    for who in (cast.pdm,):
        # The PDM is A's: B's pages are out of its reach.
        b_case = open_case(cast.ops, cast.org_b, domain="b.example")
        assert browser_as(who).get(url.format(pk=b_case.pk, org=cast.org_b.pk)).status_code == 404
    response = browser_as(cast.admin_b).get(url.format(pk=case.pk, org=cast.org_a.pk))
    if "marks" in url:
        # A partner's marks page is always its own: the parameter is not read.
        assert response.status_code == 200
        assert cast.org_a.name not in response.content.decode()
    else:
        assert response.status_code == 404


def test_review_queue_lists_cases_by_step_with_owner_and_waiting_time(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: opened)
    old = open_case(cast.ops, cast.org_a, domain="old.example")
    serious = open_case(cast.ops, cast.org_b, domain="serious.example", serious=True)
    later = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: later)
    new = open_case(cast.ops, cast.org_b, domain="new.example")
    html = browser_as(cast.ops).get("/escalations/queue/").content.decode()
    complaint = html.split('id="step-complaint"')[1].split("</section>")[0]
    assert "Owner: Customer success" in complaint
    assert complaint.index(f"Escalation {old.pk}<") < complaint.index(f"Escalation {new.pk}<")
    assert "3 days" in complaint
    assert "less than an hour" in complaint
    board = html.split('id="step-review_board"')[1].split("</section>")[0]
    assert f"Escalation {serious.pk}" in board
    assert "Serious" in board
    assert "partner ops with a director" in board


def test_pdm_sees_its_partners_cases_only(cast: Cast) -> None:
    mine = open_case(cast.ops, cast.org_a, domain="mine.example")
    theirs = open_case(cast.ops, cast.org_b, domain="theirs.example")
    html = browser_as(cast.pdm).get("/escalations/").content.decode()
    assert "mine.example" in html
    assert "theirs.example" not in html
    assert browser_as(cast.pdm).get(f"/escalations/{mine.pk}/").status_code == 200
    assert browser_as(cast.pdm).get(f"/escalations/{theirs.pk}/").status_code == 404


def test_raising_a_complaint_on_the_page_with_bad_input_names_the_field(cast: Cast) -> None:
    response = browser_as(cast.ops).post(
        "/escalations/new/",
        {"partner": cast.org_a.pk, "customer_domain": "not a domain", "summary": "x"},
    )
    assert response.status_code == 400
    assert not Escalation.objects.exists()
    ok = browser_as(cast.ops).post(
        "/escalations/new/",
        {
            "partner": cast.org_a.pk,
            "customer_domain": "acme.example",
            "summary": "x",
            "serious": "on",
        },
    )
    assert ok.status_code == 302
    assert Escalation.objects.get().step == Step.REVIEW_BOARD


def test_closed_case_page_shows_how_it_ended_and_no_buttons(cast: Cast) -> None:
    case = open_case(cast.ops, cast.org_a)
    move(cast.ops, case, CLOSED, "resolved", note=SHARED, visibility=Visibility.PARTNER_VISIBLE)
    html = browser_as(cast.admin_a).get(f"/escalations/{case.pk}/").content.decode()
    assert "Closed: Resolved with the customer" in html
    assert _buttons(browser_as(cast.ops).get(f"/escalations/{case.pk}/").content.decode()) == []
