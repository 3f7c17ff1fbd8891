"""Students never read administration commands or model ids: a way of searching this server cannot run
is one plain sentence for them, and its reason (model id, command) is for staff and `models check`."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.corpus.spaces import CLIP
from apps.search.params import Arithmetic, QueryError
from apps.search.selectors import PICTURE_UNAVAILABLE, UNAVAILABLE, arithmetic_search
from tests import factories

pytestmark = pytest.mark.django_db

ADMIN_WORDS = ("manage.py", "models pull", "hf-hub:", "luhuitong")
CAPTIONS = ["Chest radiograph with a pneumothorax.", "Axial CT of the head.", "Ultrasound of the liver."]


def embed(*args: str) -> None:
    call_command("embed", *args, stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def caption_corpus():
    images = factories.images(*CAPTIONS)
    embed("--space", "caption")
    return images


def test_a_student_searching_without_clip_reads_one_plain_sentence_and_no_admin_words(client, caption_corpus):
    client.force_login(factories.user())

    page = client.get(reverse("search:search"), {"q": "pneumothorax"}).content.decode()

    assert UNAVAILABLE[CLIP] in page and "pneumothorax" in page
    assert not [word for word in ADMIN_WORDS if word in page]


def test_staff_also_read_which_model_is_missing_and_what_installs_it(client, caption_corpus):
    client.force_login(factories.user(is_staff=True))

    page = client.get(reverse("search:search"), {"q": "pneumothorax"}).content.decode()

    assert '<p class="notice admin-only">Administrators: CLIP image space: hf-hub:luhuitong/' in page
    assert "manage.py models pull" in page


def test_the_api_gives_the_same_plain_notice(client, caption_corpus):
    body = client.get("/api/search/", {"q": "pneumothorax"}).json()

    assert body["notices"] == [UNAVAILABLE[CLIP]]


def test_without_clip_the_picture_form_is_disabled_with_one_sentence(client):
    client.force_login(factories.user())

    page = client.get(reverse("search:search")).content.decode()

    assert f'<p class="notice unavailable">{PICTURE_UNAVAILABLE}</p>' in page
    assert '<fieldset class="plain" disabled>' in page


def test_with_clip_installed_the_picture_form_is_offered(client, settings, tiny_clip_dir):
    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    factories.images(*CAPTIONS)
    embed()

    page = client.get(reverse("search:search")).content.decode()

    assert '<fieldset class="plain">' in page and PICTURE_UNAVAILABLE not in page


def test_the_papers_ranking_and_more_like_this_without_an_index_say_so_plainly(client):
    (image,) = factories.images("Chest radiograph with a pneumothorax.")

    paper = client.get(reverse("search:search"), {"q": "chest", "ranking": "paper"})
    similar = client.get(reverse("search:similar", args=[image.pk]))
    with pytest.raises(QueryError) as arithmetic:
        arithmetic_search(terms=Arithmetic(query="chest", add="effusion"))

    assert paper.status_code == similar.status_code == arithmetic.value.status == 409
    assert "which is not available on this server; choose the fused ranking" in paper.content.decode()
    assert "it has not been indexed yet" in similar.content.decode()
    assert "not available on this server" in str(arithmetic.value)
    for text in (paper.content.decode(), similar.content.decode(), str(arithmetic.value)):
        assert not [word for word in ADMIN_WORDS if word in text]


def test_an_instructor_reads_no_command_on_the_ratings_page_and_staff_do(client):
    client.force_login(factories.user(role="instructor"))
    instructor = client.get(reverse("search:ratings")).content.decode()
    client.force_login(factories.user(is_staff=True))
    staff = client.get(reverse("search:ratings")).content.decode()

    assert "An administrator can score the search's rankings" in instructor and "manage.py" not in instructor
    assert "manage.py evaluate_retrieval --qrels FILE" in staff
