"""The door logic on its own: GateController with a backend that records what it is told and a health function the
test sets. (The real backends and the real pipeline are in test_gate_outputs.py.)"""
from __future__ import annotations

import threading

import pytest
from event_items import published
from waiting import wait_until

from kiosk.config.gate import GateConfig
from kiosk.outputs.gate import GateCommand, GateController
from kiosk.types import GateState, Health


class Door:
    """A backend that carries out every command by writing it down; `failing` makes it raise instead."""
    name = "door"
    retries = 0

    def __init__(self):
        self.commands: list[GateCommand] = []
        self.failing: str | None = None
        self.closed = False
        self._lock = threading.Lock()

    def send(self, command: GateCommand, timeout_s: float) -> None:
        if self.failing:
            raise OSError(self.failing)
        with self._lock:
            self.commands.append(command)

    def close(self) -> None:
        self.closed = True

    def told(self) -> list[tuple[bool, str]]:
        with self._lock:
            return [(command.released, command.reason) for command in self.commands]


class Health_:
    def __init__(self):
        self.now = Health(True, "ok")

    def __call__(self) -> Health:
        return self.now


@pytest.fixture
def make():
    controllers = []

    def make(**settings):
        door, health = Door(), Health_()
        controller = GateController(GateConfig(**settings), [door], health).start()
        controllers.append(controller)
        return controller, door, health
    yield make
    for controller in controllers:
        controller.stop()


def verdict(controller: GateController, state: GateState) -> None:
    controller.on_change(published(1, state), "CHECKING")


def test_hard_mode_holds_the_door_releases_it_for_the_pulse_and_a_stop_ends_a_release(make):
    controller, door, _ = make(mode="hard", pulse_ms=300)
    wait_until(lambda: door.told() == [(False, "start")], 5, "held at start")
    verdict(controller, GateState.PASS)
    wait_until(lambda: door.told()[-1:] == [(False, "pulse end")], 5, "the pulse's end")
    assert door.told() == [(False, "start"), (True, "PASS"), (False, "pulse end")]
    verdict(controller, GateState.PASS)
    wait_until(lambda: door.told()[-1] == (True, "PASS"), 5)
    verdict(controller, GateState.STOP)  # within the pulse
    wait_until(lambda: door.told()[-1] == (False, "STOP"), 5)
    assert (False, "pulse end") not in door.told()[3:]  # the STOP ended it; no second end
    assert not controller.released


def test_soft_mode_never_holds_the_door(make):
    controller, door, _ = make(mode="soft")
    wait_until(lambda: door.told() == [(True, "start")], 5)
    for count, state in enumerate((GateState.PASS, GateState.STOP), start=2):
        verdict(controller, state)
        wait_until(lambda count=count: len(door.told()) == count, 5)
    assert door.told() == [(True, "start"), (True, "PASS"), (True, "STOP")]
    assert all(command.mode == "soft" for command in door.commands)


@pytest.mark.parametrize("fail_state, released", [("closed", False), ("open", True)])
def test_an_unhealthy_kiosk_puts_a_hard_gate_at_its_fail_state_and_it_recovers_by_itself(make, fail_state, released):
    controller, door, health = make(mode="hard", fail_state=fail_state)
    wait_until(lambda: door.told() == [(False, "start")], 5)
    health.now = Health(False, "camera disconnected (no frames)")
    wait_until(lambda: len(door.told()) == 2, 5, "the fail state")
    assert door.told()[1] == (released, "fault: camera disconnected (no frames)")
    assert controller.status().fault == "camera disconnected (no frames)"
    health.now = Health(True, "ok")
    wait_until(lambda: len(door.told()) == 3, 5, "back to normal")
    assert door.told()[2] == (False, "recovered") and controller.status().fault is None


def test_stopping_leaves_the_door_at_its_fail_state_then_closes_the_backend(make):
    controller, door, _ = make(mode="hard", fail_state="open")
    wait_until(lambda: door.told() == [(False, "start")], 5)
    controller.stop()
    assert door.told()[-1] == (True, "stopping") and door.closed


def test_a_failing_backend_is_counted_and_the_next_command_goes_through(make):
    controller, door, _ = make(mode="hard", pulse_ms=200)
    wait_until(lambda: door.told() == [(False, "start")], 5)
    door.failing = "relay board unplugged"
    verdict(controller, GateState.PASS)
    wait_until(lambda: controller.status().outputs[0].failures >= 1, 5, "the failure counted")
    assert controller.status().outputs[0].last_error == "OSError: relay board unplugged"
    door.failing = None
    verdict(controller, GateState.STOP)
    wait_until(lambda: door.told()[-1] == (False, "STOP"), 5)
    assert controller.status().outputs[0].last_error is None


def test_a_backend_far_behind_carries_out_the_newest_command_only(make):
    controller, door, _ = make(mode="hard", pulse_ms=60000)
    wait_until(lambda: door.told() == [(False, "start")], 5)
    busy, release = threading.Event(), threading.Event()
    send = door.send

    def slow_send(command: GateCommand, timeout_s: float) -> None:
        busy.set()
        release.wait(10)  # the door controller is busy with this one
        send(command, timeout_s)

    door.send = slow_send
    verdict(controller, GateState.PASS)
    busy.wait(5)
    verdict(controller, GateState.STOP)   # both come while the PASS is still being carried out
    verdict(controller, GateState.PASS)
    wait_until(lambda: controller.released, 5)  # the controller has given the last command
    release.set()
    wait_until(lambda: len(door.told()) == 3, 5)
    assert door.told()[1:] == [(True, "PASS"), (True, "PASS")]  # the STOP between was superseded
    assert controller.status().outputs[0].superseded == 1
