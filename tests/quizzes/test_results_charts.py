"""The instructor's results page draws what the selectors count: students by best score, the share
right per question, and the images the class got wrong most, each with its numbers readable as text."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.corpus.models import Image
from apps.quizzes.models import Question
from apps.quizzes.selectors import quiz_images_by_share_wrong, quiz_question_stats
from apps.quizzes.services import attempt_start, quiz_submit
from tests import factories
from tests.quizzes.helpers import CAPTIONS, instructor, joined, quiz_from

pytestmark = pytest.mark.django_db

BAR = re.compile(r'<rect class="bar"[^>]* height="([\d.]+)"><title>([^<]+)</title>')


def hand_in(quiz, wrong_positions: set[int]):
    """A new student hands in one attempt, wrong on the questions at these positions, right on the rest."""
    attempt = attempt_start(quiz=quiz, user=joined(quiz))
    answers = {}
    for question in quiz.questions.all():
        options = question.options.filter(is_correct=question.position not in wrong_positions)
        answers[question.pk] = options.first().pk
    return quiz_submit(attempt=attempt, answers=answers)


def a_quiz_three_students_answered():
    """Four questions; the class is wrong on the first twice and the second once: 100%, 75%, 50%."""
    teacher = instructor()
    quiz = quiz_from(teacher, factories.images(*CAPTIONS))
    for wrong in (set(), {0}, {0, 1}):
        hand_in(quiz, wrong)
    return teacher, quiz


def bars(html: str, title: str) -> dict[str, float]:
    """Each bar of the chart with this figcaption: its title (label and number) → its height."""
    chart = r'<figure class="chart">(?:(?!</figure>).)*<figcaption>' + re.escape(title)
    figure = re.search(chart, html, re.S)
    assert figure, f"no chart {title!r}"
    return {label: float(h) for h, label in BAR.findall(figure.group(0))}


def test_the_results_page_charts_students_by_best_score_and_the_share_right_per_question(client):
    teacher, quiz = a_quiz_three_students_answered()
    client.force_login(teacher)

    page = client.get(reverse("quizzes:results", args=[quiz.pk])).content.decode()

    scores = bars(page, "Students by their best score (%)")
    assert {label for label, h in scores.items() if h > 0} == {
        "50–59: 1 students",
        "70–79: 1 students",
        "90–100: 1 students",
    }
    assert len(scores) == 10 and sum(1 for h in scores.values() if h == 0) == 7
    difficulty = bars(page, "Share of answers that were right, per question")
    assert list(difficulty) == ["Q1: 33 %", "Q2: 67 %", "Q3: 100 %", "Q4: 100 %"]
    heights = list(difficulty.values())
    assert heights[2] == heights[3] and heights[0] == pytest.approx(heights[2] * 0.33, abs=0.5)
    assert 'aria-label="Share of answers that were right, per question: Q1 33 %, Q2 67 %' in page


def test_the_results_page_ranks_the_images_by_share_wrong_with_a_caption_link_and_a_bar(client):
    teacher, quiz = a_quiz_three_students_answered()
    first, second = quiz.questions.order_by("position")[:2]
    client.force_login(teacher)

    page = client.get(reverse("quizzes:results", args=[quiz.pk])).content.decode()

    table = page.split('class="results wrong-images"', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 4
    assert reverse("corpus:image_detail", args=[first.image_id]) in rows[0]
    assert reverse("corpus:image_detail", args=[second.image_id]) in rows[1]
    assert re.search(r'<rect class="bar" width="67"', rows[0]) and "67%</span>" in rows[0]
    assert re.search(r'<rect class="bar" width="33"', rows[1]) and "33%</span>" in rows[1]
    assert "0%</span>" in rows[3] and "(of 3 answers)" in rows[3]
    assert 'alt="' in rows[0]  # the thumbnail's text comes from its caption


def test_answers_about_one_image_from_several_questions_are_added_together():
    _teacher, quiz = a_quiz_three_students_answered()
    first, _second, _third, fourth = quiz.questions.order_by("position")
    Question.objects.filter(pk=fourth.pk).update(image=first.image)  # asked about twice: 1 + 3 right of 6

    ranked = quiz_images_by_share_wrong(stats=quiz_question_stats(quiz=quiz), viewer=quiz.owner)

    assert [(s.question.image_id, s.answered, s.correct, s.percent_wrong) for s in ranked][0] == (
        first.image_id,
        6,
        4,
        33,
    )
    assert len(ranked) == 3


def test_an_image_the_instructor_may_no_longer_see_is_left_out_and_an_unanswered_quiz_says_so(client):
    teacher = instructor()
    quiz = quiz_from(teacher, factories.images(*CAPTIONS))
    client.force_login(teacher)
    page = client.get(reverse("quizzes:results", args=[quiz.pk])).content.decode()
    assert "<svg" not in page and "No answers handed in yet" in page

    hand_in(quiz, {0})
    first = quiz.questions.order_by("position").first()
    Image.objects.filter(pk=first.image_id).update(moderation_state=Image.REJECTED)
    ranked = quiz_images_by_share_wrong(stats=quiz_question_stats(quiz=quiz), viewer=teacher)
    assert first.image_id not in [s.question.image_id for s in ranked] and len(ranked) == 3
