"""Prometheus metrics, read from the pipeline and the event log at scrape time."""
from __future__ import annotations

import sqlite3

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from kiosk.live.pipeline import DISCONNECTED
from kiosk.web.service import KioskService
from kiosk.types import GateState


class KioskCollector:
    def __init__(self, service: KioskService):
        self.service = service

    def collect(self):
        pipeline = self.service.pipeline
        snapshot = pipeline.snapshot()
        gauges = {
            "mask_kiosk_capture_fps": ("Frames per second read from the camera", snapshot["capture_fps"]),
            "mask_kiosk_processed_fps": ("Frames per second through the whole pipeline", snapshot["processed_fps"]),
            "mask_kiosk_faces_per_frame": ("Mean faces per processed frame, recent frames", snapshot["faces_per_frame"]),
            "mask_kiosk_camera_connected": ("1 while the camera delivers frames", float(pipeline.source.connected)),
            "mask_kiosk_healthy": ("1 while frames are being published", float(pipeline.health()[0])),
        }
        for name, (documentation, value) in gauges.items():
            yield GaugeMetricFamily(name, documentation, value=value)
        for stage in ("latency", "detect", "classify"):
            family = GaugeMetricFamily(f"mask_kiosk_{stage}_ms", f"{stage} time in ms over recent frames",
                                       labels=["quantile"])
            for quantile, key in (("0.5", "p50"), ("0.95", "p95")):
                family.add_metric([quantile], snapshot[f"{stage}_ms"][key])
            yield family
        state = GaugeMetricFamily("mask_kiosk_gate_state", "1 for the current gate state", labels=["state"])
        for name in [s.value for s in GateState] + [DISCONNECTED]:
            state.add_metric([name], float(snapshot["state"] == name))
        yield state
        yield CounterMetricFamily("mask_kiosk_published_frames", "Frames published", value=snapshot["published_frames"])
        yield CounterMetricFamily("mask_kiosk_dropped_frames", "Camera frames dropped as stale",
                                  value=snapshot["dropped_frames"])
        today = self.service.counts.today()
        for key in ("passed", "stopped"):
            yield GaugeMetricFamily(f"mask_kiosk_today_{key}", f"People {key} today (local day, survives restarts)",
                                    value=today[key])
        yield from self._outputs()
        if self.service.events is not None:
            yield GaugeMetricFamily("mask_kiosk_recording_ok", "1 while events are being recorded",
                                    value=float(self.service.recorder.fault is None))
            yield CounterMetricFamily("mask_kiosk_events_dropped",
                                      "State changes not recorded: the writer fell behind or storage failed",
                                      value=self.service.recorder.dropped)
            try:
                counts = self.service.events.counts()
            except sqlite3.Error:
                return  # the record cannot be read now; recording_ok says why not
            events = CounterMetricFamily("mask_kiosk_events", "Recorded gate-state changes by state", labels=["state"])
            for name, count in counts.items():
                events.add_metric([name], count)
            yield events
            yield CounterMetricFamily("mask_kiosk_violations", "Recorded STOP events",
                                      value=counts.get(GateState.STOP.value, 0))


    def _outputs(self):
        status = self.service.outputs.status()
        gate = status["gate"]
        if gate["mode"] != "off":
            yield GaugeMetricFamily("mask_kiosk_gate_released", "1 while the gate output is released",
                                    value=float(gate["released"]))
            yield GaugeMetricFamily("mask_kiosk_gate_fail_state", "1 while the gate output is at its fail state",
                                    value=float(gate["fault"] is not None))
            sent = CounterMetricFamily("mask_kiosk_gate_commands", "Gate commands carried out", labels=["backend"])
            failed = CounterMetricFamily("mask_kiosk_gate_output_failures", "Gate commands a backend failed",
                                         labels=["backend"])
            expired = CounterMetricFamily("mask_kiosk_gate_commands_expired",
                                          "Gate commands dropped because a backend was too far behind",
                                          labels=["backend"])
            superseded = CounterMetricFamily("mask_kiosk_gate_commands_superseded",
                                             "Gate commands not sent because a newer one came first",
                                             labels=["backend"])
            for output in gate["outputs"]:
                sent.add_metric([output["backend"]], output["sent"])
                failed.add_metric([output["backend"]], output["failures"])
                expired.add_metric([output["backend"]], output["expired"])
                superseded.add_metric([output["backend"]], output["superseded"])
            yield sent
            yield failed
            yield expired
            yield superseded
        mqtt = status["mqtt"]
        if mqtt is not None:
            yield GaugeMetricFamily("mask_kiosk_mqtt_connected", "1 while connected to the MQTT broker",
                                    value=float(mqtt["connected"]))
            yield CounterMetricFamily("mask_kiosk_mqtt_events_sent", "Events acknowledged by the broker",
                                      value=mqtt["sent_events"])
            if mqtt["unsent_events"] is not None:
                yield GaugeMetricFamily("mask_kiosk_mqtt_unsent_events", "Recorded events not yet sent to the broker",
                                        value=mqtt["unsent_events"])
            yield CounterMetricFamily("mask_kiosk_mqtt_events_skipped",
                                      "Events skipped unsent: more than mqtt.queue_max waited",
                                      value=mqtt["skipped_events"])


def registry_for(service: KioskService) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(KioskCollector(service))
    return registry
