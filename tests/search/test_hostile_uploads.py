"""Hostile query uploads: each is refused with a 400, quickly, without costing much memory.

Each file is decoded in a fresh Python process through the real upload function
(apps.search.params.picture_from_upload); the child reports how long the call took and how far
its peak resident memory (VmHWM) rose above what it held after imports, a warm-up decode and
reading the file. The files are built here and are small on disk; what they declare is not.
"""

from __future__ import annotations

import functools
import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    SecondaryCaptureImageStorage,
    generate_uid,
)
from rest_framework.test import APIClient

from tests import factories

ROOT = Path(__file__).resolve().parents[2]
MAX_GROWTH_MB = 200
MAX_SECONDS = 1.0
GiB = 2**30


# --- Building the files ------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def deflated_zeros(count: int, *, prefix: bytes = b"", zlib_wrapper: bool = False) -> bytes:
    """A deflate stream of `prefix` then `count` zero bytes, built in well under a second: a block of
    zeros is compressed once after a full flush (which resets the dictionary) and then repeated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = packer.compress(prefix) + packer.flush(zlib.Z_FULL_FLUSH)
    zeros = b"\0" * 2**22
    block = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(count, len(zeros))
    stream = head + block * whole + packer.compress(b"\0" * rest) + packer.flush()
    if not zlib_wrapper:
        return stream
    checksum = zlib.adler32(prefix)
    for _ in range(whole):
        checksum = zlib.adler32(zeros, checksum)
    checksum = zlib.adler32(b"\0" * rest, checksum)
    return b"\x78\xda" + stream + checksum.to_bytes(4, "big")


def bomb_png(width: int, height: int, *, colour_type: int, bit_depth: int, bytes_per_row: int) -> bytes:
    """A valid PNG of zeros: a few hundred kB on disk that declares width × height pixels."""
    idat = deflated_zeros(height * (1 + bytes_per_row), zlib_wrapper=True)  # filter byte + samples per row
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def dicom(*, rows: int = 32, columns: int = 32, pixels: bytes | None = None, syntax=ExplicitVRLittleEndian):
    """A small, valid 8-bit greyscale DICOM dataset with a patient name and ID."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = FileDataset("hostile.dcm", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.PatientName, ds.PatientID, ds.Modality = "Doe^Jane", "ID-998877", "OT"
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = pixels if pixels is not None else bytes(range(256)) * (rows * columns // 256)
    return ds


def dicom_bytes(ds: FileDataset) -> bytes:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


@functools.cache
def deflate_bomb_dicom(inflated_size: int = GiB) -> bytes:
    """Deflated Explicit VR Little Endian whose dataset inflates to `inflated_size` bytes (about 1 MB
    on disk): a small header, then a Pixel Data element of zeros matching its declared frames."""
    ds = dicom(rows=16384, columns=16384)
    ds.NumberOfFrames = inflated_size // (16384 * 16384)
    del ds.PixelData
    plain = dicom_bytes(ds)
    meta_end = 144 + struct.unpack("<I", plain[140:144])[0]  # after the meta group's length element
    pixel_header = b"\xe0\x7f\x10\x00OB\0\0" + struct.pack("<I", inflated_size)
    body = deflated_zeros(inflated_size, prefix=plain[meta_end:] + pixel_header)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    meta = DicomBytesIO()
    write_file_meta_info(meta, ds.file_meta)
    return b"\0" * 128 + b"DICM" + meta.getvalue() + body


def huge_header_dicom() -> bytes:
    """A 1 kB DICOM file whose Pixel Data element declares 500 MB."""
    data = dicom_bytes(dicom(rows=8, columns=8, pixels=bytes(64)))
    at = data.index(b"\xe0\x7f\x10\x00")
    return data[:at] + b"\xe0\x7f\x10\x00OB\0\0" + struct.pack("<I", 500_000_000) + data[at + 12 :]


def oversized_frame_dicom() -> bytes:
    """A small DICOM file declaring a 60,000 × 60,000 picture."""
    return dicom_bytes(dicom(rows=60_000, columns=60_000, pixels=bytes(4096)))


def short_pixel_data_dicom() -> bytes:
    """A DICOM file declaring 4,000 × 4,000 pixels × 40 frames and holding 4 kB of them."""
    ds = dicom(rows=4000, columns=4000, pixels=bytes(4096))
    ds.NumberOfFrames = 40
    return dicom_bytes(ds)


def truncated_jpeg() -> bytes:
    out = io.BytesIO()
    factories.picture(3).resize((1024, 1024)).save(out, format="JPEG", quality=95)
    return out.getvalue()[: len(out.getvalue()) // 2]


def png_with_html_appended() -> bytes:
    out = io.BytesIO()
    factories.picture(4).save(out, format="PNG")
    return out.getvalue() + b"<html><body><script>alert(document.cookie)</script></body></html>"


HOSTILE = {
    "decompression-bomb PNG (30,000 × 30,000, 1 bit)": (
        "bomb.png",
        lambda: bomb_png(30_000, 30_000, colour_type=0, bit_depth=1, bytes_per_row=30_000 // 8),
        "too large",
    ),
    "PNG bomb under Pillow's own limit (10,000 × 10,000 RGB)": (
        "big.png",
        lambda: bomb_png(10_000, 10_000, colour_type=2, bit_depth=8, bytes_per_row=30_000),
        "too large",
    ),
    "deflate-bomb DICOM (inflates to 1 GiB)": ("bomb.dcm", deflate_bomb_dicom, "inflates to more than"),
    "huge DICOM header (500 MB element length)": ("header.dcm", huge_header_dicom, "more data than it holds"),
    "DICOM declaring 60,000 × 60,000 pixels": ("wide.dcm", oversized_frame_dicom, "too large"),
    "DICOM whose pixel data is shorter than declared": ("short.dcm", short_pixel_data_dicom, "shorter"),
    "truncated JPEG": ("cut.jpg", truncated_jpeg, "damaged or incomplete"),
    "HTML under an image name": (
        "page.png",
        lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        "web-page markup",
    ),
    "SVG under an image name": (
        "drawing.jpg",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "web-page markup",
    ),
    "PNG with HTML appended": ("polyglot.png", png_with_html_appended, "web-page markup"),
}


# --- Measuring in a child process --------------------------------------------------------------------

# One child decodes every file: Django and the search stack take seconds to import. Before each file
# the peak is reset (writing 5 to /proc/self/clear_refs), so each file's growth is its own.
CHILD = r"""
import io, json, sys, time
import django
django.setup()
from PIL import Image
from apps.core.errors import UserError
from apps.search.params import picture_from_upload

def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

warm = io.BytesIO()
Image.new("L", (64, 64)).save(warm, format="PNG")
picture_from_upload(data=warm.getvalue(), name="warm-up.png")
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    baseline = peak_kb()
    started = time.perf_counter()
    try:
        picture_from_upload(data=data, name=path.rsplit("/", 1)[-1])
        status, message = 200, ""
    except UserError as exc:
        status, message = exc.status, str(exc)
    seconds = time.perf_counter() - started
    growth = (peak_kb() - baseline) / 1024
    outcome = {"status": status, "message": message, "seconds": seconds, "growth_mb": growth}
    print(json.dumps({"path": path, **outcome}))
"""


def measure(paths: list[Path], *, root: Path = ROOT) -> dict[Path, dict]:
    """Decode each file in one child process run in the checkout `root`; what it reports, by path."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mirage_site.settings"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *map(str, paths)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {Path(outcome["path"]): outcome for outcome in outcomes}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, dict]:
    """What the child reports for each attack, and for a valid DICOM decoded last."""
    folder = tmp_path_factory.mktemp("hostile")
    paths = {}
    for attack, (name, build, _) in HOSTILE.items():
        paths[attack] = folder / name
        paths[attack].write_bytes(build())
    paths["valid"] = folder / "fine.dcm"
    paths["valid"].write_bytes(dicom_bytes(dicom()))
    measured = measure(list(paths.values()))
    return {attack: measured[path] for attack, path in paths.items()}


@pytest.mark.parametrize("attack", list(HOSTILE))
def test_a_hostile_upload_is_refused_with_400_in_under_a_second_and_200_mb(attack, outcomes):
    name, build, reason = HOSTILE[attack]
    outcome = outcomes[attack]

    assert outcome["status"] == 400, outcome
    assert reason in outcome["message"], outcome
    assert outcome["seconds"] < MAX_SECONDS, outcome
    assert outcome["growth_mb"] < MAX_GROWTH_MB, outcome


def test_the_hostile_files_are_small_on_disk():
    for name, build, _ in HOSTILE.values():
        assert len(build()) < 2 * 2**20, name  # the cost is in what they declare


def test_a_valid_query_image_still_decodes_in_the_child(outcomes):
    assert outcomes["valid"]["status"] == 200, outcomes["valid"]


# --- Through the page and the API --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_deflate_bomb_through_the_search_page_gets_a_400_with_the_reason(client):
    data = deflate_bomb_dicom()

    response = client.post(reverse("search:image_query"), {"image": SimpleUploadedFile("bomb.dcm", data)})

    page = response.content.decode()
    assert response.status_code == 400
    assert "inflates to more than 32 MB" in page and 'role="alert"' in page


@pytest.mark.django_db
def test_the_deflate_bomb_through_the_api_gets_a_400_error_envelope():
    response = APIClient().post(
        "/api/search/image/",
        {"image": SimpleUploadedFile("bomb.dcm", deflate_bomb_dicom())},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "inflates to more than" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_a_query_image_over_the_pixel_setting_is_refused_before_decoding(client, settings):
    settings.MIRAGE_MAX_QUERY_PIXELS = 1_000_000
    out = io.BytesIO()
    PILImage.fromarray(np.zeros((1100, 1000), dtype=np.uint8)).save(out, format="PNG")

    response = client.post(
        reverse("search:image_query"), {"image": SimpleUploadedFile("q.png", out.getvalue())}
    )

    assert response.status_code == 400
    assert "more than 1 megapixels" in response.content.decode()
