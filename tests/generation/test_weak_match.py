"""A description warns before the answer when its captions match the request only weakly: the search's
own judgement (its similarity floors), one rule for results and descriptions."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.generation.models import Job
from apps.generation.selectors import description_preview
from apps.generation.worker import process_one
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    factories.images(
        "Chest radiograph showing a right-sided pneumothorax.",
        "Axial CT of the abdomen with a liver mass.",
    )
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())


def test_captions_far_from_the_request_are_weak_and_close_ones_are_not(corpus):
    close, far = description_preview(queries=["pneumothorax on a chest radiograph", "xyzzyqwerty"], k=1)

    assert close["sources"] and not close["weak"]
    assert far["weak"] and not far["sources"]  # nothing above the floor: nothing to ground a description in


def test_the_describe_page_warns_before_the_answer_when_the_match_is_weak(client, corpus):
    client.force_login(factories.user())

    # Found by the caption meaning alone, not by its words: a weak match with a source to show.
    weak = client.get(reverse("generation:describe"), {"q": "collapsed lung", "k": "1"}).content.decode()
    strong = client.get(
        reverse("generation:describe"), {"q": "pneumothorax chest radiograph"}
    ).content.decode()

    assert "only weakly" in weak and "pneumothorax" in weak
    assert "only weakly" not in strong


def test_a_request_nothing_matches_has_no_captions_and_says_so(client, corpus):
    client.force_login(factories.user())

    page = client.get(reverse("generation:describe"), {"q": "xyzzyqwerty"}).content.decode()

    assert "No image captions matched" in page


# --- Describe in one click from a result page --------------------------------------------------------


def describe_form(page: str) -> str:
    return page.split('class="actions search-actions"')[1].split("</div>")[0]


def test_the_results_page_describes_in_one_post_with_its_csrf_token(client, corpus, tiny_models):
    client.force_login(factories.user())

    form = describe_form(client.get(reverse("search:search"), {"q": "pneumothorax"}).content.decode())

    assert f'<form method="post" action="{reverse("generation:describe")}">' in form
    assert 'name="csrfmiddlewaretoken"' in form and 'name="ask_if_weak" value="1"' in form


def test_a_good_match_is_queued_at_once_and_lands_on_the_job_page(client, corpus, tiny_models):
    client.force_login(factories.user())

    response = client.post(
        reverse("generation:describe"), {"q": "pneumothorax chest radiograph", "k": "3", "ask_if_weak": "1"}
    )

    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("generation:job", args=[job.pk])
    assert job.params["items"][0]["weak"] is False


def test_a_weak_match_asks_first_and_queues_nothing(client, corpus, tiny_models):
    client.force_login(factories.user())

    response = client.post(
        reverse("generation:describe"), {"q": "collapsed lung", "k": "1", "ask_if_weak": "1"}
    )

    page = response.content.decode()
    assert response.status_code == 200 and not Job.objects.exists()
    assert page.index("only weakly") < page.index("Write it anyway</button>")  # the warning comes first
    assert "Don't write it: search with other words" in page and '<p class="answer">' not in page
    assert "Chest radiograph showing a right-sided pneumothorax." in page  # the captions it would use
    assert 'name="ask_if_weak"' not in page  # "Write it anyway" posts the same form without asking


def test_written_anyway_the_answer_comes_under_the_warning_and_names_its_model(client, corpus, tiny_models):
    client.force_login(factories.user())
    response = client.post(reverse("generation:describe"), {"q": "collapsed lung", "k": "1"})
    job = process_one()

    page = client.get(response["Location"]).content.decode()

    assert job.status == Job.SUCCEEDED and job.params["items"][0]["weak"] is True
    assert page.index("match <q>collapsed lung</q> only weakly") < page.index('<p class="answer">')
    assert "Written by <strong" in page and "(the offline fallback)" not in page


def test_a_visitor_is_offered_to_log_in_and_come_back_to_the_captions(client, corpus):
    page = client.get(reverse("search:search"), {"q": "pneumothorax"}).content.decode()

    form = describe_form(page)
    assert 'method="post"' not in form
    back = quote(f"{reverse('generation:describe')}?q=pneumothorax", safe="")
    assert f"{reverse('accounts:login')}?next={back}" in form


def test_the_api_preview_says_weak_and_a_start_unless_weak_starts_nothing(corpus, tiny_models):
    api = factories.api_as(factories.user())

    preview = api.get(reverse("api:generation-describe-preview"), {"q": "collapsed lung", "k": 1}).json()
    refused = api.post(
        reverse("api:generation-describe"),
        {"q": "collapsed lung", "k": 1, "unless_weak": True},
        format="json",
    )
    nothing_started = not Job.objects.exists()
    anyway = api.post(reverse("api:generation-describe"), {"q": "collapsed lung", "k": 1}, format="json")

    assert preview[0]["weak"] is True and preview[0]["sources"]
    assert "only weakly" in factories.assert_error(refused, 409, "conflict")["message"] and nothing_started
    assert anyway.status_code == 201 and Job.objects.get().params["items"][0]["weak"] is True
