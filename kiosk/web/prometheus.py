"""Prometheus metrics, read from the pipeline and the event log at scrape time."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from kiosk.types import CameraState, GateState
from kiosk.web.service import KioskService


class KioskCollector:
    def __init__(self, service: KioskService):
        self.service = service

    def collect(self) -> Iterator[Metric]:
        pipeline = self.service.pipeline
        snapshot = pipeline.snapshot()
        gauges = {
            "mask_kiosk_capture_fps": ("Frames per second read from the camera", snapshot.capture_fps),
            "mask_kiosk_processed_fps": ("Frames per second through the whole pipeline", snapshot.processed_fps),
            "mask_kiosk_detect_fps": ("Frames per second the face detector sees (low while nobody is there)",
                                      snapshot.detect_fps),
            "mask_kiosk_faces_per_frame": ("Mean faces per processed frame, recent frames", snapshot.faces_per_frame),
            "mask_kiosk_camera_connected": ("1 while the camera delivers frames", float(pipeline.source.connected)),
            "mask_kiosk_healthy": ("1 while frames are being published", float(pipeline.health().healthy)),
            "mask_kiosk_selftest_ok": ("1 when the start-up self-test passed (golden faces judged right)",
                                       float(pipeline.self_test.ok)),
            "mask_kiosk_screen_stale": ("1 while a kiosk screen has stopped painting the frames sent to it",
                                        float(self.service.screens.state() == "stale")),
        }
        for name, (documentation, value) in gauges.items():
            yield GaugeMetricFamily(name, documentation, value=value)
        for stage, figures, what in (
                ("latency", snapshot.latency_ms, "capture -> published"),
                ("detect", snapshot.detect_ms, "face detection"),
                ("classify", snapshot.classify_ms, "mask classification"),
                ("screen_latency", self.service.screens.latency(), "capture -> painted on the kiosk screen")):
            family = GaugeMetricFamily(f"mask_kiosk_{stage}_ms", f"{what}, ms, over recent frames", labels=["quantile"])
            family.add_metric(["0.5"], figures.p50)
            family.add_metric(["0.95"], figures.p95)
            yield family
        state = GaugeMetricFamily("mask_kiosk_gate_state", "1 for the current gate state", labels=["state"])
        for shown in [*GateState, *CameraState]:
            state.add_metric([shown.value], float(snapshot.state == shown))
        yield state
        yield CounterMetricFamily("mask_kiosk_published_frames", "Frames published", value=snapshot.published_frames)
        yield CounterMetricFamily("mask_kiosk_dropped_frames", "Camera frames dropped as stale",
                                  value=snapshot.dropped_frames)
        yield CounterMetricFamily("mask_kiosk_pipeline_errors", "Frames that failed in the pipeline (logged, skipped)",
                                  value=snapshot.errors)
        today = self.service.today()
        yield GaugeMetricFamily("mask_kiosk_today_passed", "People passed today (local day, survives restarts)",
                                value=today.passed)
        yield GaugeMetricFamily("mask_kiosk_today_stopped", "People stopped today (local day, survives restarts)",
                                value=today.stopped)
        verdicts = GaugeMetricFamily("mask_kiosk_today_verdicts", "The gate's changes to PASS and to STOP today (a "
                                     "group passing together is one)", labels=["state"])
        verdicts.add_metric(["PASS"], today.pass_verdicts)
        verdicts.add_metric(["STOP"], today.stop_verdicts)
        yield verdicts
        yield from self._outputs()
        events = self.service.events
        if events is not None:
            recording = self.service.recording()
            yield GaugeMetricFamily("mask_kiosk_recording_ok", "1 while events are being recorded",
                                    value=float(recording.fault is None))
            yield CounterMetricFamily("mask_kiosk_events_dropped",
                                      "Events not recorded: the writer fell behind or storage failed",
                                      value=recording.dropped)
            try:
                counts = events.counts()
            except sqlite3.Error:
                return  # the record cannot be read now; recording_ok says why not
            by_state = CounterMetricFamily("mask_kiosk_events", "Recorded events by kind (PASS and STOP per person, "
                                           "CAMERA_LOST, CAMERA_RESTORED)",
                                           labels=["state"])
            for name, count in counts.items():
                by_state.add_metric([name], count)
            yield by_state
            yield CounterMetricFamily("mask_kiosk_violations", "Recorded STOP events",
                                      value=counts.get(GateState.STOP.value, 0))

    def _outputs(self) -> Iterator[Metric]:
        status = self.service.outputs_status()
        gate = status.gate
        if gate is not None:
            yield GaugeMetricFamily("mask_kiosk_gate_released", "1 while the gate output is released",
                                    value=float(gate.released))
            yield GaugeMetricFamily("mask_kiosk_gate_fail_state", "1 while the gate output is at its fail state",
                                    value=float(gate.fault is not None))
            counters = {
                "sent": CounterMetricFamily("mask_kiosk_gate_commands", "Gate commands carried out",
                                            labels=["backend"]),
                "failures": CounterMetricFamily("mask_kiosk_gate_output_failures", "Gate commands a backend failed",
                                                labels=["backend"]),
                "expired": CounterMetricFamily("mask_kiosk_gate_commands_expired",
                                               "Gate commands given up: too late to carry out", labels=["backend"]),
                "superseded": CounterMetricFamily("mask_kiosk_gate_commands_superseded",
                                                  "Gate commands not sent because a newer one came first",
                                                  labels=["backend"]),
            }
            for output in gate.outputs:
                for field, family in counters.items():
                    family.add_metric([output.backend], getattr(output, field))
            yield from counters.values()
        mqtt = status.mqtt
        if mqtt is not None:
            yield GaugeMetricFamily("mask_kiosk_mqtt_connected", "1 while connected to the MQTT broker",
                                    value=float(mqtt.connected))
            yield CounterMetricFamily("mask_kiosk_mqtt_events_sent", "Events acknowledged by the broker",
                                      value=mqtt.sent_events)
            if mqtt.unsent_events is not None:
                yield GaugeMetricFamily("mask_kiosk_mqtt_unsent_events", "Recorded events not yet sent to the broker",
                                        value=mqtt.unsent_events)
            yield CounterMetricFamily("mask_kiosk_mqtt_events_skipped",
                                      "Events skipped unsent: more than mqtt.queue_max waited",
                                      value=mqtt.skipped_events)


def registry_for(service: KioskService) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(KioskCollector(service))
    return registry
