"""Writes of the kernel. Each service checks permission, validates, writes and audits in one
transaction; views, serializers, commands and tasks call these and never save models."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from . import rules
from .access import Action, require
from .audit import audit
from .errors import Forbidden, InvalidInput, StateConflict
from .models import (
    PARTNER_ROLES,
    STAFF_ROLES,
    Activity,
    Country,
    Currency,
    Customer,
    Edition,
    Organisation,
    ProductLine,
    Region,
    RevenueShareStop,
    Role,
    Segment,
    Subscription,
    SubscriptionVersion,
    User,
)

ReferenceModel = TypeVar("ReferenceModel", Currency, Country, Edition, ProductLine)


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, field=field)


def _country(code: str, *, field: str = "country") -> Country:
    try:
        return Country.objects.get(code=(code or "").strip().upper())
    except Country.DoesNotExist as exc:
        raise _invalid(field, f"Unknown country '{code}': use an ISO 3166 alpha-2 code.") from exc


def _currency(code: str) -> Currency:
    try:
        return Currency.objects.get(code=(code or "").strip().upper())
    except Currency.DoesNotExist as exc:
        accepted = ", ".join(Currency.objects.values_list("code", flat=True))
        raise _invalid("currency", f"Unsupported currency '{code}'. Accepted: {accepted}.") from exc


def _choice(value: str, choices: type[Any], field: str) -> str:
    if value not in choices.values:
        raise _invalid(field, f"'{value}' is not one of: {', '.join(choices.values)}.")
    return value


# --- Organisations and people ----------------------------------------------------------------


@transaction.atomic
def partner_create(
    *,
    actor: User,
    name: str,
    kind: str,
    country: str,
    has_partner_certification: bool = False,
    has_pro_subscription: bool = False,
    payout_paperwork_complete: bool = False,
    pdm: str | None = None,
) -> Organisation:
    """Enrol a partner organisation in the program (partner ops). `pdm` is the e-mail of the
    PDM to assign, if any."""
    require(actor, Action.PARTNER_CREATE)
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "A name is required.")
    _choice(kind, Organisation.Kind, "kind")
    pdm_user = None
    if pdm:
        pdm_user = User.objects.filter(email__iexact=pdm.strip(), role=Role.PDM).first()
        if pdm_user is None:
            raise _invalid("pdm", f"No PDM with the e-mail '{pdm}'.")
    organisation = Organisation.objects.create(
        name=name,
        kind=kind,
        country=_country(country),
        has_partner_certification=has_partner_certification,
        has_pro_subscription=has_pro_subscription,
        payout_paperwork_complete=payout_paperwork_complete,
        pdm=pdm_user,
    )
    audit(
        actor=actor,
        verb="core.partner.created",
        subject=organisation,
        organisation=organisation,
        data={"name": name, "kind": kind, "country": organisation.country_id},
    )
    return organisation


@transaction.atomic
def partner_user_add(
    *, actor: User, organisation: Organisation, email: str, role: str
) -> User | None:
    """Give a person access to a partner organisation and e-mail them a link to set a password.

    `role` is `admin` or `member` (the API's words) or the full role name.

    Returns the new account, or None when the address already has an account outside
    `organisation` (another partner's, or a staff one): nothing is created, the owner of the
    address is told by e-mail, and the caller must answer exactly as for a new account, so
    that nobody learns which addresses have accounts elsewhere (no enumeration across
    tenants). An address already in `organisation` is refused: its admin sees its own people.
    Two requests adding the same new address at once create one account; the other is refused
    (or, if the winner was another organisation, told as above), never a server error.
    """
    require(actor, Action.PARTNER_ADD_USER, organisation)
    full_role = {"admin": Role.PARTNER_ADMIN, "member": Role.PARTNER_MEMBER}.get(role, role)
    if full_role not in PARTNER_ROLES:
        raise _invalid("role", "Role must be 'admin' or 'member'.")
    email = (email or "").strip().lower()
    if not email:
        raise _invalid("email", "An e-mail address is required.")
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():  # a savepoint: a lost race leaves the outer one usable
                user = User.objects.create_user(
                    email=email, role=full_role, organisation=organisation
                )
        except IntegrityError:
            # Another request created the address between our look-up and our insert; its
            # transaction has committed (the unique index waited for it), so it is visible now.
            existing = User.objects.filter(email__iexact=email).first()
            if existing is None:
                raise
    if existing is not None:
        _account_exists(actor=actor, organisation=organisation, existing=existing)
        return None
    audit(
        actor=actor,
        verb="core.partner.user_added",
        subject=user,
        organisation=organisation,
        data={"email": email, "role": str(full_role)},
    )
    from .tasks import send_account_invitation

    send_account_invitation.delay_on_commit(user.pk)
    return user


def _account_exists(*, actor: User, organisation: Organisation, existing: User) -> None:
    """`partner_user_add` of an address that already has an account."""
    if existing.organisation_id == organisation.pk:
        raise _invalid("email", f"{existing.email} is already a member of {organisation.name}.")
    audit(
        actor=actor,
        verb="core.partner.user_add_declined",
        subject=organisation,
        organisation=organisation,
        data={"email": existing.email, "reason": "account_exists_elsewhere"},
    )
    from .tasks import send_account_exists_notice

    send_account_exists_notice.delay_on_commit(existing.pk, organisation.pk)


@transaction.atomic
def organisation_standing_set(
    *,
    actor: User | None,
    organisation: Organisation,
    standing: str,
    reason: str,
    actor_label: str | None = None,
) -> bool:
    """Set a partner's standing (SPEC 2) and audit the change; return whether it changed.

    Called by the escalations app when a consequence takes effect or ends (partner ops, or the
    daily standing task with no actor). Only partner ops may change a standing by hand."""
    if actor is not None and actor.role != Role.PARTNER_OPS:
        raise Forbidden("Only partner ops change a partner's standing.")
    _choice(standing, Organisation.Standing, "standing")
    row = Organisation.objects.select_for_update().get(pk=organisation.pk)
    organisation.standing = row.standing
    if row.standing == standing:
        return False
    Organisation.objects.filter(pk=row.pk).update(standing=standing)
    audit(
        actor=actor,
        actor_label=actor_label,
        verb="core.partner.standing_changed",
        subject=row,
        organisation=row,
        reason=reason,
        data={"from": row.standing, "to": standing},
    )
    organisation.standing = standing
    return True


@transaction.atomic
def revenue_share_stop_start(
    *,
    actor: User | None,
    organisation: Organisation,
    source: str,
    effective_from: date,
    effective_until: date | None,
    reason: str,
) -> RevenueShareStop:
    """Record that `organisation` earns no revenue share from `effective_from` (until
    `effective_until`, exclusive, if given): the "loss of revenue share" consequence (SPEC 10),
    decided by `source` (e.g. `escalations.consequence:42`). Called by escalations in the
    transaction that applies the consequence; only partner ops decide it. Commissions accrues
    nothing for a month whose 1st falls in a stop."""
    if actor is not None and actor.role != Role.PARTNER_OPS:
        raise Forbidden("Only partner ops stop a partner's revenue share.")
    if effective_until is not None and effective_until <= effective_from:
        raise _invalid("effective_until", "The end must come after the start.")
    if RevenueShareStop.objects.filter(source=source).exists():
        raise StateConflict("This revenue-share stop was already recorded.")
    stop = RevenueShareStop.objects.create(
        organisation=organisation,
        source=source,
        effective_from=effective_from,
        effective_until=effective_until,
        reason=reason,
    )
    audit(
        actor=actor,
        verb="core.partner.revenue_share_stopped",
        subject=stop,
        organisation=organisation,
        reason=reason,
        data={
            "source": source,
            "effective_from": effective_from.isoformat(),
            "effective_until": effective_until.isoformat() if effective_until else None,
        },
    )
    return stop


@transaction.atomic
def revenue_share_stop_end(
    *, actor: User | None, source: str, effective_until: date, reason: str
) -> RevenueShareStop:
    """End the revenue-share stop recorded for `source`: the partner earns again for months
    whose 1st is on or after `effective_until`. Called by escalations in the transaction that
    ends the consequence; only partner ops decide it."""
    if actor is not None and actor.role != Role.PARTNER_OPS:
        raise Forbidden("Only partner ops restore a partner's revenue share.")
    stop = RevenueShareStop.objects.select_for_update().filter(source=source).first()
    if stop is None:
        raise StateConflict("No revenue-share stop was recorded for this decision.")
    if effective_until <= stop.effective_from:
        raise _invalid("effective_until", "The end must come after the start.")
    if stop.effective_until is not None and effective_until > stop.effective_until:
        raise _invalid("effective_until", "It already ends before that date.")
    before = stop.effective_until
    stop.effective_until = effective_until
    stop.save(update_fields=["effective_until"])
    audit(
        actor=actor,
        verb="core.partner.revenue_share_stop_ended",
        subject=stop,
        organisation=stop.organisation,
        reason=reason,
        data={
            "source": source,
            "from": before.isoformat() if before else None,
            "to": effective_until.isoformat(),
        },
    )
    return stop


@transaction.atomic
def staff_create(
    *,
    email: str,
    role: str,
    region: str = "",
    segment: str = "",
    password: str | None = None,
    actor: User | None = None,
) -> tuple[User, bool]:
    """Create or update a vendor staff account (operator command). Return (user, created)."""
    if role not in STAFF_ROLES:
        raise _invalid("role", f"Role must be one of: {', '.join(sorted(STAFF_ROLES))}.")
    if role != Role.GROWTH_SPECIALIST and (region or segment):
        raise _invalid("region", "Only growth specialists have a territory.")
    if region:
        _choice(region, Region, "region")
    if segment:
        _choice(segment, Segment, "segment")
    email = (email or "").strip().lower()
    user = User.objects.select_for_update().filter(email__iexact=email).first()
    created = user is None
    if user is None:
        user = User.objects.create_user(
            email=email,
            password=password,
            role=role,
            region=region,
            segment=segment,
            is_staff=role == Role.PARTNER_OPS,
        )
    else:
        if user.is_partner_user:
            raise _invalid("email", "This e-mail address belongs to a partner user.")
        user.role, user.region, user.segment = role, region, segment
        user.is_staff = role == Role.PARTNER_OPS or user.is_superuser
        if password:
            user.set_password(password)
        user.save()
    audit(
        actor=actor,
        actor_label=None if actor else "operator",
        verb="core.staff.created" if created else "core.staff.updated",
        subject=user,
        data={"email": email, "role": role, "region": region, "segment": segment},
    )
    return user, created


@transaction.atomic
def token_issue(*, email: str, actor: User | None = None) -> Token:
    """Return the API token of `email`, creating it on first use (operator command)."""
    user = User.objects.filter(email__iexact=(email or "").strip()).first()
    if user is None or not user.is_active:
        raise _invalid("email", f"No active account for '{email}'.")
    token, created = Token.objects.get_or_create(user=user)
    if created:
        audit(
            actor=actor,
            actor_label=None if actor else "operator",
            verb="core.token.issued",
            subject=user,
            organisation=user.organisation,
        )
    return token


# --- Customers and subscriptions -------------------------------------------------------------


def customer_get_or_create(
    *, actor: User | None, domain: str, name: str, country: str, segment: str
) -> tuple[Customer, bool]:
    """Return the customer of a purchase domain, creating it if new (inside the caller's
    transaction). An existing customer keeps its recorded name, country and segment."""
    domain = rules.normalise_domain(domain)
    # Validate every input even for a known customer: bad input is refused, never ignored.
    _choice(segment, Segment, "segment")
    country_row = _country(country)
    existing = Customer.objects.filter(domain=domain).first()
    if existing is not None:
        return existing, False
    name = (name or "").strip() or domain
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                domain=domain, name=name, country=country_row, segment=segment
            )
    except IntegrityError:
        # Another request created it between our read and write.
        return Customer.objects.get(domain=domain), False
    audit(
        actor=actor,
        verb="core.customer.created",
        subject=customer,
        data={"domain": domain, "country": country_row.code, "segment": segment},
    )
    return customer, True


@transaction.atomic
def subscription_change(
    *,
    actor: User,
    customer_domain: str,
    customer_name: str,
    country: str,
    segment: str,
    product_line: str,
    edition: str | None,
    mrr: Decimal | None,
    currency: str,
    seats: int,
    effective_from: date,
    terminated: bool = False,
) -> Subscription:
    """Append a version to a customer's subscription (billing feed), or end it.

    The previous open version ends where the new one starts, so versions never overlap. A
    termination needs no amount, currency or edition.
    """
    require(actor, Action.SUBSCRIPTION_CHANGE)
    try:
        line = ProductLine.objects.get(code=product_line)
    except ProductLine.DoesNotExist as exc:
        raise _invalid("product_line", f"Unknown product line '{product_line}'.") from exc
    edition_row: Edition | None = None
    if not terminated:
        allowed = set(line.editions.values_list("code", flat=True))
        if allowed and not edition:
            raise _invalid(
                "edition", f"{line.name} needs an edition: {', '.join(sorted(allowed))}."
            )
        if edition and edition not in allowed:
            raise _invalid(
                "edition",
                f"{line.name} has no edition '{edition}'"
                + (f" (it has: {', '.join(sorted(allowed))})." if allowed else " (it has none)."),
            )
        edition_row = Edition.objects.get(code=edition) if edition else None
        if mrr is None:
            raise _invalid("mrr", "An amount is required.")
        amount = rules.check_money(mrr)
        currency_row = _currency(currency)
        seats = rules.check_seats(seats)
    customer, _ = customer_get_or_create(
        actor=actor, domain=customer_domain, name=customer_name, country=country, segment=segment
    )
    subscription, _ = Subscription.objects.get_or_create(customer=customer, product_line=line)
    # Serialise concurrent feed messages for one subscription.
    Subscription.objects.select_for_update().get(pk=subscription.pk)
    latest = subscription.versions.order_by("-effective_from").first()
    rules.check_new_version(
        latest_from=latest.effective_from if latest else None,
        latest_until=latest.effective_until if latest else None,
        effective_from=effective_from,
        terminated=terminated,
    )
    if latest is not None and latest.effective_until is None:
        # Closing the open version is the one update the feed makes: it records when that
        # version stopped being in effect; the amounts it carried are never changed.
        SubscriptionVersion.objects.filter(pk=latest.pk).update(effective_until=effective_from)
    data: dict[str, Any] = {
        "customer": customer.domain,
        "product_line": line.code,
        "effective_from": effective_from.isoformat(),
    }
    if terminated:
        verb = "core.subscription.terminated"
    else:
        version = SubscriptionVersion.objects.create(
            subscription=subscription,
            edition=edition_row,
            seats=seats,
            mrr=amount,
            currency=currency_row,
            effective_from=effective_from,
        )
        verb = "core.subscription.version_added"
        data |= {
            "version": version.pk,
            "edition": edition,
            "mrr": str(amount),
            "currency": currency_row.code,
            "seats": seats,
        }
    audit(actor=actor, verb=verb, subject=subscription, data=data)
    return subscription


@transaction.atomic
def activity_record(
    *,
    actor: User,
    partner: Organisation,
    customer_domain: str,
    kind: str,
    occurred_at: datetime,
) -> Activity:
    """Record a partner's activity in a customer's portal (product feed)."""
    require(actor, Action.ACTIVITY_RECORD)
    _choice(kind, Activity.Kind, "kind")
    domain = rules.normalise_domain(customer_domain)
    customer = Customer.objects.filter(domain=domain).first()
    if customer is None:
        raise _invalid("customer_domain", f"No customer with the domain '{domain}'.")
    if timezone.is_naive(occurred_at):
        raise _invalid("occurred_at", "Give a time zone (e.g. 2026-03-01T10:00:00Z).")
    activity = Activity.objects.create(
        organisation=partner, customer=customer, kind=kind, occurred_at=occurred_at
    )
    audit(
        actor=actor,
        verb="core.activity.recorded",
        subject=activity,
        organisation=partner,
        data={"customer": domain, "kind": kind, "occurred_at": occurred_at.isoformat()},
    )
    return activity


@transaction.atomic
def user_password_set(*, user: User, password: str, actor: User | None = None) -> None:
    """Set a password on an account (operator commands and the demo seed)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit(
        actor=actor,
        actor_label=None if actor else "operator",
        verb="core.user.password_set",
        subject=user,
        organisation=user.organisation,
    )


# --- Reference data (partner ops, through the admin) ------------------------------------------
# Currencies' points amounts and countries' growth markets change points (money); countries'
# regions change which growth specialist a deal goes to; the catalog is the vocabulary of
# quotes and eligibility. Every edit is checked, validated, written and audited here.


def _reference_save(
    *, actor: User, model: type[ReferenceModel], code: str, values: dict[str, Any]
) -> tuple[ReferenceModel, bool]:
    """Create or update the reference row `code` with `values` and audit what changed (nothing
    is written or audited when nothing changed). Inside the caller's transaction."""
    row = model.objects.select_for_update().filter(pk=code).first()
    created = row is None
    if row is None:
        row = model(pk=code, **values)
        changes = {name: [None, _plain(value)] for name, value in values.items()}
    else:
        changes = {
            name: [_plain(getattr(row, name)), _plain(value)]
            for name, value in values.items()
            if getattr(row, name) != value
        }
        for name, value in values.items():
            setattr(row, name, value)
    if not changes:
        return row, False
    row.save()
    label = model._meta.model_name
    audit(
        actor=actor,
        verb=f"core.{label}.created" if created else f"core.{label}.updated",
        subject=row,
        data={"code": code, "changes": changes},
    )
    return row, created


def _plain(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


@transaction.atomic
def currency_save(
    *, actor: User, code: str, name: str, points_amount: Decimal
) -> tuple[Currency, bool]:
    """Add a currency, or change its name or the amount worth USD 100 for points (SPEC 3).
    Return (currency, created)."""
    require(actor, Action.REFERENCE_DATA_EDIT)
    code = rules.check_code(code, length=3, field="code")
    name = _required_text(name, "name")
    amount = rules.check_points_amount(points_amount)
    return _reference_save(
        actor=actor, model=Currency, code=code, values={"name": name, "points_amount": amount}
    )


@transaction.atomic
def country_save(
    *, actor: User, code: str, name: str, region: str, growth_market: bool
) -> tuple[Country, bool]:
    """Add a country, or change its name, its region (deal routing, SPEC 5) or whether it is a
    growth market (double points, SPEC 4). Return (country, created)."""
    require(actor, Action.REFERENCE_DATA_EDIT)
    code = rules.check_code(code, length=2, field="code")
    name = _required_text(name, "name")
    _choice(region, Region, "region")
    return _reference_save(
        actor=actor,
        model=Country,
        code=code,
        values={"name": name, "region": region, "growth_market": growth_market},
    )


@transaction.atomic
def edition_save(*, actor: User, code: str, name: str, rank: int) -> tuple[Edition, bool]:
    """Add an edition, or change its name or rank (the order eligibility compares editions in).
    Return (edition, created)."""
    require(actor, Action.REFERENCE_DATA_EDIT)
    name = _required_text(name, "name")
    if rank < 0 or Edition.objects.exclude(pk=code).filter(rank=rank).exists():
        raise _invalid("rank", "Another edition has this rank: each rank is used once.")
    return _reference_save(
        actor=actor, model=Edition, code=code, values={"name": name, "rank": rank}
    )


@transaction.atomic
def product_line_save(
    *, actor: User, code: str, name: str, kind: str, editions: list[str]
) -> tuple[ProductLine, bool]:
    """Add a product line, or change its name, kind or editions. Return (line, created)."""
    require(actor, Action.REFERENCE_DATA_EDIT)
    name = _required_text(name, "name")
    _choice(kind, ProductLine.Kind, "kind")
    known = set(Edition.objects.filter(pk__in=editions).values_list("pk", flat=True))
    if set(editions) - known:
        raise _invalid("editions", f"Unknown editions: {', '.join(sorted(set(editions) - known))}.")
    line, created = _reference_save(
        actor=actor, model=ProductLine, code=code, values={"name": name, "kind": kind}
    )
    before = set(line.editions.values_list("pk", flat=True)) if not created else set()
    if before != set(editions):
        line.editions.set(Edition.objects.filter(pk__in=editions))
        audit(
            actor=actor,
            verb="core.productline.editions_changed",
            subject=line,
            data={"code": code, "editions": [sorted(before), sorted(editions)]},
        )
    return line, created


def _required_text(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise _invalid(field, "This field is required.")
    return value
