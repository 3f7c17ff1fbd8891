"""What makes a generated image recognisable as machine-made: a visible mark and PNG text metadata."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

MARK = "SYNTHETIC"
BAND_FRACTION = 0.09  # of the image height: 46 px on a 512-pixel image
DISCLAIMER = (
    "Synthetic image made by a machine learning model for education. It shows no real patient "
    "and must not be used for diagnosis."
)


def mark_synthetic(image: Image.Image) -> Image.Image:
    """A copy with a dark band across the bottom reading SYNTHETIC in white, drawn into the pixels so
    that it survives screenshots and metadata-stripping re-encodes."""
    marked = image.convert("RGB")
    width, height = marked.size
    band = max(8, round(height * BAND_FRACTION))
    draw = ImageDraw.Draw(marked, "RGBA")
    draw.rectangle((0, height - band, width, height), fill=(0, 0, 0, 215))
    font = ImageFont.load_default(size=max(6, round(band * 0.7)))
    left, top, right, bottom = draw.textbbox((0, 0), MARK, font=font)
    x = (width - (right - left)) / 2 - left
    y = height - band + (band - (bottom - top)) / 2 - top
    draw.text((x, y), MARK, font=font, fill=(255, 255, 255, 255))
    return marked


def png_with_metadata(image: Image.Image, metadata: dict[str, str]) -> bytes:
    """PNG bytes carrying `metadata` as international text chunks (prompts may be any language)."""
    info = PngInfo()
    for key, value in {"Software": "MIRAGE", "Disclaimer": DISCLAIMER, **metadata}.items():
        info.add_itxt(key, str(value))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()
