"""Who may open, take and manage a quiz: its instructor, a student who joined, a student who did
not, another instructor, a moderator and an anonymous visitor, through every page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.quizzes.models import Quiz
from apps.quizzes.services import attempt_start
from tests import factories
from tests.quizzes.helpers import CAPTIONS, joined, quiz_from

pytestmark = pytest.mark.django_db

OUTSIDERS = ["student", "instructor", "moderator"]


@pytest.fixture
def world():
    owner = factories.user(role="instructor")
    quiz = quiz_from(owner, factories.images(*CAPTIONS))
    participant = joined(quiz)
    return {
        "quiz": quiz,
        "attempt": attempt_start(quiz=quiz, user=participant),
        "owner": owner,
        "participant": participant,
        "student": factories.user(),
        "instructor": factories.user(role="instructor"),
        "moderator": factories.user(role="moderator"),
    }


def manage_requests(quiz: Quiz):
    question = quiz.questions.first()
    return [
        ("get", reverse("quizzes:manage", args=[quiz.pk]), {}),
        (
            "post",
            reverse("quizzes:manage", args=[quiz.pk]),
            {"title": "Taken over", "attempts_allowed": 9, "answers_shown": "after_attempt"},
        ),
        ("get", reverse("quizzes:results", args=[quiz.pk]), {}),
        ("get", reverse("quizzes:scores_csv", args=[quiz.pk]), {}),
        ("get", reverse("quizzes:questions_csv", args=[quiz.pk]), {}),
        ("post", reverse("quizzes:publish", args=[quiz.pk]), {}),
        ("get", reverse("quizzes:question_edit", args=[quiz.pk, question.pk]), {}),
        ("post", reverse("quizzes:question_delete", args=[quiz.pk, question.pk]), {}),
        ("get", reverse("quizzes:delete", args=[quiz.pk]), {}),
        ("post", reverse("quizzes:delete", args=[quiz.pk]), {}),
    ]


@pytest.mark.parametrize("role", ["owner", "participant", *OUTSIDERS])
def test_the_quiz_page_opens_for_its_instructor_and_the_students_who_joined(client, world, role):
    client.force_login(world[role])
    response = client.get(reverse("quizzes:detail", args=[world["quiz"].pk]))
    assert response.status_code == (200 if role in ("owner", "participant") else 404)


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_cannot_see_manage_or_start_a_quiz(client, world, role):
    client.force_login(world[role])
    quiz = world["quiz"]
    for method, url, data in [*manage_requests(quiz), ("post", reverse("quizzes:start", args=[quiz.pk]), {})]:
        assert getattr(client, method)(url, data).status_code == 404, url
    quiz.refresh_from_db()
    assert quiz.title != "Taken over" and quiz.questions.count() == 4


def test_a_student_who_joined_may_take_but_not_manage_the_quiz(client, world):
    client.force_login(world["participant"])
    for method, url, data in manage_requests(world["quiz"]):
        assert getattr(client, method)(url, data).status_code == 403, url
    assert Quiz.objects.get().questions.count() == 4


def test_the_instructor_manages_their_quiz(client, world):
    client.force_login(world["owner"])
    for method, url, data in manage_requests(world["quiz"]):
        # 409: a question of a quiz already taken stays (the rule, not access, refuses it)
        assert getattr(client, method)(url, data).status_code in (200, 302, 409), url
    assert not Quiz.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in_everywhere(client, world):
    quiz = world["quiz"]
    urls = [
        *manage_requests(quiz),
        ("get", reverse("quizzes:index"), {}),
        ("get", reverse("quizzes:join"), {}),
        ("post", reverse("quizzes:join"), {"code": quiz.join_code}),
        ("get", reverse("quizzes:create"), {}),
        ("get", reverse("quizzes:detail", args=[quiz.pk]), {}),
        ("post", reverse("quizzes:start", args=[quiz.pk]), {}),
        ("get", reverse("quizzes:attempt", args=[world["attempt"].pk]), {}),
    ]
    for method, url, data in urls:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login")), url


@pytest.mark.parametrize("role", ["participant", "owner", *OUTSIDERS])
def test_an_attempt_is_seen_by_its_student_and_the_instructor_and_handed_in_only_by_the_student(
    client, world, role
):
    client.force_login(world[role])
    url = reverse("quizzes:attempt", args=[world["attempt"].pk])

    seen = client.get(url).status_code
    handed_in = client.post(url, {"blanks": "hand-in"}).status_code

    expected = {"participant": (200, 302), "owner": (200, 403)}.get(role, (404, 404))
    assert (seen, handed_in) == expected


@pytest.mark.parametrize("role", ["student", "moderator"])
def test_only_instructors_may_build_quizzes(client, world, role):
    client.force_login(world[role])
    response = client.get(reverse("quizzes:create"))
    assert response.status_code == 403 and "Only instructors" in response.content.decode()


def test_an_instructor_cannot_build_from_another_users_private_set(client, world):
    from tests.studysets.helpers import studyset

    private = studyset(world["student"], factories.images("Chest X-ray."), title="Private set")
    client.force_login(world["instructor"])

    response = client.post(reverse("quizzes:create"), {"studyset": private.pk, "kinds": ["what"]})

    assert response.status_code == 400 and "Private set" not in response.content.decode()
    assert Quiz.objects.count() == 1
