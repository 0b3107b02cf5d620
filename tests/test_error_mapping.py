"""The one domain-error family (`core.errors`) and the one place each side maps it to HTTP: the
API answers JSON (400 with field messages and the rule, 409, 404, 403), pages an error page
with the same status. Test-only routes raise each kind; the project's URLs stay mounted so the
page frame renders as in production."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partnerportal.core.errors import Forbidden, InvalidInput, NotFound, StateConflict

from .cast import Cast, api_as, browser_as

ERRORS: dict[str, Callable[[], Exception]] = {
    "invalid-field": lambda: InvalidInput(
        "Seats must be a whole number.", field="seats", rule="whole_seats"
    ),
    "invalid-fields": lambda: InvalidInput(
        errors={"mrr": ["Must not be negative."], "lines.0.currency": ["Unsupported."]}
    ),
    "invalid-nonfield": lambda: InvalidInput("Nothing to do."),
    "conflict": lambda: StateConflict("This deal is already closed."),
    "not-found": lambda: NotFound(),
    "forbidden": lambda: Forbidden(),
    "django-404": lambda: Http404("gone"),
    "django-403": lambda: PermissionDenied(),
    "django-validation": lambda: DjangoValidationError({"name": ["Too long."]}),
}


class RaisingApi(APIView):
    def post(self, request: Request, kind: str) -> Response:
        raise ERRORS[kind]()


def raising_page(request: HttpRequest, kind: str) -> HttpResponse:
    raise ERRORS[kind]()


urlpatterns = [
    path("test-errors/api/<str:kind>/", RaisingApi.as_view()),
    path("test-errors/page/<str:kind>/", raising_page),
    path("", include("partnerportal.urls")),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        (
            "invalid-field",
            400,
            {"seats": ["Seats must be a whole number."], "rule": ["whole_seats"]},
        ),
        (
            "invalid-fields",
            400,
            {"mrr": ["Must not be negative."], "lines.0.currency": ["Unsupported."]},
        ),
        ("invalid-nonfield", 400, {"non_field_errors": ["Nothing to do."]}),
        ("conflict", 409, {"detail": "This deal is already closed."}),
        ("not-found", 404, {"detail": "Not found."}),
        ("forbidden", 403, {"detail": "You are not allowed to do this."}),
        ("django-404", 404, {"detail": "Not found."}),
        ("django-403", 403, None),
        ("django-validation", 400, {"name": ["Too long."]}),
    ],
)
def test_the_api_answers_each_domain_error_with_its_status_and_json(
    cast: Cast, kind: str, status: int, body: dict[str, object] | None
) -> None:
    response = api_as(cast.ops).post(f"/test-errors/api/{kind}/", {}, format="json")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    if body is not None:
        assert response.json() == body
    else:
        assert set(response.json()) == {"detail"}


@pytest.mark.parametrize(
    ("kind", "status", "says"),
    [
        ("invalid-field", 400, "Seats must be a whole number."),
        ("invalid-fields", 400, "Must not be negative."),
        ("conflict", 409, "This deal is already closed."),
    ],
)
def test_a_page_that_lets_a_refusal_escape_shows_the_error_page_with_its_status(
    cast: Cast, kind: str, status: int, says: str
) -> None:
    response = browser_as(cast.admin_a).get(f"/test-errors/page/{kind}/")
    assert response.status_code == status
    assert response.templates[0].name == "error.html"
    page = response.content.decode()
    assert says in page
    assert "whole_seats" not in page  # people see words, never rule codes
    heading = "This cannot be done now" if status == 409 else "Please check what you sent"
    assert heading in page


@pytest.mark.parametrize(("kind", "status"), [("not-found", 404), ("forbidden", 403)])
def test_a_page_outside_reach_or_forbidden_gets_the_404_or_403_page(
    cast: Cast, kind: str, status: int
) -> None:
    response = browser_as(cast.admin_a).get(f"/test-errors/page/{kind}/")
    assert response.status_code == status
    assert "error.html" not in [t.name for t in response.templates]
