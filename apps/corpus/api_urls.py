"""This app's REST endpoints; included under /api/ by mirage_site/api_urls.py."""

from django.urls import path

from apps.corpus import api

urlpatterns = [
    path("models/", api.ModelStatusView.as_view(), name="models"),
]
