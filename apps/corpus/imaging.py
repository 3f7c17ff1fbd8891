"""Reading images safely and rendering DICOM / NIfTI data to plain 8-bit pictures.

Everything the platform stores is a rendered picture ("L" or "RGB") or a JPEG/PNG stripped of its
metadata; DICOM tags, and with them patient data, never reach storage. Nothing a file declares is
allocated before it is checked: pixel counts, inflated sizes and element lengths are capped first,
and large arrays are processed as uint8/float32. No Django imports here.
"""

from __future__ import annotations

import io
import re
import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pydicom
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from pydicom import config as dicom_config
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import _read_file_meta_info, read_dataset, read_preamble
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut, pixel_array
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, generate_uid

# Largest picture (pixels per frame) read by default: imports. Uploaded query images pass a smaller
# `max_pixels` (settings.MIRAGE_MAX_QUERY_PIXELS). Pillow raises DecompressionBombError past twice
# its own limit and only warns past the limit itself, so the warning is turned into an error too.
MAX_PIXELS = 100_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# Deflated DICOM (PS3.5 A.5) is inflated by us, never by pydicom (which inflates without a limit):
# a 1 MB upload can declare a gigabyte. Past this many inflated bytes (a 4096 × 4096 16-bit image;
# inflating them takes about 0.1 s) the file is refused.
MAX_INFLATED_BYTES = 32 * 2**20

# DICOM pixel layouts we decode: samples per pixel and bits allocated per sample.
DICOM_SAMPLES = (1, 3)
DICOM_BITS_ALLOCATED = (1, 8, 16, 32)

# A file that a browser could take for a web page (an HTML or SVG document, or a picture with one
# appended, a "polyglot") is refused whatever it is named, before it is parsed.
MARKUP = re.compile(rb"<(?:!doctype|html|head|body|script|svg|iframe|object|embed)[\s>/]", re.IGNORECASE)

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


def open_image(path: Path, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open a PNG/JPEG/TIFF/WebP picture or a DICOM file as an "L" or "RGB" image."""
    path = Path(path)
    return open_image_bytes(read_file(path), name=path.name, max_pixels=max_pixels)


def read_file(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImageError(f"{Path(path).name}: the file cannot be read ({exc.strerror or exc}).") from exc


def open_image_bytes(data: bytes, *, name: str = "image", max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The same for a file's content (an upload, a stored file); `name` labels error messages.

    A picture of more than `max_pixels` pixels is refused before it is decoded. A DICOM file is
    de-identified in memory before it is rendered; one marked as having burned-in annotation is refused.
    """
    if MARKUP.search(data):
        raise ImageError(f"{name}: the file holds web-page markup (HTML or SVG), not only a picture.")
    if name.lower().endswith(".dcm") or data[128:132] == b"DICM":
        with _untrusted_dicom():
            ds = read_dicom(data, name=name)
            # Patient data goes before anything else happens: only the rendered pixels leave here.
            return dicom_to_image(deidentify_dicom(ds), max_pixels=max_pixels)
    return _open_raster(data, name, max_pixels=max_pixels)[1]


@contextmanager
def _untrusted_dicom() -> Iterator[None]:
    """While a stranger's DICOM is read, pydicom neither validates nor warns: its messages quote
    element values, and a patient's name must not reach the logs."""
    mode = dicom_config.settings.reading_validation_mode
    dicom_config.settings.reading_validation_mode = dicom_config.IGNORE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        dicom_config.settings.reading_validation_mode = mode


def read_dicom(data: bytes, *, name: str = "image") -> FileDataset:
    """Parse a DICOM file's content, refusing what would cost far more than its size.

    A deflated dataset is inflated here with a cap; an element whose declared length runs past the
    end of the file is refused (pydicom would read what is there and carry on); so is an image
    marked BurnedInAnnotation = YES, whose pixels may show patient details.
    """
    try:
        fp = io.BytesIO(data)
        preamble = read_preamble(fp, False)
        # pydicom's own reader of the file meta group: its public twin only opens paths.
        meta = _read_file_meta_info(fp)
        if meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
            buffer = DicomBytesIO(_inflate(memoryview(data)[fp.tell() :], name))
            dataset = read_dataset(buffer, is_implicit_VR=False, is_little_endian=True)
            meta.TransferSyntaxUID = ExplicitVRLittleEndian  # what the inflated bytes now are
            ds = FileDataset(name, dataset, preamble, meta, is_implicit_VR=False, is_little_endian=True)
        else:
            ds = pydicom.dcmread(io.BytesIO(data))
    except ImageError:
        raise
    except Exception as exc:  # pydicom fails on malformed input with many exception types
        raise ImageError(f"{name}: not a readable DICOM file.") from exc
    # Tags, not elements: iterating a Dataset converts every element's value.
    tags = [(elements, tag) for elements in (ds.file_meta, ds) for tag in elements.keys()]  # noqa: SIM118
    if any(_cut_short(elements.get_item(tag)) for elements, tag in tags):
        raise ImageError(f"{name}: the DICOM file declares more data than it holds.")
    if str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES":
        raise ImageError(
            f"{name}: the DICOM image is marked BurnedInAnnotation = YES (text such as patient details "
            "is written into its pixels), so it is refused."
        )
    return ds


def _cut_short(element: object) -> bool:
    """Whether a not yet converted element holds fewer bytes than its (defined) length declares."""
    if not isinstance(element, RawDataElement) or element.value is None or element.length == 0xFFFFFFFF:
        return False
    return len(element.value) < element.length


def _inflate(zipped: memoryview, name: str) -> bytes:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        inflated = inflater.decompress(zipped, MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise ImageError(f"{name}: the deflated DICOM data is damaged.") from exc
    if inflater.unconsumed_tail:
        raise ImageError(
            f"{name}: the deflated DICOM data inflates to more than {MAX_INFLATED_BYTES // 2**20} MB."
        )
    return inflated


def open_image_reduced(
    data: bytes, *, name: str = "image", at_least: int, max_pixels: int = MAX_PIXELS
) -> tuple[tuple[int, int], Image.Image]:
    """A PNG/JPEG/TIFF/WebP picture's upright (width, height), and the picture decoded no smaller than
    `at_least` pixels a side where the format allows less: JPEG's DCT scaling decodes a large photo at
    1/2 to 1/8 of its size, several times faster (all of its data is still read, so damage is found).
    For thumbnails; other formats come back whole."""
    return _open_raster(data, name, max_pixels=max_pixels, draft=at_least)


def _open_raster(
    data: bytes, name: str, *, max_pixels: int = MAX_PIXELS, draft: int | None = None
) -> tuple[tuple[int, int], Image.Image]:
    """(upright full size, upright picture in "L" or "RGB")."""
    too_large = f"{name}: the picture is too large (more than {max_pixels / 1_000_000:g} megapixels)."
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # Opening reads only the header; the size is checked before anything is decoded.
            # verify() finds truncated or corrupt data without decoding; it leaves the
            # image unusable, so the data is opened a second time to decode it.
            with Image.open(io.BytesIO(data), formats=RASTER_FORMATS) as probe:
                if probe.width * probe.height > max_pixels:
                    raise ImageError(too_large)
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
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageError(too_large) from exc
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
        arr = np.asarray(img, dtype=np.float32)
        return Image.fromarray(_window(arr, float(arr.min()), float(arr.max())))
    # P, RGBA, CMYK, YCbCr, LAB…: going through RGBA keeps palette transparency conversions quiet.
    return img.convert("RGBA").convert("RGB")


def dicom_to_image(ds: Dataset, *, frame: int | None = None, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Render one frame of a DICOM image as an 8-bit "L" or "RGB" image.

    `frame` is 0-based; by default the middle frame of a multi-frame (cine or 3-D) object. The
    declared layout is checked before anything is decoded (see _check_pixel_layout).
    """
    if "PixelData" not in ds:
        raise ImageError("The DICOM file holds no image (no Pixel Data).")
    frames = _check_pixel_layout(ds, max_pixels)
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


def _check_pixel_layout(ds: Dataset, max_pixels: int) -> int:
    """The number of frames, once the declared image fits the caps and, for uncompressed data,
    the Pixel Data holds rows × columns × samples × bits allocated × frames."""
    try:
        rows, columns = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
        frames = int(ds.get("NumberOfFrames") or 1)
        samples = int(ds.get("SamplesPerPixel") or 1)
        bits = int(ds.get("BitsAllocated") or 0)
    except (TypeError, ValueError) as exc:
        raise ImageError("The DICOM image size attributes are invalid.") from exc
    if rows < 1 or columns < 1 or frames < 1:
        raise ImageError(f"The DICOM image size is invalid ({columns}×{rows} pixels, {frames} frame(s)).")
    if rows * columns > max_pixels:
        raise ImageError(
            f"The DICOM image is too large ({columns}×{rows} pixels; at most "
            f"{max_pixels / 1_000_000:g} megapixels are accepted)."
        )
    if samples not in DICOM_SAMPLES or bits not in DICOM_BITS_ALLOCATED:
        raise ImageError(
            f"The DICOM pixel layout is not supported ({samples} samples of {bits} bits per pixel)."
        )
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if syntax is None or not syntax.is_compressed:
        expected = (rows * columns * samples * bits * frames + 7) // 8
        raw = ds.get_item("PixelData")
        if raw is None or len(raw.value or b"") < expected:
            raise ImageError("The DICOM image data is shorter than its declared size.")
    return frames


def _to_uint8(arr: np.ndarray, bits: int) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    out = arr.astype(np.float32)
    out *= 255.0 / (2**bits - 1)
    np.clip(out, 0, 255, out=out)
    return np.rint(out, out=out).astype(np.uint8)


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
    values = _modality_values(arr, attrs)
    center, width = _first(attrs.get("WindowCenter")), _first(attrs.get("WindowWidth"))
    if center is not None and width is not None and width >= 1:
        if str(attrs.get("VOILUTFunction", "LINEAR")).upper() == "SIGMOID":
            values -= center
            values *= -4.0 / width
            np.exp(values, out=values)
            values += 1.0
            return np.rint(255.0 / values).astype(np.uint8)
        # DICOM PS3.3 C.11.2.1.2.1: linear window, values outside it clip to black/white.
        low = center - 0.5 - (width - 1) / 2
        return _window(values, low, low + width - 1)
    if attrs.get("VOILUTSequence"):
        lut_bits = int(attrs.VOILUTSequence[0].LUTDescriptor[2])
        # LUTs are indexed by whole stored values; floats would make pydicom guess.
        return _to_uint8(apply_voi_lut(np.rint(values).astype(np.int32), attrs), lut_bits)
    return _percentile_window(values)


def _modality_values(arr: np.ndarray, attrs: Dataset) -> np.ndarray:
    """Stored values through the modality transform, as a new float32 array.

    A rescale is applied here in float32: pydicom's apply_modality_lut makes float64 copies.
    """
    if "ModalityLUTSequence" in attrs:
        return apply_modality_lut(arr, attrs).astype(np.float32)
    values = arr.astype(np.float32)
    slope, intercept = _first(attrs.get("RescaleSlope")), _first(attrs.get("RescaleIntercept"))
    if slope is not None and slope != 1.0:
        values *= slope
    if intercept:
        values += intercept
    return values


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
    """Map [low, high] linearly onto 0…255, clipping outside (one float32 temporary)."""
    span = max(high - low, 1e-6)
    out = values.astype(np.float32)
    out -= low
    out *= 255.0 / span
    np.clip(out, 0.0, 255.0, out=out)
    return np.rint(out, out=out).astype(np.uint8)


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
    plane = np.take(volume, volume.shape[axis] // 2, axis=axis).astype(np.float32)
    plane = np.nan_to_num(plane, nan=float(np.nanmin(plane)) if np.isfinite(plane).any() else 0.0)
    # The plane's two axes run towards (right or anterior, anterior or superior). Rotating by 90°
    # puts the second one at the top; mirroring then gives the radiological convention: patient's
    # right on the viewer's left (axial, coronal), face on the left (sagittal).
    return Image.fromarray(_percentile_window(np.fliplr(np.rot90(plane))), "L")


# What a stored JPEG or PNG keeps: what is needed to draw it as it is drawn here. EXIF (which also
# holds GPS positions and camera serials), XMP, IPTC, comments, PNG text chunks and anything after the
# end of the picture are dropped; colour profiles stay.
JPEG_KEPT_APPS = {0xE0: b"JFIF\0", 0xE2: b"ICC_PROFILE\0", 0xEE: b"Adobe"}  # APPn: payload prefix
JPEG_KEPT_MARKERS = frozenset({*range(0xC0, 0xD0), 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF})  # SOFn DHT DQT…
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEPT_CHUNKS = frozenset(
    {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs"}
)
EXIF_ORIENTATION = 0x0112


def storable(data: bytes, *, render: Callable[[], Image.Image]) -> tuple[bytes, str]:
    """The bytes to store for an imported file, and their format ("JPEG" or "PNG"), with no metadata;
    `render` gives its whole picture, called only when the file must be re-encoded.

    JPEG and PNG keep their compressed image data byte for byte, without the metadata segments and
    chunks; a JPEG that its EXIF orientation turned upright is re-encoded from the upright picture.
    Anything else (DICOM, TIFF, WebP) is stored as a PNG of the rendered picture.
    """
    if data.startswith(b"\xff\xd8\xff"):
        with Image.open(io.BytesIO(data)) as img:
            upright = img.getexif().get(EXIF_ORIENTATION, 1) == 1
        stripped = _strip_jpeg(data) if upright else None
        if stripped is not None:
            return stripped, "JPEG"
        out = io.BytesIO()
        _bare(render()).save(out, format="JPEG", quality=95)
        return out.getvalue(), "JPEG"
    if data.startswith(PNG_SIGNATURE) and (stripped := _strip_png(data)) is not None:
        return stripped, "PNG"
    return encode_png(render()), "PNG"


def encode_png(picture: Image.Image) -> bytes:
    """A PNG of a rendered picture, with its colour profile and no other metadata."""
    out = io.BytesIO()
    _bare(picture).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _bare(picture: Image.Image) -> Image.Image:
    """The picture without what Pillow read beside the pixels (a JPEG comment is written back from
    there), but its colour profile."""
    bare = picture.copy()
    bare.info = {key: value for key, value in picture.info.items() if key == "icc_profile"}
    return bare


def _strip_jpeg(data: bytes) -> bytes | None:
    """The JPEG's segments needed to draw it, in order; None when its structure is not as expected."""
    kept, pos = [b"\xff\xd8"], 2
    while pos + 1 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # end of image: whatever follows is dropped
            return b"".join([*kept, b"\xff\xd9"])
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            kept.append(data[pos : pos + 2])
            pos += 2
            continue
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if end > len(data) or end < pos + 4:
            return None
        payload = data[pos + 4 : end]
        if marker == 0xDA:  # start of scan: its header, then entropy-coded data up to the next marker
            scan_end = _jpeg_scan_end(data, end)
            kept.append(data[pos:scan_end])
            end = scan_end
        elif marker == 0xE0 and payload.startswith(JPEG_KEPT_APPS[0xE0]) and len(payload) >= 14:
            kept.append(b"\xff\xe0\x00\x10" + payload[:12] + b"\0\0")  # JFIF without its thumbnail
        elif marker in JPEG_KEPT_MARKERS or (
            marker in JPEG_KEPT_APPS and marker != 0xE0 and payload.startswith(JPEG_KEPT_APPS[marker])
        ):
            kept.append(data[pos:end])
        pos = end
    return None


def _jpeg_scan_end(data: bytes, pos: int) -> int:
    """Where entropy-coded data starting at `pos` ends: at the first marker that is not a restart."""
    while (pos := data.find(b"\xff", pos)) != -1 and pos + 1 < len(data):
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:  # a stuffed 0xFF byte, a restart marker
            pos += 2
        elif following == 0xFF:
            pos += 1
        else:
            return pos
    return len(data)


def _strip_png(data: bytes) -> bytes | None:
    """The PNG's chunks needed to draw it, in order; None when its structure is not as expected."""
    kept, pos = [PNG_SIGNATURE], len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + int.from_bytes(data[pos : pos + 4], "big")
        if end > len(data):
            return None
        if kind in PNG_KEPT_CHUNKS:
            kept.append(data[pos:end])
        if kind == b"IEND":  # whatever follows is dropped
            return b"".join(kept)
        pos = end
    return None


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
