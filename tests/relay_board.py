"""A USB serial relay board's side of a pseudo-terminal pair (the LCUS protocol the kiosk speaks)."""
from __future__ import annotations

import os
import threading
import time

from kiosk.outputs.relays import lcus_frame

ON, OFF = lcus_frame(1, True), lcus_frame(1, False)


class RelayBoard:
    """The board's side of a pseudo-terminal pair: every 4-byte command with the time it arrived."""

    def __init__(self):
        self.master, slave = os.openpty()
        self.port = os.ttyname(slave)
        self.frames: list[tuple[float, bytes]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                buffer += os.read(self.master, 64)
            except OSError:
                return
            while len(buffer) >= 4:
                self.frames.append((time.monotonic(), buffer[:4]))
                buffer = buffer[4:]

    def commands(self) -> list[bytes]:
        return [frame for _, frame in self.frames]
