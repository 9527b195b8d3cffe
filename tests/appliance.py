"""A Debian machine booted with systemd as PID 1 in a container (mmdebstrap + systemd-nspawn), for the appliance
test. The root is built once per package list and cached; each test run boots a fresh copy of it."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

SUITE = "bookworm"
PACKAGES = "systemd,systemd-sysv,dbus,python3,python3-venv,ca-certificates,curl,procps"
CACHE = Path(os.environ.get("MASK_KIOSK_APPLIANCE_CACHE", "/var/cache/mask-kiosk-appliance"))
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def why_not_here() -> str | None:
    """Why this machine cannot boot the appliance container (None: it can)."""
    if os.geteuid() != 0:
        return "booting a container needs root"
    for tool in ("mmdebstrap", "systemd-nspawn", "nsenter"):
        if shutil.which(tool) is None:
            return f"{tool} is absent (apt-get install mmdebstrap systemd-container; .ci/run does)"
    return None


def host_sources() -> str:
    """The host's apt sources, so the root comes from the same mirror (or proxy) the host uses."""
    deb822 = Path("/etc/apt/sources.list.d/debian.sources")
    return str(deb822) if deb822.exists() else "http://deb.debian.org/debian"


def base_root() -> Path:
    """The pristine root for this package list, built once (about 30 s) and kept in CACHE."""
    key = hashlib.sha256(f"{SUITE} {PACKAGES}".encode()).hexdigest()[:12]
    root = CACHE / f"root-{key}"
    if not root.is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        building = CACHE / f"root-{key}.building"
        shutil.rmtree(building, ignore_errors=True)
        subprocess.run(["mmdebstrap", "--variant=minbase", f"--include={PACKAGES}",
                        "--aptopt=Acquire::Check-Valid-Until \"false\"", SUITE, str(building), host_sources()],
                       check=True, capture_output=True)
        building.rename(root)
    return root


class Machine:
    def __init__(self, folder: Path):
        self.root = folder / "root"
        subprocess.run(["cp", "-a", "--reflink=auto", str(base_root()), str(self.root)], check=True)
        # a host whose traffic passes a CA of its own (a proxy): the machine trusts what the host trusts
        local_cas = Path("/usr/local/share/ca-certificates")
        if local_cas.is_dir():
            for certificate in local_cas.glob("*.crt"):
                shutil.copy(certificate, self.root / "usr/local/share/ca-certificates" / certificate.name)
        self.log = folder / "console.log"
        self.process: subprocess.Popen | None = None
        self.pid1 = 0
        self.boots = 0

    def boot(self, timeout: float = 60) -> float:
        """Boots the machine; returns seconds from start to systemd's 'running' (or 'degraded')."""
        for folder in ("pip", "apt"):
            (CACHE / folder).mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        self.process = subprocess.Popen(
            ["systemd-nspawn", "--register=no", "--keep-unit", "-q", "-D", str(self.root), "-b",
             "--console=passive", f"--bind={CACHE / 'pip'}:/root/.cache/pip",
             f"--bind={CACHE / 'apt'}:/var/cache/apt/archives"],
            stdin=subprocess.DEVNULL, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = started + timeout
        while time.monotonic() < deadline:
            children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
            if children.split():
                self.pid1 = int(children.split()[0])
                state = self.run("systemctl", "is-system-running", "--wait", check=False, timeout=timeout).stdout
                if state.strip() in ("running", "degraded"):
                    self.boots += 1
                    return time.monotonic() - started
            if self.process.poll() is not None:
                raise RuntimeError(f"the machine did not boot: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        raise TimeoutError("the machine did not reach running")

    def run(self, *command: str, check: bool = True, timeout: float = 600,
            input_text: str | None = None) -> subprocess.CompletedProcess:
        """A command inside the machine, as root, with a clean environment (none of the host's). A failure that is
        checked says what the command printed last, so a failed install in CI can be read."""
        done = subprocess.run(["nsenter", "-t", str(self.pid1), "-a", "env", "-i", f"PATH={PATH}", "HOME=/root",
                               "LANG=C.UTF-8", *command], capture_output=True, text=True, timeout=timeout,
                              input=input_text)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-3000:]}\n"
                                 f"{done.stderr[-3000:]}")
        return done

    def show(self, unit: str, prop: str) -> str:
        return self.run("systemctl", "show", "-p", prop, "--value", unit).stdout.strip()

    def journal(self, unit: str, since: str = "") -> str:
        extra = ["--since", since] if since else []
        return self.run("journalctl", "-u", unit, "--no-pager", "-o", "cat", *extra, check=False).stdout

    def poweroff(self, timeout: float = 60) -> float:
        """Shuts the machine down cleanly; returns seconds until its container ended."""
        started = time.monotonic()
        if self.process is None or self.process.poll() is not None:
            return 0.0
        self.run("systemctl", "poweroff", "--no-block", check=False)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        return time.monotonic() - started

    def destroy(self) -> None:
        self.poweroff()
        shutil.rmtree(self.root, ignore_errors=True)
