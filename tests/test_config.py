"""The config schema: one source for defaults, validation, form labels and the shipped kiosk.toml; files read and
saved safely."""
import os
import subprocess
import sys

import pytest
import tomlkit

from kiosk.config import Config, ConfigError, default_toml, load_config, save_settings
from kiosk.config.files import validated
from kiosk.config.root import PROJECT_ROOT
from kiosk.web.passwords import hash_password


def test_shipped_config_is_the_schema_defaults_with_their_help():
    assert (PROJECT_ROOT / "config" / "kiosk.toml").read_text() == default_toml()
    shipped = load_config()  # not the tests' `config` fixture: that one sets runtime.inference_threads
    assert shipped.model_dump() == Config().model_dump()
    assert shipped.detector.model == "retinaface" and shipped.detector.input_size == [640, 480]


def test_every_field_has_a_label_and_help():
    for name, section in Config.model_fields.items():
        model = section.annotation
        assert model.__doc__, name
        for key, info in model.model_fields.items():
            assert info.title and info.description, f"{name}.{key}"


def test_defaults_fill_missing_keys():
    values = validated({"detector": {"variant": "short"}})
    assert values.detector.variant == "short"
    assert values.detector.min_score == 0.5


@pytest.mark.parametrize("raw, key, reason", [
    ({"detector": {"colour": 1}}, "detector.colour", "unknown key (known: model, variant"),
    ({"detektor": {}}, "detektor", "unknown section (known: runtime, detector"),
    ({"detector": {"variant": "medium"}}, "detector.variant", "input should be 'full' or 'short'"),
    ({"detector": {"model": "yolo"}}, "detector.model", "input should be 'retinaface' or 'blazeface'"),
    ({"detector": {"input_size": [640]}}, "detector.input_size", "at least 2 items"),
    ({"detector": {"input_size": [64, 48]}}, "detector.input_size.0", "greater than or equal to 128"),
    ({"photo": {"input_size": 100}}, "photo.input_size", "greater than or equal to 256"),
    ({"detector": {"min_score": "high"}}, "detector.min_score", "valid number"),
    ({"detector": {"min_score": 3}}, "detector.min_score", "less than or equal to 0.99"),
    ({"classifier": {"max_batch": True}}, "classifier.max_batch", "valid integer"),
    ({"web": {"port": "8080"}}, "web.port", "valid integer"),
    ({"decision": {"zone": [0.5, 0, 0.2, 1]}}, "decision.zone", "x1 < x2"),
    ({"web": {"trusted_proxies": ["10.0.0.1", "proxy"]}}, "web.trusted_proxies", "does not appear to be an IPv4"),
    ({"camera": {"source": "0\n[runtime]"}}, "camera.source", "control characters"),
    ({"admin": {"password_hash": "hunter2"}}, "admin.password_hash", "never a plain password"),
    ({"mqtt": {"topic_prefix": "$SYS"}}, "mqtt.topic_prefix", "must not start with $"),
    ({"mqtt": {"topic_prefix": "site/#"}}, "mqtt.topic_prefix", "no + or #"),
])
def test_bad_values_name_key_and_reason(raw, key, reason):
    with pytest.raises(ConfigError) as error:
        validated(raw)
    assert str(error.value).startswith(f"{key}: ")
    assert reason in str(error.value)


def run_check(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(path), "check"],
                          capture_output=True, text=True)


def test_cli_bad_config_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('[runtime]\ndevice = "TPU"\n')
    result = run_check(path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"config error: {path}: runtime.device: input should be 'AUTO', 'CPU' or 'GPU' (got 'TPU')"]


@pytest.mark.parametrize("make, reason", [
    (lambda path: path.write_text("[detector\nvariant = 'full'\n"), "not valid TOML"),
    (lambda path: path.write_bytes(b"[camera]\nsource = \"\xff\xfe\"\n"), "not UTF-8 text"),
    (lambda path: path.mkdir(), "is a folder, not a config file"),
    (lambda path: None, "config file not found"),
    (lambda path: (path.write_text("[camera]\n"), os.chmod(path, 0)), "cannot be read (permission denied)"),
])
def test_unreadable_config_files_are_one_line_and_exit_2(tmp_path, make, reason):
    path = tmp_path / "kiosk.toml"
    make(path)
    if reason.startswith("cannot be read") and os.access(path, os.R_OK):
        pytest.skip("root reads any file: a permission error cannot be made here")
    result = run_check(path)
    assert result.returncode == 2, result.stderr
    line, = result.stderr.strip().splitlines()
    assert line.startswith(f"config error: {path}: {reason}")


def config_in(tmp_path, extra: str = "") -> Config:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[runtime]\nstate_dir = "{tmp_path / "state"}"\n' + extra)
    return load_config(path)


@pytest.mark.parametrize("content", ['[camera]\nsource = "/dev/video0\n', "", '[camera]\nsourc = "1"\n'])
def test_a_broken_settings_file_is_set_aside_and_reported(tmp_path, content):
    settings = config_in(tmp_path).settings_path()
    settings.parent.mkdir(parents=True)
    settings.write_text(content)
    config = load_config(tmp_path / "kiosk.toml")
    assert config.camera.source == "0"  # the config file alone
    assert "set aside as settings.toml.bad-" in config.settings_problem
    assert not settings.exists() and len(list(settings.parent.glob("settings.toml.bad-*"))) == 1


def test_a_save_rereads_the_file_so_a_password_set_meanwhile_survives(tmp_path):
    running = config_in(tmp_path)  # what a running kiosk holds
    new_hash = hash_password("a new password")
    save_settings(load_config(tmp_path / "kiosk.toml"), {"admin": {"password_hash": new_hash}})  # set-password
    saved = save_settings(running, {"decision": {"hold_ms": 500.0}})  # the admin page, later
    assert saved.admin.password_hash == new_hash and saved.decision.hold_ms == 500.0
    assert load_config(tmp_path / "kiosk.toml").admin.password_hash == new_hash


def test_a_save_makes_the_state_folder_and_its_files_private_whatever_the_umask(tmp_path):
    config = config_in(tmp_path)
    old = os.umask(0o022)
    try:
        save_settings(config, {"decision": {"hold_ms": 500.0}})
    finally:
        os.umask(old)
    state = tmp_path / "state"
    assert state.stat().st_mode & 0o777 == 0o700
    assert {path.name: path.stat().st_mode & 0o777 for path in state.iterdir()} == {
        "settings.toml": 0o600, "settings.toml.lock": 0o600}


def test_a_save_changes_only_its_keys_keeps_comments_and_refuses_bad_values(tmp_path):
    config = config_in(tmp_path)
    settings = config.settings_path()
    save_settings(config, {"camera": {"width": 1280, "height": 720}})
    text = settings.read_text().replace("[camera]", "# the entrance camera\n[camera]")
    settings.write_text(text)
    save_settings(config, {"camera": {"fps": 15.0}})
    document = tomlkit.parse(settings.read_text())
    assert document["camera"] == {"width": 1280, "height": 720, "fps": 15.0}
    assert "# the entrance camera" in settings.read_text()
    before = settings.read_text()
    with pytest.raises(ConfigError, match="camera.source: control characters"):
        save_settings(config, {"camera": {"source": "0\n[admin]"}})
    assert settings.read_text() == before  # nothing written


@pytest.mark.parametrize("case", ["out of range", "in use"])
def test_a_port_the_kiosk_cannot_listen_on_is_one_line_and_exit_2(tmp_path, case):
    import socket
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    port = 99999 if case == "out of range" else held.getsockname()[1]
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[runtime]\nstate_dir = "{tmp_path}/state"\n[web]\nhost = "127.0.0.1"\ntls_port = 0\n')
    try:
        result = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), "run", "--port", str(port)],
                                capture_output=True, text=True, timeout=60)
    finally:
        held.close()
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"--port {port}" in lines[0], result.stderr
