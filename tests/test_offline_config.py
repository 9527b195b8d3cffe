"""Offline means offline: the app switches telemetry off itself, before Gradio loads."""
import subprocess
import sys


def test_web_app_disables_analytics_before_gradio_loads():
    code = ("import os; os.environ.pop('GRADIO_ANALYTICS_ENABLED', None); import kiosk.web.app, gradio;"
            "print(os.environ['GRADIO_ANALYTICS_ENABLED'], gradio.analytics.analytics_enabled())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_openvino_telemetry_is_never_loaded():
    code = ("import kiosk, openvino, sys; from openvino.tools.ovc import telemetry_utils;"
            "print(sys.modules['openvino_telemetry'], telemetry_utils.tm.__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["None", "openvino.tools.ovc.telemetry_stub"]
