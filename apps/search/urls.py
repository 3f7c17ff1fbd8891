from django.urls import path

from apps.search import views

app_name = "search"
urlpatterns = [
    path("", views.search_page, name="search"),
    path("search/image/", views.image_query_page, name="image_query"),
    path("images/<int:pk>/similar/", views.similar_page, name="similar"),
    path("search/rate/", views.rate_page, name="rate"),
    path("search/ratings/", views.ratings_page, name="ratings"),
    path("search/evaluation/", views.evaluation_page, name="evaluation"),
]
