"""Handing in with questions left blank asks first on the page (without JavaScript); the API does not."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.quizzes.models import Attempt
from apps.quizzes.selectors import attempt_questions
from apps.quizzes.services import attempt_start
from tests import factories
from tests.quizzes.helpers import CAPTIONS, instructor, joined, quiz_from, right_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def begun(client):
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS))
    student = joined(quiz)
    client.force_login(student)
    return attempt_start(quiz=quiz, user=student)


def _first_answered(attempt) -> dict[str, int]:
    """The right answer to the attempt's first question only, as the page posts it."""
    first = attempt_questions(attempt=attempt)[0].question.pk
    return {f"q-{first}": right_answers(attempt)[first]}


def test_handing_in_with_blanks_lists_them_keeps_the_answers_and_hands_in_nothing(client, begun):
    given = _first_answered(begun)
    response = client.post(reverse("quizzes:attempt", args=[begun.pk]), given)

    page = response.content.decode()
    assert response.status_code == 200
    assert "You left 3 of 4 questions unanswered" in page
    assert all(f'href="#question-{n}">question {n}</a>' in page for n in (2, 3, 4))
    assert 'href="#question-1"' not in page
    assert f'value="{given[next(iter(given))]}" checked' in page  # the answer given is kept
    assert 'name="blanks" value="hand-in"' in page and "Hand in anyway" in page
    begun.refresh_from_db()
    assert not begun.is_submitted and not begun.answers.exists()


def test_hand_in_anyway_hands_in_with_the_blanks_counted_wrong(client, begun):
    response = client.post(
        reverse("quizzes:attempt", args=[begun.pk]), {**_first_answered(begun), "blanks": "hand-in"}
    )

    assert response.status_code == 302
    begun.refresh_from_db()
    assert begun.is_submitted and (begun.score, begun.max_score) == (1, 4)
    assert begun.answers.filter(option__isnull=True).count() == 3


def test_every_question_answered_hands_in_without_asking(client, begun):
    answers = {f"q-{question}": option for question, option in right_answers(begun).items()}
    response = client.post(reverse("quizzes:attempt", args=[begun.pk]), answers)

    assert response.status_code == 302
    assert Attempt.objects.get(pk=begun.pk).score == 4


def test_the_api_hands_in_blanks_at_once_as_documented(client, begun):
    response = client.post(
        reverse("api:quizzes-attempt-submit", args=[begun.pk]),
        {"answers": []},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["score"] == 0 and response.json()["max_score"] == 4
    schema = client.get(reverse("api:schema"), {"format": "json"}).json()
    described = schema["paths"]["/api/quizzes/attempts/{id}/submit/"]["post"]["description"]
    assert "no confirmation step" in described
