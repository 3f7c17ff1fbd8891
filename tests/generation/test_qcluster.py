"""The job lifecycle in a real worker process: `manage.py qcluster`, as `make run` starts it.

These tests commit (transaction=True) so the worker, another process, sees their rows. One cluster
serves the module and keeps its loaded models, as a production worker does.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from apps.corpus.models import Dataset, Embedding, Image
from apps.generation import services
from apps.generation.models import GeneratedImage, Job
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(qcluster, tiny_models, settings):
    # Files the worker writes must be where this process looks for them.
    settings.MEDIA_ROOT = qcluster.media_root
    return qcluster


def wait_for(job: Job, condition, *, timeout: float = 90, what: str = "") -> Job:
    deadline = time.monotonic() + timeout
    while True:
        job.refresh_from_db()
        if condition(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(
                f"job {job.pk} never got {what}: {job.status} {job.progress_message} {job.error}"
            )
        time.sleep(0.05)


def long_job(owner) -> Job:
    """Long enough (for the tiny model) to be caught mid-run: 4 images × 50 steps."""
    return services.generation_submit(
        owner=owner, prompt="chest x-ray with pneumothorax", mode=services.QUALITY, steps=50, count=4, seed=9
    )


def test_a_submitted_job_goes_from_queued_through_running_to_succeeded(worker):
    author = factories.user()
    job = services.generation_submit(owner=author, prompt="axial CT of the abdomen", seed=5)
    assert job.status == Job.QUEUED
    seen = set()

    def observe(j: Job) -> bool:
        seen.add(j.status)
        return j.is_finished

    done = wait_for(job, observe, what="finished")

    assert done.status == Job.SUCCEEDED, done.error
    assert Job.RUNNING in seen
    assert (done.attempts, done.progress_current, done.progress_total) == (1, 4, 4)
    (image,) = Image.objects.filter(pk__in=done.result["images"])
    assert image.owner == author and image.is_synthetic and image.moderation_state == Image.PENDING
    assert image.file.storage.exists(image.file.name)


def test_a_running_job_is_cancelled_at_its_next_step(worker):
    job = long_job(factories.user())
    wait_for(job, lambda j: j.status == Job.RUNNING and j.progress_current >= 2, what="mid-run")

    services.job_cancel(job=job)

    done = wait_for(job, lambda j: j.is_finished, what="finished")
    assert done.status == Job.CANCELLED
    assert done.progress_current < done.progress_total
    assert not Image.objects.filter(is_synthetic=True).exists()


def test_a_job_whose_worker_is_killed_mid_run_is_retried_and_finishes_once(worker):
    job = long_job(factories.user())
    running = wait_for(job, lambda j: j.status == Job.RUNNING and j.progress_current >= 2, what="mid-run")
    killed_pid = int(running.worker.rsplit(":", 1)[1])

    os.kill(killed_pid, signal.SIGKILL)

    done = wait_for(job, lambda j: j.is_finished, timeout=120, what="finished")
    assert done.status == Job.SUCCEEDED, done.error
    assert done.attempts == 2
    assert int(done.worker.rsplit(":", 1)[1]) != killed_pid
    assert any("Attempt 1 did not finish" in notice for notice in done.notices)
    assert GeneratedImage.objects.filter(job=done).count() == 4  # one set of results, not two


def test_an_embedding_job_whose_worker_is_killed_resumes_and_embeds_each_entry_once(worker):
    staff = factories.user(is_staff=True)
    dataset = Dataset.objects.create(slug="bulk", name="Bulk")
    Image.objects.bulk_create(
        Image(dataset=dataset, external_id=f"BULK_{n:05d}", caption=f"Chest radiograph, case {n}.")
        for n in range(600)
    )
    # Batches of 4 captions: 150 commits, long enough to be caught between two of them.
    job = services.embedding_submit(owner=staff, space="caption", batch_size=4)
    running = wait_for(
        job, lambda j: j.status == Job.RUNNING and 40 <= j.progress_current < 400, what="mid-run"
    )
    killed_pid = int(running.worker.rsplit(":", 1)[1])

    os.kill(killed_pid, signal.SIGKILL)

    done = wait_for(job, lambda j: j.is_finished, timeout=180, what="finished")
    assert done.status == Job.SUCCEEDED, done.error
    assert done.attempts == 2 and int(done.worker.rsplit(":", 1)[1]) != killed_pid
    assert any("Attempt 1 did not finish" in notice for notice in done.notices)
    # The retry embedded only what the first attempt had not committed, and every entry has one vector.
    assert 0 < done.result["embedded"] < 600
    assert Embedding.objects.filter(space__name="caption").count() == 600
    assert set(Embedding.objects.values_list("image__external_id", flat=True)) == {
        f"BULK_{n:05d}" for n in range(600)
    }
