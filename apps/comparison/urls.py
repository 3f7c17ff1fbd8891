from django.urls import path

from apps.comparison import views

app_name = "comparison"
urlpatterns = [
    path("", views.compare_page, name="compare"),
]
