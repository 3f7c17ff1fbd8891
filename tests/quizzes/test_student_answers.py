"""An instructor reads each student's answers: a page per attempt linked from the results table, and
the same in the API (the same selectors: `attempt_questions`, `attempt_shows_answers`)."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from apps.quizzes.models import Quiz
from apps.quizzes.services import attempt_start, quiz_submit
from tests import factories
from tests.quizzes.helpers import CAPTIONS, instructor, joined, quiz_from

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered():
    """Ana answered the first question wrong and the rest right, twice; answers are shown only at close."""
    owner = instructor()
    quiz = quiz_from(
        owner,
        factories.images(*CAPTIONS),
        kinds=["what"],
        attempts_allowed=2,
        answers_shown=Quiz.AFTER_CLOSE,
    )
    ana = joined(quiz, factories.user("ana"))
    first, *rest = list(quiz.questions.order_by("position", "pk"))
    wrong = first.options.filter(is_correct=False).first()
    given = {first.pk: wrong.pk, **{q.pk: q.options.get(is_correct=True).pk for q in rest}}
    attempts = [quiz_submit(attempt=attempt_start(quiz=quiz, user=ana), answers=given) for _ in range(2)]
    return {"owner": owner, "quiz": quiz, "ana": ana, "attempts": attempts, "first": first, "wrong": wrong}


def test_the_results_table_links_every_attempt_of_each_student(client, answered):
    client.force_login(answered["owner"])

    page = client.get(reverse("quizzes:results", args=[answered["quiz"].pk])).content.decode()

    for attempt in answered["attempts"]:
        url = reverse("quizzes:attempt", args=[attempt.pk])
        hidden = '<span class="visually-hidden">, ana\'s answers</span>'
        assert f'<a href="{url}">attempt {attempt.number}: 3 / 4{hidden}</a>' in page


def test_the_instructor_sees_the_students_choice_and_the_right_one_for_each_question(client, answered):
    client.force_login(answered["owner"])

    page = html.unescape(
        client.get(reverse("quizzes:attempt", args=[answered["attempts"][0].pk])).content.decode()
    )

    assert "ana's result" in page and "Score: 3 / 4" in page
    assert re.search(
        rf"{re.escape(answered['wrong'].text)}\s*\n\s*<strong class=\"wrong\">✗ ana's answer: wrong", page
    )
    assert page.count("(right answer)") == 4 and page.count("✓ ana's answer: right") == 3


def test_the_student_does_not_see_the_right_answers_before_the_quiz_closes(client, answered):
    client.force_login(answered["ana"])

    page = client.get(reverse("quizzes:attempt", args=[answered["attempts"][0].pk])).content.decode()

    assert "(right answer)" not in page and "(your answer)" in page


def test_the_api_gives_the_instructor_each_attempts_answers_through_the_results_link(answered):
    api = factories.api_as(answered["owner"])

    results = api.get(f"/api/quizzes/{answered['quiz'].pk}/results/").json()
    url = results["students"][0]["attempts"][0]["answers_url"]
    attempt = api.get(url).json()

    assert url.endswith(f"/api/quizzes/attempts/{answered['attempts'][0].pk}/")
    assert attempt["student"] == "ana" and attempt["answers_shown"] is True
    by_question = {q["id"]: q for q in attempt["questions"]}
    first = by_question[answered["first"].pk]
    assert first["chosen_option"] == answered["wrong"].pk and first["is_correct"] is False
    right = [o["id"] for o in first["options"] if o["is_correct"]]
    assert right == [answered["first"].options.get(is_correct=True).pk]
    assert sum(q["is_correct"] for q in attempt["questions"]) == 3


def test_another_instructor_cannot_read_the_students_answers(client, answered):
    stranger = instructor()
    client.force_login(stranger)

    assert client.get(reverse("quizzes:attempt", args=[answered["attempts"][0].pk])).status_code == 404
    response = factories.api_as(stranger).get(f"/api/quizzes/attempts/{answered['attempts'][0].pk}/")
    assert response.status_code == 404
