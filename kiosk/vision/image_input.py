"""Image bytes from outside (uploads, files given to `detect` and `eval`) -> a BGR image, or one clear error.

Guarantees: the size is read from the file's header before anything is decoded, so a decompression bomb
(a small file declaring billions of pixels) is refused without allocating its pixels; files over the byte
or pixel limit, in a format other than JPEG, PNG, BMP, WebP or TIFF, or that fail to decode, all end in
UnreadableImage with a one-line reason.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from kiosk.config import Config

ACCEPTED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "BMP": "BMP", "WEBP": "WebP", "TIFF": "TIFF"}
NOT_AN_IMAGE = "not a readable image (JPEG, PNG, BMP, WebP or TIFF expected)"


class UnreadableImage(ValueError):
    """The bytes are not an image this kiosk will decode; the message says why in one line."""


MB = 1 << 20  # a megabyte as browsers (and Gradio's upload check) count it


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int
    max_pixels: int


def image_limits(config: Config) -> ImageLimits:
    """The photo section's limits for images from outside."""
    return ImageLimits(int(config.photo.max_file_mb * MB), int(config.photo.max_megapixels * 1e6))


def _too_large(pixels: str, limits: ImageLimits) -> UnreadableImage:
    return UnreadableImage(f"{pixels}; the limit is {limits.max_pixels / 1e6:g} megapixels")


def header_size(data: bytes, limits: ImageLimits) -> tuple[int, int]:
    """(width, height) from the header alone (Pillow opens lazily: no pixel is decoded)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ACCEPTED_FORMATS:
                    raise UnreadableImage(NOT_AN_IMAGE)
                return image.width, image.height
    except Image.DecompressionBombError:  # Pillow's own bound, far above any limit here
        raise _too_large(f"the image declares over {2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} megapixels",
                         limits) from None
    except UnreadableImage:
        raise
    except Exception:  # noqa: BLE001 - Pillow raises many kinds on hostile headers; all mean the same to the user
        raise UnreadableImage(NOT_AN_IMAGE) from None


def decode_checked(data: bytes, limits: ImageLimits) -> np.ndarray:
    """The BGR image, decoded only once its byte size and declared pixel count are within the limits."""
    if len(data) > limits.max_bytes:
        raise UnreadableImage(f"the file is {len(data) / MB:.1f} MB; the limit is {limits.max_bytes / MB:.1f} MB")
    width, height = header_size(data, limits)
    if width * height > limits.max_pixels:
        raise _too_large(f"{width}x{height} is {width * height / 1e6:.0f} megapixels", limits)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        image = None
    if image is None:
        raise UnreadableImage(NOT_AN_IMAGE)
    return image
