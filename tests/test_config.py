import subprocess
import sys

import pytest

from kiosk.config import ConfigError, load_config, validate


def test_shipped_config_is_valid(config):
    assert config["detector"]["model"] == "retinaface"
    assert config["detector"]["input_size"] == [640, 480]
    assert config["runtime"]["device"] in ("AUTO", "CPU", "GPU")


def test_defaults_fill_missing_keys():
    values = validate({"detector": {"variant": "short"}})
    assert values["detector"]["variant"] == "short"
    assert values["detector"]["min_score"] == 0.5


@pytest.mark.parametrize("raw, key, reason", [
    ({"detector": {"colour": 1}}, "detector.colour", "unknown key"),
    ({"detektor": {}}, "detektor", "unknown section"),
    ({"detector": {"variant": "medium"}}, "detector.variant", "must be one of"),
    ({"detector": {"model": "yolo"}}, "detector.model", "must be one of"),
    ({"detector": {"input_size": [640]}}, "detector.input_size", "[width, height]"),
    ({"detector": {"input_size": [64, 48]}}, "detector.input_size", "from 128 to 1920"),
    ({"photo": {"input_size": 100}}, "photo.input_size", "between"),
    ({"detector": {"min_score": "high"}}, "detector.min_score", "must be float"),
    ({"detector": {"min_score": 3}}, "detector.min_score", "between"),
    ({"classifier": {"max_batch": True}}, "classifier.max_batch", "must be int"),
])
def test_bad_values_name_key_and_reason(raw, key, reason):
    with pytest.raises(ConfigError) as error:
        validate(raw)
    assert str(error.value).startswith(f"{key}: ")
    assert reason in str(error.value)


def test_bad_toml_is_reported(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text("[detector\nvariant = 'full'\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_cli_bad_config_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('[runtime]\ndevice = "TPU"\n')
    result = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(path), "check"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "config error: runtime.device: must be one of 'AUTO', 'CPU', 'GPU' (got 'TPU')"]
    assert "Traceback" not in result.stderr
