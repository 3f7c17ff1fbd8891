"""Reading images safely and rendering DICOM / NIfTI data to plain 8-bit pictures.

Everything the platform stores is a rendered picture ("L" or "RGB"); DICOM tags, and with them
patient data, never reach storage. No Django imports here.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pydicom
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut, pixel_array
from pydicom.uid import generate_uid

# Largest picture we accept. Pillow raises DecompressionBombError past twice its limit and only
# warns past the limit itself, so open_image also turns the warning into an error.
MAX_PIXELS = 100_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

RASTER_FORMATS = ("PNG", "JPEG", "TIFF", "WEBP")

# Robust window used when a picture carries no window of its own: ignores the few extreme
# pixels (burned-in text, metal, empty background) that would otherwise flatten the contrast.
PERCENTILE_WINDOW = (0.5, 99.5)

# Longest side of the stored thumbnails, in pixels.
THUMBNAIL_SIZE = 256
# EXIF orientations that turn the picture by 90° (so its upright width is the stored height).
_TURNED = frozenset({5, 6, 7, 8})


class ImageError(ValueError):
    """A file that cannot be turned into a picture; the message is meant for the user."""


def open_image(path: Path) -> Image.Image:
    """Open a PNG/JPEG/TIFF/WebP picture or a DICOM file as an "L" or "RGB" image."""
    path = Path(path)
    return open_image_bytes(read_file(path), name=path.name)


def read_file(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImageError(f"{Path(path).name}: the file cannot be read ({exc.strerror or exc}).") from exc


def open_image_bytes(data: bytes, *, name: str = "image") -> Image.Image:
    """The same for a file's content (an upload, a stored file); `name` labels error messages.

    A DICOM file is de-identified in memory before it is rendered.
    """
    if name.lower().endswith(".dcm") or data[128:132] == b"DICM":
        try:
            ds = pydicom.dcmread(io.BytesIO(data))
        except Exception as exc:  # pydicom fails on malformed input with many exception types
            raise ImageError(f"{name}: not a readable DICOM file.") from exc
        # Patient data goes before anything else happens: only the rendered pixels leave here.
        return dicom_to_image(deidentify_dicom(ds))
    return _open_raster(data, name)[1]


def open_image_reduced(
    data: bytes, *, name: str = "image", at_least: int
) -> tuple[tuple[int, int], Image.Image]:
    """A PNG/JPEG/TIFF/WebP picture's upright (width, height), and the picture decoded no smaller than
    `at_least` pixels a side where the format allows less: JPEG's DCT scaling decodes a large photo at
    1/2 to 1/8 of its size, several times faster (all of its data is still read, so damage is found).
    For thumbnails; other formats come back whole."""
    return _open_raster(data, name, draft=at_least)


def _open_raster(data: bytes, name: str, *, draft: int | None = None) -> tuple[tuple[int, int], Image.Image]:
    """(upright full size, upright picture in "L" or "RGB")."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # verify() finds truncated or corrupt data without decoding; it leaves the
            # image unusable, so the data is opened a second time to decode it.
            with Image.open(io.BytesIO(data), formats=RASTER_FORMATS) as probe:
                probe.verify()
            with Image.open(io.BytesIO(data), formats=RASTER_FORMATS) as img:
                width, height = img.size
                if img.getexif().get(ExifTags.Base.Orientation, 1) in _TURNED:
                    width, height = height, width
                if draft and img.format == "JPEG":
                    # The smallest DCT scale that still covers the thumbnail's own size.
                    scale = min(1.0, draft / max(img.size))
                    img.draft(None, (max(1, int(img.width * scale)), max(1, int(img.height * scale))))
                img.load()
                return (width, height), _to_display_mode(ImageOps.exif_transpose(img))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageError(
                f"{name}: the picture is too large (more than {MAX_PIXELS // 1_000_000} megapixels)."
            ) from exc
        except UnidentifiedImageError as exc:
            formats = ", ".join(RASTER_FORMATS)
            raise ImageError(f"{name}: not a supported picture (use {formats} or DICOM).") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageError(f"{name}: the picture is damaged or incomplete.") from exc


def _to_display_mode(img: Image.Image) -> Image.Image:
    """Reduce any Pillow mode to "L" (grey) or "RGB"."""
    if img.mode in ("L", "RGB"):
        return img.copy()
    if img.mode in ("1", "LA"):
        return img.convert("L")
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit and float greyscale (exported scans): stretch the stored range onto 8 bits.
        arr = np.asarray(img, dtype=np.float64)
        return Image.fromarray(_window(arr, float(arr.min()), float(arr.max())))
    # P, RGBA, CMYK, YCbCr, LAB…: going through RGBA keeps palette transparency conversions quiet.
    return img.convert("RGBA").convert("RGB")


def dicom_to_image(ds: Dataset, *, frame: int | None = None) -> Image.Image:
    """Render one frame of a DICOM image as an 8-bit "L" or "RGB" image.

    `frame` is 0-based; by default the middle frame of a multi-frame (cine or 3-D) object.
    """
    if "PixelData" not in ds:
        raise ImageError("The DICOM file holds no image (no Pixel Data).")
    try:
        rows, columns = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
        frames = int(ds.get("NumberOfFrames") or 1)
    except (TypeError, ValueError) as exc:
        raise ImageError("The DICOM image size attributes are invalid.") from exc
    if rows * columns > MAX_PIXELS:
        raise ImageError(f"The DICOM image is too large ({columns}×{rows} pixels).")
    index = frames // 2 if frame is None else frame
    if not 0 <= index < frames:
        raise ImageError(f"The DICOM image has {frames} frame(s); frame {index} does not exist.")
    try:
        # Decoding one frame only: a 3-D or cine object may hold hundreds.
        arr = pixel_array(ds, index=index) if frames > 1 else ds.pixel_array
    except Exception as exc:  # decoders raise many exception types on damaged or unsupported data
        syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        how = f" ({syntax.name})" if syntax else ""
        raise ImageError(
            f"The DICOM image data cannot be decoded{how}: it is damaged or compressed in a way this "
            "server has no decoder for."
        ) from exc

    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(arr, ds)
        return Image.fromarray(_to_uint8(rgb, 8 * rgb.dtype.itemsize))
    if arr.ndim == 3:  # colour (YBR has already been converted to RGB by pixel_array)
        return Image.fromarray(_to_uint8(arr, int(ds.get("BitsStored") or 8)), "RGB")
    if arr.ndim != 2:
        raise ImageError(f"The DICOM image has an unexpected shape {arr.shape}.")
    grey = _render_monochrome(arr, _frame_attributes(ds, index))
    if photometric == "MONOCHROME1":  # the lowest value is meant to be shown white
        grey = 255 - grey
    return Image.fromarray(grey, "L")


def _to_uint8(arr: np.ndarray, bits: int) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    return np.clip(arr.astype(np.float64) * (255.0 / (2**bits - 1)), 0, 255).round().astype(np.uint8)


def _frame_attributes(ds: Dataset, index: int) -> Dataset:
    """The dataset holding rescale and window values for one frame.

    Enhanced multi-frame objects (Enhanced CT/MR…) keep them in functional groups instead of the
    top level, per frame or shared by all frames.
    """
    if any(k in ds for k in ("RescaleSlope", "ModalityLUTSequence", "WindowCenter", "VOILUTSequence")):
        return ds
    found = Dataset()
    groups = [ds.get("SharedFunctionalGroupsSequence"), ds.get("PerFrameFunctionalGroupsSequence")]
    for sequence, item_index in zip(groups, (0, index), strict=True):
        if not sequence or item_index >= len(sequence):
            continue
        for macro in ("PixelValueTransformationSequence", "FrameVOILUTSequence"):
            if sequence[item_index].get(macro):
                found.update(sequence[item_index][macro][0])
    return found


def _render_monochrome(arr: np.ndarray, attrs: Dataset) -> np.ndarray:
    values = apply_modality_lut(arr, attrs).astype(np.float64)
    center, width = _first(attrs.get("WindowCenter")), _first(attrs.get("WindowWidth"))
    if center is not None and width is not None and width >= 1:
        if str(attrs.get("VOILUTFunction", "LINEAR")).upper() == "SIGMOID":
            return (255.0 / (1.0 + np.exp(-4.0 * (values - center) / width))).round().astype(np.uint8)
        # DICOM PS3.3 C.11.2.1.2.1: linear window, values outside it clip to black/white.
        low = center - 0.5 - (width - 1) / 2
        return _window(values, low, low + width - 1)
    if attrs.get("VOILUTSequence"):
        lut_bits = int(attrs.VOILUTSequence[0].LUTDescriptor[2])
        # LUTs are indexed by whole stored values; floats would make pydicom guess.
        return _to_uint8(apply_voi_lut(np.rint(values).astype(np.int64), attrs), lut_bits)
    return _percentile_window(values)


def _first(value: object) -> float | None:
    """The first value of a possibly multi-valued DICOM number (DS/IS/MultiValue), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, (MultiValue, list, tuple)):
        value = value[0] if len(value) else None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _window(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map [low, high] linearly onto 0…255, clipping outside."""
    span = max(high - low, 1e-6)
    return (np.clip((values - low) / span, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def _percentile_window(values: np.ndarray) -> np.ndarray:
    low, high = np.percentile(values, PERCENTILE_WINDOW)
    return _window(values, float(low), float(high))


def volume_to_image(data: np.ndarray, *, axis: int = 2) -> Image.Image:
    """Middle slice of a 3-D (or first volume of a 4-D) array, windowed and shown upright.

    `data` is expected in RAS+ voxel order (nibabel's `as_closest_canonical`): axis 0 runs to the
    patient's right, 1 to anterior, 2 to superior. Axis 2 gives an axial slice (anterior at the
    top), 0 a sagittal and 1 a coronal slice (superior at the top). Voxels are shown square.
    """
    volume = np.asarray(data)
    if volume.ndim == 4:
        volume = volume[..., 0]
    if volume.ndim != 3:
        raise ImageError(f"Expected a 3-D or 4-D volume, got shape {volume.shape}.")
    # NaN marks "no data" in many float volumes (masked maps); show it as the lowest value.
    plane = np.take(volume, volume.shape[axis] // 2, axis=axis).astype(np.float64)
    plane = np.nan_to_num(plane, nan=float(np.nanmin(plane)) if np.isfinite(plane).any() else 0.0)
    # The plane's two axes run towards (right or anterior, anterior or superior). Rotating by 90°
    # puts the second one at the top; mirroring then gives the radiological convention: patient's
    # right on the viewer's left (axial, coronal), face on the left (sagittal).
    return Image.fromarray(_percentile_window(np.fliplr(np.rot90(plane))), "L")


def make_thumbnail(img: Image.Image, size: int = THUMBNAIL_SIZE) -> Image.Image:
    """A copy that fits in size×size pixels, aspect ratio kept; never enlarges."""
    thumb = img.copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
    return thumb


# Attributes that identify a patient, a visit, a place or a person, after DICOM PS3.15 Annex E
# (Basic Application Level Confidentiality Profile). Beyond this list every date, time and person
# name (VRs DA, DT, TM, PN) is removed wherever it occurs, private tags and overlays (which can
# carry burned-in text) are dropped, and instance UIDs are replaced. Patient sex, age, size and
# weight are kept as the profile's "Retain Patient Characteristics" option allows: they matter for
# teaching and do not identify anyone on their own.
IDENTIFYING_KEYWORDS = (
    "AccessionNumber",
    "AdmissionID",
    "AdmittingDiagnosesDescription",
    "AdditionalPatientHistory",
    "BranchOfService",
    "CountryOfResidence",
    "CurrentPatientLocation",
    "DerivationDescription",
    "DeviceSerialNumber",
    "EthnicGroup",
    "FillerOrderNumberImagingServiceRequest",
    "ImageComments",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "InstitutionName",
    "IssuerOfPatientID",
    "MedicalAlerts",
    "MedicalRecordLocator",
    "MilitaryRank",
    "Occupation",
    "OtherPatientIDs",
    "OtherPatientIDsSequence",
    "OtherPatientNames",
    "PatientAddress",
    "PatientComments",
    "PatientID",
    "PatientInsurancePlanCodeSequence",
    "PatientMotherBirthName",
    "PatientReligiousPreference",
    "PatientState",
    "PatientTelephoneNumbers",
    "PerformedProcedureStepID",
    "PlacerOrderNumberImagingServiceRequest",
    "ReferencedPatientSequence",
    "ReferencedStudySequence",
    "ReferringPhysicianAddress",
    "ReferringPhysicianTelephoneNumbers",
    "RegionOfResidence",
    "RequestAttributesSequence",
    "RequestedProcedureID",
    "ScheduledProcedureStepID",
    "StationName",
    "StudyID",
    "ProtocolName",
)
DATE_TIME_NAME_VRS = frozenset({"DA", "DT", "TM", "PN"})
REPLACED_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")


def deidentify_dicom(ds: Dataset) -> Dataset:
    """Remove identifying attributes from `ds` (in place) and return it."""
    ds.remove_private_tags()
    _strip(ds)
    for tag in [elem.tag for elem in ds if 0x6000 <= elem.tag.group <= 0x60FF]:  # overlay planes
        del ds[tag]
    new_uids = {kw: generate_uid() for kw in REPLACED_UIDS if kw in ds}
    for keyword, uid in new_uids.items():
        setattr(ds, keyword, uid)
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "SOPInstanceUID" in new_uids:
        meta.MediaStorageSOPInstanceUID = new_uids["SOPInstanceUID"]
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "PS3.15 Annex E basic profile; patient characteristics kept"
    return ds


def _strip(ds: Dataset) -> None:
    for keyword in IDENTIFYING_KEYWORDS:
        if keyword in ds:
            delattr(ds, keyword)
    for elem in list(ds):
        if elem.VR in DATE_TIME_NAME_VRS:
            del ds[elem.tag]
        elif elem.VR == "SQ":
            for item in elem.value:
                _strip(item)
