"""Quiz pages through Django's test client: build, edit, publish, join, take, feedback, results."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.quizzes.models import Attempt, Quiz
from apps.quizzes.services import attempt_start
from tests import factories
from tests.quizzes.helpers import CAPTIONS, instructor, joined, quiz_from, right_answers
from tests.studysets.helpers import studyset

pytestmark = pytest.mark.django_db


def test_an_instructor_builds_edits_and_publishes_a_quiz_from_a_study_set(client):
    teacher = instructor()
    source = studyset(teacher, factories.images(*CAPTIONS), title="Emergencies")
    client.force_login(teacher)
    assert (
        "Build a quiz from this set"
        in client.get(reverse("studysets:detail", args=[source.pk])).content.decode()
    )
    form = client.get(reverse("quizzes:create"), {"studyset": source.pk}).content.decode()
    assert f'<option value="{source.pk}" selected>Emergencies</option>' in form

    built = client.post(reverse("quizzes:create"), {"studyset": source.pk, "kinds": ["what"], "count": 3})
    quiz = Quiz.objects.get()
    assert built.url == reverse("quizzes:manage", args=[quiz.pk]) and quiz.questions.count() == 3

    question = quiz.questions.first()
    edited = client.post(
        reverse("quizzes:question_edit", args=[quiz.pk, question.pk]),
        {
            "prompt": "What is the main finding?",
            "explanation": "A visceral pleural line without lung markings beyond it.",
            "correct": "2",
            **{
                f"option_{i}": text
                for i, text in enumerate(["Effusion", "Pneumonia", "Pneumothorax", "Normal"])
            },
        },
    )
    assert edited.status_code == 302
    assert question.options.get(is_correct=True).text == "Pneumothorax"

    refused = client.post(
        reverse("quizzes:question_edit", args=[quiz.pk, question.pk]), {"prompt": "", "correct": "0"}
    )
    assert refused.status_code == 400 and 'role="alert"' in refused.content.decode()

    opens = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    saved = client.post(
        reverse("quizzes:manage", args=[quiz.pk]),
        {
            "title": "Emergency quiz",
            "opens_at": opens,
            "attempts_allowed": 2,
            "shuffle_options": "on",
            "answers_shown": "after_close",
        },
    )
    quiz.refresh_from_db()
    assert saved.status_code == 302 and quiz.attempts_allowed == 2 and quiz.opens_at is not None
    assert not quiz.shuffle_questions and quiz.shuffle_options and quiz.answers_shown == Quiz.AFTER_CLOSE

    client.post(reverse("quizzes:publish", args=[quiz.pk]))
    quiz.refresh_from_db()
    manage = client.get(reverse("quizzes:manage", args=[quiz.pk])).content.decode()
    assert quiz.join_code in manage and "It opens on" in manage


def test_a_bad_setting_shows_a_message_and_keeps_the_quiz_as_it_was(client):
    teacher = instructor()
    quiz = quiz_from(teacher, factories.images(*CAPTIONS))
    client.force_login(teacher)

    response = client.post(
        reverse("quizzes:manage", args=[quiz.pk]),
        {
            "title": "Quiz",
            "opens_at": "2030-01-02T10:00",
            "closes_at": "2030-01-01T10:00",
            "attempts_allowed": 1,
            "answers_shown": "after_attempt",
        },
    )

    assert response.status_code == 400 and "after the opening time" in response.content.decode()
    quiz.refresh_from_db()
    assert quiz.opens_at is None


def test_a_student_joins_takes_the_quiz_and_sees_score_and_explanations(client):
    images = factories.images(
        *CAPTIONS, article_url="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3970251/", pmc_id="PMC3970251"
    )
    quiz = quiz_from(instructor(), images)
    student = factories.user()
    client.force_login(student)

    wrong = client.post(reverse("quizzes:join"), {"code": "AAAAAA"})
    assert wrong.status_code == 404 and "No quiz has the code" in wrong.content.decode()
    joined_ = client.post(reverse("quizzes:join"), {"code": quiz.join_code.lower()})
    assert joined_.url == reverse("quizzes:detail", args=[quiz.pk])
    assert "Start attempt 1 of 1" in client.get(joined_.url).content.decode()

    started = client.post(reverse("quizzes:start", args=[quiz.pk]))
    attempt = Attempt.objects.get()
    assert started.url == reverse("quizzes:attempt", args=[attempt.pk])
    choices = re.findall(r'type="radio" id="(q\d+-o\d+)"', client.get(started.url).content.decode())
    assert len(choices) == 3 * 4 + 2  # what, which, true/false, what
    reloaded = re.findall(r'type="radio" id="(q\d+-o\d+)"', client.get(started.url).content.decode())
    assert reloaded == choices  # a reload shows the same order

    answers = {f"q-{q}": o for q, o in right_answers(attempt).items()}
    answers.pop(f"q-{attempt.question_ids[0]}")
    handed_in = client.post(started.url, {**answers, "blanks": "hand-in"})
    assert handed_in.url == started.url
    feedback = client.get(started.url).content.decode()
    assert "Score: 3 / 4 (75%)" in feedback and "Not answered" in feedback
    assert CAPTIONS[0] in feedback and "Source article (PMC3970251)" in feedback

    again = client.post(reverse("quizzes:start", args=[quiz.pk]))
    assert again.status_code == 403 and "used all 1 attempt" in again.content.decode()


def test_a_quiz_not_yet_open_or_closed_says_so_and_refuses_to_start(client):
    now = timezone.now()
    later = quiz_from(instructor(), factories.images(*CAPTIONS), opens_at=now + timedelta(days=1))
    closed = quiz_from(instructor(), factories.images(*CAPTIONS), closes_at=now + timedelta(minutes=1))
    student = joined(later)
    joined(closed, student)
    Quiz.objects.filter(pk=closed.pk).update(closes_at=now - timedelta(minutes=1))
    client.force_login(student)

    for quiz, message in ((later, "This quiz opens on"), (closed, "This quiz closed on")):
        assert message in client.get(reverse("quizzes:detail", args=[quiz.pk])).content.decode()
        refused = client.post(reverse("quizzes:start", args=[quiz.pk]))
        assert refused.status_code == 403 and message in refused.content.decode()
    assert not Attempt.objects.exists()


def test_answers_handed_in_too_late_are_refused_but_shown_again_not_lost(client, settings):
    settings.MIRAGE_QUIZ_SUBMIT_GRACE_MINUTES = 0
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS), closes_at=timezone.now() + timedelta(hours=1))
    student = joined(quiz)
    attempt = attempt_start(quiz=quiz, user=student)
    Quiz.objects.filter(pk=quiz.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    question_id, option_id = next(iter(right_answers(attempt).items()))
    client.force_login(student)

    response = client.post(
        reverse("quizzes:attempt", args=[attempt.pk]), {f"q-{question_id}": option_id, "blanks": "hand-in"}
    )

    page = response.content.decode()
    assert response.status_code == 403 and "can no longer be handed in" in page
    assert re.search(rf'value="{option_id}" checked', page)


def test_the_instructor_sees_scores_per_student_and_difficulty_per_question_and_exports_them(client):
    teacher = instructor()
    quiz = quiz_from(teacher, factories.images(*CAPTIONS))
    ana = joined(quiz, factories.user("ana"))
    attempt = attempt_start(quiz=quiz, user=ana)
    from apps.quizzes.services import quiz_submit

    quiz_submit(attempt=attempt, answers=right_answers(attempt))
    client.force_login(teacher)

    page = client.get(reverse("quizzes:results", args=[quiz.pk])).content.decode()
    assert "ana" in page and "4 / 4 (100%)" in page and "100%" in page
    assert client.get(reverse("quizzes:attempt", args=[attempt.pk])).status_code == 200  # her feedback

    scores = list(
        csv.DictReader(
            io.StringIO(client.get(reverse("quizzes:scores_csv", args=[quiz.pk])).content.decode())
        )
    )
    assert [(r["student"], r["attempt"], r["score"], r["max_score"], r["percent"]) for r in scores] == [
        ("ana", "1", "4", "4", "100")
    ]
    questions_csv = client.get(reverse("quizzes:questions_csv", args=[quiz.pk]))
    assert "attachment;" in questions_csv["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(questions_csv.content.decode())))
    assert [(r["question"], r["answered"], r["correct"], r["share_correct"]) for r in rows][0] == (
        "1",
        "1",
        "1",
        "1.000",
    )


def test_the_quizzes_page_shows_instructors_their_quizzes_and_students_the_join_form(client):
    teacher = instructor()
    quiz = quiz_from(teacher, factories.images(*CAPTIONS))
    client.force_login(teacher)
    assert quiz.join_code in client.get(reverse("quizzes:index")).content.decode()

    client.force_login(factories.user())
    page = client.get(reverse("quizzes:index")).content.decode()
    assert "Join quiz" in page and "Your quizzes" not in page
    assert reverse("quizzes:index") in client.get(reverse("search:search")).content.decode()  # nav link


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_digit_that_is_not_a_number_is_a_clear_400_not_a_crash(client, method):
    client.force_login(instructor())
    response = getattr(client, method)(reverse("quizzes:create"), {"studyset": "²"})
    assert response.status_code == 400
    assert "No study set has that number" in response.content.decode()
    assert not Quiz.objects.exists()
