"""The gate output: turns PASS/STOP and the kiosk's health into commands for the door (release or hold).

Guarantees: nothing here runs on the pipeline thread (it only queues the verdict); a PASS in hard mode releases
for `pulse_ms` and a STOP ends a release at once; while the kiosk is unhealthy the output is at `fail_state`,
and it returns to normal by itself; stopping the service leaves the output at `fail_state`. Each backend has its
own worker thread, so a hanging webhook never delays the relay, and a failing backend is counted and logged,
never fatal.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

from kiosk.config.gate import GateConfig
from kiosk.record.events import one_line
from kiosk.types import GateState, Published

log = logging.getLogger(__name__)

HEALTH_EVERY_S = 0.1
MAX_LATE_S = 10.0   # a command still queued this long after it was given is dropped: no door opens minutes late
STOP_FLUSH_S = 1.5  # the "stopping" command's time to reach the outputs; SIGTERM must end the process in seconds


@dataclass(frozen=True)
class GateCommand:
    released: bool    # True: the door may open
    reason: str       # "PASS", "STOP", "pulse end", "fault: <why>", "recovered", "start", "stopping"
    mode: str         # "soft" or "hard"
    time: float       # wall-clock seconds

    def to_json(self) -> dict:
        return asdict(self)


class Backend(Protocol):
    name: str

    def send(self, command: GateCommand) -> None:
        """Carries out one command or raises; called on the backend's own worker thread only."""

    def close(self) -> None: ...


class OutputWorker:
    """One backend on a thread of its own: commands in order, failures counted with the last error kept."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self.sent = 0
        self.failures = 0
        self.expired = 0    # dropped: still queued MAX_LATE_S after they were given (a slow webhook)
        self.last_error: str | None = None
        self._queue: queue.Queue[GateCommand | None] = queue.Queue(maxsize=256)
        self._thread = threading.Thread(target=self._run, name=f"gate-{backend.name}", daemon=True)
        self._thread.start()

    def put(self, command: GateCommand) -> None:
        try:
            self._queue.put_nowait(command)
        except queue.Full:  # the backend is stuck far behind: this command is lost, and counted
            self.failures += 1

    def _run(self) -> None:
        while (command := self._queue.get()) is not None:
            if time.time() - command.time > MAX_LATE_S:
                self.expired += 1
                continue
            try:
                self.backend.send(command)
                self.sent += 1
                if self.last_error is not None:
                    log.warning("gate output %s works again", self.backend.name)
                self.last_error = None
            except Exception as error:  # noqa: BLE001 - a backend fault must never reach the kiosk
                self.failures += 1
                reason = one_line(error)
                if reason != self.last_error:
                    log.error("gate output %s failed (%s); the kiosk goes on", self.backend.name, reason)
                self.last_error = reason

    def finish(self) -> None:
        """No more commands: the worker ends after the ones queued (see close)."""
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass  # stuck far behind: close() gives up on it at its deadline

    def close(self, deadline: float) -> None:
        """Waits for the queued commands until `deadline` (time.monotonic), then closes the backend."""
        self._thread.join(max(0.0, deadline - time.monotonic()))
        try:
            self.backend.close()
        except Exception as error:  # noqa: BLE001
            log.warning("gate output %s did not close cleanly: %s", self.backend.name, error)

    def status(self) -> dict:
        return {"backend": self.backend.name, "sent": self.sent, "failures": self.failures,
                "expired": self.expired, "last_error": self.last_error}


class GateController:
    def __init__(self, settings: GateConfig, backends: list[Backend], health: Callable[[], tuple[bool, str]]):
        self.settings = settings
        self.health = health
        self.workers = [OutputWorker(backend) for backend in backends]
        self.released = False
        self.fault: str | None = None
        self._verdicts: queue.Queue[str | None] = queue.Queue(maxsize=64)
        self._thread = threading.Thread(target=self._run, name="gate-controller", daemon=True)

    def start(self) -> GateController:
        self._thread.start()
        return self

    def observe(self, item: Published, previous: str) -> None:
        """A gate-state change (kiosk.types.on_changes): only queued, the controller thread does the rest."""
        if item.state in (GateState.PASS, GateState.STOP):
            try:
                self._verdicts.put_nowait(item.state.value)
            except queue.Full:
                log.warning("gate controller behind: a %s was not acted on", item.state.value)

    def _command(self, released: bool, reason: str) -> None:
        self.released = released
        command = GateCommand(released, reason, self.settings.mode, time.time())
        for worker in self.workers:
            worker.put(command)

    def _run(self) -> None:
        hard = self.settings.mode == "hard"
        resting = not hard  # soft mode never holds the door
        failed = resting or self.settings.fail_state == "open"
        self._command(resting, "start")
        release_until: float | None = None
        while True:
            wait = HEALTH_EVERY_S if release_until is None else max(0.0, min(HEALTH_EVERY_S,
                                                                              release_until - time.monotonic()))
            try:
                verdict = self._verdicts.get(timeout=wait)
            except queue.Empty:
                verdict = ""
            if verdict is None:
                self._command(failed, "stopping")
                return
            healthy, why = self.health()
            if not healthy:
                if self.fault != why:
                    self.fault, release_until = why, None
                    self._command(failed, f"fault: {why}")
                continue
            if self.fault is not None:
                self.fault = None
                self._command(resting, "recovered")
            if verdict == GateState.PASS.value:
                self._command(True, "PASS")
                release_until = time.monotonic() + self.settings.pulse_ms / 1000 if hard else None
            elif verdict == GateState.STOP.value:
                self._command(resting, "STOP")
                release_until = None
            elif release_until is not None and time.monotonic() >= release_until:
                self._command(False, "pulse end")
                release_until = None

    def stop(self) -> None:
        """Leaves the output at fail_state ('stopping'), delivered before the backends close, all within
        STOP_FLUSH_S (a backend that hangs is left behind: its thread is a daemon)."""
        deadline = time.monotonic() + STOP_FLUSH_S
        try:
            self._verdicts.put(None, timeout=STOP_FLUSH_S / 2)
        except queue.Full:
            log.error("gate controller stuck: the output may not be at its fail state")
        self._thread.join(STOP_FLUSH_S / 2)
        for worker in self.workers:
            worker.finish()
        for worker in self.workers:
            worker.close(deadline)

    def status(self) -> dict:
        return {"mode": self.settings.mode, "released": self.released, "fault": self.fault,
                "outputs": [worker.status() for worker in self.workers]}
