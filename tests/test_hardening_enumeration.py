"""Issue 10, finding 4 (kernel part): adding a person reveals nothing about other tenants.

`POST /partners/{id}/users/` answers 201 with the same body whether the address is new (an
account is created, the invitation sent) or already has an account with another organisation
or as staff (nothing is created; the address's owner, not the caller, is told by e-mail). Only
an address already in the caller's own organisation is refused, which its admin can see anyway."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from partnerportal.core import services, tasks
from partnerportal.core.models import AuditEvent, User

from .cast import Cast, api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def notices(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The account-exists notices the service enqueues (sent at once, as a worker would)."""
    sent: list[tuple[int, int]] = []

    def enqueue(user_id: int, organisation_id: int) -> None:
        sent.append((user_id, organisation_id))
        tasks.send_account_exists_notice(user_id, organisation_id)

    monkeypatch.setattr(tasks.send_account_exists_notice, "delay_on_commit", enqueue)
    monkeypatch.setattr(tasks.send_account_invitation, "delay_on_commit", lambda user_id: None)
    return sent


def add(cast: Cast, email: str) -> Any:
    return api_as(cast.admin_a).post(
        f"/api/v1/partners/{cast.org_a.pk}/users/",
        {"email": email, "role": "member"},
        format="json",
    )


def shape(response: Any) -> tuple[int, str, list[str], str]:
    """Everything a caller can read from the answer, but the address it sent."""
    body = response.json()
    return response.status_code, response["Content-Type"], sorted(body), body["detail"]


@pytest.mark.usefixtures("notices")
@pytest.mark.parametrize("elsewhere", ["admin_b", "member_b", "provider_admin", "ops", "gs"])
def test_an_address_with_an_account_elsewhere_answers_as_a_new_address(
    cast: Cast, elsewhere: str
) -> None:
    existing = cast.people()[elsewhere]
    new = add(cast, "brand-new@alpha.example")
    taken = add(cast, existing.email)
    assert shape(taken) == shape(new)
    assert shape(new) == (
        201,
        "application/json",
        ["detail", "email", "role"],
        "If this address can be added to the organisation, an e-mail with a link to choose "
        "a password is on its way to it.",
    )
    assert taken.json()["email"] == existing.email


def test_an_address_with_an_account_elsewhere_is_left_untouched(
    cast: Cast, notices: list[tuple[int, int]]
) -> None:
    add(cast, cast.admin_b.email.upper())
    cast.admin_b.refresh_from_db()
    assert (cast.admin_b.organisation, cast.admin_b.role) == (cast.org_b, "partner_admin")
    assert User.objects.filter(email__iexact=cast.admin_b.email).count() == 1
    assert not AuditEvent.objects.filter(verb="core.partner.user_added").exists()
    declined = AuditEvent.objects.get(verb="core.partner.user_add_declined")
    assert (declined.actor, declined.organisation, declined.data) == (
        cast.admin_a,
        cast.org_a,
        {"email": cast.admin_b.email, "reason": "account_exists_elsewhere"},
    )


def test_the_owner_of_the_address_not_the_caller_is_told(
    cast: Cast, notices: list[tuple[int, int]]
) -> None:
    add(cast, cast.admin_b.email)
    assert notices == [(cast.admin_b.pk, cast.org_a.pk)]
    (message,) = mail.outbox
    assert message.to == [cast.admin_b.email]
    assert message.subject == "Alpha Agency tried to give you access to the Partner Portal"
    assert "already has an account, so nothing was changed" in message.body
    assert "ask partner ops to move your account" in message.body


@pytest.mark.usefixtures("notices")
def test_an_address_already_in_your_organisation_is_refused_plainly(cast: Cast) -> None:
    response = add(cast, cast.member_a.email)
    assert response.status_code == 400
    assert response.json() == {
        "email": ["member@alpha.example is already a member of Alpha Agency."]
    }


@pytest.mark.usefixtures("notices")
def test_a_new_address_gets_an_account_and_an_invitation(cast: Cast) -> None:
    user = services.partner_user_add(
        actor=cast.admin_a, organisation=cast.org_a, email=" New@Alpha.example", role="member"
    )
    assert user is not None
    assert (user.email, user.organisation, user.role) == (
        "new@alpha.example",
        cast.org_a,
        "partner_member",
    )


@pytest.mark.usefixtures("notices")
def test_the_service_says_nothing_was_created_for_an_address_elsewhere(cast: Cast) -> None:
    assert (
        services.partner_user_add(
            actor=cast.admin_a, organisation=cast.org_a, email=cast.admin_b.email, role="admin"
        )
        is None
    )
