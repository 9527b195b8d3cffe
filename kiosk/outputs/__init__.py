"""What the kiosk tells the world beyond its screen: the gate output (relays, webhook) and MQTT reports."""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.outputs.gate import GateStatus
from kiosk.outputs.mqtt import MqttStatus


@dataclass(frozen=True)
class OutputsStatus:
    gate: GateStatus | None   # None: gate.mode is off
    mqtt: MqttStatus | None   # None: mqtt.host is empty
