"""Reports to the site's MQTT broker (paho-mqtt): gate state, recorded events, today's counters, availability.

Topics under <topic_prefix>/<device_id>/ (README, "MQTT"):
  availability  "online" / "offline", retained; "offline" is also the last will, sent by the broker if the kiosk dies
  state         {"state": the gate state (PASS, STOP, CHECKING, NO_FACE, DISCONNECTED, OUT_OF_SERVICE), "reason": the
                label behind a PASS or STOP (mask, no_mask, incorrect) or null}, retained, on change
  event         one JSON object per recorded event, QoS 1, in record order
  counters      today's counts as JSON, retained, every minute and on connect
Guarantees: nothing here runs on the pipeline thread; events come from the record (kiosk.record.outbox), so a broker
outage or a restart loses none: they are sent in order once the broker is back, one at a time, each marked sent
only when the broker acknowledged it, and never handed to the client twice. Reconnects back off from 1 s to 30 s.
"""
from __future__ import annotations

import base64
import contextlib
import datetime
import json
import logging
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho

from kiosk.config.mqtt import MqttConfig
from kiosk.record.counters import DailyCounts
from kiosk.record.events import Event
from kiosk.record.outbox import EventOutbox

log = logging.getLogger(__name__)

COUNTERS_EVERY_S = 60.0
LOOK_EVERY_S = 0.5   # the gate state (DISCONNECTED has no broadcast of its own) and the outbox, at the latest


def iso_time(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class MqttStatus:
    broker: str                # host:port
    connected: bool
    sent_events: int           # acknowledged by the broker
    unsent_events: int | None  # waiting in the record; None while it cannot be read (or without a record)
    skipped_events: int        # more than mqtt.queue_max waited
    last_error: str | None


class _Client(paho.Client):
    """paho's client, keeping why the last connection attempt failed (paho's on_connect_fail is not told)."""

    connect_error: OSError | None = None

    def reconnect(self) -> paho.MQTTErrorCode:
        try:
            return super().reconnect()
        except OSError as error:
            self.connect_error = error
            raise


def connect_problem(error: OSError | None, tls: bool) -> str:
    """A failed connection attempt in the admin's terms (a TLS handshake failure names mqtt.tls)."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the broker's certificate is not trusted ({error.verify_message}; mqtt.tls_ca)"
    if isinstance(error, ssl.SSLError) or (tls and isinstance(error, (ConnectionResetError, EOFError))):
        return (f"TLS handshake failed ({type(error).__name__}: {error}): does the broker speak TLS on this "
                "port? (mqtt.tls, mqtt.port)")
    if isinstance(error, ConnectionRefusedError):
        return "connection refused: no broker listening there (mqtt.host, mqtt.port)"
    return f"cannot connect ({type(error).__name__}: {error})" if error else "cannot connect"


class MqttReporter:
    def __init__(self, settings: MqttConfig, gate_state: Callable[[], tuple[str, str | None]], counts: DailyCounts,
                 outbox: EventOutbox | None, snapshots: Path | None):
        self.settings = settings
        self.gate_state = gate_state
        self.counts = counts
        self.outbox = outbox
        self.snapshots = snapshots
        self.base = f"{settings.topic_prefix}/{settings.device_id}"
        self.connected = threading.Event()
        self.sent_events = 0
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._connects = 0            # counted by paho's thread; each new one: availability, state, counters again
        self._acked: set[int] = set()  # message ids the broker acknowledged (paho keeps an error code on a message
        self._acked_lock = threading.Lock()  # queued while offline even after resending it, so acks are counted here)
        self._client = self._make_client()
        self._thread = threading.Thread(target=self._run, name="mqtt", daemon=True)

    # -- client set-up -------------------------------------------------------------------
    def _make_client(self) -> _Client:
        client = _Client(paho.CallbackAPIVersion.VERSION2, client_id=f"mask-kiosk-{self.settings.device_id}")
        client.will_set(f"{self.base}/availability", "offline", qos=1, retain=True)
        if self.settings.username:
            client.username_pw_set(self.settings.username, self.settings.password or None)
        if self.settings.tls:
            client.tls_set(ca_certs=self.settings.tls_ca or None, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_connect_fail = self._on_connect_fail
        return client

    # paho's network thread: store and wake, nothing more
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._note_error(f"broker refused the connection: {reason_code}")
            return
        log.info("MQTT connected to %s:%d", self.settings.host, self.settings.port)
        self.last_error = None
        self._connects += 1
        self.connected.set()
        self._wake.set()

    def _on_connect_fail(self, client: paho.Client, userdata: object) -> None:
        self._note_error(connect_problem(self._client.connect_error, self.settings.tls))

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._acked_lock:
            self._acked.add(mid)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected.is_set() and not self._stop.is_set():
            self._note_error(f"disconnected ({reason_code}); reconnecting")
        self.connected.clear()

    def _note_error(self, reason: str) -> None:
        if reason != self.last_error:
            log.warning("MQTT %s:%d: %s", self.settings.host, self.settings.port, reason)
        self.last_error = reason

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> MqttReporter:
        self._client.connect_async(self.settings.host, self.settings.port, keepalive=15)
        self._client.loop_start()
        self._thread.start()
        return self

    def wake(self) -> None:
        """Something to send (a state change, a recorded event): safe from any thread."""
        self._wake.set()

    def stop(self, timeout: float = 0.5) -> None:
        """Says "offline" (retained) and disconnects cleanly, so the broker does not send the will; gives up after
        about 3 x timeout (a broker that does not answer, a connect still in progress)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        if self.connected.is_set():
            info = self._client.publish(f"{self.base}/availability", "offline", qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        self._client.disconnect()
        # paho's loop_stop waits for its network thread without a limit (it may be inside a connect attempt)
        stopper = threading.Thread(target=self._client.loop_stop, name="mqtt-stop", daemon=True)
        stopper.start()
        stopper.join(timeout)
        if self.outbox is not None and not self._thread.is_alive():
            self.outbox.close()

    # -- reporter thread -------------------------------------------------------------------
    def _run(self) -> None:
        sent_state: tuple[str, str | None] | None = None
        counters_due = 0.0
        announced = 0   # connects handled
        in_flight: tuple[int, int] | None = None   # (event id, message id): one event at a time, in record order
        while not self._stop.is_set():
            self._wake.wait(LOOK_EVERY_S)
            self._wake.clear()
            if not self.connected.is_set():
                continue
            if self._connects != announced:
                announced, sent_state, counters_due = self._connects, None, 0.0
                self._publish("availability", "online")
                if self.settings.discovery:
                    self._discovery()
            state = self.gate_state()
            if state != sent_state:
                self._publish("state", json.dumps({"state": state[0], "reason": state[1]}))
                sent_state = state
            if time.monotonic() >= counters_due:
                self._publish("counters", json.dumps(self.counts.today().to_json()))
                counters_due = time.monotonic() + COUNTERS_EVERY_S
            in_flight = self._send_events(in_flight)

    def _publish(self, topic: str, payload: str) -> paho.MQTTMessageInfo:
        return self._client.publish(f"{self.base}/{topic}", payload, qos=1, retain=topic != "event")

    def _acknowledged(self, mid: int) -> bool:
        """Whether the broker acked this message; forgets the acks of everything else (retained topics)."""
        with self._acked_lock:
            acked = mid in self._acked
            if acked or len(self._acked) > 1000:
                self._acked.clear()
            return acked

    def _send_events(self, in_flight: tuple[int, int] | None) -> tuple[int, int] | None:
        """Sends what the outbox holds, in order; returns the event still waiting for the broker's ack."""
        if self.outbox is None:
            return None
        while not self._stop.is_set():
            if in_flight is not None:
                event_id, mid = in_flight
                if not self._acknowledged(mid):
                    return in_flight  # paho resends it after a reconnect; never published twice by us
                self.outbox.sent(event_id)
                self.sent_events += 1
                in_flight = None
            try:
                pending = self.outbox.pending(limit=1)
            except (sqlite3.Error, OSError) as error:
                self._note_error(f"the record cannot be read: {error}")
                return None
            if not pending or not self.connected.is_set():
                return None
            event = pending[0]
            info = self._publish("event", json.dumps(self._event_json(event)))
            in_flight = (event.id, info.mid)
            with contextlib.suppress(RuntimeError, ValueError):  # not connected: paho sends it on reconnect
                info.wait_for_publish(1.0)
        return in_flight

    def _event_json(self, event: Event) -> dict:
        message = {"id": event.id, "device_id": self.settings.device_id, "time": iso_time(event.ts), "ts": event.ts,
                   "state": event.state, "reason": event.reason, "previous": event.previous, "faces": event.faces,
                   "labels": {"mask": event.masked, "no_mask": event.unmasked, "incorrect": event.incorrect},
                   "people": event.people, "new_people": event.new_people, "seconds_to_verdict": event.seconds}
        if self.settings.snapshots and event.snapshot and self.snapshots is not None:
            try:
                message["snapshot_jpeg"] = base64.b64encode((self.snapshots / event.snapshot).read_bytes()).decode()
            except OSError:
                message["snapshot_jpeg"] = None  # pruned meanwhile
        return message

    def _discovery(self) -> None:
        """Home Assistant MQTT discovery: a sensor for the gate state and one per counter."""
        name = self.settings.device_id
        device = {"identifiers": [f"mask-kiosk-{name}"], "name": f"mask-kiosk {name}", "manufacturer": "mask-kiosk"}
        common = {"availability_topic": f"{self.base}/availability", "device": device}
        sensors = {
            "state": {"name": "gate state", "state_topic": f"{self.base}/state", "icon": "mdi:door",
                      "value_template": "{{ value_json.state }}", "json_attributes_topic": f"{self.base}/state"},
            "passed": {"name": "passed today", "state_topic": f"{self.base}/counters",
                       "value_template": "{{ value_json.passed }}", "state_class": "total_increasing"},
            "stopped": {"name": "stopped today", "state_topic": f"{self.base}/counters",
                        "value_template": "{{ value_json.stopped }}", "state_class": "total_increasing"},
            "compliance": {"name": "compliance today", "state_topic": f"{self.base}/counters",
                           "value_template": "{{ ((value_json.compliance or 0) * 100) | round(1) }}",
                           "unit_of_measurement": "%"},
        }
        for key, sensor in sensors.items():
            unique = f"mask_kiosk_{self.settings.device_id}_{key}"
            self._client.publish(f"homeassistant/sensor/{unique}/config",
                                 json.dumps({**common, **sensor, "unique_id": unique}), qos=1, retain=True)

    def status(self) -> MqttStatus:
        unsent = None
        if self.outbox is not None:
            try:
                unsent = self.outbox.unsent()
            except (sqlite3.Error, OSError):
                pass
        return MqttStatus(f"{self.settings.host}:{self.settings.port}", self.connected.is_set(), self.sent_events,
                          unsent, self.outbox.skipped if self.outbox else 0, self.last_error)
