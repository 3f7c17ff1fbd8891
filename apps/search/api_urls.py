"""This app's REST endpoints; included under /api/ by mirage_site/api_urls.py."""

from django.urls import path

from apps.search import api

urlpatterns = [
    path("search/", api.SearchView.as_view(), name="search"),
    path("search/image/", api.PictureSearchView.as_view(), name="search_image"),
    path("search/arithmetic/", api.ArithmeticView.as_view(), name="search_arithmetic"),
    path("search/ratings/", api.RatingsView.as_view(), name="search_ratings"),
    path("images/<int:pk>/", api.ImageDetailView.as_view(), name="image"),
    path("images/<int:pk>/similar/", api.SimilarView.as_view(), name="image_similar"),
]
