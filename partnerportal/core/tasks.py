"""Kernel tasks. Tasks take ids, reload, and act; they are enqueued after commit."""

from __future__ import annotations

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from . import notifications
from .models import Organisation, User


@shared_task(name="core.send_account_invitation")
def send_account_invitation(user_id: int) -> bool:
    """E-mail a newly added partner user a link to choose a password. Safe to re-run."""
    user = User.objects.filter(pk=user_id, is_active=True).select_related("organisation").first()
    if user is None:
        return False
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    organisation = user.organisation.name if user.organisation else "the partner program"
    send_mail(
        subject=f"Your access to the Partner Portal for {organisation}",
        message=(
            f"You have been given access to the Partner Portal for {organisation}.\n\n"
            f"Choose your password here: {settings.PORTAL_BASE_URL}{path}\n\n"
            "Then sign in with this e-mail address."
        ),
        from_email=None,
        recipient_list=[user.email],
    )
    return True


@shared_task(name="core.send_account_exists_notice")
def send_account_exists_notice(user_id: int, organisation_id: int) -> bool:
    """Tell the owner of an address that an organisation tried to add it while it already has
    an account elsewhere: they, not the organisation, learn it (no enumeration)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if user is None or organisation is None:
        return False
    send_mail(
        subject=f"{organisation.name} tried to give you access to the Partner Portal",
        message=(
            f"Someone at {organisation.name} asked for {user.email} to be given access to the "
            "Partner Portal. This address already has an account, so nothing was changed.\n\n"
            f"If you now work with {organisation.name}, ask partner ops to move your account. "
            "Otherwise you can ignore this message."
        ),
        from_email=None,
        recipient_list=[user.email],
    )
    return True


@shared_task(
    name="core.send_notification",
    autoretry_for=(notifications.SendFailed,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
)
def send_notification(notification_id: int) -> bool:
    """Send one outbox e-mail (`core.notifications`); a row already sent sends nothing, so a
    retried or duplicated task is harmless. Retried with back-off when the send fails."""
    return notifications.send(notification_id)


@shared_task(name="core.send_pending_notifications")
def send_pending_notifications() -> int:
    """Re-enqueue outbox rows left unsent (a worker lost after commit, retries exhausted)."""
    ids = notifications.pending_ids()
    for pk in ids:
        send_notification.delay(pk)
    return len(ids)
