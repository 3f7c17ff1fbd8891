"""Moderation pages: the queue, one image's review, reporting an image, the decision log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.redirects import safe_next
from apps.corpus.selectors import image_get_for_user
from apps.moderation.access import moderator_required
from apps.moderation.forms import DecisionForm, ReportForm
from apps.moderation.models import Decision, DescriptionFlag
from apps.moderation.selectors import (
    LOG_PAGE,
    QUEUE_KINDS,
    QUEUE_PAGE,
    decision_log,
    description_flags_open,
    description_get_for_user,
    image_review,
    moderation_queue,
    report_is_open,
)
from apps.moderation.services import (
    ModerationError,
    description_flag,
    description_flag_resolve,
    image_report,
    moderation_decide,
)

DONE = {Decision.APPROVE: "approved", Decision.REJECT: "rejected", Decision.DISMISS: "reports dismissed"}


@moderator_required
def queue(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "all")
    if kind not in QUEUE_KINDS:
        kind = "all"
    page = Paginator(moderation_queue(kind=kind), QUEUE_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "kind": kind,
        "kinds": QUEUE_KINDS,
        "query": f"kind={kind}&",
        "flags": description_flags_open(),
        "resolutions": DescriptionFlag.RESOLUTIONS,
    }
    return render(request, "moderation/queue.html", context)


@moderator_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    image = image_get_for_user(request.user, pk)
    form = DecisionForm(request.POST or None)
    status = 400 if form.is_bound else 200  # a form that does not validate
    if request.method == "POST" and form.is_valid():
        try:
            moderation_decide(
                moderator=request.user,
                image=image,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except ModerationError as exc:
            form.add_error(None, str(exc))
            status = exc.status
        else:
            messages.success(request, f"{image.external_id}: {DONE[form.cleaned_data['decision']]}.")
            return redirect(safe_next(request) or reverse("moderation:queue"))
    review = image_review(image=image)
    context = {"image": image, "form": form, "open_reports": review.open_reports, "history": review.history}
    return render(request, "moderation/review.html", context, status=status)


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    image = image_get_for_user(request.user, pk)
    form = ReportForm(request.POST or None)
    status = 400 if form.is_bound else 200  # a form that does not validate
    if request.method == "POST" and form.is_valid():
        try:
            image_report(user=request.user, image=image, reason=form.cleaned_data["reason"])
        except ModerationError as exc:
            form.add_error(None, str(exc))
            status = exc.status
        else:
            messages.success(request, "Thank you. A moderator will review this image.")
            return redirect("corpus:image_detail", pk=image.pk)
    context = {
        "image": image,
        "form": form,
        "already_reported": report_is_open(user=request.user, image=image),
    }
    return render(request, "moderation/report.html", context, status=status)


@moderator_required
def log(request: HttpRequest) -> HttpResponse:
    image = None
    if request.GET.get("image", "").isdecimal():
        image = image_get_for_user(request.user, int(request.GET["image"]))
    page = Paginator(decision_log(image=image), LOG_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "image": image, "query": f"image={image.pk}&" if image else ""}
    return render(request, "moderation/log.html", context)


@login_required
@require_POST
def flag_description(request: HttpRequest, pk: int) -> HttpResponse:
    """A reader flags a description from its page; back to that page with a word of thanks."""
    description = description_get_for_user(request.user, pk)
    try:
        description_flag(
            user=request.user,
            description=description,
            kind=request.POST.get("kind", ""),
            comment=request.POST.get("comment", ""),
        )
    except ModerationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Thank you. A moderator will look at this description.")
    return redirect(safe_next(request) or "generation:jobs")


@moderator_required
@require_POST
def resolve_flag(request: HttpRequest, pk: int) -> HttpResponse:
    flag = DescriptionFlag.objects.filter(pk=pk).first()
    if flag is None:
        return render(request, "error.html", {"title": "Not found", "message": "No such flag."}, status=404)
    try:
        description_flag_resolve(
            moderator=request.user,
            flag=flag,
            resolution=request.POST.get("resolution", ""),
            note=request.POST.get("note", ""),
        )
    except ModerationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Flag on “{flag.description.query}” resolved.")
    return redirect(reverse("moderation:queue") + "#flags")
