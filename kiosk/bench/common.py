"""Helpers every benchmark uses: a free port, timing and summaries."""
from __future__ import annotations

import socket
import time
from typing import Callable

import numpy as np


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def summarise(samples_ms: list[float]) -> str:
    values = np.asarray(samples_ms)
    return f"median {np.median(values):7.2f} ms  p95 {np.percentile(values, 95):7.2f} ms"


def timed(function: Callable, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, (time.perf_counter() - started) * 1000
