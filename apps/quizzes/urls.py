from django.urls import path

from apps.quizzes import views

app_name = "quizzes"
urlpatterns = [
    path("", views.index, name="index"),
    path("join/", views.join, name="join"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/manage/", views.manage, name="manage"),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/questions/<int:question_pk>/", views.question_edit, name="question_edit"),
    path("<int:pk>/questions/<int:question_pk>/delete/", views.question_delete, name="question_delete"),
    path("<int:pk>/results/", views.results, name="results"),
    path("<int:pk>/results/scores.csv", views.results_csv, {"what": "scores"}, name="scores_csv"),
    path("<int:pk>/results/questions.csv", views.results_csv, {"what": "questions"}, name="questions_csv"),
    path("attempts/<int:pk>/", views.attempt, name="attempt"),
]
