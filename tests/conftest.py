from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from kiosk.config import PROJECT_ROOT, Config, load_config

SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"

# the shipped config only: no admin settings or events of this machine's own kiosk
os.environ.pop("MASK_KIOSK_CONFIG", None)
os.environ.pop("STATE_DIRECTORY", None)
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="mask-kiosk-tests-")


def shared_dataset(name: str) -> Path:
    """A data set from ../shared, or a skip saying why it is missing."""
    path = SHARED_DATASETS / name
    if not path.is_dir():
        pytest.skip(f"data set {path} is absent (../shared is provided on CI, not in a fresh clone)")
    return path


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the module's tests (tests/browser.py)."""
    from browser import chromium
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="session")
def config() -> Config:
    """The shipped config, with one inference thread per model: the models' outputs are the same bit for bit
    (`inference_threads`; every walk-up probability compared), and the two test workers share two cores."""
    return load_config().replaced(runtime={"inference_threads": 1})


DETECTORS = {"retinaface": {"model": "retinaface"}, "blazeface_full": {"model": "blazeface", "variant": "full"},
             "blazeface_short": {"model": "blazeface", "variant": "short"}}


@pytest.fixture(scope="session")
def detectors(config):
    """Every detector model at its live settings, by model_build key."""
    from kiosk.vision.models import load_detector
    return {key: load_detector(config.replaced(detector=section)) for key, section in DETECTORS.items()}


@pytest.fixture(scope="session")
def masked_portrait(detectors):
    """The shipped portrait with a surgical-mask shape drawn over nose and mouth."""
    from kiosk.bench.samples import draw_mask, grace_hopper
    image = grace_hopper()
    face = detectors["retinaface"].detect(image)[0]
    return draw_mask(image, face.box, face.keypoints)


@pytest.fixture(scope="session")
def below_nose_portrait(detectors):
    """The same mask pulled down under the nose: worn wrongly."""
    from kiosk.bench.samples import draw_mask, grace_hopper
    image = grace_hopper()
    face = detectors["retinaface"].detect(image)[0]
    return draw_mask(image, face.box, face.keypoints, below_nose=True)


@pytest.fixture(scope="session")
def videos(tmp_path_factory, masked_portrait):
    """Looping 30 fps test videos: an empty scene, then the bare or the masked portrait walking across."""
    from videos import walking_face, write_video

    from kiosk.bench.samples import grace_hopper
    folder = tmp_path_factory.mktemp("videos")
    return {"bare": write_video(folder / "bare.avi", walking_face(grace_hopper(), 10, 60), 30),
            "masked": write_video(folder / "masked.avi", walking_face(masked_portrait, 10, 60), 30)}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest files first (`slow(minutes=…)`, 1 when not said): with two workers taking a file each (README)
    the longest start at once and the short ones fill in beside them, instead of a long file starting last."""
    minutes: dict = {}
    for item in items:
        marker = item.get_closest_marker("slow")
        if marker is not None:
            minutes[item.path] = max(minutes.get(item.path, 0), marker.kwargs.get("minutes", 1))
    items.sort(key=lambda item: -minutes.get(item.path, 0))  # stable: each file's tests stay together, in order
