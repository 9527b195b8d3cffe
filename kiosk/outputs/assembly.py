"""Builds the outputs from the config and wires them to the pipeline: the gate controller hears state changes,
the MQTT reporter hears state changes and recorded events. Rebuilt whole when [gate] or [mqtt] changes."""
from __future__ import annotations

from kiosk.config import Config
from kiosk.live.pipeline import LivePipeline
from kiosk.outputs.gate import GateController
from kiosk.outputs.mqtt import MqttReporter
from kiosk.outputs.relays import backends_for
from kiosk.record.counters import DailyCounts
from kiosk.record.events import EventRecorder
from kiosk.record.outbox import EventOutbox
from kiosk.types import on_changes


class Outputs:
    def __init__(self, config: Config, pipeline: LivePipeline, counts: DailyCounts, recorder: EventRecorder | None):
        self.sections = (config.gate, config.mqtt)  # what these outputs were built from
        self._pipeline, self._recorder = pipeline, recorder
        self._subscribers = []
        self.gate: GateController | None = None
        self.mqtt: MqttReporter | None = None
        if config.gate.mode != "off":
            self.gate = GateController(config.gate, backends_for(config.gate, config.mqtt.device_id),
                                       pipeline.health).start()
            self._subscribers.append(on_changes(self.gate.observe, pipeline.decision.state))
        if config.mqtt.host:
            outbox = EventOutbox(recorder.db_path, "mqtt", config.mqtt.queue_max) if recorder is not None else None
            self.mqtt = MqttReporter(config.mqtt, lambda: pipeline.state, counts, outbox,
                                     recorder.snapshots if recorder is not None else None).start()
            self._subscribers.append(on_changes(lambda _item, _previous: self.mqtt.wake(), pipeline.decision.state))
            if recorder is not None:
                recorder.listeners.append(self.mqtt.wake)
        for subscriber in self._subscribers:
            pipeline.broadcast.subscribe(subscriber)

    def stop(self) -> None:
        """The gate to its fail state, MQTT "offline"; then nothing of these outputs is left running."""
        for subscriber in self._subscribers:
            self._pipeline.broadcast.unsubscribe(subscriber)
        if self.gate is not None:
            self.gate.stop()
        if self.mqtt is not None:
            if self._recorder is not None:
                self._recorder.listeners.remove(self.mqtt.wake)
            self.mqtt.stop()

    def status(self) -> dict:
        return {"gate": self.gate.status() if self.gate else {"mode": "off"},
                "mqtt": self.mqtt.status() if self.mqtt else None}
