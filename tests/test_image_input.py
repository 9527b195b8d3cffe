"""Images from outside: size checked from the header before decoding, one clear error for anything refused."""
import time

import cv2
import pytest
from bombs import BOMBS, png_bomb

from kiosk.bench.samples import grace_hopper, grace_hopper_path
from kiosk.vision.image_input import ImageLimits, UnreadableImage, decode_checked, header_size

LIMITS = ImageLimits(max_bytes=20_000_000, max_pixels=40_000_000)


@pytest.mark.parametrize("name", BOMBS)
def test_bombs_are_refused_from_the_header(tmp_path, name):
    bomb = png_bomb(tmp_path / "bomb.png", *BOMBS[name]).read_bytes()
    started = time.perf_counter()
    with pytest.raises(UnreadableImage, match="megapixels; the limit is 40 megapixels"):
        decode_checked(bomb, LIMITS)
    assert time.perf_counter() - started < 0.5  # nothing was decoded


def test_over_the_pixel_limit_names_the_size(tmp_path):
    data = png_bomb(tmp_path / "big.png", 10_000, 5_000).read_bytes()
    with pytest.raises(UnreadableImage, match="^10000x5000 is 50 megapixels; the limit is 40 megapixels$"):
        decode_checked(data, LIMITS)
    assert decode_checked(data, ImageLimits(20_000_000, 60_000_000)).shape == (5_000, 10_000, 3)


@pytest.mark.parametrize("data", [b"", b"plain text", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
                                  cv2.imencode(".jpg", grace_hopper())[1].tobytes()[:600],
                                  b"GIF89a" + b"\x01\x00\x01\x00" + b"\x00" * 20])
def test_broken_or_foreign_bytes_are_one_clear_error(data):
    with pytest.raises(UnreadableImage, match=r"^not a readable image \(JPEG, PNG, BMP, WebP or TIFF expected\)$"):
        decode_checked(data, LIMITS)


def test_byte_limit_comes_first():
    data = grace_hopper_path().read_bytes()
    with pytest.raises(UnreadableImage, match=r"^the file is 0\.1 MB; the limit is 0\.0 MB$"):
        decode_checked(data, ImageLimits(10_000, 40_000_000))
    with pytest.raises(UnreadableImage, match=r"^the file is 36\.0 MB; the limit is 20\.0 MB$"):
        decode_checked(b"\xff" * (36 << 20), ImageLimits(20 << 20, 40_000_000))


@pytest.mark.parametrize("extension", [".jpg", ".png", ".bmp", ".webp", ".tiff"])
def test_accepted_formats_decode(extension):
    data = cv2.imencode(extension, grace_hopper())[1].tobytes()
    assert header_size(data, LIMITS) == (512, 600)
    assert decode_checked(data, LIMITS).shape == (600, 512, 3)
