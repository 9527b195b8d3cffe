"""Starts the real kiosk app (`mask-kiosk run`) in a subprocess on a free port, with its network use logged."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from kiosk.bench import free_port

HERE = Path(__file__).parent
PASSWORD = "correct horse 42"


class KioskServer:
    def __init__(self, workdir: Path, source: Path, extra_config: str = ""):
        self.workdir = workdir
        self.port = free_port()
        self.config = workdir / "kiosk.toml"
        self.netlog = workdir / "network.log"
        self.config.write_text(
            f'[runtime]\nstate_dir = "{workdir / "state"}"\n'
            f'[web]\nhost = "127.0.0.1"\nport = {self.port}\n'
            f'[camera]\nsource = "{source}"\n' + extra_config)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_password(self) -> None:
        subprocess.run([sys.executable, "-m", "kiosk", "--config", str(self.config), "set-password", "--stdin"],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)

    def start(self, timeout: float = 60, environment: dict[str, str] | None = None) -> "KioskServer":
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "netlog_run.py"), str(self.netlog), "--config", str(self.config), "run"],
            stdout=open(self.workdir / "server.log", "ab"), stderr=subprocess.STDOUT,
            env={**os.environ, **(environment or {})})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kiosk exited: {(self.workdir / 'server.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.url + "/login", timeout=1)
                return self
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("kiosk did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def outside_hosts(self) -> set[str]:
        """Hosts the server looked up or connected to, other than this machine."""
        if not self.netlog.exists():
            return set()
        hosts = {line.split(" ", 1)[1].strip() for line in self.netlog.read_text().splitlines() if " " in line}
        return {h for h in hosts if h not in ("127.0.0.1", "localhost", "::1", "0.0.0.0")}
