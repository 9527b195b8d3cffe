from __future__ import annotations

from pydantic import Field

from kiosk.config.base import Section


class CameraConfig(Section):
    """The camera: a USB device (V4L2), a video file or a network stream."""

    source: str = Field("0", min_length=1, title="camera (index, /dev/v4l/by-id/…, file, URL)",
                        description="device index, /dev/v4l/by-id/..., a video file, or an rtsp/http URL")
    width: int = Field(640, ge=160, le=3840, title="width", description="requested frame width")
    height: int = Field(480, ge=120, le=2160, title="height", description="requested frame height")
    fps: float = Field(30.0, ge=1, le=120, title="fps", description="requested frame rate")
    loop: bool = Field(True, title="loop video files", description="video files start again at the end")
    stall_timeout_s: float = Field(2.0, ge=0.2, le=30, title="stall timeout (s)",
                                   description="no frame for this long: camera disconnected")

    def overridden(self, source: str | None) -> CameraConfig:
        """This section with `source` (a --source override) in place of its own, when given."""
        return self if source is None else self.model_copy(update={"source": source})
