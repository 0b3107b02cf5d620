"""Escalation pages: the partner-ops review queue, a case with its timeline and the moves allowed
at its step, raising a complaint, applying a consequence; the partner's escalations and marks;
the PDM's view of its partners' cases. Objects come through the selectors (404 outside reach),
writes through the services; the buttons are `rules.allowed_moves`, as the service decides."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partnerportal.core import access
from partnerportal.core.access import acting_user
from partnerportal.core.errors import InvalidInput, NotFound
from partnerportal.core.models import Organisation, User

from . import presenters, rules, selectors, services
from .forms import ConsequenceForm, EscalationForm, MoveForm, apply_errors, parse_move
from .inputs import ConsequenceInput, EscalationInput, MoveInput
from .models import Escalation
from .permissions import EscalationAction

PAGE_SIZE = 25


def _visibility(partner_visible: bool) -> rules.Visibility:
    return rules.Visibility.PARTNER_VISIBLE if partner_visible else rules.Visibility.STAFF_ONLY


def _row(case: Escalation, now: Any) -> dict[str, Any]:
    step = rules.Step(case.step)
    return {
        "case": case,
        "where": presenters.where_words(step=case.step, status=case.status, outcome=case.outcome),
        "owner": presenters.OWNER_WORDS[step],
        "waited": presenters.waited_words(case.step_entered_at, now),
        "open": case.status == rules.Status.OPEN,
    }


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """A partner's escalations (step and status), a PDM's partners' cases, or every case for
    the staff who work them."""
    user = acting_user(request)
    access.require(user, EscalationAction.VIEW)
    status = request.GET.get("status") or None
    page = Paginator(selectors.case_list(user, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    return render(
        request,
        "escalations/list.html",
        {
            "page": page,
            "rows": [_row(case, now) for case in page.object_list],
            "partner_view": selectors.is_partner(user),
            "can_open": access.can(user, EscalationAction.OPEN),
            "can_act": access.can(user, EscalationAction.ACT),
            "can_view_marks": access.can(user, EscalationAction.MARKS_VIEW),
            "status": status or "",
            "statuses": [(s.value, presenters.STATUS_WORDS[s]) for s in rules.Status],
        },
    )


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """Open cases by step and age: each step's owner and how long each case has waited."""
    user = acting_user(request)
    access.require(user, EscalationAction.ACT)
    now = timezone.now()
    steps = [
        {
            "step": step,
            "words": presenters.STEP_WORDS[step],
            "owner": presenters.OWNER_WORDS[step],
            "rows": [_row(case, now) for case in cases],
        }
        for step, cases in selectors.review_queue(user).items()
    ]
    return render(request, "escalations/queue.html", {"steps": steps})


@login_required
@require_http_methods(["GET", "POST"])
def case_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    access.require(user, EscalationAction.OPEN)
    partners = selectors.partner_choices(user)
    form = EscalationForm(request.POST or None, partners=partners)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.escalation_open(
                actor=user,
                data=EscalationInput(
                    partner=Organisation.objects.get(pk=data["partner"]),
                    customer_domain=data["customer_domain"],
                    summary=data["summary"],
                    serious=data["serious"],
                    note=data["note"],
                    note_visibility=_visibility(data["note_partner_visible"]),
                ),
            )
        except InvalidInput as exc:
            apply_errors(form, exc)
        except NotFound:
            form.add_error("partner", "No such partner.")
        else:
            messages.success(request, f"Escalation {case.pk} opened.")
            return redirect("escalations-case", pk=case.pk)
    return render(
        request, "escalations/new.html", {"form": form}, status=400 if form.errors else 200
    )


def _case_page(
    request: HttpRequest, user: User, case: Escalation, *, form: MoveForm | None = None
) -> HttpResponse:
    step, status = rules.Step(case.step), rules.Status(case.status)
    moves = rules.allowed_moves(step=step, status=status, role=user.role)
    form = form or MoveForm(moves=moves, board=step == rules.Step.REVIEW_BOARD)
    partner_view = selectors.is_partner(user)
    timeline = selectors.case_timeline(case)
    notes = selectors.case_notes(user, case)
    notes_by_move: dict[int | None, list[Any]] = {}
    for note in notes:
        notes_by_move.setdefault(note.transition_id, []).append(note)
    entries = [
        {
            "move": move,
            "to": presenters.target_words(move.to),
            "outcome": presenters.OUTCOME_WORDS[rules.Outcome(move.outcome)]
            if move.outcome
            else "",
            "actor_role": presenters.ROLE_WORDS.get(move.actor_role, ""),
            "notes": notes_by_move.get(move.pk, []),
        }
        for move in timeline
    ]
    mark = getattr(case, "mark", None) if case.outcome == rules.Outcome.MARK else None
    return render(
        request,
        "escalations/case.html",
        {
            "case": case,
            "partner_view": partner_view,
            "where": presenters.where_words(
                step=case.step, status=case.status, outcome=case.outcome
            ),
            "objective": presenters.STEP_OBJECTIVES[step] if status == rules.Status.OPEN else "",
            "owner": presenters.OWNER_WORDS[step],
            "waited": presenters.waited_words(case.step_entered_at, timezone.now()),
            "entries": entries,
            "loose_notes": notes_by_move.get(None, []),
            "form": form,
            "moves": form.offered if moves else [],
            "mark": mark,
            "visibility_words": presenters.VISIBILITY_WORDS,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    return _case_page(request, user, selectors.get_case(user, pk))


@login_required
@require_POST
def case_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    case = selectors.get_case(user, pk)
    access.require(user, EscalationAction.ACT, case.organisation)
    step, status = rules.Step(case.step), rules.Status(case.status)
    moves = rules.allowed_moves(step=step, status=status, role=user.role)
    form = MoveForm(request.POST, moves=moves, board=step == rules.Step.REVIEW_BOARD)
    if form.is_valid():
        data = form.cleaned_data
        to, outcome = parse_move(data["move"])
        try:
            services.escalation_move(
                actor=user,
                escalation=case,
                data=MoveInput(
                    to=to,
                    outcome=outcome,
                    note=data["note"],
                    note_visibility=_visibility(data["note_partner_visible"]),
                    director_approval=data.get("director_approval", ""),
                ),
            )
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                "Recorded: "
                + presenters.where_words(step=case.step, status=case.status, outcome=case.outcome)
                + ".",
            )
            return redirect("escalations-case", pk=case.pk)
    return _case_page(request, user, case, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def consequence_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    access.require(user, EscalationAction.CONSEQUENCES_APPLY)
    initial: dict[str, object] = {"effective_from": timezone.localdate()}
    if request.GET.get("partner", "").isdigit():
        initial["partner"] = int(request.GET["partner"])
    form = ConsequenceForm(
        request.POST or None, partners=selectors.partner_choices(user), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consequence = services.consequence_apply(
                actor=user,
                data=ConsequenceInput(
                    partner=Organisation.objects.get(pk=data["partner"]),
                    kind=rules.ConsequenceKind(data["kind"]),
                    reason=data["reason"],
                    effective_from=data["effective_from"],
                    effective_until=data["effective_until"],
                    tiers_dropped=data["tiers_dropped"],
                ),
            )
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"{presenters.CONSEQUENCE_WORDS[rules.ConsequenceKind(consequence.kind)]} applied.",
            )
            return redirect(f"{_marks_url()}?partner={consequence.organisation_id}")
    return render(
        request,
        "escalations/consequence_new.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def _marks_url() -> str:
    from django.urls import reverse

    return reverse("escalations-marks")


@login_required
@require_GET
def marks(request: HttpRequest) -> HttpResponse:
    """A partner's marks on record and consequences: a partner user's own; staff name the
    partner (`?partner=`), else see the partners in reach that have any."""
    user = acting_user(request)
    access.require(user, EscalationAction.MARKS_VIEW)
    organisation: Organisation | None = None
    if selectors.is_partner(user):
        organisation = access.get_visible_organisation(user, user.organisation_id)
    elif request.GET.get("partner"):
        organisation = access.get_visible_organisation(user, request.GET["partner"])
    if organisation is not None:
        consequences = [
            {"row": c, "words": presenters.CONSEQUENCE_WORDS[rules.ConsequenceKind(c.kind)]}
            for c in selectors.partner_consequences(organisation)
        ]
        return render(
            request,
            "escalations/marks.html",
            {
                "organisation": organisation,
                "marks": selectors.partner_marks(organisation),
                "consequences": consequences,
                "partner_view": selectors.is_partner(user),
                "can_apply": access.can(user, EscalationAction.CONSEQUENCES_APPLY),
                "standing": organisation.get_standing_display(),
            },
        )
    page = Paginator(selectors.visible_marks(user).order_by("-effective_on", "-id"), PAGE_SIZE)
    return render(
        request,
        "escalations/marks_all.html",
        {
            "page": page.get_page(request.GET.get("page")),
            "can_apply": access.can(user, EscalationAction.CONSEQUENCES_APPLY),
        },
    )
