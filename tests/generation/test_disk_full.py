"""A generation job whose store step meets a full disk (a real tmpfs the test mounts and fills) fails
with that reason, keeps no file a page could serve, and the worker goes on with the next job."""

from __future__ import annotations

import pytest

from apps.corpus.models import Image
from apps.generation import services
from apps.generation.models import Job
from apps.generation.worker import process_one
from apps.operations.media import media_files
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_generation_job_on_a_full_disk_fails_with_the_reason_and_stores_nothing(
    tiny_models, small_filesystem, settings
):
    media = small_filesystem.mount(256)
    settings.MEDIA_ROOT = media
    small_filesystem.fill(media, leave_kib=0)
    author = factories.user()
    job = services.generation_submit(owner=author, prompt="chest x-ray", mode=services.FAST, seed=3)

    done = process_one()

    assert done.pk == job.pk and done.status == Job.FAILED
    assert "disk is full" in done.error and "could not be stored" in done.error
    assert not Image.objects.filter(is_synthetic=True).exists()
    assert media_files(media) == {"filler.bin"}

    (media / "filler.bin").unlink()  # an administrator frees space; the next job goes through
    services.generation_submit(owner=author, prompt="chest x-ray", mode=services.FAST, seed=4)
    assert process_one().status == Job.SUCCEEDED
    assert Image.objects.filter(is_synthetic=True, owner=author).count() == 1
