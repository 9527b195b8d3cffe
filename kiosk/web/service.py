"""What the pages read and change: the running pipeline, photo checks, settings. The UI owns none of it."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kiosk.analyzer import build_analyzer, describe_setup
from kiosk.assembly import build_pipeline, camera_settings, decision_settings, display_settings, image_limits
from kiosk.camera import CameraSource
from kiosk.config import Config, ConfigError, save_settings
from kiosk.events import EventLog, EventRecorder, RecordSettings
from kiosk.photo_check import PhotoChecker
from kiosk.pipeline import LivePipeline

log = logging.getLogger(__name__)

# the settings form: (section, key) pairs the admin may change
EDITABLE = (
    ("detector", "min_score"), ("decision", "hold_ms"), ("decision", "switch_ms"),
    ("decision", "min_face_fraction"), ("camera", "source"), ("camera", "width"), ("camera", "height"),
    ("camera", "fps"), ("runtime", "device"), ("display", "max_width"), ("display", "max_height"),
    ("display", "jpeg_quality"), ("display", "language"),
)
NEEDS_RESTART = {("runtime", "device")}


class KioskService:
    def __init__(self, config: Config, pipeline: LivePipeline):
        self.config = config
        self.pipeline = pipeline
        self.photos = PhotoChecker(
            build_analyzer(config, pipeline.classifier),
            (config["display"]["max_width"], config["display"]["max_height"]), config["web"]["photo_cache"],
            image_limits(config))
        self.setup_lines = list(describe_setup(config, pipeline.detector, pipeline.classifier))
        self._settings_lock = threading.Lock()
        self.models_load_s = 0.0  # compile (or cache load) of both models and camera start
        record = config["record"]
        self.recorder: EventRecorder | None = None
        if record["enabled"]:
            self.recorder = EventRecorder(config.state_dir(), RecordSettings(
                record["retention_days"], record["snapshot_quota_mb"], record["blur_faces"])).start()
            pipeline.broadcast.subscribe(self.recorder.observe)
            self.events: EventLog | None = EventLog(self.recorder.db_path, self.recorder.snapshots)
        else:
            self.events = None

    @classmethod
    def start(cls, config: Config, source: str | None = None) -> "KioskService":
        started = time.perf_counter()
        pipeline = build_pipeline(config, source)
        service = cls(config, pipeline.start())
        service.models_load_s = time.perf_counter() - started
        return service

    def stop(self) -> None:
        self.pipeline.stop()
        if self.recorder is not None:
            self.recorder.stop()

    def recording(self) -> str:
        """'ok', 'off' (record.enabled false) or 'failed: <reason>' for /healthz and the admin page."""
        if self.recorder is None:
            return "off"
        return "ok" if self.recorder.fault is None else f"failed: {self.recorder.fault}"

    @property
    def language(self) -> str:
        return self.config["display"]["language"]

    def settings(self) -> dict[str, Any]:
        return {f"{section}.{key}": self.config[section][key] for section, key in EDITABLE}

    def apply_settings(self, changes: dict[str, Any]) -> str:
        """Validate, save atomically, and apply what can change while running; raises ConfigError."""
        grouped: dict[str, dict[str, Any]] = {}
        for dotted, value in changes.items():
            section, key = dotted.split(".", 1)
            if (section, key) not in EDITABLE:
                raise ConfigError(f"{dotted}: not editable from the admin page")
            if self.config[section][key] != value:
                grouped.setdefault(section, {})[key] = value
        if not grouped:
            return "No changes."
        with self._settings_lock:
            old = self.config
            self.config = save_settings(old, grouped)
            self._apply_live(old, self.config)
        changed = sorted(f"{s}.{k}" for s, keys in grouped.items() for k in keys)
        later = [name for name in changed if tuple(name.split(".")) in NEEDS_RESTART]
        log.info("settings saved: %s", ", ".join(changed))
        message = f"Saved: {', '.join(changed)}."
        if later:
            message += f" {', '.join(later)} applies after a restart."
        return message

    def _apply_live(self, old: Config, new: Config) -> None:
        pipeline = self.pipeline
        pipeline.detector.min_score = new["detector"]["min_score"]
        pipeline.decision.settings = decision_settings(new)
        pipeline.display = display_settings(new)
        self.photos.display_size = (new["display"]["max_width"], new["display"]["max_height"])
        if camera_settings(old) != camera_settings(new):
            pipeline.replace_source(CameraSource(camera_settings(new)))
