"""Rendering DICOM / NIfTI data and opening untrusted picture files."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.pixels import convert_color_space
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from apps.corpus.imaging import (
    ImageError,
    deidentify_dicom,
    dicom_to_image,
    make_thumbnail,
    open_image,
    volume_to_image,
)


def make_dicom(pixels: np.ndarray, photometric: str = "MONOCHROME2", **attributes: object) -> FileDataset:
    """A small, valid DICOM dataset holding `pixels` (frames first when 3-D monochrome)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("synthetic.dcm", Dataset(), file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.Modality = "OT"
    bits = 8 if pixels.dtype == np.uint8 else 16
    ds.set_pixel_data(pixels, photometric_interpretation=photometric, bits_stored=bits)
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def write_png_chunks(path: Path, width: int, height: int, bit_depth: int, idat: bytes) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_monochrome1_renders_high_raw_values_dark() -> None:
    pixels = np.array([[0, 1000], [2000, 4000]], dtype=np.uint16)
    image = dicom_to_image(make_dicom(pixels, "MONOCHROME1"))
    rendered = np.asarray(image)
    assert image.mode == "L"
    assert rendered[1, 1] < 10  # brightest raw value shows dark
    assert rendered[0, 0] > 245


def test_monochrome2_renders_high_raw_values_bright() -> None:
    pixels = np.array([[0, 1000], [2000, 4000]], dtype=np.uint16)
    rendered = np.asarray(dicom_to_image(make_dicom(pixels)))
    assert rendered[1, 1] > 245
    assert rendered[0, 0] < 10


def test_window_is_applied_after_rescale_and_clips_outside_values() -> None:
    # Stored values 1024 + HU with intercept -1024; window 40/400 HU spans -160…240 HU.
    hu = np.array([[-1000, -160, 40, 240, 1000]], dtype=np.int32)
    ds = make_dicom(
        (hu + 1024).astype(np.uint16),
        RescaleSlope=1,
        RescaleIntercept=-1024,
        WindowCenter=40,
        WindowWidth=400,
    )
    rendered = np.asarray(dicom_to_image(ds))[0]
    assert rendered[0] == 0 and rendered[1] == 0  # air and the window's bottom edge are black
    assert 120 < rendered[2] < 136  # the window centre is mid grey
    assert rendered[3] >= 254 and rendered[4] == 255  # bone is white


def test_first_of_several_windows_is_used() -> None:
    pixels = np.array([[0, 100, 200]], dtype=np.uint16)
    ds = make_dicom(pixels, WindowCenter=[100, 1000], WindowWidth=[100, 10])
    rendered = np.asarray(dicom_to_image(ds))[0]
    assert rendered[0] == 0 and rendered[2] == 255
    assert 120 < rendered[1] < 136


def test_missing_window_falls_back_to_a_robust_percentile_window() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(1000, 1100, size=(64, 64), dtype=np.uint16)
    pixels[0, 0] = 60000  # one outlier must not flatten everything else to black
    rendered = np.asarray(dicom_to_image(make_dicom(pixels)))
    assert rendered.std() > 50


def test_multi_frame_renders_the_middle_frame_unless_a_frame_is_asked_for() -> None:
    frames = np.zeros((5, 8, 8), dtype=np.uint16)
    for index in range(5):
        frames[index, 0, index] = 1000  # each frame marks its own column
    ds = make_dicom(frames)
    middle = np.asarray(dicom_to_image(ds))
    assert np.unravel_index(middle.argmax(), middle.shape) == (0, 2)
    last = np.asarray(dicom_to_image(ds, frame=4))
    assert np.unravel_index(last.argmax(), last.shape) == (0, 4)
    with pytest.raises(ImageError):
        dicom_to_image(ds, frame=5)


def test_ybr_colour_is_converted_to_rgb() -> None:
    rgb = np.zeros((4, 4, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL")
    image = dicom_to_image(make_dicom(ybr, "YBR_FULL"))
    assert image.mode == "RGB"
    red, green, blue = np.asarray(image)[0, 0].astype(int)
    assert abs(red - 200) <= 2 and green <= 2 and blue <= 2


def test_dicom_without_pixel_data_is_refused() -> None:
    ds = make_dicom(np.zeros((2, 2), dtype=np.uint8))
    del ds.PixelData
    with pytest.raises(ImageError, match="no image"):
        dicom_to_image(ds)


def test_dicom_file_is_recognised_by_its_preamble_without_the_dcm_suffix(tmp_path: Path) -> None:
    path = tmp_path / "upload.bin"
    make_dicom(np.arange(16, dtype=np.uint16).reshape(4, 4) * 100).save_as(path, enforce_file_format=True)
    image = open_image(path)
    assert image.mode == "L" and image.size == (4, 4)


def test_corrupt_dicom_file_raises_image_error(tmp_path: Path) -> None:
    path = tmp_path / "scan.dcm"
    path.write_bytes(b"\0" * 128 + b"DICM" + bytes(range(256)) * 4)
    with pytest.raises(ImageError):
        open_image(path)


def test_random_bytes_raise_image_error(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(ImageError, match="not a supported picture"):
        open_image(path)


def test_png_header_followed_by_html_raises_image_error(tmp_path: Path) -> None:
    path = tmp_path / "figure.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n<!DOCTYPE html><html><body>Not found</body></html>")
    with pytest.raises(ImageError):
        open_image(path)


def test_truncated_png_raises_image_error(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(
        buffer, "PNG"
    )
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError):
        open_image(path)


def test_decompression_bomb_png_raises_image_error(tmp_path: Path) -> None:
    # A real 30000×30000 1-bit PNG: 900 megapixels that compress to about 100 KB.
    side = 30_000
    compressor = zlib.compressobj(9)
    row = b"\0" + bytes(side // 8 + 1)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    path = tmp_path / "bomb.png"
    write_png_chunks(path, side, side, 1, idat)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(ImageError, match="too large"):
        open_image(path)


@pytest.mark.parametrize(
    ("mode", "fmt", "expected"),
    [
        ("RGBA", "PNG", "RGB"),
        ("P", "PNG", "RGB"),
        ("I;16", "PNG", "L"),
        ("1", "PNG", "L"),
        ("RGB", "JPEG", "RGB"),
    ],
)
def test_pictures_are_reduced_to_grey_or_rgb(tmp_path: Path, mode: str, fmt: str, expected: str) -> None:
    gradient = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (64, 1))
    source = Image.fromarray(gradient).convert("RGB")
    if mode == "I;16":
        source = Image.fromarray(gradient.astype(np.uint16) * 200)
    elif mode != "RGB":
        source = source.convert(mode)
    path = tmp_path / f"picture.{fmt.lower()}"
    source.save(path, fmt)
    image = open_image(path)
    assert image.mode == expected
    assert image.size == (64, 64)
    assert np.asarray(image).std() > 10


def test_volume_slices_follow_the_radiological_convention() -> None:
    # RAS+ volume: the corner voxel at patient's right, anterior, superior must appear top-left in the
    # axial (right on the viewer's left, anterior up), sagittal (front left) and coronal views.
    volume = np.zeros((9, 11, 13), dtype=np.float32)
    volume[-1, -1, 6] = 100  # axial middle slice
    volume[4, -1, -1] = 100  # sagittal middle slice
    volume[-1, 5, -1] = 100  # coronal middle slice
    for axis, shape in ((2, (11, 9)), (0, (13, 11)), (1, (13, 9))):
        rendered = np.asarray(volume_to_image(volume, axis=axis))
        assert rendered.shape == shape
        assert rendered[0, 0] == 255


def test_four_dimensional_volume_uses_the_first_volume() -> None:
    volume = np.zeros((4, 4, 3, 2), dtype=np.int16)
    volume[0, 0, 1, 0] = 50
    volume[3, 3, 1, 1] = 50  # only in the second volume
    rendered = np.asarray(volume_to_image(volume))
    assert rendered.max() == 255 and (rendered == 255).sum() == 1


def test_volume_with_missing_values_still_renders() -> None:
    volume = np.linspace(0, 1, 5 * 5 * 5).reshape(5, 5, 5)
    volume[:2, :, 2] = np.nan  # masked voxels, as float NIfTI maps store them
    rendered = np.asarray(volume_to_image(volume))
    assert rendered.dtype == np.uint8 and rendered.std() > 10


def test_thumbnail_fits_the_box_and_keeps_aspect_ratio() -> None:
    thumb = make_thumbnail(Image.new("L", (1000, 500)), size=256)
    assert thumb.size == (256, 128)
    assert make_thumbnail(Image.new("RGB", (100, 50))).size == (100, 50)  # never enlarged


def test_deidentification_removes_identifying_attributes_and_private_tags() -> None:
    ds = make_dicom(
        np.zeros((2, 2), dtype=np.uint8),
        PatientName="Doe^Jane",
        PatientID="123456",
        PatientBirthDate="19700101",
        PatientSex="F",
        StudyDate="20240101",
        StudyTime="101010",
        InstitutionName="St. Example Hospital",
        ReferringPhysicianName="House^Gregory",
        AccessionNumber="A-1",
    )
    original_uid = ds.SOPInstanceUID
    block = ds.private_block(0x0009, "ACME 1.0", create=True)
    block.add_new(0x01, "LO", "DOE,JANE")
    item = Dataset()
    item.ContentDate = "20240101"
    item.PerformingPhysicianName = "Who^Doctor"
    ds.ReferencedImageSequence = [item]

    cleaned = deidentify_dicom(ds)

    for keyword in (
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "StudyDate",
        "StudyTime",
        "InstitutionName",
        "ReferringPhysicianName",
        "AccessionNumber",
    ):
        assert keyword not in cleaned
    assert not any(elem.tag.is_private for elem in cleaned)
    assert "ContentDate" not in cleaned.ReferencedImageSequence[0]
    assert "PerformingPhysicianName" not in cleaned.ReferencedImageSequence[0]
    assert cleaned.PatientSex == "F"  # kept: not identifying on its own, useful for teaching
    assert cleaned.PatientIdentityRemoved == "YES"
    assert cleaned.SOPInstanceUID != original_uid
    assert cleaned.file_meta.MediaStorageSOPInstanceUID == cleaned.SOPInstanceUID
    assert dicom_to_image(cleaned).size == (2, 2)  # the image itself survives
