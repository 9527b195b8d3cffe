"""The one OpenVINO Core of the process, and model compilation with a cache."""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import openvino as ov
import openvino.properties as props
import openvino.properties.hint as hints

from kiosk.config import Config

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def core() -> ov.Core:
    """Created once; every model of the process compiles through it."""
    return ov.Core()


def resolve_device(requested: str) -> str:
    """The configured device if present, else CPU with a logged warning."""
    available = core().available_devices
    if requested == "AUTO" or any(d.split(".")[0] == requested for d in available):
        return requested
    log.warning("device %s not available (found %s); falling back to CPU", requested, ", ".join(available))
    return "CPU"


def compile_model(xml_path: Path, config: Config, input_shape: list[int] | None = None,
                  exact: bool = False, threads: int = 0) -> ov.CompiledModel:
    """Compile an IR once, caching the compiled blob in the configured cache directory.

    `input_shape` fixes a model with a dynamic input to one static shape (static shapes run faster on CPU).
    `exact` keeps f32 arithmetic where OpenVINO would pick bf16 (CPUs with AMX): the figures measured for the
    model then hold on every box. `threads` (if not 0) replaces `runtime.inference_threads` for this model.
    """
    cache_dir = config.cache_dir() / "openvino"
    cache_dir.mkdir(parents=True, exist_ok=True)
    ov_core = core()
    ov_core.set_property({props.cache_dir: str(cache_dir)})
    device = resolve_device(config.runtime.device)
    hint = getattr(hints.PerformanceMode, config.runtime.performance_hint)
    model = ov_core.read_model(xml_path)
    if input_shape is not None:
        model.reshape({model.inputs[0]: input_shape})
    before = set(cache_dir.iterdir())
    properties: dict = {hints.performance_mode: hint}
    if exact:
        properties[hints.inference_precision] = ov.Type.f32
    threads = threads or config.runtime.inference_threads
    if threads and device != "GPU":
        on_cpu = {props.inference_num_threads: threads}
        properties.update(on_cpu if device == "CPU" else {props.device.properties: {"CPU": on_cpu}})
    compiled = ov_core.compile_model(model, device, properties)
    # a new blob means it was compiled now; none means the one made earlier (at install: boot preload) was used
    fresh = set(cache_dir.iterdir()) - before
    log.info("%s%s on %s: %s", xml_path.name, f" {input_shape}" if input_shape else "", device,
             "compiled and cached" if fresh else f"loaded from the model cache in {cache_dir}")
    return compiled
