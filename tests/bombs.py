"""Decompression bombs made on the spot: small valid PNG files that declare (and decode to) huge images."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(path: Path, width: int, height: int) -> Path:
    """A 1-bit black PNG of width x height: a few MB on disk, width x height x 3 bytes once decoded to BGR."""
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte, then the packed bits
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b""))
    return path


# the three the probe used: a long thin one, a square one, and one over OpenCV's own 2^30-pixel limit
BOMBS = {"thin": (1_000_000, 1000), "square": (20_000, 20_000), "over-2^30": (65_536, 16_400)}
