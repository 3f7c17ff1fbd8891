"""Writes for quizzes: building from a study set, editing, publishing, joining, attempts, grading.

Views check access first with `quiz_get_for_user` / `attempt_get_for_user`; these functions check
the rules of the quiz itself (open or closed, attempts left, answers that belong to the questions).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import UserError
from apps.corpus.selectors import images_visible_to
from apps.quizzes.builder import OPTIONS, draft_questions, same_answer
from apps.quizzes.models import Answer, Attempt, Option, Participant, Question, Quiz
from apps.quizzes.selectors import attempt_visible_question_ids, hand_in_deadline, questions_visible_to
from apps.quizzes.times import when
from apps.studysets.models import StudySet
from apps.studysets.selectors import studyset_can_read, studyset_items_visible

# Join codes: 30 symbols (Crockford's base-32 less 0 and 1), so no two look alike (no 0/O, 1/I/L,
# U/V), and 8 of them: 30**8 ≈ 6.6e11 codes, too many to guess. Codes drawn before, shorter and from
# fewer symbols, still join: a code is looked up as typed.
JOIN_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
JOIN_CODE_LENGTH = 8
MAX_ATTEMPTS_ALLOWED = 20
ALL_KINDS = [Question.WHAT, Question.WHICH, Question.TRUE_FALSE]


class QuizError(UserError):
    """Something the user must change or cannot do now; the message is shown as it is, with `status`."""


# --- building and editing (instructors) -----------------------------------------------------------


def quiz_check_can_build(user) -> None:
    """Only instructors build quizzes (asked before anything else, so others learn nothing more)."""
    if not getattr(user, "is_instructor", False):
        raise QuizError("Only instructors can build quizzes; an administrator grants the role.", status=403)


@transaction.atomic
def quiz_build_from_studyset(
    *,
    instructor,
    studyset: StudySet,
    title: str = "",
    kinds: list[str] | None = None,
    count: int | None = None,
) -> Quiz:
    """A draft quiz with one question per image of the set (the first `count` images, in order)."""
    quiz_check_can_build(instructor)
    if not studyset_can_read(instructor, studyset):
        raise QuizError("Build quizzes from your own study sets or public ones.", status=403)
    kinds = [kind for kind in ALL_KINDS if kind in (kinds or ALL_KINDS)]
    limit = min(count or settings.MIRAGE_QUIZ_MAX_QUESTIONS, settings.MIRAGE_QUIZ_MAX_QUESTIONS)
    images = [
        item.image for item in studyset_items_visible(studyset=studyset, user=instructor) if item.image.file
    ][:limit]
    if not images:
        raise QuizError(
            "This study set has no images to ask about; save some images into it first.", status=409
        )
    title = " ".join((title or "").split())[:200] or f"Quiz: {studyset.title}"[:200]
    quiz = Quiz.objects.create(owner=instructor, studyset=studyset, title=title)
    for position, draft in enumerate(draft_questions(images=images, kinds=kinds)):
        question = Question.objects.create(
            quiz=quiz,
            kind=draft.kind,
            position=position,
            prompt=draft.prompt,
            image=draft.image,
            explanation=draft.explanation,
        )
        Option.objects.bulk_create(
            Option(question=question, position=i, text=o.text, image=o.image, is_correct=o.is_correct)
            for i, o in enumerate(draft.options)
        )
    return quiz


def quiz_update_settings(
    *,
    quiz: Quiz,
    title: str,
    description: str = "",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    attempts_allowed: int = 1,
    shuffle_questions: bool = True,
    shuffle_options: bool = True,
    answers_shown: str = Quiz.AFTER_LAST_ATTEMPT,
) -> Quiz:
    """Settings may change at any time (e.g. to extend a deadline); questions may not once taken."""
    title = " ".join((title or "").split())
    if not title:
        raise QuizError("Give the quiz a title.")
    if opens_at and closes_at and closes_at <= opens_at:
        raise QuizError("The closing time must come after the opening time.")
    if not 1 <= attempts_allowed <= MAX_ATTEMPTS_ALLOWED:
        raise QuizError(f"Allow from 1 to {MAX_ATTEMPTS_ALLOWED} attempts.")
    if answers_shown not in dict(Quiz.ANSWERS_SHOWN):
        raise QuizError("Choose when students see the right answers.", field="answers_shown")
    quiz.title = title[:200]
    quiz.description = (description or "").strip()
    quiz.opens_at, quiz.closes_at = opens_at, closes_at
    quiz.attempts_allowed = attempts_allowed
    quiz.shuffle_questions, quiz.shuffle_options = shuffle_questions, shuffle_options
    quiz.answers_shown = answers_shown
    quiz.save()
    return quiz


SETTINGS_FIELDS = (
    "title",
    "description",
    "opens_at",
    "closes_at",
    "attempts_allowed",
    "shuffle_questions",
    "shuffle_options",
    "answers_shown",
)


def quiz_change_settings(*, quiz: Quiz, **changes: object) -> Quiz:
    """Change only the settings given (the API's PATCH); the others keep their values."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"not quiz settings: {', '.join(sorted(unknown))}")
    current = {name: getattr(quiz, name) for name in SETTINGS_FIELDS}
    return quiz_update_settings(quiz=quiz, **(current | changes))


ANSWERED_MESSAGE = (
    "Students have already answered this quiz: you can fix the wording, the options' text and the "
    "explanation, but not which answer is right nor which images are offered."
)


def _editable(quiz: Quiz) -> None:
    if quiz.attempts.exists():
        raise QuizError(
            "Students have already taken this quiz, so its questions can no longer change.", status=409
        )


@dataclass
class OptionChange:
    """An edited option: `text` (what does this show) or `image_id` (which image); true/false has neither."""

    text: str = ""
    image_id: int | None = None


def option_changes(*, question: Question, values: list) -> list[OptionChange]:
    """The edited options from one value per option, A first: a text for `what` questions, an
    image id for `which` questions (the page's form and the API both give them so)."""
    if question.kind == Question.WHAT:
        return [OptionChange(text=str(value)) for value in values]
    if question.kind == Question.WHICH:
        return [OptionChange(image_id=value) for value in values]
    raise QuizError("True/false questions have no options to change; choose which answer is right.")


@transaction.atomic
def question_update(
    *,
    question: Question,
    editor,
    prompt: str | None = None,
    explanation: str | None = None,
    correct: int | None = None,
    options: list[OptionChange] | None = None,
) -> Question:
    """Edit a question: wording, explanation, which option is right and (but for true/false) the options.

    None keeps what the question has (the API's PATCH sends only what changes). Once students have
    answered, wording, option texts and the explanation may still be fixed (typos), but which option
    is right and which images are offered stay as they were graded.
    """
    answered = question.quiz.attempts.exists()
    current = list(question.options.all())
    if prompt is None:
        prompt = question.prompt
    if explanation is None:
        explanation = question.explanation
    if correct is None:
        correct = next((i for i, option in enumerate(current) if option.is_correct), -1)
    if options is None:
        options = [OptionChange(text=o.text, image_id=o.image_id) for o in current]
    prompt = prompt.strip()
    if not prompt:
        raise QuizError("Write the question.")
    if question.kind == Question.WHAT:
        texts = [" ".join((o.text or "").split()) for o in options or []]
        if len(texts) != OPTIONS or not all(texts):
            raise QuizError(f"Write all {OPTIONS} options.")
        if any(same_answer(a, b) for i, a in enumerate(texts) for b in texts[i + 1 :]):
            raise QuizError("Two options read the same; every option must differ.")
        if any(len(text) > 500 for text in texts):
            raise QuizError("An option may be at most 500 characters long.")
        for option, text in zip(current, texts, strict=True):
            option.text = text
    elif question.kind == Question.WHICH:
        ids = [o.image_id for o in options or []]
        if len(ids) != OPTIONS or len(set(ids)) != OPTIONS:
            raise QuizError(f"Choose {OPTIONS} different images.")
        found = {i.pk: i for i in images_visible_to(editor).exclude(file="").filter(pk__in=ids)}
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            raise QuizError(f"No image you can use has the number {', '.join(missing)}.")
        for option, pk in zip(current, ids, strict=True):
            option.image = found[pk]
    if not 0 <= correct < len(current):  # after the options, which decide how many there are
        raise QuizError("Choose which option is right.")
    if answered:
        graded = [
            (o.is_correct, o.image_id)
            for o in Option.objects.filter(question=question).order_by("position", "pk")
        ]
        if graded != [(index == correct, option.image_id) for index, option in enumerate(current)]:
            raise QuizError(ANSWERED_MESSAGE, status=409)
    for index, option in enumerate(current):
        option.is_correct = index == correct
        option.save()
    question.prompt = prompt
    question.explanation = (explanation or "").strip()
    if question.kind == Question.WHICH:
        # The image the question is about is the right one: its caption and source explain the answer.
        question.image = current[correct].image
    question.save()
    return question


def question_delete(*, question: Question) -> None:
    _editable(question.quiz)
    question.delete()


def quiz_delete(*, quiz: Quiz) -> None:
    quiz.delete()


def _new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def quiz_publish(*, quiz: Quiz) -> Quiz:
    """Give the quiz its join code; students may then join (and take it while it is open)."""
    if quiz.is_published:
        return quiz
    if not quiz.questions.exists():
        raise QuizError("Add at least one question before publishing.", status=409)
    for _ in range(10):
        try:
            with transaction.atomic():
                quiz.join_code = _new_join_code()
                quiz.published_at = timezone.now()
                quiz.save(update_fields=["join_code", "published_at", "updated_at"])
                return quiz
        except IntegrityError:  # the code is taken: draw another
            continue
    raise QuizError("Could not find a free join code; try again.", status=503)


# --- joining and taking (students) -----------------------------------------------------------------


def normalize_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def quiz_join(*, user, code: str) -> Quiz:
    """Join a published quiz by its code (joining twice is harmless)."""
    normalized = normalize_code(code)
    if not normalized:
        raise QuizError("Type the quiz's join code.")
    quiz = Quiz.objects.filter(join_code=normalized, published_at__isnull=False).first()
    if quiz is None:
        raise QuizError(f"No quiz has the code “{code.strip()}”. Check it with your instructor.", status=404)
    if quiz.state() == Quiz.CLOSED:
        raise QuizError(f"“{quiz.title}” closed on {when(quiz.closes_at)}.", status=403)
    Participant.objects.get_or_create(quiz=quiz, user=user)
    return quiz


def _check_can_start(quiz: Quiz, now: datetime) -> None:
    state = quiz.state(now)
    if state == Quiz.DRAFT:
        raise QuizError("This quiz is not published yet.", status=409)
    if state == Quiz.NOT_OPEN:
        raise QuizError(f"This quiz opens on {when(quiz.opens_at)}.", status=403)
    if state == Quiz.CLOSED:
        raise QuizError(f"This quiz closed on {when(quiz.closes_at)}.", status=403)


@transaction.atomic
def attempt_start(*, quiz: Quiz, user, now: datetime | None = None) -> Attempt:
    """The student's unfinished attempt if there is one, else a new one while attempts remain."""
    now = now or timezone.now()
    Quiz.objects.select_for_update().get(pk=quiz.pk)  # one new attempt at a time per quiz
    attempts = Attempt.objects.filter(quiz=quiz, user=user)
    unfinished = attempts.filter(submitted_at__isnull=True).order_by("number").first()
    _check_can_start(quiz, now)
    if unfinished is not None:
        return unfinished
    used = attempts.count()
    if used >= quiz.attempts_allowed:
        raise QuizError(
            f"You have used all {quiz.attempts_allowed} attempt{'s' if quiz.attempts_allowed != 1 else ''} "
            "this quiz allows.",
            status=403,
        )
    ids = list(questions_visible_to(quiz=quiz, user=user).values_list("pk", flat=True))
    seed = secrets.randbelow(2**31)
    if quiz.shuffle_questions:
        random.Random(seed).shuffle(ids)
    return Attempt.objects.create(quiz=quiz, user=user, number=used + 1, seed=seed, question_ids=ids)


@transaction.atomic
def quiz_submit(
    *, attempt: Attempt, answers: Mapping[int, int | None], now: datetime | None = None
) -> Attempt:
    """Grade and store the answers: question id → chosen option id (None or missing: not answered).

    An attempt started while the quiz was open may be handed in until `hand_in_deadline`, a little
    after the quiz closes.
    """
    now = now or timezone.now()
    attempt = Attempt.objects.select_for_update().select_related("quiz").get(pk=attempt.pk)
    if attempt.is_submitted:
        raise QuizError("This attempt was already handed in.", status=409)
    quiz = attempt.quiz
    deadline = hand_in_deadline(quiz=quiz)
    if deadline is not None and now > deadline:
        raise QuizError(
            f"This quiz closed on {when(quiz.closes_at)}; answers can no longer be handed in.", status=403
        )
    question_ids = attempt_visible_question_ids(attempt=attempt)
    options = {o.pk: o for o in Option.objects.filter(question_id__in=question_ids)}
    rows = []
    for question_id in question_ids:
        chosen = answers.get(question_id)
        option = options.get(chosen) if chosen is not None else None
        if chosen is not None and (option is None or option.question_id != question_id):
            raise QuizError("An answer does not belong to its question; reload the quiz and answer again.")
        rows.append(
            Answer(
                attempt=attempt,
                question_id=question_id,
                option=option,
                is_correct=bool(option and option.is_correct),
            )
        )
    Answer.objects.bulk_create(rows)
    attempt.submitted_at = now
    attempt.score = sum(row.is_correct for row in rows)
    attempt.max_score = len(rows)
    attempt.save(update_fields=["submitted_at", "score", "max_score"])
    return attempt
