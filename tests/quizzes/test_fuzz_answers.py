"""Property-based tests (hypothesis): whatever a student's browser or client sends as answers — through
the page's form or the API's JSON — the hand-in ends in a score or one clean 4xx error, never a 500."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.quizzes.models import Attempt
from apps.quizzes.services import attempt_start
from tests import factories
from tests.quizzes.helpers import CAPTIONS, instructor, joined, quiz_from, right_answers

pytestmark = pytest.mark.django_db
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def taking():
    """A student with an attempt begun on a published four-question quiz, and their two clients."""
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS))
    student = joined(quiz)
    attempt = attempt_start(quiz=quiz, user=student)
    page, api = Client(), factories.api_as(student)
    page.force_login(student)
    return {"attempt": attempt, "page": page, "api": api, "right": right_answers(attempt)}


def ids(taking):
    """Ids a client might send: the attempt's real questions and options, and any integer at all."""
    real = sorted({*taking["right"], *taking["right"].values()})
    return st.one_of(st.sampled_from(real), st.integers(min_value=-(2**70), max_value=2**70))


def handed_in(attempt: Attempt, response) -> None:
    """The outcome is a score or a clean error, and the attempt agrees with it."""
    attempt.refresh_from_db()
    assert response.status_code < 500
    if response.status_code < 400:
        assert attempt.is_submitted and 0 <= attempt.score <= attempt.max_score == 4
    else:
        assert not attempt.is_submitted


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=8),
)


@FUZZ
@given(data=st.data())
@example(data=None)
def test_any_answers_posted_through_the_page_give_a_score_or_a_clean_error(taking, data):
    attempt = taking["attempt"]
    if data is None:  # the right answers, as a check that the property can see a success
        form = {f"q-{q}": str(o) for q, o in taking["right"].items()}
    else:
        key = st.one_of(ids(taking).map(lambda n: f"q-{n}"), st.text(max_size=10))
        value = st.one_of(ids(taking).map(str), st.text(max_size=10))
        form = data.draw(st.dictionaries(key, value, max_size=6))
    with transaction.atomic():  # each example starts from the same unanswered attempt
        # Blanks confirmed, as "Hand in anyway" does (asking first is tested on its own).
        response = taking["page"].post(f"/quizzes/attempts/{attempt.pk}/", {**form, "blanks": "hand-in"})
        handed_in(attempt, response)
        if data is None:
            assert attempt.score == 4
        transaction.set_rollback(True)


@FUZZ
@given(data=st.data())
def test_any_json_sent_to_the_api_gives_a_score_or_a_clean_error(taking, data):
    attempt = taking["attempt"]
    answer = st.fixed_dictionaries(
        {}, optional={"question": st.one_of(ids(taking), SCALARS), "option": st.one_of(ids(taking), SCALARS)}
    )
    body = data.draw(
        st.one_of(
            st.fixed_dictionaries({"answers": st.lists(st.one_of(answer, SCALARS), max_size=5)}),
            st.dictionaries(st.text(max_size=8), SCALARS, max_size=3),
            SCALARS,
        )
    )
    with transaction.atomic():
        response = taking["api"].post(
            f"/api/quizzes/attempts/{attempt.pk}/submit/",
            json.dumps(body, allow_nan=True),
            content_type="application/json",
        )
        handed_in(attempt, response)
        if response.status_code >= 400:
            assert response.json()["error"]["message"]
        transaction.set_rollback(True)
