"""This app's REST endpoints; included under /api/ by mirage_site/api_urls.py."""

from django.urls import path

from apps.accounts import api

urlpatterns = [
    path("me/", api.MeView.as_view(), name="accounts-me"),
    path("me/images/", api.MyImagesView.as_view(), name="accounts-me-images"),
    path("tokens/", api.TokenListView.as_view(), name="tokens"),
    path("tokens/<int:pk>/", api.TokenDetailView.as_view(), name="token"),
]
