from __future__ import annotations

from typing import Literal

from pydantic import Field

from kiosk.config.base import Section


class RuntimeConfig(Section):
    """Inference device and the kiosk's folders."""

    device: Literal["AUTO", "CPU", "GPU"] = Field(
        "AUTO", title="inference device", description="AUTO, CPU or GPU; a missing device falls back to CPU")
    performance_hint: Literal["LATENCY", "THROUGHPUT"] = Field(
        "LATENCY", title="performance hint", description="OpenVINO performance hint for every model")
    inference_threads: int = Field(
        0, ge=0, le=64, title="inference threads",
        description="CPU threads each model may use; 0: OpenVINO decides (all cores). 1 costs less CPU per frame for "
                    "a little more latency, and leaves a core to the screen's browser; results are the same")
    classifier_threads: int = Field(
        1, ge=0, le=64, title="mask classifier threads",
        description="CPU threads of the mask classifier; 1 lets it run on one core beside the next frame's detection "
                    "instead of both contending for every core (less CPU and latency on a 2-core box); 0: as "
                    "inference_threads; results are the same")
    cache_dir: str = Field(
        "", title="cache folder", description="empty: $CACHE_DIRECTORY (systemd) or ~/.cache/mask-kiosk: "
                                              "compiled models")
    state_dir: str = Field(
        "", title="state folder", description="empty: $STATE_DIRECTORY (systemd) or ~/.local/state/mask-kiosk: "
                                              "settings.toml, events, snapshots")
    models_dir: str = Field("", title="models folder", description="empty: models_ir/ beside the package")
