"""This app's REST endpoints; included under /api/ by mirage_site/api_urls.py."""

from django.urls import path

from apps.comparison import api

urlpatterns = [
    path("compare/", api.CompareView.as_view(), name="compare"),
]
