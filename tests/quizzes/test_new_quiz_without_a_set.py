"""An instructor with no study set is shown how to make one from search results, not a dead end."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.quizzes.helpers import instructor
from tests.studysets.helpers import studyset

pytestmark = pytest.mark.django_db


def test_new_quiz_without_a_study_set_explains_the_steps_and_links_to_search(client):
    client.force_login(instructor())

    response = client.get(reverse("quizzes:create"))

    page = response.content.decode()
    assert response.status_code == 200 and "First, a study set" in page
    search = reverse("search:search")
    assert f'<a href="{search}">Search</a> for the topic of your quiz' in page
    assert f'<form method="get" action="{search}"' in page and 'name="q"' in page
    assert "Save to study set" in page and reverse("studysets:public") in page
    assert "Build quiz" not in page  # no form that could only fail


def test_an_empty_study_set_is_refused_with_the_way_to_fill_it(client):
    teacher = instructor()
    empty = studyset(teacher, [], title="Empty")
    client.force_login(teacher)

    response = client.post(reverse("quizzes:create"), {"studyset": empty.pk, "kinds": ["what"]})

    page = response.content.decode()
    assert response.status_code == 409 and "save some images into it first" in page
    assert f'<a href="{reverse("search:search")}">Search</a> and press “Save to study set”' in page
