"""The visible mark and the PNG metadata every generated image carries."""

import io

import numpy as np
from PIL import Image

from apps.generation.watermark import DISCLAIMER, mark_synthetic, png_with_metadata


def band(image: Image.Image) -> np.ndarray:
    """The bottom 9% of the picture, where the mark goes."""
    pixels = np.asarray(image.convert("L"), dtype=np.int16)
    return pixels[-round(image.height * 0.09) :]


def test_the_mark_is_drawn_into_the_pixels_as_white_text_on_a_dark_band():
    white = Image.new("RGB", (512, 512), "white")

    marked = mark_synthetic(white)

    strip = band(marked)
    assert marked.size == (512, 512) and marked.mode == "RGB"
    assert (strip < 80).mean() > 0.6  # mostly the dark band
    assert (strip > 200).sum() > 300  # with the letters in it
    assert (np.asarray(marked.convert("L"))[:400] == 255).all()  # the rest untouched


def test_the_mark_is_visible_on_a_dark_image_and_survives_a_jpeg_re_encode():
    black = Image.new("L", (512, 512), 0)
    buffer = io.BytesIO()
    mark_synthetic(black).save(buffer, format="JPEG", quality=70)

    reloaded = Image.open(io.BytesIO(buffer.getvalue()))

    assert (band(reloaded) > 200).sum() > 300


def test_png_text_metadata_round_trips_including_non_latin_prompts():
    metadata = {
        "prompt": "Röntgen thorax — pneumothorax, 気胸",
        "seed": "42",
        "model": "Nihirc/Prompt2MedImage",
    }

    png = png_with_metadata(Image.new("RGB", (64, 64)), metadata)

    text = Image.open(io.BytesIO(png)).text
    assert {key: text[key] for key in metadata} == metadata
    assert text["Software"] == "MIRAGE" and text["Disclaimer"] == DISCLAIMER
