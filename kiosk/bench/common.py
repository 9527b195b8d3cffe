"""Helpers every benchmark uses: a free port, timing and summaries."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

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


@contextlib.contextmanager
def served(app) -> Iterator[str]:
    """The ASGI app on a free local port in a thread of its own; yields its base URL, stops it on leaving."""
    import uvicorn
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
