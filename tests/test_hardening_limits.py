"""Issue 10, findings 3 and 8 (kernel part): bad input and load are a clear 4xx, never a 500.

A JSON body nested 10 000 deep, a body over the size limit, an unknown API address, an
uncaught error, too many API calls, and eight simultaneous additions of one new address each
get a definite answer: JSON under /api/, pages elsewhere."""

from __future__ import annotations

import runpy
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import partnerportal.urls
from partnerportal.core.models import AuditEvent, User

from .cast import Cast, api_as, browser_as

# --- Test-only routes that fail on purpose; the project's URLs and error handlers stay. -----


class BrokenApi(APIView):
    def get(self, request: Request) -> Response:
        raise RuntimeError("a bug")


def broken_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [
    path("api/v1/test-broken/", BrokenApi.as_view()),
    path("test-broken/", broken_page),
    path("", include("partnerportal.urls")),
]
handler400 = partnerportal.urls.handler400
handler403 = partnerportal.urls.handler403
handler404 = partnerportal.urls.handler404
handler500 = partnerportal.urls.handler500


# --- JSON depth and body size ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"a":' * 10_000 + "1" + "}" * 10_000,
        '{"partner": ' + "[" * 10_000 + "]" * 10_000 + "}",
    ],
    ids=["list", "object", "field"],
)
def test_json_nested_ten_thousand_deep_is_a_400(cast: Cast, body: str) -> None:
    response = api_as(cast.ops).post("/api/v1/activities/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "nested too deeply" in response.json()["detail"]


def test_json_nested_less_deep_than_the_parser_limit_is_still_a_plain_400(cast: Cast) -> None:
    body = '{"partner": ' + "[" * 500 + "]" * 500 + "}"
    response = api_as(cast.ops).post("/api/v1/activities/", body, content_type="application/json")
    assert response.status_code == 400
    assert "partner" in response.json()


def test_an_api_body_over_the_limit_is_a_413_in_json(cast: Cast) -> None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = '{"name": "' + "x" * limit + '"}'
    response = api_as(cast.ops).post("/api/v1/partners/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request is too large: at most 2048 KB may be sent at once."
    }


def test_a_page_body_over_the_limit_is_a_413_page(cast: Cast) -> None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = browser_as(cast.ops).post("/audit/", {"verb": "x" * limit})
    assert response.status_code == 413
    assert "text/html" in response["Content-Type"]
    assert "The request is too large" in response.content.decode()


def test_a_body_at_the_limit_is_read_and_judged_on_its_fields(cast: Cast) -> None:
    body = '{"name": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 100) + '"}'
    response = api_as(cast.ops).post("/api/v1/partners/", body, content_type="application/json")
    assert response.status_code == 400
    assert "name" in response.json()


# --- JSON errors under /api/, pages elsewhere ---------------------------------------------


@pytest.mark.urls(__name__)
def test_an_unknown_api_address_is_a_json_404(cast: Cast) -> None:
    response = api_as(cast.ops).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.urls(__name__)
def test_an_unknown_page_is_still_the_404_page(cast: Cast) -> None:
    response = browser_as(cast.ops).get("/no-such-page/")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]
    assert "Not found" in response.content.decode()


@pytest.mark.urls(__name__)
def test_an_uncaught_api_error_is_a_json_500(cast: Cast) -> None:
    client = api_as(cast.ops)
    client.raise_request_exception = False
    response = client.get("/api/v1/test-broken/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "nothing was half-saved" in response.json()["detail"]


@pytest.mark.urls(__name__)
def test_an_uncaught_page_error_is_the_500_page(cast: Cast) -> None:
    client = browser_as(cast.ops)
    client.raise_request_exception = False
    response = client.get("/test-broken/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


@pytest.mark.urls(__name__)
def test_a_refused_host_on_the_api_is_a_json_400(db: None) -> None:
    response = Client(HTTP_HOST="evil.example").get("/api/v1/partners/")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


# --- Throttling ------------------------------------------------------------------------------


@pytest.fixture
def low_rates() -> Iterator[None]:
    rates = {"user": "3/minute", "anon": "2/minute"}
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        yield


@pytest.mark.usefixtures("low_rates")
def test_api_calls_over_the_rate_get_429_with_retry_after(cast: Cast) -> None:
    client = api_as(cast.admin_a)
    statuses = [client.get("/api/v1/partners/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/partners/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["detail"].startswith("Request was throttled.")


@pytest.mark.usefixtures("low_rates")
def test_the_rate_is_per_user_or_token(cast: Cast) -> None:
    for _ in range(4):
        api_as(cast.admin_a).get("/api/v1/partners/")
    assert api_as(cast.admin_a).get("/api/v1/partners/").status_code == 429
    assert api_as(cast.admin_b).get("/api/v1/partners/").status_code == 200


@pytest.mark.usefixtures("low_rates")
def test_anonymous_api_calls_are_throttled_per_address(db: None) -> None:
    statuses = [Client().post("/api/v1/poi/nope/", {}).status_code for _ in range(3)]
    assert statuses[-1] == 429


def test_the_default_rates_leave_people_and_integrations_room() -> None:
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates == {"user": "1200/minute", "anon": "120/minute"}


# --- Eight simultaneous additions of one new address ----------------------------------------


def together(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run the actions at the same instant, each in its own thread and database connection."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = actions[index]()
        except BaseException as exc:  # reported in the test's thread
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@pytest.mark.usefixtures("committed_db")
def test_eight_simultaneous_additions_of_one_new_address_create_one_account(cast: Cast) -> None:
    url = f"/api/v1/partners/{cast.org_a.pk}/users/"
    body = {"email": "race@alpha.example", "role": "member"}
    clients = [api_as(cast.admin_a) for _ in range(8)]  # tokens made before the race
    responses = together([lambda c=client: c.post(url, body, format="json") for client in clients])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * 7, [r.content for r in responses]
    for response in responses:
        if response.status_code == 400:
            assert response.json() == {
                "email": ["race@alpha.example is already a member of Alpha Agency."]
            }
    assert User.objects.filter(email="race@alpha.example").count() == 1
    assert AuditEvent.objects.filter(verb="core.partner.user_added").count() == 1


@pytest.mark.usefixtures("committed_db")
def test_two_organisations_adding_one_new_address_at_once_get_the_same_answer(
    cast: Cast,
) -> None:
    body = {"email": "both@example.com", "role": "admin"}
    a, b = api_as(cast.admin_a), api_as(cast.admin_b)
    first, second = together(
        [
            lambda: a.post(f"/api/v1/partners/{cast.org_a.pk}/users/", body, format="json"),
            lambda: b.post(f"/api/v1/partners/{cast.org_b.pk}/users/", body, format="json"),
        ]
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert User.objects.filter(email="both@example.com").count() == 1


# --- Database connections per process model ------------------------------------------------


def _settings_of(module: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.delenv("DATABASE_CONN_MAX_AGE", raising=False)
    monkeypatch.setenv("DJANGO_SECRET_KEY", "k" * 64)
    return runpy.run_module(module)


def test_the_thread_per_request_dev_server_keeps_no_connection_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """runserver starts a thread per request: a persistent connection would outlive its thread
    and PostgreSQL would run out of connections under 20 clients."""
    values = _settings_of("partnerportal.settings.dev", monkeypatch)
    assert values["DATABASES"]["default"]["CONN_MAX_AGE"] == 0


def test_gunicorn_sync_workers_keep_one_persistent_connection_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = _settings_of("partnerportal.settings.production", monkeypatch)
    assert values["DATABASES"]["default"]["CONN_MAX_AGE"] == 60
