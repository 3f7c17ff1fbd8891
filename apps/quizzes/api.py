"""Quiz endpoints: the same access helpers, selectors and services as the pages, as JSON.

Every quiz goes through `quiz_get_for_user` and every attempt through `attempt_get_for_user`, so
only a quiz's instructor and the students who joined it learn that it exists.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ERROR, DownloadNegotiation, Pagination, validated
from apps.quizzes import services
from apps.quizzes.export import results_csv_response
from apps.quizzes.models import Attempt, Question, Quiz
from apps.quizzes.selectors import (
    attempt_get_for_user,
    attempt_questions,
    attempt_shows_answers,
    attempts_of,
    question_get_for_user,
    questions_visible_to,
    quiz_facts,
    quiz_get_for_user,
    quiz_progress,
    quiz_question_stats,
    quiz_results_by_student,
    quizzes_of,
)
from apps.quizzes.serializers import (
    AttemptSerializer,
    AttemptSummarySerializer,
    BuildSerializer,
    JoinSerializer,
    QuestionEditSerializer,
    QuestionSerializer,
    QuizListItemSerializer,
    QuizListParamsSerializer,
    QuizSerializer,
    ResultsSerializer,
    SettingsSerializer,
    SubmitSerializer,
)
from apps.studysets.selectors import studyset_get_for_user

# A quiz's instructor only: a student who joined gets 403, anyone else 404.
MANAGE_ERRORS = {401: ERROR, 403: ERROR, 404: ERROR}


def quiz_response(request: Request, quiz: Quiz, *, status_code: int = 200) -> Response:
    context = {
        "request": request,
        "progress": quiz_progress(quiz=quiz, user=request.user),
        "facts": quiz_facts(quiz=quiz) if quiz.owner_id == request.user.pk else None,
    }
    return Response(QuizSerializer(quiz, context=context).data, status=status_code)


def attempt_response(request: Request, attempt: Attempt) -> Response:
    context = {
        "request": request,
        "questions": attempt_questions(attempt=attempt),
        "reveal": attempt_shows_answers(attempt=attempt, viewer=request.user),
    }
    return Response(AttemptSerializer(attempt, context=context).data)


def questions_data(request: Request, quiz: Quiz, questions: list[Question]) -> list[dict]:
    in_order = quiz.questions.order_by("position", "pk").values_list("pk", flat=True)
    context = {
        "request": request,
        "numbers": {pk: number for number, pk in enumerate(in_order, start=1)},
        "shown": set(questions_visible_to(quiz=quiz, user=None).values_list("pk", flat=True)),
    }
    return QuestionSerializer(questions, many=True, context=context).data


class QuizListView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination
    serializer_class = BuildSerializer  # what POST takes (DRF's OPTIONS describes it)

    @extend_schema(
        summary="Quizzes you built and quizzes you joined, newest first",
        operation_id="quizzes_list",
        parameters=[QuizListParamsSerializer],
        responses={200: QuizListItemSerializer(many=True), 400: ERROR, 401: ERROR, 404: ERROR},
    )
    def get(self, request: Request) -> Response:
        role = validated(QuizListParamsSerializer, request.query_params)["role"]
        page = self.paginate_queryset(quizzes_of(user=request.user, role=role))
        data = QuizListItemSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    @extend_schema(
        summary="Build a draft quiz from a study set (instructors): one question per image",
        description="Check the questions (`/questions/`), then publish it to get a join code.",
        request=BuildSerializer,
        responses={201: QuizSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        services.quiz_check_can_build(request.user)
        data = validated(BuildSerializer, request.data)
        quiz = services.quiz_build_from_studyset(
            instructor=request.user,
            studyset=studyset_get_for_user(request.user, data["studyset"]),
            title=data.get("title", ""),
            kinds=data.get("kinds"),
            count=data.get("count"),
        )
        return quiz_response(request, quiz, status_code=status.HTTP_201_CREATED)


class QuizJoinView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "quiz_join"

    @extend_schema(
        summary="Join a published quiz with its code",
        request=JoinSerializer,
        responses={200: QuizSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
    )
    def post(self, request: Request) -> Response:
        code = validated(JoinSerializer, request.data)["code"]
        return quiz_response(request, services.quiz_join(user=request.user, code=code))


class QuizDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="A quiz: its settings and state, your attempts; its instructor also gets the join code",
        responses={200: QuizSerializer, 401: ERROR, 404: ERROR},
    )
    def get(self, request: Request, pk: int) -> Response:
        return quiz_response(request, quiz_get_for_user(request.user, pk))

    @extend_schema(
        summary="Change a quiz's settings (its instructor); settings left out stay as they are",
        description="Settings may change at any time, e.g. to extend a deadline.",
        request=SettingsSerializer,
        responses={200: QuizSerializer, 400: ERROR, **MANAGE_ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        quiz = quiz_get_for_user(request.user, pk, manage=True)
        services.quiz_change_settings(quiz=quiz, **validated(SettingsSerializer, request.data))
        return quiz_response(request, quiz)

    @extend_schema(
        summary="Delete a quiz and its results (its instructor)", responses={204: None, **MANAGE_ERRORS}
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.quiz_delete(quiz=quiz_get_for_user(request.user, pk, manage=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class QuizPublishView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Publish a quiz (its instructor): it gets its join code; publishing again changes nothing",
        request=None,
        responses={200: QuizSerializer, 409: ERROR, **MANAGE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        quiz = services.quiz_publish(quiz=quiz_get_for_user(request.user, pk, manage=True))
        return quiz_response(request, quiz)


class QuestionListView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination

    @extend_schema(
        summary="A quiz's questions with their right answers (its instructor)",
        responses={200: QuestionSerializer(many=True), **MANAGE_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        quiz = quiz_get_for_user(request.user, pk, manage=True)
        questions = quiz.questions.select_related("image__dataset").prefetch_related(
            "options__image__dataset"
        )
        page = self.paginate_queryset(questions.order_by("position", "pk"))
        return self.get_paginated_response(questions_data(request, quiz, page))


class QuestionDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="One question with its right answer (the quiz's instructor)",
        responses={200: QuestionSerializer, **MANAGE_ERRORS},
    )
    def get(self, request: Request, pk: int, question_pk: int) -> Response:
        question = question_get_for_user(request.user, pk, question_pk)
        return Response(questions_data(request, question.quiz, [question])[0])

    @extend_schema(
        summary="Edit a question (the quiz's instructor) until a student has taken the quiz",
        description="Fields left out stay as they are. `what` questions take `option_texts`, `which` "
        "questions `option_images` (four different images you can see); true/false has neither.",
        request=QuestionEditSerializer,
        responses={200: QuestionSerializer, 400: ERROR, 409: ERROR, **MANAGE_ERRORS},
    )
    def patch(self, request: Request, pk: int, question_pk: int) -> Response:
        question = question_get_for_user(request.user, pk, question_pk)
        serializer = QuestionEditSerializer(data=request.data, context={"question": question})
        serializer.is_valid(raise_exception=True)
        services.question_update(question=question, editor=request.user, **serializer.validated_data)
        return self.get(request, pk, question_pk)

    @extend_schema(
        summary="Delete a question (the quiz's instructor) until a student has taken the quiz",
        responses={204: None, 409: ERROR, **MANAGE_ERRORS},
    )
    def delete(self, request: Request, pk: int, question_pk: int) -> Response:
        services.question_delete(question=question_get_for_user(request.user, pk, question_pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AttemptStartView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Start an attempt, or continue the one not yet handed in",
        description="Answers are handed in all at once, with `/api/quizzes/attempts/{id}/submit/`.",
        request=None,
        responses={200: AttemptSerializer, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, pk: int) -> Response:
        quiz = quiz_get_for_user(request.user, pk)
        return attempt_response(request, services.attempt_start(quiz=quiz, user=request.user))


class AttemptListView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination

    @extend_schema(
        summary="Your attempts at quizzes, latest first",
        responses={200: AttemptSummarySerializer(many=True), 401: ERROR, 404: ERROR},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(attempts_of(user=request.user))
        return self.get_paginated_response(AttemptSummarySerializer(page, many=True).data)


class AttemptDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="An attempt: its questions to answer, or once handed in its score and feedback",
        description="For its student and the quiz's instructor. The right answers, explanations and "
        "sources come when `answers_shown` is true: the quiz's setting of that name says when; for "
        "the instructor always, once handed in (each question's `chosen_option` is the student's "
        "answer; the results link every attempt here as `answers_url`).",
        responses={200: AttemptSerializer, 401: ERROR, 404: ERROR},
    )
    def get(self, request: Request, pk: int) -> Response:
        return attempt_response(request, attempt_get_for_user(request.user, pk))


class AttemptSubmitView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Hand in an attempt's answers (its student); the response has the score, and the "
        "answers when the quiz shows them now",
        description="Hands in at once: a question left out, or answered with a null option, counts "
        "as wrong. There is no confirmation step here (the quiz page asks before handing in blanks), "
        "so a client should ask its user first.",
        request=SubmitSerializer,
        responses={200: AttemptSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, pk: int) -> Response:
        attempt = attempt_get_for_user(request.user, pk, submit=True)
        answers = validated(SubmitSerializer, request.data)["answers"]
        return attempt_response(request, services.quiz_submit(attempt=attempt, answers=answers))


class ResultsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Results (the quiz's instructor): scores per student and difficulty per question",
        responses={200: ResultsSerializer, **MANAGE_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        quiz = quiz_get_for_user(request.user, pk, manage=True)
        body = {"students": quiz_results_by_student(quiz=quiz), "questions": quiz_question_stats(quiz=quiz)}
        return Response(ResultsSerializer(body, context={"request": request}).data)


class _ResultsCsvView(APIView):
    permission_classes = [IsAuthenticated]
    content_negotiation_class = DownloadNegotiation
    what = ""

    def get(self, request: Request, pk: int):
        return results_csv_response(quiz=quiz_get_for_user(request.user, pk, manage=True), what=self.what)


CSV_RESPONSES = {(200, "text/csv"): OpenApiTypes.BINARY, **MANAGE_ERRORS}


class ScoresCsvView(_ResultsCsvView):
    what = "scores"

    @extend_schema(
        summary="Scores as CSV (the quiz's instructor): one row per attempt handed in",
        responses=CSV_RESPONSES,
    )
    def get(self, request: Request, pk: int):
        return super().get(request, pk)


class QuestionsCsvView(_ResultsCsvView):
    what = "questions"

    @extend_schema(
        summary="Difficulty per question as CSV (the quiz's instructor)",
        responses=CSV_RESPONSES,
    )
    def get(self, request: Request, pk: int):
        return super().get(request, pk)
