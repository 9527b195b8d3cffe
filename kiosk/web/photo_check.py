"""'Check a photo': analyse an upload once, answer repeats from an LRU cache keyed by the file's hash.

A repeat is found from the uploaded bytes alone, before any decoding; a new file is size-checked, decoded once
and analysed under a lock (the analyzer's infer requests serve one photo at a time)."""
from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict

import numpy as np

from kiosk.vision.analyzer import PhotoAnalyzer
from kiosk.vision.image_input import ImageLimits, decode_checked
from kiosk.live.render import annotate


@dataclasses.dataclass(frozen=True)
class PhotoResult:
    annotated_rgb: np.ndarray    # display-sized, RGB for the browser
    report: dict                 # detect --json shape
    cached: bool


def file_key(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class PhotoChecker:
    def __init__(self, analyzer: PhotoAnalyzer, display_size: tuple[int, int], cache_size: int,
                 limits: ImageLimits):
        self.analyzer = analyzer
        self.limits = limits
        self.display_size = display_size
        self.cache_size = cache_size
        self._cache: OrderedDict[str, PhotoResult] = OrderedDict()
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()

    def decode(self, data: bytes) -> np.ndarray:
        """Raises UnreadableImage (one line) for anything too large or not an image; nothing too large is decoded."""
        return decode_checked(data, self.limits)

    def cached(self, data: bytes) -> PhotoResult | None:
        """The answer for a file seen before (None for a new one)."""
        key = file_key(data)
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                return None
            self._cache.move_to_end(key)
        return dataclasses.replace(hit, cached=True)

    def analyse(self, data: bytes, image: np.ndarray, name: str = "upload") -> PhotoResult:
        """The answer for a new file: `image` is its decoded pixels (from decode)."""
        with self._model_lock:  # the analyzer's infer requests serve one photo at a time
            faces = self.analyzer.analyse(image)
        annotated = annotate(image, faces, [f.label for f in faces], self.display_size)
        report = {"image": name, "width": image.shape[1], "height": image.shape[0],
                  "faces": [f.to_json() for f in faces]}
        result = PhotoResult(np.ascontiguousarray(annotated[:, :, ::-1]), report, cached=False)
        with self._lock:
            if self.cache_size:
                self._cache[file_key(data)] = result
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return result
