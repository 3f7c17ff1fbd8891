import posixpath

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.static import serve

from apps.corpus.models import Image
from apps.corpus.selectors import image_get_for_user


def image_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "corpus/image_detail.html", {"image": image_get_for_user(request.user, pk)})


def media_file(request: HttpRequest, path: str) -> HttpResponse:
    """Stored images and thumbnails; those of an image not (yet) approved only for whom may see it."""
    # Check the path as it will be served: serve() normalizes it ("a//b", "a/./b" name the same file).
    path = posixpath.normpath(path).lstrip("/")
    stored = Image.objects.filter(Q(file=path) | Q(thumbnail=path))
    unapproved = stored.exclude(moderation_state=Image.APPROVED)
    for image in unapproved.only("pk"):
        image_get_for_user(request.user, image.pk)  # 404 for anyone else
    return serve(request, path, document_root=settings.MEDIA_ROOT)
