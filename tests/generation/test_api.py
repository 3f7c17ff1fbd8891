"""The generation and description endpoints: who may do what (owner, another student, an instructor,
a moderator and an anonymous client), what each returns, and the JSON errors."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from rest_framework.test import APIClient

from apps.core.tokens import api_token_create
from apps.corpus.models import Image
from apps.generation import services
from apps.generation.models import Job
from apps.generation.runners import model_id
from apps.generation.selectors import description_preview
from apps.generation.worker import process_one
from tests import factories
from tests.factories import api_as, assert_error

pytestmark = pytest.mark.django_db

ROLES = ["owner", "student", "instructor", "moderator", "anonymous"]
CAPTIONS = ("Chest X-ray: right pneumothorax.", "CT angiography: pulmonary embolism.")


def queued(owner, **params) -> Job:
    return services.generation_submit(owner=owner, prompt="chest x-ray with pneumothorax", **params)


def test_a_script_with_a_token_starts_a_generation_and_follows_it(people):
    _, raw = api_token_create(user=people["owner"], name="script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    created = api.post(
        "/api/generation/generate/",
        {"prompt": "  chest  x-ray ", "mode": "quality", "seed": 7, "count": 2},
        format="json",
    )
    status = api.get(created.json()["url"])
    listed = api.get("/api/generation/jobs/")

    assert created.status_code == 201, created.content
    job = Job.objects.get(pk=created.json()["id"])
    assert (job.owner, job.kind, job.status) == (people["owner"], Job.GENERATE, Job.QUEUED)
    assert job.params == {
        "prompt": "chest x-ray",
        "negative_prompt": "",
        "mode": "quality",
        "steps": 30,
        "guidance": 7.5,
        "seed": 7,
        "count": 2,
    }
    body = status.json()
    assert (body["kind"], body["status"], body["title"]) == ("generate", "queued", "chest x-ray")
    assert body["generation"] == job.params and body["description"] is None
    assert body["progress"] == {"current": 0, "total": 0, "percent": 0, "message": ""}
    assert (body["attempts"], body["max_attempts"], body["queue_position"]) == (0, 3, 0)
    assert body["can_cancel"] is True and body["error"] is None and body["result_url"] is None
    assert body["page_url"].endswith(f"/generate/jobs/{job.pk}/")
    assert [j["id"] for j in listed.json()["results"]] == [job.pk]


def test_a_queued_job_reports_how_many_jobs_wait_ahead_of_it(people):
    queued(people["student"])
    mine = queued(people["owner"])

    body = api_as(people["owner"]).get(f"/api/generation/jobs/{mine.pk}/").json()

    assert body["queue_position"] == 1


def test_a_running_job_reports_its_progress_attempt_and_notices(people):
    job = queued(people["owner"])
    Job.objects.filter(pk=job.pk).update(
        status=Job.RUNNING,
        attempts=2,
        progress_current=2,
        progress_total=4,
        progress_message="denoising step 2 of 4",
        notices=["The prompt is longer than the image model's 77 tokens; only this part was used: “x”"],
    )

    body = api_as(people["owner"]).get(f"/api/generation/jobs/{job.pk}/").json()

    assert body["status"] == "running" and body["attempts"] == 2 and body["queue_position"] is None
    assert body["progress"] == {"current": 2, "total": 4, "percent": 50, "message": "denoising step 2 of 4"}
    assert body["notices"][0].startswith("The prompt is longer than the image model's 77 tokens")


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"prompt": "   "}, "prompt", "Describe the image"),
        ({"steps": 9}, "steps", "from 4 to 8"),
        ({"mode": "quality", "guidance": 4.9}, "guidance", "from 5 to 9"),
        ({"seed": 2**32}, "seed", "from 0 to 4294967295"),
        ({"count": 5}, "count", "from 1 to 4"),
    ],
)
def test_bad_generation_parameters_get_the_pages_message_on_their_field(people, params, field, message):
    response = api_as(people["owner"]).post(
        "/api/generation/generate/", {"prompt": "chest x-ray"} | params, format="json"
    )

    error = assert_error(response, 400, "invalid")
    assert message in error["message"] and message in error["fields"][field][0]
    assert not Job.objects.exists()


def test_malformed_generation_requests_are_refused_field_by_field(people):
    response = api_as(people["owner"]).post(
        "/api/generation/generate/", {"mode": "turbo", "steps": "many"}, format="json"
    )

    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"prompt", "mode", "steps"}


def test_too_many_waiting_jobs_get_a_429_with_the_reason(people):
    for _ in range(django_settings.MIRAGE_JOBS_ACTIVE_PER_USER):
        queued(people["owner"])

    response = api_as(people["owner"]).post("/api/generation/generate/", {"prompt": "x"}, format="json")

    assert "jobs waiting or running" in assert_error(response, 429, "throttled")["message"]


def test_starting_generations_is_limited_per_user_per_hour(people, settings):
    settings.MIRAGE_GENERATIONS_PER_HOUR = 1
    api = api_as(people["owner"])
    codes = [
        api.post("/api/generation/generate/", {"prompt": "x"}, format="json").status_code for _ in range(2)
    ]
    status = api.get("/api/generation/jobs/").status_code

    assert codes == [201, 429] and status == 200


ENDPOINTS = [
    ("post", "/api/generation/generate/"),
    ("post", "/api/generation/describe/"),
    ("get", "/api/generation/describe/preview/?q=pneumothorax"),
    ("get", "/api/generation/jobs/"),
    ("get", "/api/generation/images/"),
    ("get", "/api/generation/jobs/{pk}/"),
    ("post", "/api/generation/jobs/{pk}/cancel/"),
    ("get", "/api/generation/jobs/{pk}/result/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_clients_get_401_everywhere(people, method, url):
    job = queued(people["owner"])

    response = getattr(api_as(None), method)(url.format(pk=job.pk))

    assert_error(response, 401, "not_authenticated")
    assert Job.objects.get().status == Job.QUEUED


@pytest.mark.parametrize("role", ROLES)
def test_a_job_its_cancelling_and_its_result_are_its_owners_alone(people, role):
    job = queued(people["owner"])
    api = api_as(people[role])

    status = api.get(f"/api/generation/jobs/{job.pk}/")
    result = api.get(f"/api/generation/jobs/{job.pk}/result/")
    cancel = api.post(f"/api/generation/jobs/{job.pk}/cancel/")

    job.refresh_from_db()
    if role == "owner":
        assert status.status_code == 200
        assert_error(result, 409, "conflict")
        assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
        assert job.status == Job.CANCELLED
    elif role == "anonymous":
        for response in (status, result, cancel):
            assert_error(response, 401, "not_authenticated")
        assert job.status == Job.QUEUED
    else:
        for response in (status, result, cancel):
            assert_error(response, 404, "not_found")
        assert job.status == Job.QUEUED
        assert api.get("/api/generation/jobs/").json()["results"] == []


def test_a_running_job_is_asked_to_stop_and_a_finished_one_cannot_be_cancelled(people):
    running, done = queued(people["owner"]), queued(people["owner"])
    Job.objects.filter(pk=running.pk).update(status=Job.RUNNING)
    Job.objects.filter(pk=done.pk).update(status=Job.SUCCEEDED)
    api = api_as(people["owner"])

    asked = api.post(f"/api/generation/jobs/{running.pk}/cancel/")
    refused = api.post(f"/api/generation/jobs/{done.pk}/cancel/")

    assert asked.status_code == 200
    assert (asked.json()["status"], asked.json()["cancel_requested"], asked.json()["can_cancel"]) == (
        "running",
        True,
        False,
    )
    assert "already finished" in assert_error(refused, 409, "conflict")["message"]


def test_a_failed_job_has_no_result_and_says_why(people):
    job = queued(people["owner"])
    Job.objects.filter(pk=job.pk).update(status=Job.FAILED, error="The image model is not installed.")
    api = api_as(people["owner"])

    error = assert_error(api.get(f"/api/generation/jobs/{job.pk}/result/"), 409, "conflict")

    assert "The image model is not installed." in error["message"]
    assert api.get(f"/api/generation/jobs/{job.pk}/").json()["error"] == "The image model is not installed."


def test_a_finished_generation_returns_its_images_with_how_they_were_made(people, tiny_models):
    api = api_as(people["owner"])
    created = api.post(
        "/api/generation/generate/",
        {"prompt": "chest x-ray", "negative_prompt": "text", "seed": 11, "count": 2},
        format="json",
    )
    assert process_one().status == Job.SUCCEEDED

    status = api.get(created.json()["url"]).json()
    result = api.get(status["result_url"]).json()
    mine = api.get("/api/generation/images/").json()["results"]
    others = api_as(people["student"]).get("/api/generation/images/").json()["results"]

    assert status["status"] == "succeeded" and status["seconds"] is not None
    assert result["job"]["id"] == created.json()["id"] and result["descriptions"] == []
    images = result["images"]
    assert [item["generation"]["seed"] for item in images] == [11, 12]
    first = images[0]
    assert first["image"]["is_synthetic"] is True and first["image"]["moderation_state"] == "pending"
    assert first["image"]["image_url"].endswith(".png")
    assert first["generation"] | {"created_at": None} == {
        "job": created.json()["id"],
        "index": 0,
        "prompt": "chest x-ray",
        "negative_prompt": "text",
        "model": model_id(tiny_models["MIRAGE_DIFFUSION_MODEL"]),
        "lora": model_id(tiny_models["MIRAGE_DIFFUSION_LORA"]),
        "mode": "fast",
        "seed": 11,
        "steps": 4,
        "guidance": 1.5,
        "size": first["generation"]["size"],
        "created_at": None,
    }
    assert sorted(item["image"]["id"] for item in mine) == sorted(item["image"]["id"] for item in images)
    assert others == []


# --- descriptions --------------------------------------------------------------------------------


def test_a_description_and_a_comparison_are_queued_with_the_captions_retrieved_now(people):
    pneumo, embolism = factories.images(*CAPTIONS)
    api = api_as(people["owner"])

    one = api.post("/api/generation/describe/", {"q": "pneumothorax", "k": 2}, format="json")
    two = api.post("/api/generation/describe/", {"q": "pneumothorax", "q2": "embolism", "k": 1})

    assert one.status_code == 201 and two.status_code == 201, (one.content, two.content)
    assert one.json()["description"] == {"queries": ["pneumothorax"], "k": 2}
    assert two.json()["description"] == {"queries": ["pneumothorax", "embolism"], "k": 1}
    assert two.json()["title"] == "pneumothorax vs embolism" and two.json()["status"] == "queued"
    first, second = Job.objects.get(pk=two.json()["id"]).params["items"]
    assert (first["sources"][0]["image_id"], second["sources"][0]["image_id"]) == (pneumo.pk, embolism.pk)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"q": "   "}, "q", "Type what you are looking for"),
        ({"q": "nothing-matches-this"}, "q", "nothing to ground a description in"),
        ({"q": "pneumothorax", "q2": "nothing-matches-this"}, "q2", "nothing to ground"),
        ({"q": "pneumothorax", "k": 11}, "k", "10"),
        ({"q": "pneumothorax", "k": 0}, "k", "1"),
    ],
)
def test_bad_description_requests_get_a_message_on_their_field(people, data, field, message):
    factories.images(*CAPTIONS)

    response = api_as(people["owner"]).post("/api/generation/describe/", data, format="json")

    error = assert_error(response, 400, "invalid")
    assert message in error["fields"][field][0]
    assert not Job.objects.exists()


def _cached_answer(query: str, k: int, settings) -> None:
    """The answer the worker would have stored, in the cache the next request is answered from."""
    services.description_store(
        query=query,
        k=k,
        sources=description_preview(queries=[query], k=k)[0]["sources"],
        model_spec=settings.MIRAGE_LLM_MODEL,
        model_label="Dolly v2 3B",
        is_fallback=False,
        prompt="### Instruction:\nExplain pneumothorax.\n### Response:\n",
        answer="Air in the pleural space [1], seen on CT [2].",
        new_tokens=12,
        seconds=1.5,
    )


def test_a_cached_description_is_finished_at_once_with_its_answer_sources_and_prompt(people, settings):
    xray, ct = factories.images("Chest X-ray: right pneumothorax.", "CT: apical pneumothorax.")
    _cached_answer("pneumothorax", 2, settings)
    api = api_as(people["owner"])

    created = api.post("/api/generation/describe/", {"q": "pneumothorax", "k": 2}, format="json")
    result = api.get(created.json()["result_url"]).json()

    assert created.status_code == 201
    assert (created.json()["status"], created.json()["cached"]) == ("succeeded", True)
    assert result["images"] == []
    (description,) = result["descriptions"]
    assert description["query"] == "pneumothorax"
    assert description["answer"] == "Air in the pleural space [1], seen on CT [2]."
    assert (description["model"], description["is_fallback"], description["k"]) == ("Dolly v2 3B", False, 2)
    assert description["prompt"] == "### Instruction:\nExplain pneumothorax.\n### Response:\n"
    sources = description["sources"]
    assert [s["n"] for s in sources] == [1, 2]
    assert {s["image_id"] for s in sources} == {xray.pk, ct.pk}
    assert sources[0]["page_url"].endswith(f"/images/{sources[0]['image_id']}/")
    assert sources[0]["caption"] in {xray.caption, ct.caption}


def test_a_cited_image_rejected_since_keeps_its_caption_but_loses_its_link(people, settings):
    xray, ct = factories.images("Chest X-ray: right pneumothorax.", "CT: apical pneumothorax.")
    _cached_answer("pneumothorax", 2, settings)
    job = services.description_submit(owner=people["owner"], queries=["pneumothorax"], k=2)
    Image.objects.filter(pk=xray.pk).update(moderation_state=Image.REJECTED)

    result = api_as(people["owner"]).get(f"/api/generation/jobs/{job.pk}/result/").json()

    by_caption = {s["caption"]: s for s in result["descriptions"][0]["sources"]}
    assert by_caption[xray.caption]["image_id"] is None and by_caption[xray.caption]["page_url"] is None
    assert by_caption[ct.caption]["image_id"] == ct.pk


def test_a_description_written_by_the_worker_says_which_model_answered(people, tiny_models):
    factories.images("Chest X-ray: right pneumothorax.")
    api = api_as(people["owner"])
    created = api.post("/api/generation/describe/", {"q": "pneumothorax", "k": 1}, format="json")
    assert process_one().status == Job.SUCCEEDED

    (description,) = api.get(f"/api/generation/jobs/{created.json()['id']}/result/").json()["descriptions"]

    assert "[1]" in description["answer"] and description["is_fallback"] is False
    assert description["model"] and "### Instruction:" in description["prompt"]


def test_the_preview_lists_the_numbered_captions_each_query_would_use(people):
    pneumo, embolism = factories.images(*CAPTIONS)

    response = api_as(people["student"]).get(
        "/api/generation/describe/preview/", {"q": "pneumothorax", "q2": "embolism", "k": 1}
    )

    assert response.status_code == 200
    first, second = response.json()
    assert first["query"] == "pneumothorax" and second["query"] == "embolism"
    assert first["sources"][0] | {"page_url": None} == {
        "n": 1,
        "caption": pneumo.caption,
        "image_id": pneumo.pk,
        "page_url": None,
    }
    assert second["sources"][0]["image_id"] == embolism.pk
    assert first["model"]
    assert not Job.objects.exists()


@pytest.mark.parametrize("params", [{}, {"q": "  "}, {"q": "pneumothorax", "k": "11"}])
def test_a_preview_without_a_query_or_with_a_bad_k_is_a_400(people, params):
    response = api_as(people["student"]).get("/api/generation/describe/preview/", params)

    assert_error(response, 400, "invalid")


def test_job_and_image_lists_come_in_pages_of_the_size_asked_for(people):
    for n in range(3):
        params = services.generation_params(prompt=f"x-ray {n}", mode=services.QUALITY)
        Job.objects.create(kind=Job.GENERATE, owner=people["owner"], params=params)
    api = api_as(people["owner"])

    first = api.get("/api/generation/jobs/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    too_far = api.get("/api/generation/jobs/", {"page": 9})

    assert first["count"] == 3 and len(first["results"]) == 2 and first["previous"] is None
    assert [job["title"] for job in first["results"] + second["results"]] == ["x-ray 2", "x-ray 1", "x-ray 0"]
    assert second["next"] is None
    assert_error(too_far, 404, "not_found")
    assert api.get("/api/generation/images/").json() | {"results": []} == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_the_preview_and_the_page_show_the_same_captions(people, client):
    factories.images(*CAPTIONS)
    client.force_login(people["student"])
    params = {"q": "pneumothorax", "q2": "embolism", "k": 2}

    api = api_as(people["student"]).get("/api/generation/describe/preview/", params).json()
    page = client.get(reverse("generation:describe"), params).content.decode()

    for preview in api:
        assert f"Captions for <q>{preview['query']}</q>" in page
        for source in preview["sources"]:
            assert source["caption"] in page


def test_a_full_queue_is_a_503_with_a_busy_message(people, settings):
    settings.MIRAGE_QUEUE_MAX = 1
    queued(people["student"])

    response = api_as(people["owner"]).post("/api/generation/generate/", {"prompt": "x"}, format="json")

    assert "busy" in assert_error(response, 503, "unavailable")["message"]
