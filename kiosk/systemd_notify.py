"""systemd notifications: READY=1 once the kiosk works, WATCHDOG=1 only while the pipeline advances, STATUS= lines."""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def notify(message: str) -> bool:
    """Sends one message to $NOTIFY_SOCKET; False (and nothing sent) outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.connect(address)
            sock.sendall(message.encode())
        except OSError as error:
            log.warning("systemd notify failed: %s", error)
            return False
    return True


def watchdog_interval(default_s: float = 5.0) -> float:
    """Half of systemd's WatchdogSec (from $WATCHDOG_USEC), as systemd recommends."""
    usec = os.environ.get("WATCHDOG_USEC")
    return int(usec) / 2e6 if usec and usec.isdigit() else default_s


class Watchdog:
    """Pings systemd while `healthy()` holds and reports `status()`; stops pinging as soon as it does not."""

    def __init__(self, healthy: Callable[[], bool], status: Callable[[], str], interval_s: float):
        self.healthy = healthy
        self.status = status
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="systemd-watchdog", daemon=True)
        self.pings = 0

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            if self.healthy():
                self.pings += 1
                notify(f"WATCHDOG=1\nSTATUS={self.status()}")
            else:
                notify(f"STATUS=stalled: {self.status()}")


def wait_until_ready(first_frame: Callable[[], bool], camera_missing: Callable[[], bool],
                     stop: threading.Event) -> str | None:
    """Blocks until the first frame is processed or the camera is known to be missing; returns which
    (None when stopped first). Without either, systemd's start timeout decides."""
    while not stop.wait(0.02):
        if first_frame():
            return "first frame processed"
        if camera_missing():
            return "camera missing"
    return None


class NotifyListener:
    """A stand-in for systemd's side of $NOTIFY_SOCKET (tests and `bench boot`): collects what arrives."""

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify-listener", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                if self._stop.is_set():
                    return  # only once nothing is left to read
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()

    def with_line(self, line: str) -> list[tuple[float, str]]:
        return [(t, m) for t, m in self.messages if line in m.splitlines()]

    def wait_for(self, line: str, timeout: float) -> float:
        """Arrival time (monotonic) of the first message with this line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.with_line(line)
            if found:
                return found[0][0]
            time.sleep(0.01)
        raise TimeoutError(f"no {line} within {timeout} s")
