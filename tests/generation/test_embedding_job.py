"""Embedding the corpus as a job for the GPU worker: `manage.py embed --queue STAFF_USER`."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from apps.corpus.models import Dataset, Embedding, Image
from apps.generation import services
from apps.generation.models import Job
from apps.generation.worker import process_one
from tests import factories

CAPTIONS = ["Chest radiograph with a right pneumothorax.", "Axial CT of the abdomen: liver metastases."]


def metadata_entries(count: int) -> None:
    """`count` caption-only entries (the caption space embeds them; no files needed)."""
    dataset = Dataset.objects.get_or_create(slug="bulk", defaults={"name": "Bulk"})[0]
    Image.objects.bulk_create(
        Image(dataset=dataset, external_id=f"BULK_{n:05d}", caption=f"{CAPTIONS[n % 2]} Case {n}.")
        for n in range(count)
    )


@pytest.mark.django_db
def test_staff_queue_the_embedding_and_the_worker_embeds_every_entry_once(client):
    staff = factories.user(is_staff=True)
    metadata_entries(40)
    out = io.StringIO()

    call_command("embed", "--space", "caption", "--queue", staff.username, stdout=out)

    job = Job.objects.get(kind=Job.EMBED)
    assert f"queued as job {job.pk}" in out.getvalue() and job.status == Job.QUEUED
    assert not Embedding.objects.exists()  # nothing happened in the command itself
    done = process_one()
    assert done.pk == job.pk and done.status == Job.SUCCEEDED, done.error
    assert done.result["embedded"] == 40 and Embedding.objects.count() == 40
    client.force_login(staff)
    assert "Embedded 40 entries" in client.get(f"/generate/jobs/{job.pk}/").content.decode()


@pytest.mark.django_db
def test_only_staff_may_queue_the_embedding():
    student = factories.user()
    with pytest.raises(services.JobError) as refused:
        services.embedding_submit(owner=student, space="caption")
    assert refused.value.status == 403
    with pytest.raises(CommandError, match="Only staff"):
        call_command("embed", "--space", "caption", "--queue", student.username)
    assert not Job.objects.exists()
