"""Staff override, "let one person pass": the gate is released once as for a PASS (a pulse in hard mode; in soft
mode, where the door is never held, the outputs are told), and the record keeps who, how, when and the picture of
that moment. With the gate off only the record has it.

Refused, with the reason in one line: sooner than `gate.override_min_interval_s` after the last accepted one, and
while the kiosk is unhealthy if the gate fails closed (the door must stay held then; failing open, it is released
anyway). The caller (the admin page or `POST /admin/override`) has already checked who may ask.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.config.gate import GateConfig
from kiosk.outputs.gate import GateController
from kiosk.record.events import EventRecorder
from kiosk.types import Health, Published, Text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OverrideResult:
    accepted: bool
    template: str  # the message, its {fields} in `values`: the admin page says it in its own language
    values: dict[str, object] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.template.format(**self.values)


class StaffOverride:
    def __init__(self, settings: Callable[[], GateConfig], gate: Callable[[], GateController | None],
                 health: Callable[[], Health], recorder: EventRecorder | None,
                 latest: Callable[[], Published | None]):
        self.settings = settings
        self.gate = gate
        self.health = health
        self.recorder = recorder
        self.latest = latest
        self._lock = threading.Lock()
        self._last = -float("inf")  # monotonic time of the last accepted override
        self.accepted = 0
        self.refused = 0

    def request(self, actor: str, via: str) -> OverrideResult:
        settings = self.settings()
        with self._lock:
            wait = settings.override_min_interval_s - (time.monotonic() - self._last)
            health = self.health()
            if wait > 0:
                result = OverrideResult(False, "Refused: the last override was just now; again in {wait:.1f} s.",
                                        {"wait": wait})
            elif not health.healthy and settings.fail_state == "closed" and settings.mode != "off":
                result = OverrideResult(False, "Refused: the kiosk is unhealthy ({reason}) and the gate fails "
                                               "closed.", {"reason": health.reason})
            else:
                self._last = time.monotonic()
                result = self._carry_out(actor, via, settings)
        if result.accepted:
            self.accepted += 1
            log.info("staff override by %r (%s)", actor, via)
        else:
            self.refused += 1
            log.warning("staff override by %r (%s) refused: %s", actor, via, result.message)
        return result

    def _carry_out(self, actor: str, via: str, settings: GateConfig) -> OverrideResult:
        gate = self.gate()
        if gate is not None:
            gate.release_once()
        if self.recorder is not None:
            self.recorder.override(actor, via, self.latest())
        recorded = Text("recorded" if self.recorder is not None else "not recorded (record.enabled is off)")
        if gate is None:
            return OverrideResult(True, "Let one person pass: no gate output (gate mode off); {recorded}.",
                                  {"recorded": recorded})
        if settings.mode == "hard":
            return OverrideResult(True, "Let one person pass: the gate is released for {pulse_ms} ms; {recorded}.",
                                  {"pulse_ms": settings.pulse_ms, "recorded": recorded})
        return OverrideResult(True, "Let one person pass: the outputs are told (soft mode: the door is not held); "
                                    "{recorded}.", {"recorded": recorded})
