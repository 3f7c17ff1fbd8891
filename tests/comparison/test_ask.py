"""One screen per question: from a search or a comparison, one action gives each column its results, its
description and a synthetic image, each part appearing when its job has finished."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.generation.models import Job
from apps.generation.worker import process_one
from apps.search.filters import Filters
from apps.search.params import Arithmetic
from apps.search.selectors import arithmetic_search
from tests import factories
from tests.generation.conftest import (  # noqa: F401 (fixtures)
    SCRIPTED_ANSWER,
    _one_torch_thread,
    tiny_lm_dir,
    tiny_lora_dir,
    tiny_models,
    tiny_sd_dir,
)

pytestmark = pytest.mark.django_db

CAPTIONS = [
    "Chest radiograph showing right lower lobe pneumonia with consolidation.",
    "Normal chest radiograph with clear lungs.",
    "Chest radiograph showing a pacemaker generator and leads.",
    "Axial CT of the abdomen with a liver mass.",
    "Ultrasound of the thyroid with a nodule.",
]
ANSWER = SCRIPTED_ANSWER.strip().removesuffix(" [1].")  # "Air in the pleural space"
ASK = reverse("comparison:ask")


@pytest.fixture(autouse=True)
def _models_installed(tiny_models):  # noqa: F811 (the fixture)
    """The tiny language and diffusion models, installed as an administrator's settings name the real ones."""


@pytest.fixture
def corpus():
    images = factories.images(*CAPTIONS)
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    return images


@pytest.fixture
def student(client):
    user = factories.user()
    client.force_login(user)
    return user


def columns(page: str) -> list[str]:
    return re.findall(
        r'<section class="column".*?</section>\s*(?=<section class="column"|</div>\s*<script)', page, re.S
    )


def captions_in(column: str) -> list[str]:
    return re.findall(r'<p class="caption"><a href="[^"]+">([^<]+)</a>', column)


def ask(client, **params):
    """Press "Describe and illustrate" with these search parameters; the page it comes back to."""
    response = client.post(ASK, params)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def run_all_jobs() -> list[Job]:
    done = []
    while (job := process_one()) is not None:
        done.append(job)
    return done


def test_a_search_offers_one_action_that_asks_it_on_one_screen(client, corpus, student):
    page = client.get(reverse("search:search"), {"q": "pneumonia", "k": "2", "page": "1"}).content.decode()

    form = re.search(r'<form method="post" action="/compare/ask/">.*?</form>', page, re.S).group(0)
    assert 'name="mode" value="one"' in form and 'name="q" value="pneumonia"' in form
    assert 'name="page"' not in form
    assert "Describe and illustrate on one screen" in form


def test_one_action_gives_the_results_then_the_description_and_the_image_as_their_jobs_finish(
    client, corpus, student
):
    location = ask(client, mode="one", q="pneumonia", k="2")
    jobs = parse_qs(urlsplit(location).query)
    describe = Job.objects.get(pk=jobs["describe"][0])
    image = Job.objects.get(pk=jobs["image"][0])
    assert (describe.kind, image.kind) == (Job.DESCRIBE, Job.GENERATE)
    assert describe.params["items"][0]["query"] == "pneumonia" and image.params["prompt"] == "pneumonia"

    waiting = client.get(location).content.decode()
    (column,) = columns(waiting)
    assert captions_in(column)[0] == CAPTIONS[0]  # the results come at once …
    assert column.count("<strong>Queued</strong>") == 2  # … the other parts are on their way
    assert ANSWER not in waiting and "<figure>" not in column
    assert '<noscript><meta http-equiv="refresh"' in waiting  # without JavaScript it reloads itself
    assert f'hx-get="{reverse("comparison:ask_part", args=[describe.pk, 0])}"' in waiting

    assert {job.status for job in run_all_jobs()} == {Job.SUCCEEDED}

    done = client.get(location).content.decode()
    (column,) = columns(done)
    assert ANSWER in column  # the description, grounded in the column's captions …
    assert CAPTIONS[0] in re.search(r'<ol class="sources">.*?</ol>', column, re.S).group(0)
    figure = re.search(r"<figure>.*?</figure>", column, re.S).group(0)  # … and the synthetic image
    assert "SYNTHETIC" in figure and "Synthetic image generated from the prompt: pneumonia" in figure
    assert "hx-get" not in done and 'http-equiv="refresh"' not in done
    assert client.get(location).content.decode().count("<figure>") == 1  # a reload starts nothing
    assert Job.objects.count() == 2


def test_the_arithmetic_columns_are_described_from_their_own_captions_and_illustrated_as_the_paper_does(
    client, corpus, student
):
    terms = Arithmetic(query="chest radiograph", add="pacemaker", sub="clear lungs")
    _, modified = arithmetic_search(terms=terms, k=3, filters=Filters(origin="real"))

    location = ask(client, mode="arith", q="chest radiograph", add="pacemaker", sub="clear lungs", k="3")
    run_all_jobs()
    left, right = columns(client.get(location).content.decode())

    describe = Job.objects.get(kind=Job.DESCRIBE)
    right_item = describe.params["items"][1]
    assert right_item["query"] == "chest radiograph + pacemaker − clear lungs"
    assert [s["image_id"] for s in right_item["sources"]] == [hit.image.pk for hit in modified.hits]
    prompts = list(
        Job.objects.filter(kind=Job.GENERATE).order_by("pk").values_list("params__prompt", flat=True)
    )
    assert prompts == ["chest radiograph", "chest radiograph pacemaker"]
    # Each column shows its own description, under its own label, and its own image.
    assert (
        "<h2>chest radiograph</h2>" in left and "<h2>chest radiograph + pacemaker − clear lungs</h2>" in right
    )
    assert "pacemaker − clear lungs</h2>" not in left
    assert "from the prompt: chest radiograph pacemaker" in right and "chest radiograph pacemaker" not in left
    assert ANSWER in left and ANSWER in right


def test_a_pair_of_queries_gets_a_description_and_an_image_in_each_column(client, corpus, student):
    location = ask(client, mode="pair", a="pneumonia", b="clear lungs", k="2")
    run_all_jobs()

    left, right = columns(client.get(location).content.decode())

    assert captions_in(left)[0] == CAPTIONS[0] and captions_in(right)[0] == CAPTIONS[1]
    assert "<h2>pneumonia</h2>" in left and "<h2>clear lungs</h2>" in right
    assert "prompt: pneumonia" in left and "prompt: clear lungs" in right


def test_the_comparison_page_offers_the_same_action_for_both_columns(client, corpus, student):
    page = client.get(
        reverse("comparison:compare"), {"mode": "arith", "q": "chest radiograph", "add": "pacemaker"}
    ).content.decode()

    form = re.search(r'<form method="post" action="/compare/ask/">.*?</form>', page, re.S).group(0)
    assert 'name="mode" value="arith"' in form and 'name="add" value="pacemaker"' in form
    assert "Describe and illustrate both columns" in form


def test_logged_out_visitors_get_the_results_and_a_prompt_to_log_in_for_the_rest(client, corpus):
    search = client.get(reverse("search:search"), {"q": "pneumonia"}).content.decode()
    link = re.search(r'<a href="(/compare/ask/\?[^"]+)">Describe and illustrate', search).group(1)

    page = client.get(link.replace("&amp;", "&")).content.decode()

    (column,) = columns(page)
    assert captions_in(column)[0] == CAPTIONS[0]
    assert re.search(r'<a href="/accounts/login/\?next=[^"]+">Log in</a> to get a description', page)
    assert '<form method="post" action="/compare/ask/">' not in page
    assert client.post(ASK, {"mode": "one", "q": "pneumonia"}).status_code == 302
    assert not Job.objects.exists()


def test_what_the_server_cannot_run_is_not_offered_and_is_said_in_one_plain_sentence(
    client, corpus, student, settings, tmp_path
):
    settings.MIRAGE_DIFFUSION_MODEL = str(tmp_path / "no-such-model")

    location = ask(client, mode="one", q="pneumonia")
    page = client.get(location).content.decode()

    assert "Generating images is not available on this server." in page
    assert "models pull diffusion" not in page  # no administrator's command for a student
    assert Job.objects.filter(kind=Job.GENERATE).count() == 0
    assert Job.objects.filter(kind=Job.DESCRIBE).count() == 1
    assert (
        "Describe on one screen" in client.get(reverse("search:search"), {"q": "pneumonia"}).content.decode()
    )


def test_a_part_refused_by_a_quota_is_told_and_the_other_parts_still_start(client, corpus, student, settings):
    settings.MIRAGE_JOBS_ACTIVE_PER_USER = 2

    location = ask(client, mode="pair", a="pneumonia", b="clear lungs")
    page = client.get(location).content.decode()

    assert Job.objects.count() == 2  # the description and the left image
    assert "The image of “clear lungs” was not started: You already have 2 jobs waiting or running" in page
    left, right = columns(page)
    assert "ask-image-1" in left and "ask-image-2" not in right


def test_a_part_polls_alone_and_shows_only_its_own_column(client, corpus, student):
    location = ask(client, mode="pair", a="pneumonia", b="clear lungs")
    describe = int(parse_qs(urlsplit(location).query)["describe"][0])
    run_all_jobs()

    right = client.get(reverse("comparison:ask_part", args=[describe, 1])).content.decode()

    assert right.startswith('<section id="ask-describe-2"') or 'id="ask-describe-2"' in right
    assert "<h2>clear lungs</h2>" in right and "<h2>pneumonia</h2>" not in right


def test_no_one_else_sees_the_jobs_of_a_shared_question(client, corpus, student):
    location = ask(client, mode="one", q="pneumonia")
    describe = int(parse_qs(urlsplit(location).query)["describe"][0])
    run_all_jobs()
    client.force_login(factories.user())

    page = client.get(location).content.decode()

    (column,) = columns(page)
    assert captions_in(column)[0] == CAPTIONS[0]  # the results, yes …
    assert ANSWER not in page and "<figure>" not in page  # … the asker's description and image, no
    assert "Describe and illustrate on one screen" in page  # they may ask it themselves
    assert client.get(reverse("comparison:ask_part", args=[describe, 0])).status_code == 404


def test_a_bad_question_gets_one_clear_message(client, corpus, student):
    response = client.post(ASK, {"mode": "pair", "a": "pneumonia", "b": ""})

    assert response.status_code == 400
    assert not Job.objects.exists()
