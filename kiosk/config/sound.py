from __future__ import annotations

from pydantic import Field

from kiosk.config.base import Section


class SoundConfig(Section):
    """Sounds on the kiosk screen: a chime on PASS, a tone and a spoken prompt on STOP, once per person."""

    enabled: bool = Field(True, title="sound", description="play the PASS chime and the STOP prompt")
    volume: float = Field(0.8, ge=0.0, le=1.0, title="volume", description="0 to 1")
