"""The worker cycle in this process (`process_one`), on the tiny models: results, leases, failures."""

from __future__ import annotations

import io
import pydoc

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage

from apps.corpus.models import Image
from apps.generation import services
from apps.generation.lease import JobRun, Lease, LeaseLost
from apps.generation.models import Description, GeneratedImage, Job
from apps.generation.runners import RUNNERS
from apps.generation.tasks import run_next_job
from apps.generation.worker import UNEXPECTED, claim_next, process_one, recover_orphans
from tests import factories
from tests.factories import api_as
from tests.ml.tiny_generation_models import TINY_IMAGE_SIZE

pytestmark = pytest.mark.django_db


def generate(owner, **params) -> Job:
    params = {"prompt": "chest x-ray with pneumothorax", "mode": services.FAST} | params
    return services.generation_submit(owner=owner, **params)


def test_nothing_queued_means_nothing_to_do():
    assert process_one() is None


def test_a_generation_job_stores_marked_pending_images_owned_by_its_author(tiny_models):
    author = factories.user()
    job = generate(author, count=2, seed=123, negative_prompt="text labels", mode=services.QUALITY, steps=25)

    done = process_one()

    assert (done.pk, done.status, done.attempts, done.error) == (job.pk, Job.SUCCEEDED, 1, "")
    assert done.progress_current == done.progress_total > 0
    images = list(Image.objects.filter(pk__in=done.result["images"]).order_by("pk"))
    assert len(images) == 2
    for index, image in enumerate(images):
        assert image.is_synthetic and image.owner == author
        assert image.moderation_state == Image.PENDING and image.dataset.slug == "generated"
        assert image.generation.job == done and image.generation.seed == 123 + index
        with image.file.open("rb") as stored:
            png = PILImage.open(io.BytesIO(stored.read()))
        assert png.size == (TINY_IMAGE_SIZE, TINY_IMAGE_SIZE)
        assert png.text["prompt"] == "chest x-ray with pneumothorax"
        assert png.text["negative_prompt"] == "text labels"
        assert png.text["seed"] == str(123 + index)
        assert png.text["steps"] == "25" and png.text["guidance"] == "7.5" and png.text["mode"] == "quality"
        assert png.text["model"] == "pipeline" and png.text["Creation Time"]


def test_fast_mode_runs_four_lcm_steps_with_the_lora_named_in_the_metadata(tiny_models):
    job = generate(factories.user())

    done = process_one()

    assert done.pk == job.pk and done.status == Job.SUCCEEDED
    assert done.progress_total == 4
    metadata = GeneratedImage.objects.get(job=done).metadata
    lora = tiny_models["MIRAGE_DIFFUSION_LORA"].rstrip("/").rsplit("/", 1)[1]  # the adapter's folder name
    assert (metadata["mode"], metadata["steps"], metadata["lora"]) == ("fast", "4", lora)


def test_a_prompt_longer_than_77_tokens_is_cut_and_the_job_says_what_was_kept(tiny_models):
    words = [f"finding{n}" for n in range(100)]
    generate(factories.user(), prompt=" ".join(words))

    done = process_one()

    kept = done.result["prompt_used"]
    assert done.status == Job.SUCCEEDED
    assert kept.split() == words[: len(kept.split())] and len(kept.split()) < 100
    assert any(kept in notice and "only this part was used" in notice for notice in done.notices)
    assert GeneratedImage.objects.get(job=done).metadata["prompt"] == kept


def test_a_diffusion_model_gone_after_submission_fails_the_job_with_a_plain_message(tiny_models, settings):
    generate(factories.user())
    settings.MIRAGE_DIFFUSION_MODEL = "nobody-here/no-such-model"

    done = process_one()

    assert done.status == Job.FAILED
    assert done.error.startswith("Generating images is not available on this server.")
    assert "nobody-here" not in done.error and "manage.py" not in done.error
    assert not Image.objects.filter(is_synthetic=True).exists()


def test_a_description_job_writes_the_answer_from_the_retrieved_captions(tiny_models):
    first, second = factories.images(
        "Chest X-ray showing a right-sided pneumothorax.", "CT of the chest: small pneumothorax."
    )
    job = services.description_submit(owner=factories.user(), queries=["pneumothorax"], k=2)

    done = process_one()

    assert done.pk == job.pk and done.status == Job.SUCCEEDED
    description = Description.objects.get(pk=done.result["descriptions"][0])
    assert description.answer == "Air in the pleural space [1]."
    assert {source["image_id"] for source in description.sources} == {first.pk, second.pk}
    for source in description.sources:
        assert f"[{source['n']}] {source['caption'].rstrip('.')}" in description.prompt
    assert description.prompt.startswith("Below is an instruction that describes a task.")
    assert description.model == tiny_models["MIRAGE_LLM_MODEL"] and not description.is_fallback


def test_the_same_question_is_answered_from_the_cache_without_a_worker(tiny_models):
    factories.images("Chest X-ray showing a right-sided pneumothorax.")
    owner = factories.user()
    services.description_submit(owner=owner, queries=["pneumothorax"], k=3)
    process_one()

    again = services.description_submit(owner=owner, queries=["pneumothorax"], k=3)

    assert again.status == Job.SUCCEEDED and again.result["cached"] is True
    assert Description.objects.count() == 1
    assert process_one() is None


def test_cancelling_a_running_job_stops_it_at_the_next_step(tiny_models, monkeypatch):
    job = generate(factories.user(), count=1)
    real_progress = JobRun.progress

    def progress_then_cancel(self, current, total, message, *, force=False):
        if current == 2:  # the owner clicks "Cancel" while step 2 runs
            services.job_cancel(job=self.job)
        real_progress(self, current, total, message, force=force)

    monkeypatch.setattr(JobRun, "progress", progress_then_cancel)
    done = process_one()

    assert done.pk == job.pk and done.status == Job.CANCELLED
    assert not Image.objects.filter(is_synthetic=True).exists()


def running_job(*, attempts: int = 1, **fields) -> Job:
    """A job as a worker on another machine left it: running, claimed, attempt `attempts`."""
    job = Job.objects.create(
        kind=Job.GENERATE,
        owner=factories.user(),
        params=services.generation_params(prompt="chest x-ray", mode=services.QUALITY, seed=1),
        status=Job.RUNNING,
        worker="elsewhere:4242",
        attempts=attempts,
        **fields,
    )
    return job


def test_a_running_job_whose_worker_holds_its_lease_is_left_alone():
    job = running_job()
    lease = Lease()
    try:
        assert lease.acquire(job.pk)
        assert recover_orphans() == []
    finally:
        lease.close()
    job.refresh_from_db()
    assert job.status == Job.RUNNING


def test_a_running_job_whose_worker_died_is_queued_again_with_the_reason():
    job = running_job(attempts=1)

    assert [j.pk for j in recover_orphans()] == [job.pk]

    job.refresh_from_db()
    assert job.status == Job.QUEUED and job.attempts == 1
    assert "Attempt 1 did not finish" in job.notices[-1] and "elsewhere:4242" in job.notices[-1]


def test_a_job_whose_worker_died_on_its_last_attempt_fails_with_the_reason():
    job = running_job(attempts=Job.MAX_ATTEMPTS)

    recover_orphans()

    job.refresh_from_db()
    assert job.status == Job.FAILED and job.finished_at is not None
    assert f"Tried {Job.MAX_ATTEMPTS} times" in job.error and "stopped while running it" in job.error


def test_a_job_being_cancelled_whose_worker_died_ends_cancelled():
    job = running_job(cancel_requested=True)

    recover_orphans()

    job.refresh_from_db()
    assert job.status == Job.CANCELLED


def test_a_run_that_lost_its_lease_can_write_neither_progress_nor_a_result():
    job = running_job(attempts=2)  # another worker claimed it for attempt 2
    stale = Job.objects.get(pk=job.pk)
    stale.attempts, stale.worker = 1, "old-worker:1"
    run = JobRun(stale)
    stored = []

    with pytest.raises(LeaseLost):
        run.progress(3, 25, "denoising", force=True)
    with pytest.raises(LeaseLost):
        run.succeed(lambda: stored.append("images") or {})

    job.refresh_from_db()
    assert stored == [] and job.status == Job.RUNNING and job.progress_current == 0


def test_the_heartbeat_keeps_beating_after_a_passing_failure(settings):
    """One failed beat must not end the beats: the lease would lapse while the job still runs."""
    import threading

    settings.MIRAGE_JOB_LEASE_SECONDS = 2  # a beat every 0.5 s
    lease = Lease()
    real_conn = lease._conn
    beats = []
    two_after_failure = threading.Event()

    class FlakyConnection:
        closed = False

        def execute(self, *args, **kwargs):
            beats.append(args[0])
            if len(beats) == 1:
                raise OSError("a passing network hiccup")
            if len(beats) >= 3:
                two_after_failure.set()

        def close(self):
            real_conn.close()

    lease._conn = FlakyConnection()
    job = services.generation_submit(owner=factories.user(), prompt="chest x-ray")
    lease.start_heartbeat(job)
    try:
        assert two_after_failure.wait(timeout=10)
    finally:
        lease.close()
    assert all("UPDATE generation_job SET heartbeat_at" in sql for sql in beats)


def test_a_wake_up_while_a_job_runs_under_its_lease_does_not_run_it_again():
    """django-q2 may deliver a wake-up twice (or a schedule may fire): it can only claim through the lease."""
    job = running_job(attempts=1)
    lease = Lease()
    try:
        assert lease.acquire(job.pk)
        assert run_next_job() == "no queued job"
    finally:
        lease.close()
    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker) == (Job.RUNNING, 1, "elsewhere:4242")


def test_every_wake_up_runs_the_task_that_exists():
    """The services name the task by its path (they sit below tasks.py); the minute schedule does too."""
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="mirage: recover and run generation jobs")

    assert pydoc.locate(services.RUN_NEXT_JOB) is run_next_job
    assert pydoc.locate(schedule.func) is run_next_job


def test_django_q_never_retries_a_wake_up_on_its_own(settings):
    """Job retries are the lease's and Job.MAX_ATTEMPTS' alone: a failed django-q2 task is acknowledged."""
    from django_q.conf import Conf

    assert Conf.MAX_ATTEMPTS == 1 and Conf.ACK_FAILURES
    assert Conf.RETRY > Conf.TIMEOUT  # never re-delivered while its worker may still be running it


def test_the_worker_serves_owners_in_turn_not_in_submission_order(settings):
    settings.MIRAGE_JOBS_ACTIVE_PER_USER = 5
    busy, other = factories.user(), factories.user()
    batch = [generate(busy, seed=n) for n in range(3)]
    late = generate(other)
    leases = []
    try:
        order = []
        for _ in range(3):
            job, lease = claim_next()
            leases.append(lease)
            order.append(job.pk)
    finally:
        for lease in leases:
            lease.close()

    # The busy owner's first job, then the other owner's (the busy one now has a job running), then
    # the busy owner's second.
    assert order == [batch[0].pk, late.pk, batch[1].pk]


def test_an_owner_served_a_lot_in_the_last_hour_waits_behind_one_who_was_not():
    served, newcomer = factories.user(), factories.user()
    for n in range(2):
        job = generate(served, seed=n)
        Job.objects.filter(pk=job.pk).update(status=Job.SUCCEEDED, started_at=timezone.now())
    older = generate(served)
    newer = generate(newcomer)

    job, lease = claim_next()
    lease.close()

    assert job.pk == newer.pk and older.pk < newer.pk


def test_an_unexpected_error_shows_its_owner_a_plain_reason_and_logs_the_detail(client, monkeypatch, caplog):
    def broken(run):
        raise RuntimeError("secret path /x")

    monkeypatch.setitem(RUNNERS, Job.GENERATE, broken)
    owner = factories.user()
    job = generate(owner)

    done = process_one()

    assert done.pk == job.pk and done.status == Job.FAILED
    assert done.error == UNEXPECTED and "secret" not in done.error
    assert "secret path /x" in caplog.text  # the traceback, for the administrators
    client.force_login(owner)
    page = client.get(reverse("generation:job", args=[job.pk])).content.decode()
    api = api_as(owner).get(f"/api/generation/jobs/{job.pk}/").json()
    assert "unexpected error in the worker" in page and "secret" not in page
    assert api["error"] == UNEXPECTED


def test_the_stored_image_carries_the_synthetic_mark_in_its_pixels(tiny_models, settings):
    """Not only the metadata: the stored pixels are the model's output with the mark drawn in."""
    import numpy as np

    from apps.generation.watermark import mark_synthetic
    from apps.ml.generator import ImageRequest, load_generator

    generate(factories.user(), prompt="axial CT of the abdomen", seed=77)
    done = process_one()
    image = Image.objects.get(pk=done.result["images"][0])
    with image.file.open("rb") as stored_file:
        stored = np.asarray(PILImage.open(io.BytesIO(stored_file.read())).convert("RGB"), dtype=np.int16)
    request = ImageRequest(
        prompt="axial CT of the abdomen",
        negative_prompt="",
        steps=4,
        guidance=1.5,
        seed=77,
        count=1,
        lcm_lora=settings.MIRAGE_DIFFUSION_LORA,
    )
    (raw,) = load_generator(settings.MIRAGE_DIFFUSION_MODEL).generate(request)
    unmarked = np.asarray(raw.convert("RGB"), dtype=np.int16)
    marked = np.asarray(mark_synthetic(raw), dtype=np.int16)

    assert done.status == Job.SUCCEEDED
    assert np.abs(stored - marked).max() <= 2  # the same picture, the mark drawn in
    assert np.abs(stored - unmarked)[-3:].mean() > 20  # whose bottom band the model did not paint
