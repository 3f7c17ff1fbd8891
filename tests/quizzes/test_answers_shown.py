"""When a student sees the right answers: never before handing in, then as the instructor chose
(after each attempt, after the last allowed attempt, once the quiz closes); page and API alike."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.quizzes.models import Attempt, Quiz
from apps.quizzes.selectors import attempt_shows_answers
from apps.quizzes.services import attempt_start, quiz_submit
from tests import factories
from tests.factories import api_as
from tests.quizzes.helpers import CAPTIONS, instructor, joined, quiz_from, right_answers

pytestmark = pytest.mark.django_db

RIGHT_MARK = "(right answer)"


def hand_in(quiz: Quiz, student) -> Attempt:
    attempt = attempt_start(quiz=quiz, user=student)
    return quiz_submit(attempt=attempt, answers=right_answers(attempt))


def a_quiz(answers_shown: str, **settings) -> Quiz:
    images = factories.images(*CAPTIONS, article_url="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1/")
    return quiz_from(instructor(), images, answers_shown=answers_shown, **settings)


@pytest.mark.parametrize(
    ("answers_shown", "handed_in", "closed", "shown"),
    [
        (Quiz.AFTER_EACH_ATTEMPT, 1, False, True),
        (Quiz.AFTER_LAST_ATTEMPT, 1, False, False),
        (Quiz.AFTER_LAST_ATTEMPT, 2, False, True),
        (Quiz.AFTER_LAST_ATTEMPT, 1, True, True),  # closed: no attempt is left to take
        (Quiz.AFTER_CLOSE, 2, False, False),
        (Quiz.AFTER_CLOSE, 1, True, True),
    ],
)
def test_the_quiz_setting_decides_when_a_student_sees_the_answers(
    answers_shown, handed_in, closed, shown, settings
):
    settings.MIRAGE_QUIZ_SUBMIT_GRACE_MINUTES = 10
    quiz = a_quiz(answers_shown, attempts_allowed=2, closes_at=timezone.now() + timedelta(days=1))
    student = joined(quiz)
    attempts = [hand_in(quiz, student) for _ in range(handed_in)]
    if closed:
        Quiz.objects.filter(pk=quiz.pk).update(closes_at=timezone.now() - timedelta(minutes=11))
    first = Attempt.objects.select_related("quiz").get(pk=attempts[0].pk)

    assert attempt_shows_answers(attempt=first, viewer=student) is shown
    assert attempt_shows_answers(attempt=first, viewer=quiz.owner) is True  # the instructor, always


def test_answers_wait_for_the_grace_period_after_closing_as_others_may_still_hand_in(settings):
    settings.MIRAGE_QUIZ_SUBMIT_GRACE_MINUTES = 10
    quiz = a_quiz(Quiz.AFTER_CLOSE, closes_at=timezone.now() + timedelta(days=1))
    student = joined(quiz)
    attempt = hand_in(quiz, student)
    Quiz.objects.filter(pk=quiz.pk).update(closes_at=timezone.now() - timedelta(minutes=5))
    attempt = Attempt.objects.select_related("quiz").get(pk=attempt.pk)

    assert attempt_shows_answers(attempt=attempt, viewer=student) is False
    assert attempt_shows_answers(attempt=attempt, viewer=student, now=timezone.now() + timedelta(minutes=6))


def test_nobody_sees_the_answers_of_an_attempt_not_handed_in():
    quiz = a_quiz(Quiz.AFTER_EACH_ATTEMPT)
    attempt = attempt_start(quiz=quiz, user=joined(quiz))
    assert attempt_shows_answers(attempt=attempt, viewer=attempt.user) is False
    assert attempt_shows_answers(attempt=attempt, viewer=quiz.owner) is False


def test_by_default_a_student_with_attempts_left_sees_the_score_but_not_the_answers_on_page_and_api(client):
    quiz = a_quiz(Quiz.AFTER_LAST_ATTEMPT, attempts_allowed=2)
    assert Quiz._meta.get_field("answers_shown").default == Quiz.AFTER_LAST_ATTEMPT
    student = joined(quiz)
    first = hand_in(quiz, student)
    client.force_login(student)
    api = api_as(student)

    page = client.get(reverse("quizzes:attempt", args=[first.pk])).content.decode()
    body = api.get(f"/api/quizzes/attempts/{first.pk}/").json()

    assert "Score: 4 / 4 (100%)" in page and "(your answer)" in page
    assert "after the last allowed attempt" in page
    assert not any(caption in page for caption in CAPTIONS)
    assert RIGHT_MARK not in page and "✓" not in page and "Source article" not in page
    assert (body["score"], body["answers_shown"]) == (4, False)
    for question in body["questions"]:
        assert question["chosen_option"] is not None
        assert (question["is_correct"], question["explanation"], question["image"]) == (None, None, None)
        assert all(o["is_correct"] is None and o["image"] is None for o in question["options"])
    assert not any(
        caption in api.get(f"/api/quizzes/attempts/{first.pk}/").content.decode() for caption in CAPTIONS
    )

    hand_in(quiz, student)  # the last allowed attempt: now both show their answers

    page = client.get(reverse("quizzes:attempt", args=[first.pk])).content.decode()
    body = api.get(f"/api/quizzes/attempts/{first.pk}/").json()
    assert CAPTIONS[0] in page and RIGHT_MARK in page and "Source article" in page
    assert body["answers_shown"] is True
    assert all(q["explanation"] in CAPTIONS and q["is_correct"] for q in body["questions"])


def test_after_each_attempt_the_submit_response_and_the_page_show_the_answers_at_once(client):
    quiz = a_quiz(Quiz.AFTER_EACH_ATTEMPT, attempts_allowed=3)
    student = joined(quiz)
    attempt = attempt_start(quiz=quiz, user=student)
    answers = [{"question": q, "option": o} for q, o in right_answers(attempt).items()]

    submitted = api_as(student).post(
        f"/api/quizzes/attempts/{attempt.pk}/submit/", {"answers": answers}, format="json"
    )
    client.force_login(student)
    page = client.get(reverse("quizzes:attempt", args=[attempt.pk])).content.decode()

    assert submitted.json()["answers_shown"] is True
    assert all(q["image"]["caption"] in CAPTIONS for q in submitted.json()["questions"])
    assert CAPTIONS[0] in page and RIGHT_MARK in page


def test_the_attempt_page_shows_no_caption_explanation_or_right_answer_before_hand_in(client):
    quiz = a_quiz(Quiz.AFTER_EACH_ATTEMPT)
    quiz.questions.update(explanation="Look for the visceral pleural line.")
    student = joined(quiz)
    attempt = attempt_start(quiz=quiz, user=student)
    client.force_login(student)

    page = client.get(reverse("quizzes:attempt", args=[attempt.pk])).content.decode()

    assert len(re.findall(r'type="radio"', page)) == 3 * 4 + 2  # the questions are there to answer
    assert not any(caption in page for caption in CAPTIONS)
    assert "visceral pleural line" not in page
    assert RIGHT_MARK not in page and 'class="correct"' not in page and "Source article" not in page
    image_pages = {reverse("corpus:image_detail", args=[q.image_id]) for q in quiz.questions.all()}
    assert not any(f'href="{url}"' in page for url in image_pages)  # they show the captions


def test_an_instructor_chooses_when_answers_are_shown_through_the_api():
    quiz = a_quiz(Quiz.AFTER_LAST_ATTEMPT)
    api = api_as(quiz.owner)

    changed = api.patch(f"/api/quizzes/{quiz.pk}/", {"answers_shown": "after_close"}, format="json")
    refused = api.patch(f"/api/quizzes/{quiz.pk}/", {"answers_shown": "never"}, format="json")

    assert changed.status_code == 200 and changed.json()["answers_shown"] == "after_close"
    assert refused.status_code == 400 and list(refused.json()["error"]["fields"]) == ["answers_shown"]
    quiz.refresh_from_db()
    assert quiz.answers_shown == Quiz.AFTER_CLOSE
