"""Quiz pages. Thin: forms in, services and selectors do the work; every quiz goes through
`quiz_get_for_user` and every attempt through `attempt_get_for_user`."""

from __future__ import annotations

from contextlib import suppress

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.core.ratelimit import rate_limited
from apps.quizzes import services
from apps.quizzes.export import results_csv_response
from apps.quizzes.forms import BuildQuizForm, JoinForm, QuestionForm, QuizSettingsForm
from apps.quizzes.models import Question, Quiz
from apps.quizzes.selectors import (
    LETTERS,
    AttemptQuestion,
    attempt_get_for_user,
    attempt_questions,
    attempt_shows_answers,
    attempts_of,
    question_get_for_user,
    question_image_choices,
    quiz_facts,
    quiz_get_for_user,
    quiz_images_by_share_wrong,
    quiz_progress,
    quiz_question_stats,
    quiz_results_by_student,
    quizzes_joined_by,
    quizzes_owned_by,
    unanswered,
)
from apps.quizzes.services import QuizError
from apps.studysets.models import StudySet
from apps.studysets.selectors import studyset_get_for_user


def _problem(request: HttpRequest, message: str, *, status: int, quiz: Quiz | None = None) -> HttpResponse:
    return render(request, "quizzes/problem.html", {"message": message, "quiz": quiz}, status=status)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "owned": quizzes_owned_by(user=request.user) if request.user.is_instructor else [],
        "joined": quizzes_joined_by(user=request.user),
        "attempts": attempts_of(user=request.user)[:50],
        "join_form": JoinForm(),
    }
    return render(request, "quizzes/index.html", context)


@login_required
@rate_limited("quiz_join", methods=("POST",))
def join(request: HttpRequest) -> HttpResponse:
    form = JoinForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if request.method == "POST" and form.is_valid():
        try:
            quiz = services.quiz_join(user=request.user, code=form.cleaned_data["code"])
        except QuizError as exc:
            return render(request, "quizzes/join.html", {"form": form, "error": str(exc)}, status=exc.status)
        messages.success(request, f"You joined “{quiz.title}”.")
        return redirect("quizzes:detail", pk=quiz.pk)
    return render(
        request, "quizzes/join.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


def _buildable_sets(request: HttpRequest) -> list[StudySet]:
    """The user's own sets, plus the public set they came from (when they came from one)."""
    sets = list(StudySet.objects.filter(owner=request.user).order_by("title"))
    wanted = request.POST.get("studyset") or request.GET.get("studyset")
    if wanted and not (wanted.isascii() and wanted.isdecimal()):
        raise QuizError("No study set has that number; choose one of your study sets.")
    if wanted and all(s.pk != int(wanted) for s in sets):
        with suppress(Http404):  # not readable: left out, so the form refuses the choice
            sets.insert(0, studyset_get_for_user(request.user, int(wanted)))
    return sets


@login_required
def create(request: HttpRequest) -> HttpResponse:
    try:
        services.quiz_check_can_build(request.user)
        studysets = _buildable_sets(request)
    except QuizError as exc:
        return _problem(request, str(exc), status=exc.status)
    form = BuildQuizForm(
        request.POST or None, studysets=studysets, initial={"studyset": request.GET.get("studyset")}
    )
    error = ""
    if request.method == "POST" and form.is_valid():
        studyset = studyset_get_for_user(request.user, form.cleaned_data["studyset"])
        try:
            quiz = services.quiz_build_from_studyset(
                instructor=request.user,
                studyset=studyset,
                title=form.cleaned_data["title"],
                kinds=form.cleaned_data["kinds"],
                count=form.cleaned_data["count"],
            )
        except QuizError as exc:
            error, status = str(exc), exc.status
        else:
            messages.success(
                request,
                f"Built “{quiz.title}” with {quiz.questions.count()} questions: check them, then publish.",
            )
            return redirect("quizzes:manage", pk=quiz.pk)
    else:
        status = 400 if request.method == "POST" else 200
    context = {"form": form, "error": error, "has_sets": bool(studysets)}
    return render(request, "quizzes/create.html", context, status=status)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    quiz = quiz_get_for_user(request.user, pk)
    progress = quiz_progress(quiz=quiz, user=request.user)
    context = {
        "quiz": quiz,
        "is_owner": quiz.owner_id == request.user.pk,
        "attempts": progress.attempts,
        "unfinished": progress.unfinished,
        "attempts_left": progress.attempts_left,
        "state": quiz.state(),
    }
    return render(request, "quizzes/detail.html", context)


@login_required
@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    quiz = quiz_get_for_user(request.user, pk)
    try:
        attempt = services.attempt_start(quiz=quiz, user=request.user)
    except QuizError as exc:
        return _problem(request, str(exc), status=exc.status, quiz=quiz)
    return redirect("quizzes:attempt", pk=attempt.pk)


def _posted_answers(request: HttpRequest) -> dict[int, int]:
    answers = {}
    for key, value in request.POST.items():
        if key.startswith("q-"):
            if not (key[2:].isdecimal() and value.isdecimal()):
                raise QuizError("An answer was not understood; reload the quiz and answer again.")
            answers[int(key[2:])] = int(value)
    return answers


def _keep_answers(questions: list[AttemptQuestion], answers: dict[int, int]) -> None:
    """Mark the answers given on the questions shown again, so none are lost."""
    for shown in questions:
        shown.chosen = next((o for o in shown.options if o.pk == answers.get(shown.question.pk)), None)
        shown.answered = shown.chosen is not None


# The name and value of the button that hands in an attempt with questions left blank.
HAND_IN_ANYWAY = ("blanks", "hand-in")


@login_required
def attempt(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = attempt_get_for_user(request.user, pk, submit=request.method == "POST")
    questions = attempt_questions(attempt=attempt)
    context = {
        "attempt": attempt,
        "quiz": attempt.quiz,
        "questions": questions,
        "hand_in_anyway": HAND_IN_ANYWAY,
    }
    if request.method == "POST":
        answers: dict[int, int] = {}
        try:
            answers = _posted_answers(request)
            blank = unanswered(questions=questions, answers=answers)
            if blank and request.POST.get(HAND_IN_ANYWAY[0]) != HAND_IN_ANYWAY[1]:
                # Ask first (a page, so it works without JavaScript); the API hands in at once.
                _keep_answers(questions, answers)
                return render(request, "quizzes/take.html", context | {"unanswered": blank})
            attempt = services.quiz_submit(attempt=attempt, answers=answers)
        except QuizError as exc:
            _keep_answers(questions, answers)
            return render(request, "quizzes/take.html", context | {"error": str(exc)}, status=exc.status)
        return redirect("quizzes:attempt", pk=attempt.pk)
    if attempt.is_submitted:
        reveal = attempt_shows_answers(attempt=attempt, viewer=request.user)
        # Its instructor reads a student's answers on the same page (from the results table).
        whose = "your answer" if attempt.user_id == request.user.pk else f"{attempt.user.username}'s answer"
        return render(request, "quizzes/feedback.html", context | {"reveal": reveal, "whose_answer": whose})
    return render(request, "quizzes/take.html", context)


@login_required
def manage(request: HttpRequest, pk: int) -> HttpResponse:
    quiz = quiz_get_for_user(request.user, pk, manage=True)
    form = QuizSettingsForm(request.POST or None, instance=quiz)
    error = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.quiz_update_settings(quiz=quiz, **form.cleaned_data)
            except QuizError as exc:
                error, status = str(exc), exc.status
            else:
                messages.success(request, "Settings saved.")
                return redirect("quizzes:manage", pk=quiz.pk)
        else:
            status = 400
        quiz.refresh_from_db()  # the page shows what is stored, not the refused values
    questions = [
        (question, list(zip(LETTERS, question.options.all(), strict=False)))
        for question in quiz.questions.select_related("image").prefetch_related("options__image")
    ]
    context = {
        "quiz": quiz,
        "form": form,
        "error": error,
        "questions": questions,
        "facts": quiz_facts(quiz=quiz),
        "state": quiz.state(),
        "time_zone": timezone.get_current_timezone_name(),
        "join_url": request.build_absolute_uri(f"{reverse('quizzes:join')}?code={quiz.join_code}")
        if quiz.join_code
        else "",
    }
    return render(request, "quizzes/manage.html", context, status=status)


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    quiz = quiz_get_for_user(request.user, pk, manage=True)
    try:
        services.quiz_publish(quiz=quiz)
    except QuizError as exc:
        return _problem(request, str(exc), status=exc.status, quiz=quiz)
    messages.success(request, f"Published. Students join with the code {quiz.join_code}.")
    return redirect("quizzes:manage", pk=quiz.pk)


@login_required
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    quiz = quiz_get_for_user(request.user, pk, manage=True)
    if request.method == "POST":
        services.quiz_delete(quiz=quiz)
        messages.success(request, f"Deleted “{quiz.title}” and its results.")
        return redirect("quizzes:index")
    return render(request, "quizzes/delete.html", {"quiz": quiz, "attempt_count": quiz.attempts.count()})


@login_required
def question_edit(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    question = question_get_for_user(request.user, pk, question_pk)
    answered = question.quiz.attempts.exists()
    choices = (
        question_image_choices(question=question, user=request.user)
        if question.kind == Question.WHICH
        else []
    )
    form = QuestionForm(request.POST or None, question=question, image_choices=choices, answered=answered)
    error = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            values = data["option_values"]
            options = None if values is None else services.option_changes(question=question, values=values)
            try:
                services.question_update(
                    question=question,
                    editor=request.user,
                    prompt=data["prompt"],
                    explanation=data["explanation"],
                    correct=data["correct"],
                    options=options,
                )
            except QuizError as exc:
                error, status = str(exc), exc.status
            else:
                messages.success(request, "Question saved.")
                return redirect(
                    reverse("quizzes:manage", args=[question.quiz_id]) + f"#question-{question.pk}"
                )
        else:
            status = 400
    context = {
        "question": question,
        "quiz": question.quiz,
        "form": form,
        "error": error,
        "answered": answered,
        "answered_message": services.ANSWERED_MESSAGE,
    }
    return render(request, "quizzes/question_edit.html", context, status=status)


@login_required
@require_POST
def question_delete(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    question = question_get_for_user(request.user, pk, question_pk)
    try:
        services.question_delete(question=question)
    except QuizError as exc:
        return _problem(request, str(exc), status=exc.status, quiz=question.quiz)
    messages.success(request, "Question deleted.")
    return redirect("quizzes:manage", pk=question.quiz_id)


@login_required
@require_GET
def results(request: HttpRequest, pk: int) -> HttpResponse:
    quiz = quiz_get_for_user(request.user, pk, manage=True)
    stats = quiz_question_stats(quiz=quiz)
    context = {
        "quiz": quiz,
        "students": quiz_results_by_student(quiz=quiz),
        "stats": stats,
        "wrong_images": quiz_images_by_share_wrong(stats=stats, viewer=request.user),
    }
    return render(request, "quizzes/results.html", context)


@login_required
@require_GET
def results_csv(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    return results_csv_response(quiz=quiz_get_for_user(request.user, pk, manage=True), what=what)
