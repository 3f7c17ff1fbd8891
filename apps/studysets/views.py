"""Study set pages. Thin: forms in, services and selectors do the work, every set through
`studyset_get_for_user`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.redirects import safe_next
from apps.core.ratelimit import rate_limited
from apps.corpus.selectors import images_visible_to
from apps.studysets import services
from apps.studysets.export import studyset_export_response
from apps.studysets.forms import NoteForm, PublicSearchForm, SaveImageForm, StudySetForm
from apps.studysets.models import StudySet, StudySetItem
from apps.studysets.selectors import (
    ITEMS_PER_PAGE,
    PUBLIC_PER_PAGE,
    studyset_get_for_user,
    studyset_hidden_count,
    studyset_item_get_for_owner,
    studyset_item_page,
    studyset_items_visible,
    studyset_notes_visible,
    studysets_owned_by,
    studysets_public,
)
from apps.studysets.services import StudySetError


def _problem(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, "studysets/problem.html", {"message": message}, status=status)


def _link(studyset: StudySet) -> str:
    return reverse("studysets:detail", args=[studyset.pk])


def _page_link(studyset: StudySet, page: int) -> str:
    return f"{_link(studyset)}?page={page}" if page > 1 else _link(studyset)


def _item_link(item: StudySetItem, user) -> str:
    """The set's page that shows the item, scrolled to it."""
    return f"{_page_link(item.studyset, studyset_item_page(item=item, user=user))}#item-{item.pk}"


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "studysets/mine.html",
        {"studysets": studysets_owned_by(user=request.user), "form": StudySetForm()},
    )


@login_required
def create(request: HttpRequest) -> HttpResponse:
    form = StudySetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            studyset = services.studyset_create(owner=request.user, **form.cleaned_data)
        except StudySetError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Created “{studyset.title}”.")
            return redirect(_link(studyset))
    status = 400 if request.method == "POST" else 200
    return render(request, "studysets/form.html", {"form": form, "studyset": None}, status=status)


@require_GET
def public(request: HttpRequest) -> HttpResponse:
    form = PublicSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = Paginator(studysets_public(viewer=request.user, query=query), PUBLIC_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "studysets/public.html",
        {"form": form, "query": query, "page": page},
        status=200 if form.is_valid() else 400,
    )


@require_GET
def detail(request: HttpRequest, pk: int, token: str | None = None) -> HttpResponse:
    studyset = studyset_get_for_user(request.user, pk, token=token)
    is_owner = request.user.is_authenticated and studyset.owner_id == request.user.pk
    items = studyset_items_visible(studyset=studyset, user=request.user)
    context = {
        "studyset": studyset,
        "page": Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("page")),
        "is_owner": is_owner,
        "show_notes": studyset_notes_visible(studyset=studyset, user=request.user),
        "token": token,
        "hidden": studyset_hidden_count(studyset=studyset, user=request.user) if is_owner else 0,
        "share_url": request.build_absolute_uri(
            reverse("studysets:shared", args=[studyset.pk, studyset.share_token])
        )
        if is_owner
        else "",
        "export_url": reverse("studysets:shared_export", args=[pk, token])
        if token
        else reverse("studysets:export", args=[pk]),
        "can_quiz": getattr(request.user, "is_instructor", False) and (is_owner or studyset.is_public),
    }
    return render(request, "studysets/detail.html", context)


@require_GET
@rate_limited("export")
def export(request: HttpRequest, pk: int, token: str | None = None) -> FileResponse:
    return studyset_export_response(
        studyset=studyset_get_for_user(request.user, pk, token=token),
        user=request.user,
        base_url=request.build_absolute_uri("/"),
    )


@login_required
@require_POST
def copy(request: HttpRequest, pk: int) -> HttpResponse:
    source = studyset_get_for_user(request.user, pk, token=request.POST.get("token") or None)
    studyset = services.studyset_copy(studyset=source, owner=request.user)
    messages.success(request, f"Copied into your study sets as “{studyset.title}”.")
    return redirect(_link(studyset))


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    studyset = studyset_get_for_user(request.user, pk, write=True)
    form = StudySetForm(request.POST or None, instance=studyset)
    if request.method == "POST" and form.is_valid():
        try:
            services.studyset_update(studyset=studyset, **form.cleaned_data)
        except StudySetError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Saved.")
            return redirect(_link(studyset))
    status = 400 if request.method == "POST" else 200
    return render(request, "studysets/form.html", {"form": form, "studyset": studyset}, status=status)


@login_required
@require_POST
def renew_link(request: HttpRequest, pk: int) -> HttpResponse:
    studyset = services.studyset_renew_link(studyset=studyset_get_for_user(request.user, pk, write=True))
    messages.success(request, "The set has a new link; the old link no longer opens it.")
    return redirect(_link(studyset))


@login_required
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    studyset = studyset_get_for_user(request.user, pk, write=True)
    if request.method == "POST":
        services.studyset_delete(studyset=studyset)
        messages.success(request, f"Deleted “{studyset.title}”.")
        return redirect("studysets:mine")
    return render(request, "studysets/delete.html", {"studyset": studyset})


def _save_control(
    request: HttpRequest, image_id: int, *, uid: str, message: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    """The save control alone, for htmx to swap in place of the one that was sent: the student keeps
    their place on the page."""
    image = images_visible_to(request.user).filter(pk=image_id).first()
    if image is None:
        return HttpResponse(status=404)
    context = {
        "image": image,
        "studyset_save": {
            "uid": uid,
            "message": message,
            "error": error,
            "next": safe_next(request) or "",
            "swapped": True,
        },
    }
    return render(request, "studysets/_image_actions.html", context, status=status)


@login_required
@require_POST
def save_image(request: HttpRequest) -> HttpResponse:
    """Save from a result card: the whole page again without JavaScript, the control alone with htmx."""
    form = SaveImageForm(request.POST)
    swap = request.headers.get("HX-Request") == "true"
    if not form.is_valid():
        message = "Choose an image and a study set, with a note of at most 2000 characters."
        if swap and form.cleaned_data.get("image"):
            uid = form.cleaned_data.get("uid") or "ss1"
            return _save_control(request, form.cleaned_data["image"], uid=uid, error=message)
        return _problem(request, message, status=400)
    data = form.cleaned_data
    try:
        studyset = services.studyset_for_save(
            owner=request.user, studyset_id=data["studyset"], new_title=data["new_title"]
        )
        _item, created = services.studyset_add_image(
            studyset=studyset, user=request.user, image_id=data["image"], note=data["note"]
        )
    except StudySetError as exc:
        if swap:  # htmx swaps only successful answers: the message goes into the control
            return _save_control(request, data["image"], uid=data["uid"] or "ss1", error=str(exc))
        return _problem(request, str(exc), status=exc.status)
    message = f"{'Saved to' if created else 'Already in'} “{studyset.title}”."
    if swap:
        return _save_control(request, data["image"], uid=data["uid"] or "ss1", message=message)
    messages.success(request, message)
    return redirect(safe_next(request) or _link(studyset))


@login_required
@require_POST
def item_note(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = studyset_item_get_for_owner(request.user, pk, item_pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _problem(request, "A note may be at most 2000 characters long.", status=400)
    services.studyset_item_set_note(item=item, note=form.cleaned_data["note"])
    messages.success(request, "Note saved.")
    return redirect(_item_link(item, request.user))


@login_required
@require_POST
def item_move(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = studyset_item_get_for_owner(request.user, pk, item_pk)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return _problem(request, "Move an image up or down.", status=400)
    services.studyset_item_move(item=item, user=request.user, up=direction == "up")
    return redirect(_item_link(item, request.user))


@login_required
@require_POST
def item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = studyset_item_get_for_owner(request.user, pk, item_pk)
    page = studyset_item_page(item=item, user=request.user)  # back to where it was (or the new last page)
    services.studyset_item_remove(item=item)
    messages.success(request, "Removed from the set.")
    return redirect(_page_link(item.studyset, page))
