"""Quiz times are entered and shown in the instructor's time zone, stored in UTC, and shown to each
student in theirs (apps.accounts.middleware activates the zone; the API speaks UTC with offsets)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.quizzes.models import Quiz
from tests import factories
from tests.quizzes.helpers import CAPTIONS, joined, quiz_from

pytestmark = pytest.mark.django_db

SETTINGS = {"title": "Timed quiz", "attempts_allowed": 1, "answers_shown": "after_close"}


def test_an_instructor_enters_times_in_their_zone_and_they_are_stored_in_utc(client):
    teacher = factories.user(role="instructor", time_zone="America/New_York")
    quiz = quiz_from(teacher, factories.images(*CAPTIONS))
    client.force_login(teacher)

    saved = client.post(
        reverse("quizzes:manage", args=[quiz.pk]),
        {**SETTINGS, "opens_at": "2027-01-15T09:00", "closes_at": "2027-07-15T17:30"},
    )

    assert saved.status_code == 302
    quiz.refresh_from_db()
    assert quiz.opens_at == datetime(2027, 1, 15, 14, 0, tzinfo=UTC)  # EST, UTC-5
    assert quiz.closes_at == datetime(2027, 7, 15, 21, 30, tzinfo=UTC)  # EDT, UTC-4
    page = client.get(reverse("quizzes:manage", args=[quiz.pk])).content.decode()
    assert 'value="2027-01-15T09:00"' in page and 'value="2027-07-15T17:30"' in page
    assert "Times are in your time zone, America/New_York" in page
    assert "It opens on Jan. 15, 2027, 9 a.m. (America/New_York)." in page


def test_each_student_sees_the_times_in_their_own_zone(client):
    teacher = factories.user(role="instructor", time_zone="America/New_York")
    opens = datetime(2027, 1, 15, 14, 0, tzinfo=UTC)
    quiz = quiz_from(teacher, factories.images(*CAPTIONS), opens_at=opens)
    tokyo = joined(quiz, factories.user(time_zone="Asia/Tokyo"))
    server = joined(quiz)  # no zone of their own: the server's (UTC in the tests)
    url = reverse("quizzes:detail", args=[quiz.pk])

    client.force_login(tokyo)
    in_tokyo = client.get(url).content.decode()
    client.force_login(server)
    in_utc = client.get(url).content.decode()

    assert "This quiz opens on Jan. 15, 2027, 11 p.m. (Asia/Tokyo)." in in_tokyo
    assert "This quiz opens on Jan. 15, 2027, 2 p.m. (UTC)." in in_utc  # the zone does not stick
    refused = client.post(reverse("quizzes:start", args=[quiz.pk]))
    assert refused.status_code == 403 and "opens on Jan. 15, 2027, 2 p.m. (UTC)" in refused.content.decode()


def test_the_api_speaks_utc_whatever_the_users_zone(client):
    teacher = factories.user(role="instructor", time_zone="Asia/Tokyo")
    quiz = quiz_from(teacher, factories.images(*CAPTIONS))
    client.force_login(teacher)  # a session too: the API ignores the zone for it as for a token

    changed = client.patch(
        reverse("api:quizzes-detail", args=[quiz.pk]),
        {"closes_at": "2027-03-01T12:00"},
        content_type="application/json",
    )

    assert changed.status_code == 200
    assert Quiz.objects.get(pk=quiz.pk).closes_at == datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    assert changed.json()["closes_at"] in ("2027-03-01T12:00:00Z", "2027-03-01T12:00:00+00:00")
