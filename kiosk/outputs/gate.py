"""The gate output: turns PASS/STOP and the kiosk's health into commands for the door (release or hold).

Guarantees: nothing here runs on the pipeline thread (it only queues the verdict); a PASS in hard mode releases
for `pulse_ms` and a STOP ends a release at once; while the kiosk is unhealthy the output is at `fail_state`
(held whatever `fail_state` says when the health asks to hold: a failed self-test), and it returns to normal by
itself; stopping the service leaves the output at `fail_state`. Each backend has its
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
from kiosk.errors import one_line
from kiosk.types import GateState, Health, Published

log = logging.getLogger(__name__)

HEALTH_EVERY_S = 0.1
MAX_LATE_S = 10.0   # no attempt at a command starts, or is waited for, this long after it was given
RETRY_FIRST_S = 0.5  # backoff between attempts: 0.5 s, 1 s, 2 s, ...
OVERRIDE = "override"  # a staff override, queued like a verdict
STOP_FLUSH_S = 1.0  # the "stopping" command's time to reach the outputs; SIGTERM must end the process in seconds


@dataclass(frozen=True)
class GateCommand:
    released: bool    # True: the door may open
    reason: str       # "PASS", "STOP", "override", "pulse end", "fault: <why>", "recovered", "start", "stopping"
    mode: str         # "soft" or "hard"
    time: float       # wall-clock seconds

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class OutputStatus:
    backend: str
    sent: int
    failures: int
    expired: int      # given up: MAX_LATE_S passed first
    superseded: int   # not sent: a newer command came first
    last_error: str | None


@dataclass(frozen=True)
class GateStatus:
    mode: str                  # "soft" or "hard"
    released: bool
    fault: str | None          # why the output is at its fail state, or None
    outputs: tuple[OutputStatus, ...]


class Backend(Protocol):
    name: str
    retries: int   # further attempts after a failed one (with backoff), while the command is still wanted

    def send(self, command: GateCommand, timeout_s: float) -> None:
        """One attempt at carrying out the command, giving up after timeout_s; raises on failure. Called on the
        backend's own worker thread only."""

    def close(self) -> None: ...


class OutputWorker:
    """One backend on a thread of its own. The door follows the newest command only: a command that a newer one
    has replaced while it waited, or between two attempts, is not sent (superseded), and none is attempted, or
    waited for, later than MAX_LATE_S after it was given (expired). Failures are counted, the last error kept."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self.sent = 0
        self.failures = 0
        self.expired = 0     # dropped: MAX_LATE_S had passed before it could be carried out
        self.superseded = 0  # not sent: a newer command came first
        self.last_error: str | None = None
        self._queue: queue.Queue[GateCommand | None] = queue.Queue(maxsize=256)
        self._finishing = False
        self._thread = threading.Thread(target=self._run, name=f"gate-{backend.name}", daemon=True)
        self._thread.start()

    def put(self, command: GateCommand) -> None:
        try:
            self._queue.put_nowait(command)
        except queue.Full:  # the backend is stuck far behind: this command is lost, and counted
            self.failures += 1

    def _newest(self) -> GateCommand | None:
        """The newest queued command (waiting for one), the older ones counted as superseded; None once finished."""
        command = None if self._finishing else self._queue.get()
        while True:
            try:
                newer = self._queue.get_nowait()
            except queue.Empty:
                return command
            if newer is None:
                self._finishing = True
                continue
            if command is not None:
                self.superseded += 1
            command = newer

    def _run(self) -> None:
        while (command := self._newest()) is not None:
            self._carry_out(command)

    def _carry_out(self, command: GateCommand) -> None:
        for attempt in range(self.backend.retries + 1):
            left = MAX_LATE_S - (time.time() - command.time)
            if left <= 0:
                self.expired += 1
                return
            if attempt and not self._queue.empty():  # a newer command waits: this one is no longer wanted
                self.superseded += 1
                return
            try:
                self.backend.send(command, left)
            except Exception as error:  # noqa: BLE001 - a backend fault must never reach the kiosk
                reason = one_line(error)
                if reason != self.last_error:
                    log.error("gate output %s failed (%s); the kiosk goes on", self.backend.name, reason)
                self.last_error = reason
                if attempt < self.backend.retries:
                    time.sleep(min(RETRY_FIRST_S * 2 ** attempt, max(0.0, left - 0.1)))
                continue
            self.sent += 1
            if self.last_error is not None:
                log.warning("gate output %s works again", self.backend.name)
            self.last_error = None
            return
        self.failures += 1

    def finish(self) -> None:
        """No more commands: the worker ends after the newest one queued (see close)."""
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass  # stuck far behind: close() gives up on it at its deadline

    def close(self, deadline: float) -> None:
        """Waits for the queued command until `deadline` (time.monotonic), then closes the backend."""
        self._thread.join(max(0.0, deadline - time.monotonic()))
        try:
            self.backend.close()
        except Exception as error:  # noqa: BLE001
            log.warning("gate output %s did not close cleanly: %s", self.backend.name, error)

    def status(self) -> OutputStatus:
        return OutputStatus(self.backend.name, self.sent, self.failures, self.expired, self.superseded,
                            self.last_error)


class GateController:
    def __init__(self, settings: GateConfig, backends: list[Backend], health: Callable[[], Health]):
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

    def on_change(self, item: Published, previous: str) -> None:
        """A gate-state change (kiosk.types.on_changes): only queued, the controller thread does the rest."""
        if item.state in (GateState.PASS, GateState.STOP):
            try:
                self._verdicts.put_nowait(item.state.value)
            except queue.Full:
                log.warning("gate controller behind: a %s was not acted on", item.state.value)

    def release_once(self) -> None:
        """A staff override: released as for a PASS (a pulse in hard mode), on the controller thread."""
        self._verdicts.put(OVERRIDE)

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
            healthy, why, hold = self.health()
            if not healthy:
                if self.fault != why:
                    self.fault, release_until = why, None
                    self._command(failed and not (hard and hold), f"fault: {why}")
                continue
            if self.fault is not None:
                self.fault = None
                self._command(resting, "recovered")
            if verdict in (GateState.PASS.value, OVERRIDE):
                self._command(True, verdict)
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

    def status(self) -> GateStatus:
        return GateStatus(self.settings.mode, self.released, self.fault,
                          tuple(worker.status() for worker in self.workers))
