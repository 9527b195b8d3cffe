"""Gate output backends: a GPIO line (libgpiod), a USB serial relay board (LCUS/CH340), an HTTP webhook.

Each turns a GateCommand into the world's terms and raises on failure; the worker thread around it
(kiosk.outputs.gate.OutputWorker) counts and logs. Devices are opened on first use and again after a failure,
so an unplugged board comes back by itself.
"""
from __future__ import annotations

import json
import urllib.request
from typing import Any

from kiosk.config.gate import GateConfig
from kiosk.outputs.gate import Backend, GateCommand

LCUS_HEADER = 0xA0
LCUS_BAUD = 9600


def lcus_frame(channel: int, on: bool) -> bytes:
    """The LCUS/CH340 relay board's 4-byte command: A0, channel, state, checksum (sum of the three)."""
    state = 1 if on else 0
    return bytes([LCUS_HEADER, channel, state, (LCUS_HEADER + channel + state) & 0xFF])


class SerialRelay:
    name = "serial"
    retries = 1  # an unplugged board is reopened once

    def __init__(self, port: str, channel: int):
        self.port = port
        self.channel = channel
        self._serial: Any = None   # serial.Serial once open

    def send(self, command: GateCommand, timeout_s: float) -> None:
        import serial
        try:
            if self._serial is None:
                wait = min(1.0, timeout_s)
                self._serial = serial.Serial(self.port, LCUS_BAUD, timeout=wait, write_timeout=wait)
            self._serial.write(lcus_frame(self.channel, command.released))
            self._serial.flush()
        except (OSError, serial.SerialException):
            self.close()  # reopened with the next command
            raise

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            finally:
                self._serial = None


class GpioRelay:
    name = "gpio"
    retries = 1

    def __init__(self, chip: str, line: int, active_low: bool):
        self.chip, self.line, self.active_low = chip, line, active_low
        self._request: Any = None  # gpiod.LineRequest once open

    def send(self, command: GateCommand, timeout_s: float) -> None:
        import gpiod
        from gpiod.line import Direction, Value
        value = Value.ACTIVE if command.released else Value.INACTIVE
        try:
            if self._request is None:
                settings = gpiod.LineSettings(direction=Direction.OUTPUT, active_low=self.active_low,
                                              output_value=value)
                self._request = gpiod.request_lines(self.chip, consumer="mask-kiosk", config={self.line: settings})
            self._request.set_value(self.line, value)
        except OSError:
            self.close()
            raise

    def close(self) -> None:
        if self._request is not None:
            try:
                self._request.release()
            finally:
                self._request = None


class Webhook:
    name = "webhook"

    def __init__(self, url: str, timeout_s: float, retries: int, device_id: str):
        self.url, self.timeout_s, self.retries, self.device_id = url, timeout_s, retries, device_id

    def send(self, command: GateCommand, timeout_s: float) -> None:
        body = json.dumps({**command.to_json(), "device_id": self.device_id}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=min(self.timeout_s, timeout_s)) as response:
            response.read()

    def close(self) -> None:
        pass


def backends_for(settings: GateConfig, device_id: str) -> list[Backend]:
    """The backends the [gate] section names (none while gate.mode is off)."""
    if settings.mode == "off":
        return []
    chosen: list[Backend] = []
    if settings.gpio_chip:
        chosen.append(GpioRelay(settings.gpio_chip, settings.gpio_line, settings.gpio_active_low))
    if settings.serial_port:
        chosen.append(SerialRelay(settings.serial_port, settings.serial_channel))
    if settings.webhook_url:
        chosen.append(Webhook(settings.webhook_url, settings.webhook_timeout_s, settings.webhook_retries, device_id))
    return chosen
