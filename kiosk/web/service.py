"""The web's own part: the settings as saved, the admin password and sessions, "check a photo"; and what the
pages read of the running kiosk (KioskParts, given by kiosk.app). The pages own none of it."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import tomlkit
import tomllib

from kiosk.config import Config, ConfigError, load_config, save_settings
from kiosk.config.admin import ADMIN
from kiosk.config.camera import CameraConfig
from kiosk.live.pipeline import LivePipeline
from kiosk.vision.analyzer import build_analyzer, describe_setup
from kiosk.vision.image_input import image_limits
from kiosk.web.auth import AdminAuth
from kiosk.web.i18n import Texts
from kiosk.web.passwords import hash_password, password_problem
from kiosk.web.photo_check import PhotoChecker
from kiosk.web.screen_watch import ScreenWatch

if TYPE_CHECKING:  # read through KioskParts, never built here
    from kiosk.outputs import OutputsStatus
    from kiosk.outputs.override import OverrideResult, StaffOverride
    from kiosk.record.counters import DailyCounts, TodayCounts
    from kiosk.record.events import EventLog, RecordingStatus

log = logging.getLogger(__name__)

# the settings form, column by column: the (section, key) pairs the admin may change
FORM = {
    "Decision": (("detector", "min_score"), ("decision", "hold_ms"), ("decision", "switch_ms"),
                 ("decision", "min_face_fraction"), ("decision", "max_people"), ("decision", "hint_after_ms")),
    "Camera and device": (("camera", "source"), ("camera", "width"), ("camera", "height"), ("camera", "fps"),
                          ("runtime", "device")),
    "Screen": (("display", "max_width"), ("display", "max_height"), ("display", "jpeg_quality"),
               ("display", "language"), ("admin", "language")),
    "Gate output": tuple(("gate", key) for key in ("mode", "pulse_ms", "fail_state", "serial_port", "serial_channel",
                                                   "gpio_chip", "gpio_line", "gpio_active_low", "webhook_url")),
    "MQTT": tuple(("mqtt", key) for key in ("host", "port", "username", "password", "tls", "topic_prefix",
                                            "device_id", "snapshots", "discovery")),
    "Sound and privacy": (("sound", "enabled"), ("sound", "volume"), ("display", "notice")),
    "Tracking": (("tracker", "confirm_frames"), ("tracker", "min_iou"), ("tracker", "max_missed")),
    "Record": (("record", "enabled"), ("record", "retention_days"), ("record", "snapshot_quota_mb"),
               ("record", "blur_faces")),
}
# the form's fields, and the entry zone (drawn on a still of the live picture)
EDITABLE = tuple(pair for pairs in FORM.values() for pair in pairs) + (("decision", "zone"),)
NEEDS_RESTART = {("runtime", "device"), ("record", "enabled"), ("admin", "language")}  # the page is built once
# never sent back to the page; left empty in the form, they stay as saved
SECRETS = {("mqtt", "password")}
# what names one kiosk: not exported, not imported (a second kiosk must not clone the first one's camera or name)
PER_DEVICE = {("camera", "source"), ("mqtt", "device_id")}


def is_setting(section: str, key: str) -> bool:
    """Whether [section] key exists in the schema at all."""
    return section in Config.model_fields and key in Config.section_fields(section)


def field_text(texts: Texts, section: str, key: str) -> tuple[str, str]:
    """The field's label and help from the schema, in the page's language (the admin reads labels, not keys)."""
    info = Config.section_fields(section)[key]
    return texts.field(section, key, info.title or key, info.description or "")


def field_label(texts: Texts, section: str, key: str) -> str:
    label = field_text(texts, section, key)[0]
    return label + (texts(" (applies after a restart)") if (section, key) in NEEDS_RESTART else "")


def _stamp(*paths: Path | None) -> tuple[float | None, ...]:
    return tuple(path.stat().st_mtime_ns if path is not None and path.exists() else None for path in paths)


class KioskParts(Protocol):
    """What the web reads of the running kiosk (kiosk.app.Kiosk), and where saved settings go back to."""

    pipeline: LivePipeline
    counts: DailyCounts
    events: EventLog | None

    override: StaffOverride

    def recording(self) -> RecordingStatus: ...

    def outputs_status(self) -> OutputsStatus: ...

    def apply_live(self, config: Config, camera: CameraConfig) -> None: ...

    def apply_outputs(self, config: Config) -> None: ...


class KioskService:
    """The web's own part: the settings as saved (read, changed, exported, imported), the admin password and
    sessions, and "check a photo". It reads the kiosk through `parts` and builds none of it."""

    def __init__(self, config: Config, parts: KioskParts, source_override: str | None = None):
        self.config = config
        self.parts = parts
        self.pipeline = parts.pipeline
        # `run --source`: in force until the admin changes the camera source itself
        self.source_override = source_override
        self.https_problem: str | None = None  # why the admin page has no HTTPS port, when it has none
        self._files_stamp = _stamp(config.path, config.settings_path()) if config.path else None
        self.photos = PhotoChecker(
            build_analyzer(config, parts.pipeline.classifier),
            (config.display.max_width, config.display.max_height), config.web.photo_cache,
            image_limits(config), config.cache_dir() / "photo-results")
        self.setup = list(describe_setup(config, parts.pipeline.detector, parts.pipeline.classifier))
        # the admin page is built once, in one language
        self.texts = Texts(config.admin.page_language(config.display.language))
        self._settings_lock = threading.Lock()
        self.auth = AdminAuth(lambda: self.current().admin)
        self.screens = ScreenWatch()  # what the kiosk screens report they painted

    @property
    def events(self) -> EventLog | None:
        return self.parts.events

    def let_one_pass(self, session: str | None, via: str) -> OverrideResult:
        """A staff override asked for by the user of this admin session (kiosk.outputs.override)."""
        from kiosk.outputs.override import OverrideResult
        user = self.auth.session_user(session)
        if user is None:
            return OverrideResult(False, "Refused: not logged in.")
        return self.parts.override.request(user, via)

    def today(self) -> TodayCounts:
        return self.parts.counts.today()

    def recording(self) -> RecordingStatus:
        return self.parts.recording()

    def outputs_status(self) -> OutputsStatus:
        return self.parts.outputs_status()

    def current(self) -> Config:
        """The config as saved now: re-read when the config file or settings.toml changed on disk (another
        process, such as `mask-kiosk set-password`, may have written it); what can apply live does."""
        with self._settings_lock:
            if self.config.path is None:
                return self.config
            stamp = _stamp(self.config.path, self.config.settings_path())
            changed = stamp != self._files_stamp
            if changed:
                self.config = load_config(self.config.path)
                self._files_stamp = _stamp(self.config.path, self.config.settings_path())
                self._apply_live(self.config)
            config = self.config
        if changed:
            self._apply_outputs(config)
        return config

    def settings(self) -> dict[str, Any]:
        """The form's values as saved now; the camera source shows a --source override while it is in force."""
        config = self.current()
        values = {f"{section}.{key}": "" if (section, key) in SECRETS else getattr(getattr(config, section), key)
                  for section, key in EDITABLE}
        if self.source_override is not None:
            values["camera.source"] = self.source_override
        return values

    def apply_settings(self, changes: dict[str, Any]) -> str:
        """Saves the values that differ from what is saved now (re-read under the lock, so nothing written
        meanwhile is undone), and queues what can change while running to the pipeline; raises ConfigError."""
        shown = self.settings()
        grouped: dict[str, dict[str, Any]] = {}
        for dotted, value in changes.items():
            section, key = dotted.split(".", 1)
            if (section, key) not in EDITABLE:
                raise ConfigError(f"{dotted}: not editable from the admin page")
            if shown[dotted] != value and not ((section, key) in SECRETS and value == ""):
                grouped.setdefault(section, {})[key] = value
        if not grouped:
            return self.texts("No changes.")
        self._save(grouped)
        changed = [(s, k) for s, keys in grouped.items() for k in keys]
        later = [field_text(self.texts, *pair)[0] for pair in changed if pair in NEEDS_RESTART]
        log.info("settings saved: %s", ", ".join(f"{s}.{k}" for s, k in changed))
        joined = self.texts(", ")
        message = self.texts("Saved: {fields}.",
                             fields=joined.join(field_label(self.texts, *pair) for pair in changed))
        if later:
            message += self.texts(" {fields} applies after a restart.", fields=joined.join(later))
        return message

    def export_settings(self) -> str:
        """The admin-editable settings as saved now, as TOML: a file to keep or to load on another kiosk with
        import_settings. Without secrets, and without what names this one kiosk (PER_DEVICE)."""
        values = self.settings()
        document = tomlkit.document()
        document.add(tomlkit.comment("mask-kiosk settings, exported from the admin page; load with Import settings"))
        document.add(tomlkit.comment("left out, as they belong to this kiosk alone: "
                                     + ", ".join(f"{s}.{k}" for s, k in sorted(PER_DEVICE)) + "; and no secrets"))
        for section, key in EDITABLE:
            if (section, key) not in SECRETS | PER_DEVICE:
                document.setdefault(section, tomlkit.table())[key] = values[f"{section}.{key}"]
        return tomlkit.dumps(document)

    def import_settings(self, data: bytes) -> str:
        """Applies an exported settings file: every key is checked and the result validated before anything is
        saved, so a bad file changes nothing (ConfigError names the first problem). Keys that belong to one kiosk
        (PER_DEVICE) are skipped, and the message says so."""
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise ConfigError("not a settings file (not UTF-8 text)") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"not a settings file (TOML: {error})") from None
        except RecursionError:
            raise ConfigError("not a settings file (nested too deeply)") from None
        changes, skipped = {}, []
        for section, keys in document.items():
            if not isinstance(keys, dict):
                raise ConfigError(f"{section}: expected a [{section}] table")
            for key, value in keys.items():
                if (section, key) in PER_DEVICE:
                    skipped.append(field_label(self.texts, section, key))
                    continue
                if not is_setting(section, key):
                    raise ConfigError(f"{section}.{key}: unknown setting")
                if (section, key) not in EDITABLE or (section, key) in SECRETS:
                    raise ConfigError(f"{section}.{key}: not a setting the admin page may change")
                changes[f"{section}.{key}"] = value
        message = self.apply_settings(changes)
        if skipped:
            message += self.texts(" Kept this kiosk's own {fields}.", fields=self.texts(", ").join(skipped))
        return message

    def _save(self, grouped: dict[str, dict[str, Any]]) -> None:
        """Saves these keys (all or none), then applies what can change while running."""
        with self._settings_lock:
            self.config = save_settings(self.config, grouped)
            self._files_stamp = _stamp(self.config.path, self.config.settings_path())
            if "source" in grouped.get("camera", {}):
                self.source_override = None  # the admin chose a camera: the override gives way
            self._apply_live(self.config)
            config = self.config
        self._apply_outputs(config)

    def change_password(self, client: str, session: str | None, current: str, new: str, again: str) -> str:
        """The admin page's password change: the current password is checked (and counted) as a login is, the new
        one saved hashed at once, as `mask-kiosk set-password` does; every other session ends, this one stays.
        Returns what to tell the admin."""
        admin = self.current().admin
        user = admin.user
        role, wait = self.auth.check(client, user, current, ADMIN)
        if wait:
            return self.texts("Not changed: too many failed attempts; try again in {wait:.0f} s.", wait=wait)
        if role is None:
            return self.texts("Not changed: the current password is wrong.")
        refused = self._new_password_refused(new, again)
        if refused:
            return refused
        self._save({"admin": {"password_hash": hash_password(new)}})
        self.auth.keep(session, admin.password_hash)
        log.info("admin password changed from the admin page (%s); other sessions ended", client)
        return self.texts("Password changed. It is in force now; the old one no longer works, and other sessions "
                          "have ended.")

    def _new_password_refused(self, new: str, again: str) -> str | None:
        """Why a new password (typed twice) is not taken, said to the admin; None when it is."""
        if new != again:
            return self.texts("Not changed: the two new passwords differ.")
        problem = password_problem(new)
        return self.texts("Not changed: {problem}.", problem=problem) if problem else None

    def set_viewer_password(self, session: str | None, new: str, again: str) -> str:
        """The admin sets (or, with both fields empty, removes) the viewer account's password; the viewer's sessions
        end. Returns what to tell the admin."""
        if not self.auth.is_admin(session):
            return self.texts("Not changed: only the admin may set the viewer's password.")
        if not new and not again:
            self._save({"admin": {"viewer_password_hash": ""}})
            log.info("viewer login removed from the admin page")
            return self.texts("The viewer login is removed; viewer sessions have ended.")
        refused = self._new_password_refused(new, again)
        if refused:
            return refused
        self._save({"admin": {"viewer_password_hash": hash_password(new)}})
        log.info("viewer password set from the admin page; viewer sessions ended")
        return self.texts("Viewer password set: log in as \"{viewer}\" to see the live view, the events and the "
                          "counts. Earlier viewer sessions have ended.", viewer=self.current().admin.viewer_user)

    def _apply_live(self, new: Config) -> None:
        """Hands the parts what changed; each applies it at a safe point of its own (the pipeline between frames)."""
        self.parts.apply_live(new, new.camera.overridden(self.source_override))
        self.photos.display_size = (new.display.max_width, new.display.max_height)

    def _apply_outputs(self, new: Config) -> None:
        """Outside the settings lock: rebuilding an output may take a second or two."""
        self.parts.apply_outputs(new)
