"""'Check a photo': analyse an upload once, answer repeats from an LRU cache keyed by the hash of the pixels analysed.

Every upload is size-checked and decoded once (the browser has scaled a large photo to the analysis size first:
photo_upload.js); the same pixels are the same answer, whatever file they came in. A new image is analysed under
a lock (the analyzer's infer requests serve one photo at a time). The cache holds each answer's display-sized
picture as a JPEG file (a repeat is sent as it is, never encoded again) and its report: its memory stays small
however many photos pass. The page asks by the SHA-256 of the bytes it would send whether they were read before,
and gets a repeat's answer without uploading them (photo_upload.js).
"""
from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kiosk.durable import process_folder
from kiosk.live.render import annotate, describe_labels, encode_jpeg, plain
from kiosk.vision.analyzer import PhotoAnalyzer
from kiosk.vision.image_input import ImageLimits, decode_checked

RESULT_QUALITY = 85
RECENT = 4  # the newest answers' pictures stay on disk even uncached: their requests may still be sending them


@dataclasses.dataclass(frozen=True)
class PhotoResult:
    picture: Path                # display-sized JPEG with the faces boxed and labelled
    report: dict                 # detect --json shape
    cached: bool

    def summary(self, say: Callable[..., str] = plain) -> str:
        return describe_labels([face["label"] for face in self.report["faces"]], say)


def _libc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        return None


_malloc_trim = _libc_trim()


def give_back_memory() -> None:
    """Returns freed memory to the system. glibc keeps what a thread frees in that thread's arena, and each photo
    is decoded on one of Gradio's worker threads: without this, the RSS of a busy photo check only ever grows."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def upload_digest(data: bytes) -> str:
    """The SHA-256 of an upload's bytes, as the page computes it before sending (photo_upload.js)."""
    return hashlib.sha256(data).hexdigest()


def pixels_key(image: np.ndarray) -> str:
    """The cache key of an image as decode gives it."""
    digest = hashlib.blake2b(repr(image.shape).encode(), digest_size=16)
    digest.update(np.ascontiguousarray(image).data)
    return digest.hexdigest()


def _keep_newest(entries: OrderedDict, key: str, value: object, limit: int) -> None:
    """Puts key last (the newest) and drops the oldest entries beyond limit (0: keeps none)."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > limit:
        entries.popitem(last=False)


class PhotoChecker:
    def __init__(self, analyzer: PhotoAnalyzer, display_size: tuple[int, int], cache_size: int,
                 limits: ImageLimits, folder: Path):
        """The answers' pictures go in a folder of this process's own under `folder` (kiosk.durable.process_folder)."""
        self.analyzer = analyzer
        self.limits = limits
        self.display_size = display_size
        self.cache_size = cache_size
        self.folder = process_folder(folder)
        self._cache: OrderedDict[str, PhotoResult] = OrderedDict()
        self._uploads: OrderedDict[str, str] = OrderedDict()  # upload_digest -> pixels_key, for answers by digest
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._written = 0
        self._recent: deque[Path] = deque(maxlen=RECENT)
        self._on_disk: set[Path] = set()

    def read(self, data: bytes) -> tuple[np.ndarray, str]:
        """The upload's pixels and their cache key (pixels_key); the upload's digest is remembered, so that the same
        bytes can be answered by digest alone (`by_digest`). Raises UnreadableImage (one line) for anything too large
        or not an image; nothing too large is decoded."""
        image = decode_checked(data, self.limits)
        key, digest = pixels_key(image), upload_digest(data)
        with self._lock:
            _keep_newest(self._uploads, digest, key, self.cache_size)
        return image, key

    def by_digest(self, digest: str) -> PhotoResult | None:
        """The cached answer for an upload whose bytes were read before (None when unknown or no longer cached):
        a photo checked again needs neither its upload nor a decode."""
        with self._lock:
            key = self._uploads.get(digest)
        return None if key is None else self.cached(key)

    def cached(self, key: str) -> PhotoResult | None:
        """The answer for pixels seen before (None for a new image); `key` from pixels_key."""
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                return None
            self._cache.move_to_end(key)
        return dataclasses.replace(hit, cached=True)

    def analyse(self, image: np.ndarray, key: str, name: str = "upload") -> PhotoResult:
        """The answer for a new image (from decode; `key` from pixels_key)."""
        with self._model_lock:  # the analyzer's infer requests serve one photo at a time
            faces = self.analyzer.analyse(image)
        annotated = annotate(image, faces, [f.label for f in faces], self.display_size)
        report = {"image": name, "width": image.shape[1], "height": image.shape[0],
                  "faces": [f.to_json() for f in faces]}
        with self._lock:
            self._written += 1
            picture = self.folder / f"{self._written}-{key}.jpg"  # a new name each time: a file being sent stays
        picture.write_bytes(encode_jpeg(annotated, RESULT_QUALITY))  # in a 0700 folder; lost with the process
        result = PhotoResult(picture, report, cached=False)
        with self._lock:
            _keep_newest(self._cache, key, result, self.cache_size)
            self._recent.append(picture)
            self._on_disk.add(picture)
            kept = {entry.picture for entry in self._cache.values()} | set(self._recent)
            gone, self._on_disk = self._on_disk - kept, self._on_disk & kept
        for path in gone:
            path.unlink(missing_ok=True)
        return result
