from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.corpus.selectors import image_get_for_user


def image_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "corpus/image_detail.html", {"image": image_get_for_user(request.user, pk)})
