from __future__ import annotations

from pydantic import Field

from kiosk.config.base import Section


class PipelineConfig(Section):
    """The live pipeline."""

    jobs: int = Field(2, ge=1, le=8, title="frames in flight",
                      description="frames in flight (OpenVINO async infer requests per model)")
