"""What a student and an instructor read after attempts: a wrong choice marked wrong, blanks not
counted as answers, the name column filled, and the edit page saying up front that students answered."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from apps.quizzes.models import Quiz
from apps.quizzes.selectors import quiz_question_stats
from apps.quizzes.services import attempt_start, quiz_submit
from tests import factories
from tests.quizzes.helpers import CAPTIONS, instructor, joined, quiz_from

pytestmark = pytest.mark.django_db


def a_quiz_answered_wrong_then_blank():
    owner = instructor()
    quiz = quiz_from(owner, factories.images(*CAPTIONS), answers_shown=Quiz.AFTER_EACH_ATTEMPT)
    student = joined(quiz)
    attempt = attempt_start(quiz=quiz, user=student)
    first, *rest = list(quiz.questions.order_by("position", "pk"))
    wrong = first.options.filter(is_correct=False).first()
    quiz_submit(attempt=attempt, answers={first.pk: wrong.pk, **{q.pk: None for q in rest}})
    return owner, quiz, student, attempt, first


def test_the_result_marks_a_wrong_choice_as_wrong(client):
    _owner, _quiz, student, attempt, _first = a_quiz_answered_wrong_then_blank()
    client.force_login(student)

    page = client.get(reverse("quizzes:attempt", args=[attempt.pk])).content.decode()

    assert "✗ your answer: wrong" in page and "(right answer)" in page


def test_blanks_are_not_counted_as_answers_and_the_csv_name_column_is_filled(client):
    owner, quiz, student, _attempt, first = a_quiz_answered_wrong_then_blank()

    answered = {stat.question.pk: stat.answered for stat in quiz_question_stats(quiz=quiz)}
    client.force_login(owner)
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(reverse("quizzes:scores_csv", args=[quiz.pk])).content.decode("utf-8-sig"))
        )
    )

    assert answered[first.pk] == 1 and sum(answered.values()) == 1
    assert rows and all(row["name"] for row in rows)
    assert rows[0]["name"] == student.username  # sign-up asks no name: the username stands in


def test_the_edit_page_says_up_front_that_students_have_answered(client):
    owner, quiz, _student, _attempt, first = a_quiz_answered_wrong_then_blank()
    client.force_login(owner)

    page = client.get(reverse("quizzes:question_edit", args=[quiz.pk, first.pk])).content.decode()

    assert "Students have already answered this quiz" in page
