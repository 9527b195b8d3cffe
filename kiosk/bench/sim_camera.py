"""A simulated IP camera: MJPEG over HTTP on 127.0.0.1, for tests and benchmarks.

It can be unplugged and plugged back in, and can stamp each frame with the
wall-clock time it was sent, so a viewer can measure capture-to-display latency.
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

STAMP_BITS = 32
STAMP_BLOCK = 16  # px per bit: survives two JPEG encodings


def stamp_time(frame: np.ndarray, milliseconds: int) -> np.ndarray:
    """Writes the low 32 bits of a millisecond time as black/white blocks along the top-left edge."""
    stamped = frame.copy()
    for bit in range(STAMP_BITS):
        value = 255 if (milliseconds >> bit) & 1 else 0
        stamped[:STAMP_BLOCK, bit * STAMP_BLOCK:(bit + 1) * STAMP_BLOCK] = value
    return stamped


def read_stamp(frame: np.ndarray) -> int:
    centre = STAMP_BLOCK // 2
    return sum(1 << bit for bit in range(STAMP_BITS) if frame[centre, bit * STAMP_BLOCK + centre].mean() > 127)


class SimulatedIPCamera:
    def __init__(self, frame: np.ndarray, fps: float = 30.0, stamp: bool = False):
        self.frame = frame
        self.jpeg = cv2.imencode(".jpg", frame)[1].tobytes()
        self.fps = fps
        self.stamp = stamp
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._plugged = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def next_jpeg(self) -> bytes:
        if not self.stamp:
            return self.jpeg
        stamped = stamp_time(self.frame, int(time.time() * 1000) & 0xFFFFFFFF)
        return cv2.imencode(".jpg", stamped, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()

    def plug(self) -> SimulatedIPCamera:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                next_due = time.monotonic()
                try:
                    while camera._plugged.is_set():
                        next_due += 1 / camera.fps
                        time.sleep(max(0.0, next_due - time.monotonic()))
                        jpeg = camera.next_jpeg()
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                                         % len(jpeg) + jpeg + b"\r\n")
                except OSError:
                    pass

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._plugged.set()
        threading.Thread(target=self._server.serve_forever, name="sim-camera", daemon=True).start()
        return self

    def unplug(self) -> None:
        """Open streams end and new connections are refused."""
        self._plugged.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
