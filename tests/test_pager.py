"""The one pager (`templates/partials/pager.html`, `{% page_url %}`) keeps every other query
parameter of the page: a list's filter and another list's page survive paging (issue 9: the
old audit pager hard-coded the `verb` filter and the deals pager dropped other parameters)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory

from partnerportal.core.models import AuditEvent

from .cast import Cast, browser_as


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.by_rel: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("rel") and found.get("href"):
            self.by_rel[str(found["rel"])] = str(found["href"])


def pager_links(html: str) -> dict[str, dict[str, list[str]]]:
    """The query of the pager's previous/next links, by `rel`."""
    parser = _Links()
    parser.feed(html)
    return {rel: parse_qs(urlsplit(href).query) for rel, href in parser.by_rel.items()}


def _events(count: int, verb: str) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(actor_label="test", verb=verb, subject_type="x", subject_id=str(n))
        for n in range(count)
    )


@pytest.mark.django_db
def test_the_audit_pager_keeps_the_filter_and_every_other_parameter(cast: Cast) -> None:
    _events(120, "core.test.paged")
    _events(5, "core.other")
    response = browser_as(cast.ops).get(
        "/audit/", {"verb": "core.test", "page": "2", "lines_page": "3", "sort": "a&b c"}
    )
    assert response.status_code == 200
    links = pager_links(response.content.decode())
    expected = {"verb": ["core.test"], "lines_page": ["3"], "sort": ["a&b c"]}
    assert links["prev"] == {**expected, "page": ["1"]}
    assert links["next"] == {**expected, "page": ["3"]}
    assert response.context["page"].paginator.count == 120  # the filter applied


def test_paging_one_list_keeps_the_other_lists_page() -> None:
    """Two lists on one page, each with its own page parameter."""
    page = Paginator(list(range(100)), 10).get_page(4)
    request = RequestFactory().get("/tiers/partners/7/", {"page": "2", "q": "acme", "kind": "sold"})
    html = render_to_string(
        "partials/pager.html",
        {"page": page, "param": "lines_page", "anchor": "#lines", "label": "Lines"},
        request=request,
    )
    links = pager_links(html)
    assert links["next"] == {
        "page": ["2"],
        "q": ["acme"],
        "kind": ["sold"],
        "lines_page": ["5"],
    }
    assert links["prev"]["lines_page"] == ["3"]
    assert 'aria-label="Lines"' in html
    assert "#lines" in html


def test_a_single_page_shows_no_pager() -> None:
    page = Paginator(list(range(5)), 10).get_page(1)
    html = render_to_string(
        "partials/pager.html", {"page": page}, request=RequestFactory().get("/audit/")
    )
    assert "<nav" not in html
