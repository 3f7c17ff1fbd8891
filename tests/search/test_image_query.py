"""Searching with an uploaded image, composed queries and "more like this", through the pages."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image as PILImage
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from apps.corpus.models import Image
from tests import factories

pytestmark = pytest.mark.django_db

CAPTIONS = ["Chest radiograph.", "Axial CT of the head.", "Ultrasound of the liver.", "MRI of the knee."]


@pytest.fixture
def clip_corpus(settings, tiny_clip_dir):
    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    images = factories.images(*CAPTIONS)
    call_command("embed", stdout=io.StringIO(), stderr=io.StringIO())
    return images


def jpeg_bytes(seed: int = 2) -> bytes:
    out = io.BytesIO()
    factories.picture(seed).save(out, format="JPEG")
    return out.getvalue()


def dicom_bytes() -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("query.dcm", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "123456"
    ds.Modality = "OT"
    ds.Rows = ds.Columns = 32
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = (np.arange(32 * 32, dtype=np.uint16).reshape(32, 32) * 3).tobytes()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def bomb_bytes() -> bytes:
    """A valid 1-bit PNG a few kB long that declares 30,000 × 30,000 pixels."""
    width = height = 30_000
    raw = b"".join(b"\0" + b"\0" * (width // 8) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def upload(client, name: str, data: bytes, **fields):
    return client.post(
        reverse("search:image_query"), {"image": SimpleUploadedFile(name, data), "k": "3", **fields}
    )


@pytest.mark.parametrize(
    "name, make", [("q.png", factories.png_bytes), ("q.jpg", jpeg_bytes), ("q.dcm", dicom_bytes)]
)
def test_valid_png_jpeg_and_dicom_queries_return_ranked_images(client, clip_corpus, name, make):
    stored_before = Image.objects.count()

    response = upload(client, name, make())

    page = response.content.decode()
    assert response.status_code == 200, page
    assert page.count('class="hit"') == 3
    assert "CLIP image match #1" in page
    assert Image.objects.count() == stored_before  # query images are not added to the corpus


def test_a_dicom_query_never_reaches_the_page_or_storage_with_patient_tags(client, clip_corpus, settings):
    from pathlib import Path

    response = upload(client, "patient.dcm", dicom_bytes())

    assert response.status_code == 200
    assert "Doe^Jane" not in response.content.decode() and "123456" not in response.content.decode()
    stored = b"".join(p.read_bytes() for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())
    assert b"Doe^Jane" not in stored


@pytest.mark.parametrize(
    "name, data, status, message",
    [
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 10, 400, "damaged"),
        (
            "page.png",
            b"\x89PNG\r\n\x1a\n<html><body>not an image</body></html>",
            400,
            "web-page markup",
        ),
        ("notes.txt", b"just some text", 400, "not a supported picture"),
        ("bomb.png", None, 400, "too large"),
        ("empty.png", b"", 400, "empty"),
    ],
)
def test_bad_uploads_get_a_clear_message_and_a_4xx(client, clip_corpus, name, data, status, message):
    response = upload(client, name, bomb_bytes() if data is None else data)

    assert response.status_code == status
    assert message in response.content.decode()
    assert 'role="alert"' in response.content.decode()


def test_a_50_mb_upload_is_refused_with_413_before_it_is_read(client, clip_corpus):
    response = upload(client, "huge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (50 * 2**20))

    assert response.status_code == 413
    assert "up to 20 MB" in response.content.decode()


def test_offline_image_search_says_so_in_one_plain_sentence_without_admin_words(client):
    factories.images(*CAPTIONS)

    response = upload(client, "q.png", factories.png_bytes())

    assert response.status_code == 409
    page = response.content.decode()
    assert "Searching by picture is not available on this server." in page
    assert "manage.py" not in page and "luhuitong" not in page and "hf-hub:" not in page


def test_composed_query_through_the_page_blends_image_and_words(client, clip_corpus):
    response = upload(client, "q.png", factories.png_bytes(), text="with contrast", weight="0.3")

    page = response.content.decode()
    assert response.status_code == 200
    assert "“with contrast” (text weight 0.3)" in page
    assert upload(client, "q.png", factories.png_bytes(), text="with contrast", weight="7").status_code == 400


def test_more_like_this_finds_neighbours_but_not_the_image_itself(client, clip_corpus):
    source = clip_corpus[0]

    response = client.get(reverse("search:similar", args=[source.pk]), {"k": "10"})

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="hit"') == len(CAPTIONS) - 1
    assert reverse("corpus:image_detail", args=[source.pk]) + '"' in page  # the "images like" link only
    assert f"more like {source.external_id}" in page


def test_more_like_this_offline_falls_back_to_similar_captions_and_says_so(client):
    source, *_ = factories.images(*CAPTIONS)
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())

    response = client.get(reverse("search:similar", args=[source.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "images with similar captions" in page
    assert "caption meaning #1" in page


def test_uploading_an_image_does_not_change_an_image_that_looks_the_same_in_the_corpus(client, clip_corpus):
    before = list(Image.objects.order_by("pk").values_list("pk", "sha256"))
    png = io.BytesIO()
    PILImage.open(clip_corpus[0].file).save(png, format="PNG")
    upload(client, "same.png", png.getvalue())
    assert list(Image.objects.order_by("pk").values_list("pk", "sha256")) == before
