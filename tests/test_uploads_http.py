"""Uploads over real HTTP: the kiosk screen takes none, even when shown to the LAN; the admin's photo uploads live
in a private folder of the kiosk process's own, emptied at start."""
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from kiosk_server import KioskServer


@pytest.fixture(scope="module")
def server(tmp_path_factory, videos):
    workdir = tmp_path_factory.mktemp("uploads")
    gradio = workdir / "cache" / "gradio"
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    for stale in (gradio / "old-upload.jpg", gradio / ended.stdout.strip() / "old-upload.jpg"):
        stale.parent.mkdir(parents=True, exist_ok=True)
        stale.write_bytes(b"left by an earlier run")
    beside = gradio / str(os.getpid()) / "in-use.jpg"  # a running process's (a bench beside the service)
    beside.parent.mkdir()
    beside.write_bytes(b"being sent")
    kiosk = KioskServer(workdir, videos["bare"], settings={"web": {"kiosk_remote": True},
                                                           "runtime": {"cache_dir": str(workdir / "cache")}})
    kiosk.start()
    yield kiosk
    kiosk.stop()


def test_the_kiosk_screen_accepts_no_uploads(server):
    body = (b"--x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.jpg\"\r\n"
            b"Content-Type: image/jpeg\r\n\r\n" + b"\xff" * 1000 + b"\r\n--x--\r\n")
    request = urllib.request.Request(server.url + "/gradio_api/upload", data=body,
                                     headers={"Content-Type": "multipart/form-data; boundary=x"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403


def test_gradio_files_live_in_a_private_folder_emptied_at_start(server):
    parent = server.workdir / "cache" / "gradio"
    assert sorted(path.name for path in parent.rglob("*.jpg")) == ["in-use.jpg"]  # what ended processes left: gone
    folder = parent / str(server.process.pid)
    assert folder.is_dir() and oct(folder.stat().st_mode & 0o777) == "0o700"
