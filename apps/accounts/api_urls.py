"""This app's REST endpoints; included under /api/ by apps/api/urls.py."""

from django.urls import path

from apps.accounts import api

urlpatterns = [
    path("me/", api.MeView.as_view(), name="accounts-me"),
    path("me/images/", api.MyImagesView.as_view(), name="accounts-me-images"),
]
