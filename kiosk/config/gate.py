from __future__ import annotations

from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator

from kiosk.config.base import Section


class GateConfig(Section):
    """The gate output: a relay on a GPIO line or a USB serial board, and/or an HTTP webhook, told PASS and STOP."""

    mode: Literal["off", "soft", "hard"] = Field(
        "off", title="gate mode",
        description="off: no output; soft: the door is never held (the output stays released), PASS and STOP are "
                    "signalled and recorded; hard: the door is released only by a pulse on PASS")
    pulse_ms: int = Field(1000, ge=50, le=60000, title="release pulse (ms)",
                          description="how long the output stays released after a PASS (hard mode)")
    fail_state: Literal["closed", "open"] = Field(
        "closed", title="when the kiosk is unhealthy",
        description="hard mode, while the camera is lost, the pipeline stalled or the service stopping: closed holds "
                    "the door, open releases it (fire safety); back to normal by itself")
    gpio_chip: str = Field("", title="GPIO chip", description='GPIO character device, e.g. "/dev/gpiochip0"; '
                                                               'empty: no GPIO output')
    gpio_line: int = Field(0, ge=0, le=1023, title="GPIO line", description="line offset on the chip")
    gpio_active_low: bool = Field(False, title="GPIO active low", description="released = low level")
    serial_port: str = Field("", title="serial relay port",
                             description='USB relay board with the LCUS/CH340 protocol (A0 01 01 A2 on), e.g. '
                                         '"/dev/ttyUSB0"; empty: none')
    serial_channel: int = Field(1, ge=1, le=8, title="serial relay channel", description="relay number on the board")
    webhook_url: str = Field("", title="webhook URL",
                             description="every gate command is POSTed here as JSON; empty: none")
    webhook_timeout_s: float = Field(2.0, ge=0.1, le=60, title="webhook timeout (s)",
                                     description="per attempt")
    webhook_retries: int = Field(3, ge=0, le=10, title="webhook retries",
                                 description="after a failed attempt, with backoff 0.5 s, 1 s, 2 s, ...")

    override_min_interval_s: float = Field(
        5.0, ge=0.5, le=3600, title="staff override: seconds between two",
        description='"let one person pass" is refused sooner than this after the last one (a held button or a '
                    'script cannot keep the door open)')

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and (urlparse(value).scheme not in ("http", "https") or not urlparse(value).netloc):
            raise ValueError("must be an http:// or https:// URL")
        return value
