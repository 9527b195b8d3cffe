"""Kiosk configuration: TOML file, validated against one schema at start."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config" / "kiosk.toml"
CONFIG_ENV = "MASK_KIOSK_CONFIG"


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


SCHEMA: dict[str, dict[str, Field]] = {
    "runtime": {
        "device": Field("AUTO", str, one_of("AUTO", "CPU", "GPU")),
        "performance_hint": Field("LATENCY", str, one_of("LATENCY", "THROUGHPUT")),
        # empty: $CACHE_DIRECTORY (systemd) or ~/.cache/mask-kiosk
        "cache_dir": Field("", str),
        "models_dir": Field("", str),
    },
    "detector": {
        "variant": Field("full", str, one_of("full", "short")),
        "min_score": Field(0.5, float, in_range(0.05, 0.99)),
        "nms_iou": Field(0.3, float, in_range(0.05, 0.95)),
    },
    # still photos (detect command, "check a photo"): often close-ups where the face fills the image
    "photo": {
        "padding": Field(0.5, float, in_range(0.0, 2.0)),
        "min_score": Field(0.4, float, in_range(0.05, 0.99)),
    },
    "classifier": {
        # extra border around the detector's box, as a fraction of its size per side
        "margin": Field(0.25, float, in_range(0.0, 1.0)),
        "max_batch": Field(8, int, in_range(1, 64)),
    },
}


@dataclass(frozen=True)
class Config:
    values: dict[str, dict[str, Any]]
    path: Path | None

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    def cache_dir(self) -> Path:
        configured = self.values["runtime"]["cache_dir"]
        if configured:
            return Path(configured).expanduser()
        if os.environ.get("CACHE_DIRECTORY"):
            return Path(os.environ["CACHE_DIRECTORY"].split(":")[0])
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        return base / "mask-kiosk"

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


def load_config(path: Path | str | None = None) -> Config:
    """Load the config file (argument, $MASK_KIOSK_CONFIG, or config/kiosk.toml)."""
    chosen = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)
    try:
        raw = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{chosen}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{chosen}: not valid TOML ({exc})") from None
    return Config(validate(raw), chosen)
