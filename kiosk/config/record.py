from __future__ import annotations

from pydantic import Field

from kiosk.config.base import Section


class RecordConfig(Section):
    """The monitoring record: state changes with a snapshot each, in the state folder (events.sqlite3)."""

    enabled: bool = Field(True, title="record events", description="record every gate-state change")
    retention_days: float = Field(30.0, ge=0.01, le=3650, title="keep events (days)",
                                  description="older events and their snapshots are deleted")
    snapshot_quota_mb: float = Field(500.0, ge=0.001, le=1_000_000, title="snapshot quota (MB)",
                                     description="oldest snapshots are deleted beyond this")
    blur_faces: bool = Field(False, title="blur faces", description="pixelate faces in snapshots (privacy)")
