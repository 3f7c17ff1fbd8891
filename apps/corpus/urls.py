from django.urls import path

from apps.corpus import views

app_name = "corpus"
urlpatterns = [
    path("<int:pk>/", views.image_detail, name="image_detail"),
]
