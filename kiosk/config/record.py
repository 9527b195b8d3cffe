from __future__ import annotations

from typing import Literal

from pydantic import Field

from kiosk.config.base import Section


class RecordConfig(Section):
    """The monitoring record: each person's verdict with a snapshot (and a clip), the camera lost and back, staff
    overrides; in the state folder (events.sqlite3, snapshots/)."""

    enabled: bool = Field(True, title="record events",
                          description="record each verdict per person, camera losses and overrides")
    retention_days: float = Field(30.0, ge=0.01, le=3650, title="keep events (days)",
                                  description="older events and their snapshots are deleted")
    snapshot_quota_mb: float = Field(500.0, ge=0.001, le=1_000_000, title="snapshot quota (MB)",
                                     description="oldest snapshots are deleted beyond this")
    blur_faces: bool = Field(False, title="blur faces", description="pixelate faces in snapshots (privacy)")
    clips: Literal["off", "stop", "all"] = Field(
        "stop", title="clips", description="a short video around each STOP (stop), each PASS too (all), or none; "
                                           "counted in the snapshot quota")
    clip_before_s: float = Field(3.0, ge=0.5, le=10, title="clip: seconds before",
                                 description="how much of the moments before the verdict the clip shows")
    clip_after_s: float = Field(2.0, ge=0.5, le=10, title="clip: seconds after",
                                description="how much of the moments after the verdict the clip shows")
    clip_fps: float = Field(10.0, ge=2, le=30, title="clip frame rate",
                            description="frames per second kept in clips (fewer: smaller files, less CPU)")
