"""What every config section shares: unknown keys refused, values frozen, TOML types taken as written."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator


class ConfigError(ValueError):
    """A config problem, worded as one line naming the key and the reason."""


class Section(BaseModel):
    """A `[section]` of kiosk.toml. Its docstring heads the section in the shipped file; each field's
    `title` labels it on the admin page and its `description` is the help and the comment."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        # a newline in a string would write a settings.toml that the next start rejects
        if isinstance(value, str) and any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("control characters (newline, tab, ...) are not allowed")
        return value
