"""Citations checked: each [n] of a description against the captions it was given, the share of its
sentences that cite one stored and shown, and an answer citing none said to be so."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.generation import services
from apps.generation.models import Description, Job
from apps.generation.selectors import captions_key, citation_check
from apps.generation.services import description_store
from apps.generation.worker import process_one
from tests import factories

# What a 3-caption description looks like from a model that cites well, then less well.
CITED = (
    "A pneumothorax is air in the pleural space, seen as a visceral pleural line with no lung markings "
    "beyond it [1]. On CT it shows as a crescent of air around the collapsed lung, e.g. at the apex [2, 3]."
)
PARTLY = (
    "Pleural effusion blunts the costophrenic angle [1]. Large effusions shift the mediastinum away. "
    "Ultrasound shows an anechoic collection measuring 2.5 cm [7]."
)
# What the offline fallback often writes: a fluent answer that names no source.
UNCITED = "Pneumothorax is a collapsed lung. It needs urgent treatment with a chest drain."


def test_every_sentence_of_a_well_cited_answer_cites_a_caption_it_was_given():
    check = citation_check(answer=CITED, sources=3)

    assert len(check.sentences) == 2  # "e.g." ends no sentence
    assert [s.cited for s in check.sentences] == [(1,), (2, 3)]
    assert check.cited_share == 1.0 and check.out_of_range == [] and check.has_citations


def test_a_citation_out_of_range_and_a_sentence_without_one_are_found():
    check = citation_check(answer=PARTLY, sources=3)

    assert [s.text for s in check.sentences][1] == "Large effusions shift the mediastinum away."
    assert check.out_of_range == [7]  # "2.5 cm" ends no sentence and [7] is no caption of three
    assert check.uncited == ["Large effusions shift the mediastinum away.", check.sentences[2].text]
    assert check.cited_share == pytest.approx(1 / 3, abs=0.001)


def test_an_answer_with_no_citation_at_all_says_so():
    check = citation_check(answer=UNCITED, sources=3)

    assert not check.has_citations and check.cited_share == 0.0 and len(check.uncited) == 2


def test_citations_after_the_full_stop_lists_and_ranges_belong_to_their_sentence():
    answer = (
        "Ground-glass opacity fills both lungs. [1] Air bronchograms are seen.[2–3]\n"
        "- a small effusion [4]\n[1]"
    )

    check = citation_check(answer=answer, sources=3)

    assert [s.cited for s in check.sentences] == [(1,), (2, 3), (1,)]
    assert [s.starts_line for s in check.sentences] == [True, False, True]
    assert check.out_of_range == [4] and check.cited_share == 1.0


def test_an_empty_answer_has_no_share():
    assert citation_check(answer="", sources=3).cited_share is None


def store(answer: str, *, image_ids: list[int], is_fallback: bool = False) -> Description:
    sources = [{"n": n, "image_id": pk, "caption": f"caption {n}"} for n, pk in enumerate(image_ids, 1)]
    return description_store(
        query="pneumothorax",
        k=len(sources),
        sources=sources,
        model_spec="SmolLM2" if is_fallback else "dolly",
        model_label="SmolLM2-135M-Instruct" if is_fallback else "dolly-v2-3b",
        is_fallback=is_fallback,
        prompt="…",
        answer=answer,
        new_tokens=40,
        seconds=1.0,
    )


@pytest.mark.django_db
def test_storing_a_description_stores_its_share_of_cited_sentences():
    images = factories.images("Chest X-ray: pneumothorax.", "CT: pneumothorax.", "CT: apical air.")

    partly = store(PARTLY, image_ids=[image.pk for image in images])

    assert Description.objects.get(pk=partly.pk).cited_share == pytest.approx(0.333)


@pytest.mark.django_db
def test_the_worker_stores_the_share_of_the_answer_it_wrote(client, tiny_models):
    # The tiny language model always answers " Air in the pleural space [1]." (tests/generation/conftest.py).
    factories.images("Chest X-ray: right pneumothorax.")
    client.force_login(factories.user())
    client.post(reverse("generation:describe"), {"q": "pneumothorax", "k": "1"})

    job = process_one()

    description = Description.objects.get(pk=job.result["descriptions"][0])
    assert description.answer.strip() == "Air in the pleural space [1]." and description.cited_share == 1.0


def finished_job(owner, description: Description) -> Job:
    now = timezone.now()
    item = {"query": description.query, "k": description.k, "sources": description.sources}
    assert captions_key(item["sources"]) == description.captions_key
    return Job.objects.create(
        kind=Job.DESCRIBE,
        owner=owner,
        params={"items": [item]},
        status=Job.SUCCEEDED,
        result={"descriptions": [description.pk], "model": description.model_label},
        started_at=now,
        finished_at=now,
    )


@pytest.mark.django_db
def test_the_page_marks_a_citation_out_of_range_and_a_sentence_without_one(client):
    user = factories.user()
    images = factories.images("Chest X-ray: effusion.", "CT: effusion.", "US: effusion.")
    job = finished_job(user, store(PARTLY, image_ids=[image.pk for image in images]))
    client.force_login(user)

    page = client.get(reverse("generation:job", args=[job.pk])).content.decode()

    assert re.search(r'<mark class="citation-bad"[^>]*>\[7\]</mark>', page)
    assert re.search(
        r'<span class="sentence uncited">Large effusions shift the mediastinum away.</span>', page
    )
    assert page.count("no source cited") == 2
    assert "1 of 3 sentences cites a caption it was given (33%)" in page
    assert "It cites [7], which is not among the 3 captions it was given." in page
    assert f'href="{reverse("corpus:image_detail", args=[images[0].pk])}"' in page  # [1] still links


@pytest.mark.django_db
def test_a_description_citing_nothing_says_so_plainly_and_names_the_fallback(client):
    user = factories.user()
    images = factories.images("Chest X-ray: pneumothorax.")
    job = finished_job(user, store(UNCITED, image_ids=[images[0].pk], is_fallback=True))
    client.force_login(user)

    page = client.get(reverse("generation:job", args=[job.pk])).content.decode()

    assert "This answer cites none of the captions it was given" in page
    assert "no source cited" not in page  # one plain sentence, not a mark on every sentence
    assert re.search(
        r'Written by <strong class="answered-by">SmolLM2-135M-Instruct</strong> \(the offline fallback\)',
        page,
    )


@pytest.mark.django_db
def test_the_api_result_reports_the_citation_check(client):
    user = factories.user()
    images = factories.images("Chest X-ray: effusion.", "CT: effusion.", "US: effusion.")
    job = finished_job(user, store(PARTLY, image_ids=[image.pk for image in images]))
    client.force_login(user)

    body = client.get(reverse("api:generation-job-result", args=[job.pk])).json()

    citations = body["descriptions"][0]["citations"]
    assert citations["cited_share"] == pytest.approx(0.333, abs=0.001)
    assert citations["sentences"] == 3 and citations["cited_sentences"] == 1
    assert citations["out_of_range"] == [7] and citations["has_citations"] is True
    assert citations["uncited"][0] == "Large effusions shift the mediastinum away."
    assert body["descriptions"][0]["weak"] is False


@pytest.mark.django_db
def test_a_job_whose_first_description_was_forgotten_still_shows_the_second_with_its_own_warning(client):
    user = factories.user()
    first, second = factories.images("Chest X-ray: effusion.", "CT: pneumothorax.")
    gone = store(PARTLY, image_ids=[first.pk])
    kept = description_store(
        query="collapsed lung",
        k=1,
        sources=[{"n": 1, "image_id": second.pk, "caption": "CT: pneumothorax."}],
        model_spec="dolly",
        model_label="dolly-v2-3b",
        is_fallback=False,
        prompt="…",
        answer=CITED,
        new_tokens=40,
        seconds=1.0,
    )
    job = finished_job(user, gone)
    job.params["items"].append({"query": kept.query, "k": 1, "sources": kept.sources, "weak": True})
    job.result["descriptions"].append(kept.pk)
    job.save()
    services.descriptions_forget_image(image_id=first.pk)  # a moderator rejected the first's image
    client.force_login(user)

    response = client.get(reverse("generation:job", args=[job.pk]))

    page = response.content.decode()
    assert response.status_code == 200 and "Large effusions" not in page
    assert "match <q>collapsed lung</q> only weakly" in page and "1 of 2 sentences cites" in page
