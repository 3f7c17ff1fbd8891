"""Builders for quiz tests."""

from __future__ import annotations

from apps.quizzes.models import Quiz
from apps.quizzes.services import quiz_build_from_studyset, quiz_join, quiz_publish
from tests import factories
from tests.studysets.helpers import studyset

CAPTIONS = (
    "Chest radiograph showing a large right pneumothorax.",
    "Axial CT of the brain with an acute subdural haematoma.",
    "Ultrasound of the gallbladder with multiple gallstones.",
    "Sagittal MRI of the knee showing an ACL tear.",
)


def instructor():
    return factories.user(role="instructor")


def quiz_from(owner, images, *, kinds=None, publish: bool = True, **settings) -> Quiz:
    quiz = quiz_build_from_studyset(instructor=owner, studyset=studyset(owner, images), kinds=kinds)
    if settings:
        Quiz.objects.filter(pk=quiz.pk).update(**settings)
        quiz.refresh_from_db()
    return quiz_publish(quiz=quiz) if publish else quiz


def joined(quiz: Quiz, student=None):
    student = student or factories.user()
    quiz_join(user=student, code=quiz.join_code)
    return student


def right_answers(attempt) -> dict[int, int]:
    """Question id → id of its right option, for every question of the attempt."""
    from apps.quizzes.models import Option

    return dict(
        Option.objects.filter(question_id__in=attempt.question_ids, is_correct=True).values_list(
            "question_id", "pk"
        )
    )
