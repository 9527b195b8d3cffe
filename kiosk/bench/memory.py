"""`mask-kiosk bench memory`: the kiosk's resident memory under photo checks, each from a new admin session.

A real `mask-kiosk run` in a process of its own (a looping video as its camera), driven by gradio_client the way
admins' browsers would: every check opens a new Gradio session. Photos are 2592x1944 JPEGs cycled from a pool
larger than the photo cache, so every check is a real analysis. RSS is read from /proc after the first checks,
after all of them, and after an idle minute.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import tomlkit

from kiosk.bench.common import free_port
from kiosk.bench.photo import log_in, photos
from kiosk.bench.samples import grace_hopper
from kiosk.config import Config

POOL = 100   # distinct photos, more than the default photo cache holds


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def bench_memory(config: Config, checks: int = 500, first: int = 10, idle_s: float = 60.0) -> None:
    from gradio_client import Client, handle_file

    from kiosk.bench.benches import moving_face_video
    from kiosk.web.passwords import hash_password
    password = "bench-" + os.urandom(6).hex()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        port = free_port()
        run_config = config.replaced(
            runtime={"state_dir": str(work / "state")},
            camera={"source": str(moving_face_video(work / "camera.avi", 640, 480, 30.0))},
            web={"host": "127.0.0.1", "port": port, "tls_port": 0},
            admin={"password_hash": hash_password(password)})
        (work / "kiosk.toml").write_text(tomlkit.dumps(run_config.model_dump()))
        pool = photos(work / "photos", POOL, grace_hopper())
        process = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(work / "kiosk.toml"), "run"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(base + "/login", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("the kiosk did not start") from None
                    time.sleep(0.2)
            headers = {"Cookie": f"kiosk_admin={log_in(base, password)}"}
            print(f"bench memory: `mask-kiosk run`, {checks} photo checks of {POOL} distinct 2592x1944 JPEGs, "
                  f"each from a new Gradio session, then {idle_s:g} s idle; RSS of the kiosk process")
            readings = {"started": rss_mb(process.pid)}
            started = time.monotonic()
            for index in range(checks):
                client = Client(base + "/admin/", headers=headers, verbose=False, analytics_enabled=False,
                                download_files=False)
                answer = client.predict(handle_file(str(pool[index % POOL])), api_name="/check_photo")[0]
                if "face" not in answer:
                    raise RuntimeError(f"check {index + 1} failed: {answer}")
                client.close()
                if index + 1 == first:
                    readings[f"after {first} checks"] = rss_mb(process.pid)
                if (index + 1) % 100 == 0:
                    print(f"  {index + 1} checks, {time.monotonic() - started:.0f} s: RSS {rss_mb(process.pid):.0f} MB")
            readings[f"after {checks} checks"] = rss_mb(process.pid)
            time.sleep(idle_s)  # the measurement itself: what stays once nobody checks photos
            readings[f"after {idle_s:g} s idle"] = rss_mb(process.pid)
        finally:
            process.terminate()
            process.wait(30)
        for label, value in readings.items():
            print(f"  {label:<22} RSS {value:7.0f} MB")
        growth = readings[f"after {idle_s:g} s idle"] - readings[f"after {first} checks"]
        print(f"  growth from {first} checks to idle after {checks}: {growth:+.0f} MB")
