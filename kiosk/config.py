"""Kiosk configuration: TOML file, validated against one schema at start."""
from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from kiosk.durable import write_durably

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config" / "kiosk.toml"
CONFIG_ENV = "MASK_KIOSK_CONFIG"
SETTINGS_NAME = "settings.toml"


class ConfigError(ValueError):
    """A config problem, worded as one line naming the key and the reason."""


@dataclass(frozen=True)
class Field:
    default: Any
    kind: type | tuple[type, ...]
    check: Callable[[Any], str | None] | None = None


def one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value not in choices:
            return f"must be one of {', '.join(repr(c) for c in choices)} (got {value!r})"
        return None
    return check


def in_range(low: float, high: float) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not low <= value <= high:
            return f"must be between {low} and {high} (got {value!r})"
        return None
    return check


def zone_box(value: Any) -> str | None:
    if (len(value) != 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            or not (0 <= value[0] < value[2] <= 1 and 0 <= value[1] < value[3] <= 1)):
        return f"must be [x1, y1, x2, y2] fractions of the frame with x1 < x2 and y1 < y2 (got {value!r})"
    return None


def input_size(value: Any) -> str | None:
    if (len(value) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            or not all(128 <= v <= 1920 for v in value)):
        return f"must be [width, height] in pixels, each from 128 to 1920 (got {value!r})"
    return None


def ip_addresses(value: Any) -> str | None:
    for item in value:
        try:
            ipaddress.ip_address(item)
        except (ValueError, TypeError):
            return f"must be a list of IP addresses (got {item!r})"
    return None


def password_hash_format(value: Any) -> str | None:
    if value and not (value.startswith("scrypt$") and value.count("$") == 5):
        return "must be a hash made by `mask-kiosk set-password` (never a plain password)"
    return None


SCHEMA: dict[str, dict[str, Field]] = {
    "runtime": {
        "device": Field("AUTO", str, one_of("AUTO", "CPU", "GPU")),
        "performance_hint": Field("LATENCY", str, one_of("LATENCY", "THROUGHPUT")),
        # empty: $CACHE_DIRECTORY (systemd) or ~/.cache/mask-kiosk
        "cache_dir": Field("", str),
        # empty: $STATE_DIRECTORY (systemd) or ~/.local/state/mask-kiosk; holds settings.toml from the admin page
        "state_dir": Field("", str),
        "models_dir": Field("", str),
    },
    "detector": {
        "model": Field("retinaface", str, one_of("retinaface", "blazeface")),
        # BlazeFace's range (its input size is fixed by the range: full 192 px, short 128 px)
        "variant": Field("full", str, one_of("full", "short")),
        # RetinaFace's live input, [width, height]: camera frames are letterboxed into it
        "input_size": Field([640, 480], list, input_size),
        "min_score": Field(0.5, float, in_range(0.05, 0.99)),
        "nms_iou": Field(0.3, float, in_range(0.05, 0.95)),
    },
    # still photos (detect, eval, "check a photo", training): one pass over the photo as it is, and a context
    # pass with a black border, for close-ups whose faces run off the edge
    "photo": {
        # RetinaFace's input for the first pass (square, long side); the context pass uses half of it
        "input_size": Field(960, int, in_range(256, 2048)),
        "padding": Field(0.25, float, in_range(0.0, 2.0)),
        "min_score": Field(0.4, float, in_range(0.05, 0.99)),
        # images from outside (uploads, detect, eval): larger files or more pixels are refused before decoding
        "max_file_mb": Field(20.0, float, in_range(0.1, 1000)),
        "max_megapixels": Field(40.0, float, in_range(0.1, 1000)),
    },
    "classifier": {
        "max_batch": Field(8, int, in_range(1, 64)),
        "precision": Field("int8", str, one_of("fp16", "int8")),
    },
    "camera": {
        # device index, /dev/video*, /dev/v4l/by-id/..., a video file, or an rtsp/http URL
        "source": Field("0", str),
        "width": Field(640, int, in_range(160, 3840)),
        "height": Field(480, int, in_range(120, 2160)),
        "fps": Field(30.0, float, in_range(1, 120)),
        "loop": Field(True, bool),
        "stall_timeout_s": Field(2.0, float, in_range(0.2, 30)),
    },
    "pipeline": {
        "jobs": Field(2, int, in_range(1, 8)),
    },
    "tracker": {
        "history": Field(5, int, in_range(1, 30)),
        "min_iou": Field(0.3, float, in_range(0.05, 0.95)),
        "max_missed": Field(5, int, in_range(0, 100)),
    },
    "decision": {
        "hold_ms": Field(800.0, float, in_range(0, 10000)),
        "switch_ms": Field(250.0, float, in_range(0, 5000)),
        "zone": Field([0.0, 0.0, 1.0, 1.0], list, zone_box),
        "min_face_fraction": Field(0.08, float, in_range(0.0, 1.0)),
    },
    "display": {
        "max_width": Field(1280, int, in_range(160, 3840)),
        "max_height": Field(720, int, in_range(120, 2160)),
        "jpeg_quality": Field(80, int, in_range(30, 100)),
        "language": Field("en", str, one_of("en", "zh")),
    },
    "record": {
        "enabled": Field(True, bool),
        "retention_days": Field(30.0, float, in_range(0.01, 3650)),
        "snapshot_quota_mb": Field(500.0, float, in_range(0.001, 1_000_000)),
        "blur_faces": Field(False, bool),
    },
    "web": {
        "host": Field("0.0.0.0", str),
        "port": Field(8080, int, in_range(1, 65535)),
        # the kiosk screen answers only the device itself unless this is true
        "kiosk_remote": Field(False, bool),
        "photo_workers": Field(2, int, in_range(1, 8)),
        "photo_queue": Field(16, int, in_range(1, 256)),
        "photo_cache": Field(64, int, in_range(0, 4096)),
        # addresses of reverse proxies whose X-Forwarded-For is believed; empty: the peer address always counts
        "trusted_proxies": Field([], list, ip_addresses),
    },
    "admin": {
        "user": Field("admin", str),
        # set with `mask-kiosk set-password`; empty: the admin page refuses every login
        "password_hash": Field("", str, password_hash_format),
        "max_failed_logins": Field(5, int, in_range(1, 100)),
        "lockout_s": Field(60.0, float, in_range(1, 86400)),
    },
}


def _directory(configured: str, systemd_variable: str, xdg_variable: str, xdg_default: Path) -> Path:
    """The configured folder, else the one systemd gives the service, else the XDG one for this user."""
    if configured:
        return Path(configured).expanduser()
    if os.environ.get(systemd_variable):
        return Path(os.environ[systemd_variable].split(":")[0])
    return Path(os.environ.get(xdg_variable, xdg_default)) / "mask-kiosk"


@dataclass(frozen=True)
class Config:
    values: dict[str, dict[str, Any]]
    path: Path | None
    base: dict[str, Any] = field(default_factory=dict)       # the config file as written
    overrides: dict[str, Any] = field(default_factory=dict)  # settings.toml, saved by the admin page

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    def replaced(self, **sections: dict[str, Any]) -> "Config":
        """A copy with some keys changed (tests and benchmarks; not validated, not saved)."""
        values = {section: dict(keys) for section, keys in self.values.items()}
        for section, keys in sections.items():
            values[section].update(keys)
        return Config(values, self.path, self.base, self.overrides)

    def state_dir(self) -> Path:
        return _directory(self.values["runtime"]["state_dir"], "STATE_DIRECTORY", "XDG_STATE_HOME",
                          Path.home() / ".local" / "state")

    def settings_path(self) -> Path:
        return self.state_dir() / SETTINGS_NAME

    def cache_dir(self) -> Path:
        return _directory(self.values["runtime"]["cache_dir"], "CACHE_DIRECTORY", "XDG_CACHE_HOME",
                          Path.home() / ".cache")

    def models_dir(self) -> Path:
        configured = self.values["runtime"]["models_dir"]
        return Path(configured).expanduser() if configured else PROJECT_ROOT / "models_ir"


def _validate_value(key: str, field: Field, value: Any) -> Any:
    kinds = field.kind if isinstance(field.kind, tuple) else (field.kind,)
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ConfigError(f"{key}: must be {names} (got {type(value).__name__} {value!r})")
    if field.check is not None:
        problem = field.check(value)
        if problem:
            raise ConfigError(f"{key}: {problem}")
    return value


def validate(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Fill defaults and check every key; raise ConfigError on the first problem."""
    values: dict[str, dict[str, Any]] = {}
    for section in raw:
        if section not in SCHEMA:
            raise ConfigError(f"{section}: unknown section (known: {', '.join(SCHEMA)})")
        if not isinstance(raw[section], dict):
            raise ConfigError(f"{section}: must be a table")
    for section, fields in SCHEMA.items():
        given = raw.get(section, {})
        for key in given:
            if key not in fields:
                raise ConfigError(f"{section}.{key}: unknown key (known: {', '.join(fields)})")
        values[section] = {
            key: _validate_value(f"{section}.{key}", field, given.get(key, field.default))
            for key, field in fields.items()
        }
    return values


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = {section: dict(keys) for section, keys in base.items()}
    for section, keys in overrides.items():
        merged.setdefault(section, {}).update(keys)
    return merged


def load_config(path: Path | str | None = None) -> Config:
    """The config file (argument, $MASK_KIOSK_CONFIG, or config/kiosk.toml) with the admin's saved settings over it."""
    chosen = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)
    base = _read_toml(chosen)
    config = Config(validate(base), chosen, base)
    settings = config.settings_path()
    if not settings.exists():
        return config
    overrides = _read_toml(settings)
    try:
        return Config(validate(_merged(base, overrides)), chosen, base, overrides)
    except ConfigError as exc:
        raise ConfigError(f"{settings}: {exc}") from None


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dump_toml(sections: dict[str, dict[str, Any]]) -> str:
    """TOML text of flat sections (the only shape the schema has)."""
    return "\n".join(f"[{name}]\n" + "".join(f"{key} = {toml_value(value)}\n" for key, value in keys.items())
                     for name, keys in sections.items())


def save_settings(config: Config, changes: dict[str, dict[str, Any]]) -> Config:
    """Validate changes over the current config and write them to settings.toml atomically.

    Raises ConfigError (nothing written) when a value is bad.
    """
    overrides = _merged(config.overrides, changes)
    values = validate(_merged(config.base, overrides))
    saved = {section: {key: values[section][key] for key in keys} for section, keys in overrides.items()}
    path = config.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Saved by the mask-kiosk admin page; overrides the config file.\n\n"
    write_durably(path, (header + dump_toml(saved)).encode())
    return Config(values, config.path, config.base, overrides)
