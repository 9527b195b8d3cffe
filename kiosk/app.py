"""The one place the kiosk is put together: the live pipeline (camera and models), the record, today's counts, the
outputs (gate, MQTT) and the web service, built from the config, started in that order and stopped in reverse.

`run`, the benchmarks and the tests use it; no part builds another. Saved settings come back here (`apply_live`,
`apply_outputs`) and are handed to the part they concern, which applies them at a safe point of its own: the
pipeline between frames, the record per event, an output by being rebuilt (only the one whose section changed;
one that cannot be built, such as MQTT with a missing CA file, is reported and the kiosk goes on without it).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kiosk.config import Config
from kiosk.config.camera import CameraConfig
from kiosk.errors import one_line
from kiosk.live.camera import CameraSource
from kiosk.live.decision import GateDecision
from kiosk.live.pipeline import LivePipeline
from kiosk.live.selftest import run_self_test
from kiosk.outputs import OutputsStatus
from kiosk.outputs.gate import GateController
from kiosk.outputs.mqtt import MqttReporter, MqttStatus
from kiosk.outputs.override import StaffOverride
from kiosk.outputs.relays import backends_for
from kiosk.record.counters import DailyCounts
from kiosk.record.events import EventLog, EventRecorder, RecordingStatus
from kiosk.record.outbox import EventOutbox
from kiosk.types import Published, on_changes
from kiosk.vision.models import load_classifier, load_detector
from kiosk.web.service import KioskService

log = logging.getLogger(__name__)


def build_pipeline(config: Config, source: str | None = None, camera: CameraSource | None = None) -> LivePipeline:
    """A pipeline ready to start, its models self-tested (kiosk.live.selftest); `source` overrides camera.source
    (a video file for tests and benchmarks), and `camera` the camera itself (a simulated one, kiosk.bench.walkup)."""
    detector, classifier = load_detector(config), load_classifier(config)
    self_test = run_self_test(detector, classifier, config.decision, config.tracker)
    if self_test.ok:
        log.info("self-test: ok")
    else:
        log.error("self-test %s: out of service, the gate passes nobody", self_test.detail)
    return LivePipeline(
        source=camera or CameraSource(config.camera.overridden(source)),
        detector=detector,
        classifier=classifier,
        decision=GateDecision(config.decision),
        tracker=config.tracker,
        display=config.display,
        self_test=self_test,
        presence=config.presence,
        jobs=config.pipeline.jobs,
    )


class Kiosk:
    def __init__(self, config: Config, source: str | None = None, web: bool = True):
        """Builds every part (nothing runs yet); `source` overrides camera.source; `web` false leaves out the
        web service (a benchmark of the pipeline and outputs does not compile the photo models)."""
        self._created = time.perf_counter()
        self.config = config
        self.pipeline = build_pipeline(config, source)
        self.recorder = EventRecorder(config.state_dir(), config.record) if config.record.enabled else None
        self.events = EventLog(self.recorder.db_path, self.recorder.snapshots) if self.recorder else None
        self.counts = DailyCounts(self.events)  # from today's record (none yet at a first start: zero)
        self.gate: GateController | None = None
        self._gate_settings = config.gate  # as last applied (apply_outputs)
        self.override = StaffOverride(lambda: self._gate_settings, lambda: self.gate, self.pipeline.health,
                                      self.recorder, self.pipeline.broadcast.latest)
        self.mqtt: MqttReporter | None = None
        self.mqtt_problem: str | None = None   # why MQTT is configured but not running
        self._built_from: dict[str, object] = {}
        self._subscribers: dict[str, Callable[[Published], None]] = {}
        self._outputs_lock = threading.Lock()
        self.service = KioskService(config, self, source) if web else None
        self._built_s = time.perf_counter() - self._created
        self.models_load_s = 0.0  # every model compiled (or loaded from the cache) and the camera opened

    def start(self) -> Kiosk:
        """The record first, then the pipeline, then the outputs that act on its verdicts."""
        if self.recorder is not None:
            self.recorder.start()
            self.pipeline.broadcast.subscribe(self.recorder.observe)
            self.pipeline.camera_listeners.append(self.recorder.camera_changed)
        self.pipeline.broadcast.subscribe(on_changes(self.counts.on_change))
        self.pipeline.broadcast.subscribe(self.counts.observe)
        started = time.perf_counter()
        self.pipeline.start()
        self.models_load_s = self._built_s + time.perf_counter() - started  # not the wait in between (the UI import)
        self.apply_outputs(self.config)
        return self

    def stop(self) -> None:
        """The outputs (the gate to its fail state and MQTT "offline", side by side, so a slow one does not delay
        the other) beside the pipeline, then the record, so the pipeline's last changes are still recorded."""
        stoppers = [threading.Thread(target=stop, daemon=True) for stop in (self._stop_gate, self._stop_mqtt)]
        for stopper in stoppers:
            stopper.start()
        self.pipeline.stop()
        for stopper in stoppers:
            stopper.join()
        if self.recorder is not None:
            self.recorder.stop()

    # -- what the web service reads and hands back (kiosk.web.service.KioskParts) ----------------------------
    def recording(self) -> RecordingStatus:
        if self.recorder is None:
            return RecordingStatus(enabled=False, fault=None, dropped=0)
        return RecordingStatus(enabled=True, fault=self.recorder.fault, dropped=self.recorder.dropped)

    def outputs_status(self) -> OutputsStatus:
        mqtt = self.mqtt.status() if self.mqtt else None
        if mqtt is None and self.mqtt_problem:
            mqtt = MqttStatus(broker="not started", connected=False, sent_events=0, unsent_events=None,
                              skipped_events=0, last_error=self.mqtt_problem)
        return OutputsStatus(self.gate.status() if self.gate else None, mqtt)

    def apply_live(self, config: Config, camera: CameraConfig) -> None:
        """Saved settings that apply while running: the pipeline takes them between frames, the record per event."""
        self.pipeline.request_settings(min_score=config.detector.min_score, decision=config.decision,
                                       display=config.display, tracker=config.tracker,
                                       camera=camera if camera != self.pipeline.source.settings else None)
        if self.recorder is not None:
            self.recorder.settings = config.record  # read by the writer per event: blur and retention apply at once

    def apply_outputs(self, config: Config) -> None:
        """Brings the outputs in line with the config, one rebuild at a time: what did not change keeps running
        untouched; a changed part is stopped (which may take a second) and built anew."""
        with self._outputs_lock:
            self._gate_settings = config.gate
            gate_key = (config.gate, config.mqtt.device_id)  # the webhook names the device
            if self._built_from.get("gate") != gate_key:
                self._stop_gate()
                self._built_from["gate"] = gate_key
                if config.gate.mode != "off":
                    self.gate = GateController(config.gate, backends_for(config.gate, config.mqtt.device_id),
                                               self.pipeline.health).start()
                    self._subscribe("gate", self.gate.on_change)
            if self._built_from.get("mqtt") != config.mqtt:
                self._stop_mqtt()
                self._built_from["mqtt"] = config.mqtt
                if config.mqtt.host:
                    self._start_mqtt(config)

    # -- outputs -------------------------------------------------------------------------------------------
    def _start_mqtt(self, config: Config) -> None:
        recorder = self.recorder
        try:
            outbox = EventOutbox(recorder.db_path, "mqtt", config.mqtt.queue_max) if recorder is not None else None
            mqtt = MqttReporter(config.mqtt, lambda: (self.pipeline.state.value, self.pipeline.reason), self.counts,
                                 outbox,
                                recorder.snapshots if recorder is not None else None).start()
        except Exception as error:  # noqa: BLE001 - a bad MQTT setting must not take the kiosk down
            self.mqtt_problem = one_line(error)
            log.error("MQTT not started: %s", self.mqtt_problem)
            return
        self.mqtt, self.mqtt_problem = mqtt, None
        self._subscribe("mqtt", lambda _item, _previous: mqtt.wake())
        if recorder is not None:
            recorder.listeners.append(mqtt.wake)

    def _subscribe(self, name: str, on_change: Callable[[Published, str], None]) -> None:
        # from the state now: a rebuilt output must not take the current state for a change
        self._subscribers[name] = on_changes(on_change, self.pipeline.decision.state)
        self.pipeline.broadcast.subscribe(self._subscribers[name])

    def _unsubscribe(self, name: str) -> None:
        if name in self._subscribers:
            self.pipeline.broadcast.unsubscribe(self._subscribers.pop(name))

    def _stop_gate(self) -> None:
        self._unsubscribe("gate")
        if self.gate is not None:
            self.gate.stop()
            self.gate = None

    def _stop_mqtt(self) -> None:
        self._unsubscribe("mqtt")
        if self.mqtt is not None:
            if self.recorder is not None:
                self.recorder.listeners.remove(self.mqtt.wake)
            self.mqtt.stop()
            self.mqtt = None


def run(config: Config, source: str | None = None, host: str | None = None, port: int | None = None) -> int:
    """`mask-kiosk run`: checks what can fail before the models load, builds and starts the kiosk, serves its
    pages until SIGTERM or Ctrl-C, then stops it."""
    from kiosk.systemd_notify import notify
    from kiosk.web.server import import_pages, prepare, serve
    tls, https_problem = prepare(config, host, port)
    notify("STATUS=compiling models, opening camera")
    pages_imported = import_pages()  # beside the models
    kiosk = Kiosk(config, source)
    import_s = pages_imported()
    kiosk.start()
    assert kiosk.service is not None
    kiosk.service.https_problem = https_problem
    serve(kiosk.service, tls, host, port, f"models loaded in {kiosk.models_load_s:.2f} s (the UI imported beside "
          f"them in {import_s:.2f} s)", kiosk.stop)
    return 0
