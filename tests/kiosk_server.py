"""Starts the real kiosk app (`mask-kiosk run`) in a subprocess on a free port, with its network use logged."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import tomlkit

from kiosk.bench.common import free_port

HERE = Path(__file__).parent
PASSWORD = "correct horse 42"


class KioskServer:
    def __init__(self, workdir: Path, source: Path, settings: dict[str, dict] | None = None,
                 host: str = "127.0.0.1"):
        """`settings`: more config keys by section, over the ones every test server has."""
        self.workdir = workdir
        self.port = free_port()
        self.tls_port = free_port()
        self.config = workdir / "kiosk.toml"
        self.netlog = workdir / "network.log"
        # one inference thread per model (the same results, bit for bit): two test workers share two cores
        sections = {"runtime": {"state_dir": str(workdir / "state"), "inference_threads": 1},
                    "web": {"host": host, "port": self.port, "tls_port": self.tls_port},
                    "camera": {"source": str(source)}}
        for section, keys in (settings or {}).items():
            sections.setdefault(section, {}).update(keys)
        self.config.write_text(tomlkit.dumps(sections))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_password(self, password: str = PASSWORD, viewer: bool = False) -> None:
        """`mask-kiosk set-password [--viewer]` in a process of its own, as an admin on the device would."""
        subprocess.run([sys.executable, "-m", "kiosk", "--config", str(self.config), "set-password", "--stdin",
                        *(["--viewer"] if viewer else [])],
                       input=password + "\n", text=True, check=True, capture_output=True)

    def start(self, timeout: float = 60, environment: dict[str, str] | None = None,
              run_args: tuple[str, ...] = ()) -> KioskServer:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "netlog_run.py"), str(self.netlog), "--config", str(self.config), "run",
             *run_args],
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

    @classmethod
    @contextlib.contextmanager
    def running_with_admin(cls, workdir: Path, source: Path, **options) -> Iterator[KioskServer]:
        """A started kiosk whose admin password is PASSWORD, stopped on leaving."""
        kiosk = cls(workdir, source, **options)
        kiosk.set_password()
        kiosk.start()
        try:
            yield kiosk
        finally:
            kiosk.stop()

    def settings_toml(self) -> dict:
        """What the admin page saved (settings.toml in the state folder)."""
        import tomllib
        return tomllib.loads((self.workdir / "state" / "settings.toml").read_text())

    def recorded(self) -> list[tuple[int, str, str | None]]:
        """(id, state, clip) of each event in the kiosk's record, oldest first; none before the record exists."""
        import sqlite3
        path = self.workdir / "state" / "events.sqlite3"
        if not path.exists():
            return []
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return db.execute("SELECT id, state, clip FROM events ORDER BY id").fetchall()

    def metrics(self) -> dict[str, float]:
        """/metrics as {sample name: value}, for the samples without labels."""
        from prometheus_client.parser import text_string_to_metric_families
        text = urllib.request.urlopen(self.url + "/metrics", timeout=5).read().decode()
        return {sample.name: sample.value for family in text_string_to_metric_families(text)
                for sample in family.samples if not sample.labels}

    def outside_hosts(self) -> set[str]:
        """Hosts the server looked up or connected to, other than this machine."""
        if not self.netlog.exists():
            return set()
        hosts = {line.split(" ", 1)[1].strip() for line in self.netlog.read_text().splitlines() if " " in line}
        return {h for h in hosts if h not in ("127.0.0.1", "localhost", "::1", "0.0.0.0")}
