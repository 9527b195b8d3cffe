"""Configuration: one pydantic model per `[section]` (a file each), the single source of defaults,
validation, the admin form's labels and help, and the comments of the shipped kiosk.toml."""
from kiosk.config.base import ConfigError
from kiosk.config.files import CONFIG_ENV, DEFAULT_CONFIG_PATH, default_toml, load_config, save_settings
from kiosk.config.root import PROJECT_ROOT, SETTINGS_NAME, Config

__all__ = ["CONFIG_ENV", "DEFAULT_CONFIG_PATH", "PROJECT_ROOT", "SETTINGS_NAME", "Config", "ConfigError",
           "default_toml", "load_config", "save_settings"]
