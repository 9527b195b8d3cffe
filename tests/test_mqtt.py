"""MQTT against a real Mosquitto broker started here: topics and payloads, a broker outage that loses no event,
and the last will when the kiosk is killed."""
from __future__ import annotations

import datetime
import json
import signal
import sqlite3
import threading
import time

import paho.mqtt.client as paho
import pytest
from kiosk_server import KioskServer
from waiting import wait_until

from kiosk.bench.broker import LocalBroker, mosquitto_path

if mosquitto_path() is None:
    pytest.skip("mosquitto is absent: apt-get install mosquitto (install.sh --dev does as root)",
                allow_module_level=True)

DEVICE = "gate-7"
BASE = f"site/{DEVICE}"
STATES = {"PASS", "STOP", "CHECKING", "NO_FACE", "DISCONNECTED"}


class Subscriber:
    """Everything under the kiosk's topics, kept in arrival order. A persistent session (clean_session off,
    QoS 1), so messages the broker takes while this client reconnects after a broker restart still reach it."""

    def __init__(self, port: int):
        self.messages: list[tuple[str, str, bool]] = []
        self._lock = threading.Lock()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="test-subscriber", clean_session=False)
        self._acked: set[int] = set()
        self._connected_once = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(0.2, 1)
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        wait_until(self._connected_once.is_set, 30, "the subscription under the kiosk's topics")

    def _on_connect(self, client, *_) -> None:
        client.subscribe(f"{BASE}/#", qos=1)

    def _on_subscribe(self, client, userdata, mid, *_) -> None:
        with self._lock:
            self._acked.add(mid)
        self._connected_once.set()

    def subscribe(self, topic: str) -> None:
        """One more subscription, in force when this returns (the broker acknowledged it)."""
        _, mid = self.client.subscribe(topic, qos=1)
        wait_until(lambda: mid in self._acked, 30, f"the subscription to {topic}")

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.messages.append((message.topic.removeprefix(BASE + "/"), message.payload.decode(), message.retain))

    def payloads(self, topic: str) -> list[str]:
        with self._lock:
            return [payload for name, payload, _ in self.messages if name == topic]

    def events(self) -> list[dict]:
        return [json.loads(payload) for payload in self.payloads("event")]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(tmp_path):
    broker = LocalBroker(tmp_path / "broker").start()
    yield broker
    broker.stop()


def kiosk_reporting_to(broker: LocalBroker, workdir, video) -> KioskServer:
    return KioskServer(workdir, video, settings={
        "mqtt": {"host": "127.0.0.1", "port": broker.port, "topic_prefix": "site", "device_id": DEVICE}})


def recorded(kiosk: KioskServer) -> list[tuple[int, str, str]]:
    with sqlite3.connect(kiosk.workdir / "state" / "events.sqlite3") as db:
        return db.execute("SELECT id, state, previous FROM events ORDER BY id").fetchall()


def test_state_events_and_counters_arrive_with_the_right_json(tmp_path, broker, videos):
    subscriber = Subscriber(broker.port)
    kiosk = kiosk_reporting_to(broker, tmp_path, videos["bare"]).start()
    try:
        wait_until(lambda: len(subscriber.events()) >= 3, timeout=60)
    finally:
        kiosk.stop()
        subscriber.close()
    assert subscriber.payloads("availability")[0] == "online"
    assert subscriber.payloads("availability")[-1] == "offline"  # said on a clean stop
    states = [json.loads(payload) for payload in subscriber.payloads("state")]
    assert states[0]["state"] in STATES and {s["state"] for s in states} <= STATES
    # the reason goes with the state it explains: a bare face is stopped for no_mask, and only PASS or STOP has one
    assert {"state": "STOP", "reason": "no_mask"} in states
    assert all(s["reason"] is None for s in states if s["state"] not in ("PASS", "STOP"))
    events = subscriber.events()
    stored = recorded(kiosk)
    assert [(e["id"], e["state"], e["previous"]) for e in events] == stored[:len(events)]
    stop = next(e for e in events if e["state"] == "STOP")
    assert stop["device_id"] == DEVICE and stop["faces"] == 1 and stop["reason"] == "no_mask"
    assert stop["labels"] == {"mask": 0, "no_mask": 1, "incorrect": 0}
    stamp = datetime.datetime.fromisoformat(stop["time"])
    assert stamp.tzinfo is not None and abs(stamp.timestamp() - stop["ts"]) < 0.01
    assert "snapshot_jpeg" not in stop  # mqtt.snapshots is off by default
    counters = json.loads(subscriber.payloads("counters")[0])
    assert set(counters) == {"date", "passed", "stopped", "compliance", "pass_verdicts", "stop_verdicts"}


def test_a_broker_outage_loses_no_event_and_sends_none_twice(tmp_path, broker, videos):
    subscriber = Subscriber(broker.port)
    kiosk = kiosk_reporting_to(broker, tmp_path, videos["bare"]).start()
    try:
        wait_until(lambda: len(subscriber.events()) >= 2, timeout=60)
        broker.stop()
        during = len(recorded(kiosk))
        wait_until(lambda: len(recorded(kiosk)) >= during + 2, timeout=30)  # events while the broker is down
        time.sleep(5.0)  # the outage itself: 5 s of broker down, whatever the events do
        stored_during_outage = recorded(kiosk)
        metrics = kiosk.metrics()
        assert metrics["mask_kiosk_mqtt_connected"] == 0
        assert metrics["mask_kiosk_mqtt_unsent_events"] >= 2
        broker.start()
        wait_until(lambda: len(subscriber.events()) >= len(stored_during_outage) + 1, timeout=60)
        wait_until(lambda: kiosk.metrics().get("mask_kiosk_mqtt_unsent_events") == 0, timeout=30)
    finally:
        kiosk.stop()
        subscriber.close()
    ids = [event["id"] for event in subscriber.events()]
    assert len(ids) == len(set(ids)), f"sent twice: {ids}"
    assert ids == sorted(ids), f"out of order: {ids}"
    assert ids == [row[0] for row in recorded(kiosk)][:len(ids)], "an event is missing"
    assert len(ids) > len(stored_during_outage)


def test_the_last_will_says_offline_when_the_kiosk_is_killed(tmp_path, broker, videos):
    subscriber = Subscriber(broker.port)
    kiosk = kiosk_reporting_to(broker, tmp_path, videos["bare"]).start()
    try:
        wait_until(lambda: subscriber.payloads("availability") == ["online"], timeout=60)
        kiosk.process.send_signal(signal.SIGKILL)
        kiosk.process.wait(10)
        wait_until(lambda: subscriber.payloads("availability")[-1:] == ["offline"], timeout=30)
    finally:
        kiosk.stop()
        subscriber.close()


def reporter_to(port: int, **settings):
    from kiosk.config.mqtt import MqttConfig
    from kiosk.outputs.mqtt import MqttReporter
    from kiosk.record.counters import DailyCounts
    return MqttReporter(MqttConfig(host="127.0.0.1", port=port, **settings), lambda: ("NO_FACE", None), DailyCounts(),
                        None, None).start()


def test_tls_against_a_broker_without_tls_is_named(broker, caplog):
    reporter = reporter_to(broker.port, tls=True)
    try:
        wait_until(lambda: reporter.status().last_error, 20, "a reason")
    finally:
        reporter.stop()
    assert not reporter.status().connected
    problem = reporter.status().last_error
    assert "TLS handshake failed" in problem and "mqtt.tls" in problem
    assert "TLS handshake failed" in caplog.text


def test_a_prefix_the_broker_keeps_for_itself_is_refused(broker):
    """Mosquitto drops what clients publish under $SYS/: a kiosk set up so would lose every event unseen."""
    from kiosk.config import ConfigError
    from kiosk.config.files import validated
    lost = Subscriber(broker.port)
    lost.subscribe("$SYS/gate-7/#")
    publisher = paho.Client(paho.CallbackAPIVersion.VERSION2)
    publisher.connect("127.0.0.1", broker.port)
    publisher.loop_start()
    try:
        publisher.publish("$SYS/gate-7/state", "STOP", qos=1).wait_for_publish(5)
        publisher.publish(f"{BASE}/state", "STOP", qos=1).wait_for_publish(5)  # sent after it: arrives
        wait_until(lambda: lost.payloads("state"), 10, "the message under the kiosk's topics")
        assert not [m for m in lost.messages if m[0].startswith("$SYS/gate-7")]
    finally:
        publisher.loop_stop()
        lost.close()
    with pytest.raises(ConfigError, match=r"^mqtt.topic_prefix: must not start with \$"):
        validated({"mqtt": {"topic_prefix": "$SYS"}})
