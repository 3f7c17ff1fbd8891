"""Pages for generation and descriptions. Thin: forms read the fields, services and selectors do the rest."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.errors import UserError
from apps.generation import selectors, services
from apps.generation.forms import DescribeForm, GenerateForm
from apps.generation.models import Job
from apps.search.params import Arithmetic, arithmetic_params

GENERATE_FIELDS = ("prompt", "negative_prompt", "mode", "steps", "guidance", "seed", "count")


@login_required
def generate(request: HttpRequest) -> HttpResponse:
    """The generation form; `?prompt=` (and the other fields) pre-fill it, e.g. from a search."""
    status = 200
    available = selectors.model_availability_for(request)
    if request.method == "POST":
        form = GenerateForm(request.POST, available=available)
        if form.is_valid():
            try:
                job = services.generation_submit(owner=request.user, **form.params())
            except UserError as exc:
                form.add_error(exc.field, str(exc))
                status = exc.status
            else:
                return redirect("generation:job", pk=job.pk)
        else:
            status = 400
    else:
        form = GenerateForm(
            initial={name: request.GET[name] for name in GENERATE_FIELDS if request.GET.get(name)},
            available=available,
        )
    context = {"form": form, "available": available}
    return render(request, "generation/generate.html", context, status=status)


ARITHMETIC_FIELDS = ("add", "sub", "wq", "wadd", "wsub")


def _arithmetic(data) -> Arithmetic | None:
    """The dual search's terms when the request names an added or subtracted concept (the modified
    column of a comparison), else None. A bad term is a UserError naming its field."""
    if not (data.get("add") or data.get("sub")):
        return None
    return arithmetic_params(data)["terms"]


@login_required
def describe(request: HttpRequest) -> HttpResponse:
    """The description form; with `?q=` it also shows the captions the model will be given.

    The search pages' one-click "Describe" posts here with `ask_if_weak`: a good match is queued at
    once (on to the job page); a weak one comes back here with its captions, the warning and "Write it
    anyway" (the same form without `ask_if_weak`)."""
    status = 200
    preview: list[dict] = []
    if request.method == "POST":
        form = DescribeForm(request.POST)
        if form.is_valid():
            try:
                job = services.description_submit(
                    owner=request.user,
                    queries=form.queries(),
                    arithmetic=_arithmetic(request.POST),
                    k=form.cleaned_data["k"],
                    unless_weak=bool(request.POST.get("ask_if_weak")),
                )
            except services.WeakMatch as exc:
                preview = exc.previews
            except UserError as exc:
                form.add_error(exc.field, str(exc))
                status = exc.status
            else:
                return redirect("generation:job", pk=job.pk)
        else:
            status = 400
    elif request.GET.get("q"):
        # Links from searches and comparisons name the queries and leave k to its default.
        form = DescribeForm({"k": selectors.DEFAULT_K, **request.GET.dict()})
        if form.is_valid():
            try:
                preview = selectors.description_preview(
                    queries=form.queries(), arithmetic=_arithmetic(request.GET), k=form.cleaned_data["k"]
                )
            except UserError as exc:
                form.add_error(exc.field, str(exc))
                status = exc.status
        else:
            status = 400
    else:
        form = DescribeForm()
    data = request.POST if request.method == "POST" else request.GET
    context = {
        "form": form,
        "preview": preview,
        "weak": any(item["weak"] for item in preview),
        "available": selectors.model_availability_for(request),
        "arithmetic": {name: data[name] for name in ARITHMETIC_FIELDS if data.get(name)},
    }
    return render(request, "generation/describe.html", context, status=status)


def _job_context(request: HttpRequest, job: Job) -> dict:
    again = {name: job.params[name] for name in GENERATE_FIELDS if name in job.params}
    return selectors.job_status(job=job, user=request.user) | {
        "again_query": urlencode(again) if job.kind == Job.GENERATE else "",
    }


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_get_for_user(request.user, pk)
    return render(request, "generation/job.html", _job_context(request, job))


@login_required
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The job page's live part alone, polled by htmx while the job is unfinished."""
    job = selectors.job_get_for_user(request.user, pk)
    return render(request, "generation/_job_status.html", _job_context(request, job))


@login_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_get_for_user(request.user, pk)
    try:
        job = services.job_cancel(job=job)
    except UserError as exc:
        context = _job_context(request, job) | {"error": str(exc)}
        return render(request, "generation/job.html", context, status=exc.status)
    if job.status == Job.CANCELLED:
        messages.success(request, "The job was cancelled before it started.")
    else:
        messages.success(request, "Cancelling: the worker stops at its next step.")
    return redirect("generation:job", pk=job.pk)


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.jobs_for_user(request.user), selectors.JOBS_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "generation/jobs.html", {"page": page})


@login_required
def my_images(request: HttpRequest) -> HttpResponse:
    images = selectors.generated_images_for_user(request.user)
    page = Paginator(images, selectors.IMAGES_PAGE).get_page(request.GET.get("page"))
    return render(request, "generation/my_images.html", {"page": page})
