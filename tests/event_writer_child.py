"""Child process for the power-loss test: writes events as fast as it can, printing each committed id."""
import sys
from pathlib import Path

from event_items import verdict

from kiosk.config.record import RecordConfig
from kiosk.record.events import EventRecorder
from kiosk.types import GateState

recorder = EventRecorder(Path(sys.argv[1]), RecordConfig())
states = [GateState.STOP, GateState.PASS]
sequence = 0
while True:
    event_id = recorder.write(verdict(sequence, states[sequence % 2]))
    print(event_id, flush=True)
    sequence += 1
