"""This app's REST endpoints; included under /api/ by mirage_site/api_urls.py."""

from django.urls import path

from apps.quizzes import api

urlpatterns = [
    path("quizzes/", api.QuizListView.as_view(), name="quizzes-list"),
    path("quizzes/join/", api.QuizJoinView.as_view(), name="quizzes-join"),
    path("quizzes/attempts/", api.AttemptListView.as_view(), name="quizzes-attempts"),
    path("quizzes/attempts/<int:pk>/", api.AttemptDetailView.as_view(), name="quizzes-attempt"),
    path("quizzes/attempts/<int:pk>/submit/", api.AttemptSubmitView.as_view(), name="quizzes-attempt-submit"),
    path("quizzes/<int:pk>/", api.QuizDetailView.as_view(), name="quizzes-detail"),
    path("quizzes/<int:pk>/publish/", api.QuizPublishView.as_view(), name="quizzes-publish"),
    path("quizzes/<int:pk>/attempts/", api.AttemptStartView.as_view(), name="quizzes-start"),
    path("quizzes/<int:pk>/questions/", api.QuestionListView.as_view(), name="quizzes-questions"),
    path(
        "quizzes/<int:pk>/questions/<int:question_pk>/",
        api.QuestionDetailView.as_view(),
        name="quizzes-question",
    ),
    path("quizzes/<int:pk>/results/", api.ResultsView.as_view(), name="quizzes-results"),
    path("quizzes/<int:pk>/results/scores.csv", api.ScoresCsvView.as_view(), name="quizzes-scores-csv"),
    path(
        "quizzes/<int:pk>/results/questions.csv",
        api.QuestionsCsvView.as_view(),
        name="quizzes-questions-csv",
    ),
]
