from django.urls import path

from apps.moderation import views

app_name = "moderation"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("log/", views.log, name="log"),
    path("images/<int:pk>/", views.review, name="review"),
    path("images/<int:pk>/report/", views.report, name="report"),
    path("descriptions/<int:pk>/flag/", views.flag_description, name="flag_description"),
    path("flags/<int:pk>/resolve/", views.resolve_flag, name="resolve_flag"),
]
