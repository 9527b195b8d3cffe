"""mask-kiosk: an offline face-mask checkpoint."""
import sys

# Offline means offline: `import openvino` loads Intel's telemetry, which sends a usage event on import
# unless the user opted out. With the module blocked, OpenVINO falls back to its built-in no-op stub.
sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type] # None blocks an import
