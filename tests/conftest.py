from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kiosk.config import PROJECT_ROOT, Config, load_config

SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"


def shared_dataset(name: str) -> Path:
    """A data set from ../shared, or a skip saying why it is missing."""
    path = SHARED_DATASETS / name
    if not path.is_dir():
        pytest.skip(f"data set {path} is absent (../shared is provided on CI, not in a fresh clone)")
    return path


def config_with(base: Config, **sections: dict) -> Config:
    values = {section: dict(keys) for section, keys in base.values.items()}
    for section, keys in sections.items():
        values[section].update(keys)
    return dataclasses.replace(base, values=values)


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="session")
def detectors(config):
    from kiosk.models import load_detector
    return {variant: load_detector(config_with(config, detector={"variant": variant})) for variant in ("full", "short")}
