from django.urls import path

from apps.atlas import views

app_name = "atlas"

urlpatterns = [
    path("", views.map_page, name="map"),
    path("points.json", views.points, name="points"),
    path("points/<int:pk>.json", views.point, name="point"),
    path("query.json", views.place_query, name="query"),
    path("picture.json", views.place_picture, name="picture"),
]
