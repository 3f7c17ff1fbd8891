"""Reads for quizzes: the access helpers, what a student sees in an attempt, and the results."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from apps.corpus.models import Image
from apps.corpus.selectors import images_visible_to
from apps.quizzes.models import Answer, Attempt, Option, Participant, Question, Quiz
from apps.studysets.models import StudySetItem
from apps.studysets.selectors import studyset_can_read, studyset_items_visible

LETTERS = "ABCDEFGH"  # options are named A, B, C, D


def quiz_get_for_user(user, pk: int, *, manage: bool = False) -> Quiz:
    """The access helper for one quiz.

    Its owner may open and manage it; a student who joined it with its code may open (and take) it.
    Anyone else gets a 404 (not even its existence is revealed); a student who joined but tries to
    manage it gets a 403.
    """
    quiz = Quiz.objects.select_related("owner", "studyset").filter(pk=pk).first()
    if quiz is None or user is None or not user.is_authenticated:
        raise Http404("No such quiz.")
    is_owner = quiz.owner_id == user.pk
    if is_owner:
        return quiz
    if not Participant.objects.filter(quiz=quiz, user=user).exists():
        raise Http404("No such quiz.")
    if manage:
        raise PermissionDenied("Only the instructor who made this quiz can manage it.")
    return quiz


def question_get_for_user(user, pk: int, question_pk: int) -> Question:
    """The access helper for one question of a quiz: its instructor only (as `manage=True`)."""
    quiz = quiz_get_for_user(user, pk, manage=True)
    question = (
        quiz.questions.select_related("image__dataset")
        .prefetch_related("options__image__dataset")
        .filter(pk=question_pk)
        .first()
    )
    if question is None:
        raise Http404("No such question in this quiz.")
    question.quiz = quiz  # already loaded, with its owner
    return question


def attempt_get_for_user(user, pk: int, *, submit: bool = False) -> Attempt:
    """The access helper for one attempt: its student, and (to read it) the quiz's owner."""
    attempt = Attempt.objects.select_related("quiz", "user").filter(pk=pk).first()
    if attempt is None or user is None or not user.is_authenticated:
        raise Http404("No such attempt.")
    if attempt.user_id == user.pk:
        return attempt
    if attempt.quiz.owner_id == user.pk:
        if submit:
            raise PermissionDenied("Only the student can hand in their attempt.")
        return attempt
    raise Http404("No such attempt.")


# The edit page shows this many images to choose from at most (a study set may be long).
IMAGE_CHOICES_MAX = 100


def question_image_choices(*, question: Question, user) -> list[Image]:
    """The images the edit page offers for a `which` question: the ones it offers now, then the
    images of the quiz's study set, then those of the user's other study sets; each once, and only
    those this user may see and that have a file.

    `question_update` checks the images chosen again (any image the user may see is accepted), so
    this only decides what the picker shows.
    """
    ids = [option.image_id for option in question.options.all() if option.image_id]
    studyset = question.quiz.studyset
    if studyset is not None and studyset_can_read(user, studyset):  # a public set may turn private
        ids += studyset_items_visible(studyset=studyset, user=user).values_list("image_id", flat=True)
    own = StudySetItem.objects.filter(studyset__owner=user).order_by(
        "studyset__title", "studyset", "position"
    )
    ids += own.values_list("image_id", flat=True)[: IMAGE_CHOICES_MAX * 2]
    ids = list(dict.fromkeys(ids))[:IMAGE_CHOICES_MAX]
    found = images_visible_to(user).exclude(file="").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def questions_visible_to(*, quiz: Quiz, user) -> QuerySet[Question]:
    """The quiz's questions whose images (asked about and offered) this user may see.

    Read at every use, so an image rejected by moderation takes its questions out of the quiz.
    """
    visible = images_visible_to(user).values("pk")
    hidden_option = Option.objects.filter(question=OuterRef("pk"), image__isnull=False).exclude(
        image__in=visible
    )
    return quiz.questions.filter(image__in=visible).exclude(Exists(hidden_option)).order_by("position", "pk")


def quiz_hidden_question_count(*, quiz: Quiz) -> int:
    """Questions students no longer see, because an image in them is not (or no longer) approved."""
    return quiz.questions.count() - questions_visible_to(quiz=quiz, user=None).count()


@dataclass
class QuizFacts:
    """What a quiz's instructor sees at a glance on its manage page."""

    question_count: int
    participant_count: int
    hidden_question_count: int  # questions students no longer see
    locked: bool  # taken by a student, so its questions can no longer change


def quiz_facts(*, quiz: Quiz) -> QuizFacts:
    return QuizFacts(
        question_count=quiz.questions.count(),
        participant_count=quiz.participants.count(),
        hidden_question_count=quiz_hidden_question_count(quiz=quiz),
        locked=quiz.attempts.exists(),
    )


def hand_in_deadline(*, quiz: Quiz) -> datetime | None:
    """The last moment an attempt can be handed in: MIRAGE_QUIZ_SUBMIT_GRACE_MINUTES after the quiz
    closes, so a student who began in time keeps their work; None when the quiz never closes."""
    if quiz.closes_at is None:
        return None
    return quiz.closes_at + timedelta(minutes=settings.MIRAGE_QUIZ_SUBMIT_GRACE_MINUTES)


def attempt_shows_answers(*, attempt: Attempt, viewer, now: datetime | None = None) -> bool:
    """Whether this viewer sees the right answers, explanations and image sources of the attempt.

    Never before it is handed in. Its quiz's instructor always, after. Its student as the quiz's
    `answers_shown` says: after each attempt; after their last allowed attempt; or once the quiz
    has closed and no one can hand in any more (which also ends "the last allowed attempt").
    """
    if not attempt.is_submitted:
        return False
    quiz = attempt.quiz
    if viewer is not None and quiz.owner_id == viewer.pk:
        return True
    if quiz.answers_shown == Quiz.AFTER_EACH_ATTEMPT:
        return True
    deadline = hand_in_deadline(quiz=quiz)
    if deadline is not None and (now or timezone.now()) > deadline:
        return True
    if quiz.answers_shown == Quiz.AFTER_LAST_ATTEMPT:
        handed_in = Attempt.objects.filter(quiz=quiz, user_id=attempt.user_id, submitted_at__isnull=False)
        return handed_in.count() >= quiz.attempts_allowed
    return False


def attempt_visible_question_ids(*, attempt: Attempt) -> list[int]:
    """The attempt's questions, in its order, less any whose images its student may no longer see."""
    visible = set(questions_visible_to(quiz=attempt.quiz, user=attempt.user).values_list("pk", flat=True))
    return [pk for pk in attempt.question_ids if pk in visible]


@dataclass
class AttemptQuestion:
    number: int
    question: Question
    options: list[Option]  # in the order this attempt shows them
    chosen: Option | None = None
    answered: bool = False
    is_correct: bool = False

    @property
    def lettered_options(self) -> list[tuple[str, Option]]:
        return list(zip(LETTERS, self.options, strict=False))


def attempt_questions(*, attempt: Attempt) -> list[AttemptQuestion]:
    """The attempt's questions and options in the order it shows them, with the answers if handed in.

    The order comes from the attempt's stored question list and seed, so a reload shows the same.
    """
    ids = attempt_visible_question_ids(attempt=attempt)
    questions = {
        q.pk: q
        for q in Question.objects.filter(pk__in=ids)
        .select_related("image", "image__dataset")
        .prefetch_related("options__image")
    }
    answers = {a.question_id: a for a in Answer.objects.filter(attempt=attempt).select_related("option")}
    shown = []
    for number, pk in enumerate(ids, start=1):
        question = questions[pk]
        options = list(question.options.all())
        if attempt.quiz.shuffle_options and question.kind != Question.TRUE_FALSE:
            random.Random(f"{attempt.seed}:{pk}").shuffle(options)
        answer = answers.get(pk)
        shown.append(
            AttemptQuestion(
                number=number,
                question=question,
                options=options,
                chosen=answer.option if answer else None,
                answered=answer is not None and answer.option_id is not None,
                is_correct=bool(answer and answer.is_correct),
            )
        )
    return shown


def unanswered(
    *, questions: list[AttemptQuestion], answers: Mapping[int, int | None]
) -> list[AttemptQuestion]:
    """The questions of an attempt that `answers` (question id → option id) leaves blank, in order."""
    return [shown for shown in questions if answers.get(shown.question.pk) is None]


def attempts_of(*, user) -> QuerySet[Attempt]:
    return Attempt.objects.filter(user=user).select_related("quiz").order_by("-started_at")


QUIZ_ROLES = {"all": "built or joined", "owned": "built", "joined": "joined with a code"}


def quizzes_of(*, user, role: str = "all") -> QuerySet[Quiz]:
    """The quizzes a user built (`owned`), joined with a code (`joined`) or either (`all`), newest
    first, each with `question_count` and `participant_count`."""
    owned = Q(owner=user)
    joined = Q(pk__in=Participant.objects.filter(user=user).values("quiz_id"))
    return (
        Quiz.objects.filter({"owned": owned, "joined": joined}.get(role, owned | joined))
        .select_related("owner")
        .annotate(
            question_count=Count("questions", distinct=True),
            participant_count=Count("participants", distinct=True),
        )
        .order_by("-created_at", "-pk")  # Meta.ordering does not apply to grouped queries
    )


def quizzes_owned_by(*, user) -> QuerySet[Quiz]:
    return quizzes_of(user=user, role="owned")


def quizzes_joined_by(*, user) -> QuerySet[Quiz]:
    return (
        Quiz.objects.filter(participants__user=user)
        .select_related("owner")
        .order_by("-participants__joined_at")
    )


@dataclass
class QuizProgress:
    """A user's attempts at one quiz, as its page and the API show them."""

    quiz: Quiz
    attempts: list[Attempt]  # in order, handed in or not

    @property
    def unfinished(self) -> Attempt | None:
        return next((a for a in self.attempts if not a.is_submitted), None)

    @property
    def attempts_left(self) -> int:
        return max(self.quiz.attempts_allowed - len(self.attempts), 0)


def quiz_progress(*, quiz: Quiz, user) -> QuizProgress:
    return QuizProgress(
        quiz=quiz, attempts=list(Attempt.objects.filter(quiz=quiz, user=user).order_by("number"))
    )


# --- results (instructors) --------------------------------------------------------------------------


@dataclass
class StudentResult:
    username: str
    name: str
    attempts: list[Attempt] = field(default_factory=list)  # handed in, in order

    @property
    def best(self) -> Attempt | None:
        return max(self.attempts, key=lambda a: (a.percent or 0, -a.number), default=None)

    @property
    def last(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None


@dataclass
class QuestionStat:
    number: int
    question: Question
    answered: int  # questions answered in handed-in attempts (left blank: not counted)
    correct: int

    @property
    def share_correct(self) -> float | None:
        return self.correct / self.answered if self.answered else None

    @property
    def percent_correct(self) -> int | None:
        share = self.share_correct
        return None if share is None else round(100 * share)

    @property
    def percent_wrong(self) -> int | None:
        percent = self.percent_correct
        return None if percent is None else 100 - percent


def _student_result(user) -> StudentResult:
    # Sign-up asks for no name: the username stands in, so the name column is never empty.
    return StudentResult(username=user.username, name=user.get_full_name() or user.username)


def quiz_results_by_student(*, quiz: Quiz) -> list[StudentResult]:
    """Every student who joined (or handed in an attempt), with their handed-in attempts, by name."""
    results: dict[int, StudentResult] = {}
    joined = Participant.objects.filter(quiz=quiz).select_related("user")
    for participant in joined:
        user = participant.user
        results[user.pk] = _student_result(user)
    for attempt in Attempt.objects.filter(quiz=quiz, submitted_at__isnull=False).select_related("user"):
        user = attempt.user
        results.setdefault(user.pk, _student_result(user))
        results[user.pk].attempts.append(attempt)
    for result in results.values():
        result.attempts.sort(key=lambda a: a.number)
    return sorted(results.values(), key=lambda r: r.username.casefold())


def quiz_question_stats(*, quiz: Quiz) -> list[QuestionStat]:
    """Per question, in quiz order: answers handed in (blanks are not answers) and the share correct
    among them (its difficulty)."""
    counted = (
        quiz.questions.annotate(
            answered=Count(
                "answers",
                filter=Q(answers__attempt__submitted_at__isnull=False, answers__option__isnull=False),
            ),
            correct=Count(
                "answers", filter=Q(answers__attempt__submitted_at__isnull=False, answers__is_correct=True)
            ),
        )
        .select_related("image")
        .order_by("position", "pk")
    )
    return [
        QuestionStat(number=number, question=q, answered=q.answered, correct=q.correct)
        for number, q in enumerate(counted, start=1)
    ]


def quiz_images_by_share_wrong(*, stats: list[QuestionStat], viewer) -> list[QuestionStat]:
    """The images the quiz asks about, the one the class got wrong most often first: the answers to
    every question about an image added together (a set may ask about one image several ways), each
    as a `QuestionStat` whose `number` is its first question's. Images never answered are left out,
    and so are those the viewer may no longer see (a generated image moderation took back)."""
    by_image: dict[int, QuestionStat] = {}
    for stat in stats:
        if not stat.answered:
            continue
        seen = by_image.get(stat.question.image_id)
        if seen is None:
            by_image[stat.question.image_id] = QuestionStat(
                number=stat.number, question=stat.question, answered=stat.answered, correct=stat.correct
            )
        else:
            seen.answered += stat.answered
            seen.correct += stat.correct
    visible = set(images_visible_to(viewer).filter(pk__in=by_image).values_list("pk", flat=True))
    ranked = [stat for pk, stat in by_image.items() if pk in visible]
    return sorted(ranked, key=lambda s: (-(s.answered - s.correct) / s.answered, -s.answered, s.number))
