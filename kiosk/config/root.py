"""The whole configuration: one model per `[section]`, and where the kiosk's folders are."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic.fields import FieldInfo

from kiosk.config.admin import AdminConfig
from kiosk.config.camera import CameraConfig
from kiosk.config.classifier import ClassifierConfig
from kiosk.config.decision import DecisionConfig
from kiosk.config.detector import DetectorConfig
from kiosk.config.display import DisplayConfig
from kiosk.config.gate import GateConfig
from kiosk.config.mqtt import MqttConfig
from kiosk.config.photo import PhotoConfig
from kiosk.config.pipeline import PipelineConfig
from kiosk.config.presence import PresenceConfig
from kiosk.config.record import RecordConfig
from kiosk.config.runtime import RuntimeConfig
from kiosk.config.sound import SoundConfig
from kiosk.config.tracker import TrackerConfig
from kiosk.config.web import WebConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
SETTINGS_NAME = "settings.toml"


def _directory(configured: str, systemd_variable: str, xdg_variable: str, xdg_default: Path) -> Path:
    """The configured folder, else the one systemd gives the service, else the XDG one for this user."""
    if configured:
        return Path(configured).expanduser()
    if os.environ.get(systemd_variable):
        return Path(os.environ[systemd_variable].split(":")[0])
    return Path(os.environ.get(xdg_variable, xdg_default)) / "mask-kiosk"


class Config(BaseModel):
    """Every section with its defaults; the loader (kiosk.config.files) fills it from the files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    photo: PhotoConfig = Field(default_factory=PhotoConfig)
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)
    camera: CameraConfig = Field(default_factory=CameraConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    presence: PresenceConfig = Field(default_factory=PresenceConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    decision: DecisionConfig = Field(default_factory=DecisionConfig)
    display: DisplayConfig = Field(default_factory=DisplayConfig)
    record: RecordConfig = Field(default_factory=RecordConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    sound: SoundConfig = Field(default_factory=SoundConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    admin: AdminConfig = Field(default_factory=AdminConfig)

    _path: Path | None = PrivateAttr(None)              # the config file it came from
    _settings_problem: str | None = PrivateAttr(None)   # a saved settings.toml that was set aside, and why

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def settings_problem(self) -> str | None:
        return self._settings_problem

    @staticmethod
    def section_fields(section: str) -> dict[str, FieldInfo]:
        """The fields of one [section] (KeyError for an unknown section)."""
        model = Config.model_fields[section].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        return model.model_fields

    def replaced(self, **sections: dict[str, Any]) -> Config:
        """A copy with some keys changed (tests and benchmarks; not validated, not saved)."""
        return self.model_copy(update={name: getattr(self, name).model_copy(update=keys)
                                       for name, keys in sections.items()})

    def state_dir(self) -> Path:
        return _directory(self.runtime.state_dir, "STATE_DIRECTORY", "XDG_STATE_HOME", Path.home() / ".local" / "state")

    def settings_path(self) -> Path:
        return self.state_dir() / SETTINGS_NAME

    def cache_dir(self) -> Path:
        return _directory(self.runtime.cache_dir, "CACHE_DIRECTORY", "XDG_CACHE_HOME", Path.home() / ".cache")

    def models_dir(self) -> Path:
        return Path(self.runtime.models_dir).expanduser() if self.runtime.models_dir else PROJECT_ROOT / "models_ir"
