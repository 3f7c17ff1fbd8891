"""This app's REST endpoints; included under /api/ by mirage_site/api_urls.py."""

from django.urls import path

from apps.moderation import api

urlpatterns = [
    path("moderation/queue/", api.QueueView.as_view(), name="moderation-queue"),
    path("moderation/images/<int:pk>/", api.ReviewView.as_view(), name="moderation-review"),
    path("moderation/images/<int:pk>/decisions/", api.DecideView.as_view(), name="moderation-decide"),
    path("moderation/decisions/", api.DecisionLogView.as_view(), name="moderation-decisions"),
    path("images/<int:pk>/reports/", api.ReportView.as_view(), name="moderation-report"),
    path("descriptions/<int:pk>/flags/", api.DescriptionFlagView.as_view(), name="description-flag"),
    path("moderation/description-flags/", api.DescriptionFlagQueueView.as_view(), name="description-flags"),
    path(
        "moderation/description-flags/<int:pk>/resolve/",
        api.DescriptionFlagResolveView.as_view(),
        name="description-flag-resolve",
    ),
]
