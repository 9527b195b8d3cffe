"""Reading kiosk.toml and settings.toml, and saving the admin's changes.

Guarantees: any problem reading or validating a file is a ConfigError of one line naming the file or key;
a saved settings.toml that no longer validates is set aside (settings.toml.bad-<time>), logged and reported
in `Config.settings_problem`, and the kiosk runs on the config file alone; a save re-reads both files under
a lock (this process and others, such as `mask-kiosk set-password`), changes only the keys it was given,
keeps the file's comments, and writes durably, or writes nothing when the result would not validate.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tomlkit
import tomllib
from pydantic import ValidationError

from kiosk.config.base import ConfigError
from kiosk.config.root import PROJECT_ROOT, Config
from kiosk.durable import private_file, private_folder, write_durably

log = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config" / "kiosk.toml"
CONFIG_ENV = "MASK_KIOSK_CONFIG"
SETTINGS_HEADER = "Saved by the mask-kiosk admin page (and set-password); overrides the config file."
_save_lock = threading.Lock()


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot be read (permission denied)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML (nested too deeply)") from None


def _problem(error: ValidationError) -> str:
    """The first error as 'section.key: reason (got value)'."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        known = Config.model_fields if len(first["loc"]) == 1 else Config.section_fields(str(first["loc"][0]))
        kind = "section" if len(first["loc"]) == 1 else "key"
        return f"{key}: unknown {kind} (known: {', '.join(known)})"
    reason = first["msg"].removeprefix("Value error, ")
    return f"{key}: {reason[0].lower()}{reason[1:]} (got {first['input']!r})"


def validated(raw: dict[str, Any]) -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_problem(exc)) from None


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = {section: dict(keys) for section, keys in base.items()}
    for section, keys in overrides.items():
        if not isinstance(keys, dict):
            raise ConfigError(f"{section}: must be a [section] table")
        merged.setdefault(section, {}).update(keys)
    return merged


def _set_aside(settings: Path, problem: str) -> str:
    aside = settings.with_name(f"{settings.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        settings.rename(aside)
        where = f"set aside as {aside.name}"
    except OSError as exc:
        where = f"could not be set aside ({exc.strerror or exc})"
    message = f"{settings}: {problem}; {where}; the kiosk runs on the config file alone"
    log.error("SAVED SETTINGS IGNORED: %s", message)
    return message


def _config_path(path: Path | str | None) -> Path:
    return Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)


def load_config(path: Path | str | None = None) -> Config:
    """The config file (argument, $MASK_KIOSK_CONFIG, or config/kiosk.toml) with the admin's saved settings over it."""
    chosen = _config_path(path)
    base = read_toml(chosen)
    try:
        config = validated(base)
    except ConfigError as exc:
        raise ConfigError(f"{chosen}: {exc}") from None
    settings = config.settings_path()
    problem = None
    if settings.exists():
        try:
            overrides = read_toml(settings)
            if not overrides:
                raise ConfigError("empty (an admin password and settings it held are gone)")
            config = validated(_merged(base, overrides))
        except ConfigError as exc:
            problem = _set_aside(settings, str(exc).removeprefix(f"{settings}: "))
    config._path = chosen
    config._settings_problem = problem
    return config


@contextlib.contextmanager
def _locked(settings: Path) -> Iterator[None]:
    """One writer at a time: threads of this process, and other processes (set-password) through a lock file."""
    with _save_lock:
        private_folder(settings.parent)
        with open(private_file(settings.with_name(f"{settings.name}.lock")), "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            yield


def save_settings(config: Config, changes: dict[str, dict[str, Any]]) -> Config:
    """Writes `changes` into settings.toml over what it holds now; returns the config read back.
    Raises ConfigError (nothing written) when the result does not validate."""
    settings = config.settings_path()
    with _locked(settings):
        fresh = load_config(config.path)
        if settings.exists():
            document = tomlkit.parse(settings.read_text(encoding="utf-8"))
        else:
            document = tomlkit.document()
            document.add(tomlkit.comment(SETTINGS_HEADER))
        for section, keys in changes.items():
            if section not in document:
                document.add(section, tomlkit.table())
            table = document[section]
            assert isinstance(table, tomlkit.items.Table)
            for key, value in keys.items():
                table[key] = value
        assert fresh.path is not None  # load_config always names its file
        validated(_merged(read_toml(fresh.path), document.unwrap()))
        write_durably(settings, tomlkit.dumps(document).encode())  # holds hashes and the MQTT password
        return load_config(fresh.path)


def default_toml() -> str:
    """The shipped kiosk.toml: every key at its default, with the schema's descriptions as comments."""
    document = tomlkit.document()
    document.add(tomlkit.comment("mask-kiosk configuration. Every key is validated at start; unknown keys are an "
                                 "error."))
    document.add(tomlkit.comment("Written by `mask-kiosk config defaults` from the schema in kiosk/config/; the "
                                 "admin page saves its"))
    document.add(tomlkit.comment("changes to settings.toml in the state folder, over this file."))
    defaults = Config()
    for name in Config.model_fields:
        section = getattr(defaults, name)
        table = tomlkit.table()
        for line in " ".join((type(section).__doc__ or "").split()).split(". "):
            table.add(tomlkit.comment(line if line.endswith(".") else f"{line}."))
        for key, info in type(section).model_fields.items():
            table.add(tomlkit.comment(info.description))
            table.add(key, getattr(section, key))
        document.add(tomlkit.nl())
        document.add(name, table)
    return tomlkit.dumps(document)
