from django.urls import path

from apps.generation import views

app_name = "generation"
urlpatterns = [
    path("", views.generate, name="generate"),
    path("describe/", views.describe, name="describe"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/status/", views.job_status, name="job_status"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("images/", views.my_images, name="my_images"),
]
