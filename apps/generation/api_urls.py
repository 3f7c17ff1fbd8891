"""This app's REST endpoints; included under /api/ by mirage_site/api_urls.py."""

from django.urls import path

from apps.generation import api

urlpatterns = [
    path("generation/generate/", api.GenerateView.as_view(), name="generation-generate"),
    path("generation/describe/", api.DescribeView.as_view(), name="generation-describe"),
    path(
        "generation/describe/preview/",
        api.DescribePreviewView.as_view(),
        name="generation-describe-preview",
    ),
    path("generation/jobs/", api.JobListView.as_view(), name="generation-jobs"),
    path("generation/jobs/<int:pk>/", api.JobDetailView.as_view(), name="generation-job"),
    path("generation/jobs/<int:pk>/cancel/", api.JobCancelView.as_view(), name="generation-job-cancel"),
    path("generation/jobs/<int:pk>/result/", api.JobResultView.as_view(), name="generation-job-result"),
    path("generation/images/", api.GeneratedImageListView.as_view(), name="generation-images"),
]
