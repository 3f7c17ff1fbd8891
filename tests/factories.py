"""Factories: corpus rows built through the real import service, with small generated images."""

from __future__ import annotations

import io
import itertools

import numpy as np
from PIL import Image as PILImage

from apps.corpus.models import Dataset, Image
from apps.corpus.records import EntryRecord
from apps.corpus.services import dataset_get_or_create, import_records

_counter = itertools.count(1)


def dataset(slug: str = "test") -> Dataset:
    return dataset_get_or_create(slug=slug, name=f"Test dataset {slug}")


def picture(seed: int, size: int = 48) -> PILImage.Image:
    """A distinct small RGB image per seed (distinct bytes, so no deduplication between them)."""
    rng = np.random.default_rng(seed)
    return PILImage.fromarray(rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8))


def png_bytes(seed: int = 1) -> bytes:
    """`picture(seed)` as a PNG file's bytes, as an upload carries them."""
    out = io.BytesIO()
    picture(seed).save(out, format="PNG")
    return out.getvalue()


def record(caption: str, *, with_image: bool = True, **fields) -> EntryRecord:
    n = next(_counter)
    fields.setdefault("external_id", f"TEST_{n:05d}")
    fields.setdefault("licence_raw", "CC BY")
    if with_image:
        seed = n * 7919
        fields.setdefault("render", lambda: picture(seed))
    return EntryRecord(caption=caption, **fields)


def images(*captions: str, with_image: bool = True, slug: str = "test", **fields) -> list[Image]:
    """Import one entry per caption and return the rows in the same order."""
    recs = [record(caption, with_image=with_image, **fields) for caption in captions]
    import_records(dataset=dataset(slug), records=recs)
    by_id = {
        image.external_id: image
        for image in Image.objects.filter(external_id__in=[r.external_id for r in recs])
    }
    return [by_id[r.external_id] for r in recs]


def user(
    username: str | None = None, *, role: str = "student", password: str = "a-Long-pass-phrase-42", **fields
):
    """A user with a known password (`factories.PASSWORD`)."""
    from apps.accounts.models import User

    username = username or f"user{next(_counter)}"
    return User.objects.create_user(
        username=username, email=f"{username}@example.org", password=password, role=role, **fields
    )


PASSWORD = "a-Long-pass-phrase-42"


def api_as(user):
    """A DRF test client authenticated as `user` (None: anonymous)."""
    from rest_framework.test import APIClient

    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def assert_error(response, status: int, code: str) -> dict:
    """The API's error shape: JSON {"error": {"code", "message", "fields"}} with this status and code."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    return error
