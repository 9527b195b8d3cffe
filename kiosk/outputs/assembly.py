"""Builds the outputs from the config and wires them to the pipeline: the gate controller hears state changes,
the MQTT reporter hears state changes and recorded events. A changed [gate] or [mqtt] section rebuilds only its own
part; a part that cannot be built (a missing CA file) is reported, and the kiosk goes on without it."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kiosk.config import Config
from kiosk.live.pipeline import LivePipeline
from kiosk.outputs.gate import GateController
from kiosk.outputs.mqtt import MqttReporter
from kiosk.outputs.relays import backends_for
from kiosk.record.counters import DailyCounts
from kiosk.record.events import EventRecorder, one_line
from kiosk.record.outbox import EventOutbox
from kiosk.types import Published, on_changes

log = logging.getLogger(__name__)


class Outputs:
    def __init__(self, config: Config, pipeline: LivePipeline, counts: DailyCounts, recorder: EventRecorder | None):
        self._pipeline, self._counts, self._recorder = pipeline, counts, recorder
        self.gate: GateController | None = None
        self.mqtt: MqttReporter | None = None
        self.mqtt_problem: str | None = None   # why MQTT is configured but not running
        self._built_from: dict[str, object] = {}
        self._subscribers: dict[str, Callable[[Published], None]] = {}
        self.apply(config)

    def apply(self, config: Config) -> None:
        """Brings the outputs in line with the config: what did not change keeps running untouched."""
        gate_key = (config.gate, config.mqtt.device_id)  # the webhook names the device
        if self._built_from.get("gate") != gate_key:
            self._stop_gate()
            self._built_from["gate"] = gate_key
            if config.gate.mode != "off":
                self.gate = GateController(config.gate, backends_for(config.gate, config.mqtt.device_id),
                                           self._pipeline.health).start()
                self._subscribe("gate", self.gate.observe)
        if self._built_from.get("mqtt") != config.mqtt:
            self._stop_mqtt()
            self._built_from["mqtt"] = config.mqtt
            if config.mqtt.host:
                self._start_mqtt(config)

    def _start_mqtt(self, config: Config) -> None:
        recorder = self._recorder
        try:
            outbox = EventOutbox(recorder.db_path, "mqtt", config.mqtt.queue_max) if recorder is not None else None
            self.mqtt = MqttReporter(config.mqtt, lambda: self._pipeline.state, self._counts, outbox,
                                     recorder.snapshots if recorder is not None else None).start()
        except Exception as error:  # noqa: BLE001 - a bad MQTT setting must not take the kiosk down
            self.mqtt_problem = one_line(error)
            log.error("MQTT not started: %s", self.mqtt_problem)
            return
        self.mqtt_problem = None
        self._subscribe("mqtt", lambda _item, _previous: self.mqtt.wake())
        if recorder is not None:
            recorder.listeners.append(self.mqtt.wake)

    def _subscribe(self, name: str, callback: Callable[[Published, str], None]) -> None:
        # from the state now: a rebuilt output must not take the current state for a change
        self._subscribers[name] = on_changes(callback, self._pipeline.decision.state)
        self._pipeline.broadcast.subscribe(self._subscribers[name])

    def _unsubscribe(self, name: str) -> None:
        if name in self._subscribers:
            self._pipeline.broadcast.unsubscribe(self._subscribers.pop(name))

    def _stop_gate(self) -> None:
        self._unsubscribe("gate")
        if self.gate is not None:
            self.gate.stop()
            self.gate = None

    def _stop_mqtt(self) -> None:
        self._unsubscribe("mqtt")
        if self.mqtt is not None:
            if self._recorder is not None:
                self._recorder.listeners.remove(self.mqtt.wake)
            self.mqtt.stop()
            self.mqtt = None

    def stop(self) -> None:
        """The gate to its fail state and MQTT "offline", side by side so a slow one does not delay the other."""
        stoppers = [threading.Thread(target=stop, daemon=True) for stop in (self._stop_gate, self._stop_mqtt)]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()

    def status(self) -> dict:
        mqtt = self.mqtt.status() if self.mqtt else None
        if mqtt is None and self.mqtt_problem:
            mqtt = {"broker": "not started", "connected": False, "sent_events": 0, "unsent_events": None,
                    "skipped_events": 0, "last_error": self.mqtt_problem}
        return {"gate": self.gate.status() if self.gate else {"mode": "off"}, "mqtt": mqtt}
