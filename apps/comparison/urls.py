from django.urls import path

from apps.comparison import views

app_name = "comparison"
urlpatterns = [
    path("", views.compare_page, name="compare"),
    path("ask/", views.ask_page, name="ask"),
    path("ask/jobs/<int:pk>/<int:column>/", views.ask_part, name="ask_part"),
]
