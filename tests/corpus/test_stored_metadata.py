"""Imported files are stored without metadata, and nothing identifying from a DICOM header is kept.

Files go through the real folder importer (manage.py import_folder) and the real search page.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo

from apps.corpus.models import Image
from tests import factories
from tests.search.test_hostile_uploads import dicom, dicom_bytes

pytestmark = pytest.mark.django_db

SECRETS = [b"Dr Secret Artist", b"SecretCam 3000", b"Secret XMP note", b"Secret comment", b"SECRET-TRAILER"]
PATIENT = ["Doe^Jane", "ID-998877"]
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b"<rdf:Description>Secret XMP note</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def exif(orientation: int = 1) -> PILImage.Exif:
    tags = PILImage.Exif()
    tags[0x013B] = "Dr Secret Artist"  # Artist
    tags[0x010F] = "SecretCam 3000"  # Make
    tags[0x0112] = orientation
    return tags


def jpeg_with_metadata(orientation: int = 1) -> bytes:
    out = io.BytesIO()
    picture = factories.picture(11, size=64).resize((64, 40))
    picture.save(out, format="JPEG", quality=90, exif=exif(orientation), xmp=XMP, comment=b"Secret comment")
    return out.getvalue() + b"SECRET-TRAILER"


def png_with_metadata() -> bytes:
    info = PngInfo()
    info.add_text("Author", "Dr Secret Artist")
    info.add_text("Comment", "Secret comment")
    info.add_text("Description", "compressed, so checked by decoding", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    out = io.BytesIO()
    factories.picture(12, size=64).save(out, format="PNG", pnginfo=info, exif=exif())
    return out.getvalue() + b"SECRET-TRAILER"


def import_folder(folder: Path, files: dict[str, bytes]) -> str:
    """Import `files` (name → content) with a caption each; the command's output."""
    for name, data in files.items():
        (folder / name).write_bytes(data)
    captions = folder / "captions.csv"
    captions.write_text("file,caption\n" + "".join(f"{name},Figure {name}\n" for name in files))
    out = io.StringIO()
    call_command("import_folder", str(folder), captions=captions, stdout=out, stderr=out)
    return out.getvalue()


def stored(external_id: str) -> tuple[Image, bytes]:
    image = Image.objects.get(external_id=external_id)
    with image.file.open("rb") as handle:
        return image, handle.read()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(PILImage.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.parametrize("name, make", [("photo.jpg", jpeg_with_metadata), ("figure.png", png_with_metadata)])
def test_imported_jpeg_and_png_are_stored_without_metadata_and_with_the_same_pixels(tmp_path, name, make):
    original = make()
    assert all(secret in original for secret in SECRETS)

    import_folder(tmp_path, {name: original})

    image, data = stored(Path(name).stem)
    assert [secret for secret in SECRETS if secret in data] == []
    assert b"Exif" not in data
    assert PILImage.open(io.BytesIO(data)).info.keys() <= {
        "jfif",
        "jfif_version",
        "jfif_unit",
        "jfif_density",
        "dpi",
    }
    assert np.array_equal(pixels(data), pixels(original))  # stripped, not re-encoded
    assert image.format == PILImage.open(io.BytesIO(data)).format


def test_an_imported_jpeg_turned_by_exif_is_stored_upright_without_exif(tmp_path):
    import_folder(tmp_path, {"turned.jpg": jpeg_with_metadata(orientation=6)})  # rotate 90° to view

    image, data = stored("turned")
    assert [secret for secret in SECRETS if secret in data] == []
    assert PILImage.open(io.BytesIO(data)).size == (40, 64) == (image.width, image.height)


def test_a_dicom_marked_burned_in_annotation_is_refused_with_the_reason(tmp_path, client):
    ds = dicom()
    ds.BurnedInAnnotation = "YES"
    data = dicom_bytes(ds)

    output = import_folder(tmp_path, {"burned.dcm": data})
    response = client.post(reverse("search:image_query"), {"image": SimpleUploadedFile("burned.dcm", data)})

    assert "BurnedInAnnotation = YES" in output
    assert not Image.objects.filter(external_id="burned").exclude(file="").exists()
    assert response.status_code == 400
    assert "BurnedInAnnotation = YES" in response.content.decode()


def test_nothing_identifying_from_a_dicom_header_reaches_the_database_logs_or_errors(
    tmp_path, client, caplog
):
    caplog.set_level(logging.DEBUG)
    ds = dicom()
    ds.ReferringPhysicianName = ds.OperatorsName = ds.OtherPatientNames = "Doe^Jane"
    ds.InstitutionName, ds.StudyID, ds.AccessionNumber = "ID-998877", "ID-998877", "ID-998877"
    good = dicom_bytes(ds)
    ds.Rows = 4000  # now the pixel data is shorter than declared: an error path
    broken = dicom_bytes(ds)

    output = import_folder(tmp_path, {"scan.dcm": good, "broken.dcm": broken})
    answers = [
        client.post(reverse("search:image_query"), {"image": SimpleUploadedFile(name, data)})
        for name, data in (("scan.dcm", good), ("broken.dcm", broken))
    ]

    assert Image.objects.filter(external_id="scan").exclude(file="").exists()
    assert [a.status_code for a in answers] == [409, 400]  # decoded (no CLIP model here), refused
    rows = str(list(Image.objects.values()))
    texts = [rows, caplog.text, output, *(a.content.decode() for a in answers)]
    assert [(s, t[:200]) for s in PATIENT for t in texts if s in t] == []
    stored_bytes = b"".join(
        p.read_bytes() for p in Path(Image.objects.get(external_id="scan").file.path).parent.rglob("*")
    )
    assert not any(s.encode() in stored_bytes for s in PATIENT)
