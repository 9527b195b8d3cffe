from __future__ import annotations

from pydantic import Field, field_validator

from kiosk.config.base import Section


class MqttConfig(Section):
    """Reports to the site's MQTT broker: gate state, events, counters, availability (see README, MQTT)."""

    host: str = Field("", title="MQTT broker", description="host name or address; empty: MQTT off")
    port: int = Field(1883, ge=1, le=65535, title="MQTT port", description="1883, or 8883 with TLS")
    username: str = Field("", title="MQTT user", description="empty: no login")
    password: str = Field("", title="MQTT password",
                          description="sent to the broker, so kept as written (the state folder is readable by the "
                                      "service only); never logged or shown")
    tls: bool = Field(False, title="MQTT over TLS", description="verify the broker against tls_ca or the system CAs")
    tls_ca: str = Field("", title="MQTT CA file", description="PEM file of the broker's CA; empty: the system's")
    topic_prefix: str = Field("mask-kiosk", min_length=1, title="topic prefix",
                              description="topics are <prefix>/<device_id>/...")
    device_id: str = Field("kiosk-1", min_length=1, title="device id",
                           description="this kiosk's name in topics; one per kiosk on a shared broker")
    snapshots: bool = Field(False, title="snapshots over MQTT",
                            description="events carry their JPEG snapshot (base64)")
    discovery: bool = Field(False, title="Home Assistant discovery",
                            description="announce sensors under homeassistant/")
    queue_max: int = Field(10000, ge=10, le=1_000_000, title="events kept while offline",
                           description="events not yet sent beyond this are skipped, oldest first")

    @field_validator("topic_prefix", "device_id")
    @classmethod
    def _topic_part(cls, value: str) -> str:
        if any(c in value for c in "+#") or value.startswith("/") or value.endswith("/"):
            raise ValueError("no + or #, and no leading or trailing /")
        return value

    @field_validator("topic_prefix")
    @classmethod
    def _not_a_broker_topic(cls, value: str) -> str:
        # brokers keep topics that start with $ (such as $SYS) for themselves: what is published there is lost
        if value.startswith("$"):
            raise ValueError("must not start with $ (the broker's own topics, such as $SYS)")
        return value
