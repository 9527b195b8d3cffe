"""Serving the pages for `mask-kiosk run` (kiosk.app.run): both ports, systemd's READY and watchdog, and a stop
within seconds whatever the clients hold open."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

from kiosk.config import Config, ConfigError
from kiosk.durable import process_folder
from kiosk.systemd_notify import Watchdog, notify, wait_until_ready, watchdog_interval

if TYPE_CHECKING:
    from kiosk.web.service import KioskService

log = logging.getLogger(__name__)
# after SIGTERM, open requests (Gradio's heartbeat streams, live views) get this long, then are cancelled;
# with the pipeline's own stop the process ends well inside the unit's TimeoutStopSec
SHUTDOWN_GRACE_S = 1
SERVICE_STOP_S = 8  # the pipeline and outputs stop within seconds; beyond this the process ends regardless


def status_line(service: KioskService) -> str:
    snapshot = service.pipeline.snapshot()
    return (f"{snapshot.state.value}, {snapshot.processed_fps:.1f} fps processed, "
            f"latency p50 {snapshot.latency_ms.p50:.0f} ms")


def use_private_temp_dir(config: Config) -> Path:
    """Gradio keeps uploads and copies of the files it serves in its temp folder: make that one private to this
    kiosk process (mode 0700, in the cache folder, empty at each start). Must run before Gradio is imported."""
    try:
        folder = process_folder(config.cache_dir() / "gradio")
    except OSError as error:
        folder = Path(tempfile.mkdtemp(prefix="mask-kiosk-gradio-"))  # 0700 too
        log.warning("cache folder not writable (%s); Gradio's files go to %s", error, folder)
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return folder


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to serve_together: one handler stops every server, and nothing is
    raised again afterwards (uvicorn's own re-raise would cancel the other server mid-shutdown: a traceback)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_together(servers: list[uvicorn.Server], on_stop: Callable[[], None]) -> None:
    """Runs every server until SIGTERM or SIGINT, then stops them all; `on_stop` starts at once beside their
    graceful shutdown (the gate goes to its fail state while open requests get their grace). A second Ctrl-C
    cancels open requests at once."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def stop(signum: int) -> None:
        for server in servers:
            server.force_exit = server.should_exit and signum == signal.SIGINT
            server.should_exit = True
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop, signum)

    async def stop_all_when_one_stops() -> None:
        while not stopping.is_set() and not any(server.should_exit for server in servers):
            await asyncio.sleep(0.1)
        for server in servers:
            server.should_exit = True
        threading.Thread(target=on_stop, name="kiosk-stop", daemon=True).start()

    await asyncio.gather(*(server.serve() for server in servers), stop_all_when_one_stops())


def addresses(config: Config, port: int, https: bool) -> str:
    """Where the screen and the admin page are, for the one who started the kiosk."""
    admin = (f"admin https://{socket.gethostname()}:{config.web.tls_port}/admin/ on the LAN, "
             f"http://127.0.0.1:{port}/admin/ on this device" if https else
             f"admin http://127.0.0.1:{port}/admin/ on this device only")
    return f"kiosk screen http://127.0.0.1:{port}/, {admin}"


def check_port(host: str, port: int, name: str) -> None:
    """A port this process cannot listen on is a config error (one line, exit 2), found before the models load."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise ConfigError(f"{name} {port} on {host}: cannot listen ({error.strerror or error})") from None


def prepare(config: Config, host: str | None, port: int | None) -> tuple[tuple[Path, Path] | None, str | None]:
    """What must hold before the models load: the ports can be listened on (ConfigError otherwise), Gradio's
    folder is private (before Gradio is imported: import_pages), and the admin page's certificate. Returns (cert
    and key, or None) and why there is no HTTPS when web.tls_port asks for it."""
    check_port(host or config.web.host, port or config.web.port, "--port" if port else "web.port")
    if config.web.tls_port:
        check_port(host or config.web.host, config.web.tls_port, "web.tls_port")
    use_private_temp_dir(config)
    from kiosk.web.tls import certificate
    try:
        return certificate(config), None  # a missing web.tls_cert is a config error
    except (OSError, RuntimeError) as error:  # a read-only state folder, no openssl: no HTTPS, kiosk still up
        problem = f"no TLS certificate ({error})"
        log.error("admin over HTTPS unavailable: %s; the admin page is served to this device only", problem)
        return None, problem


def import_pages() -> Callable[[], float]:
    """Starts importing Gradio and the pages (seconds of Python) on a thread of its own, beside the models'
    compilation (C++, which leaves the interpreter free); before the camera starts, whose frames would compete.
    Returns a wait that re-raises what the import raised and gives the import's seconds."""
    outcome: list = []

    def load() -> None:
        started = time.perf_counter()
        try:
            import kiosk.web.app  # noqa: F401
            outcome.append(time.perf_counter() - started)
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
            outcome.append(error)

    thread = threading.Thread(target=load, name="import-pages", daemon=True)
    thread.start()

    def wait() -> float:
        thread.join()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]
    return wait


def serve(service: KioskService, tls: tuple[Path, Path] | None, host: str | None, port: int | None,
          phases: str, stop_kiosk: Callable[[], None]) -> None:
    """Plain HTTP on web.port (kiosk screen, /healthz, /metrics; the admin page for this device only) and, unless
    there is no certificate, HTTPS on web.tls_port for the admin page on the LAN; both serve the same app. Tells
    systemd READY after the first frame (or once the camera is known to be missing) and pings its watchdog while
    the pipeline is worth keeping; on SIGTERM or Ctrl-C, `stop_kiosk` runs beside the servers' grace."""
    from kiosk.web.app import create_app
    config, pipeline = service.config, service.pipeline
    started = time.perf_counter()
    app = create_app(service)
    phases += f"; pages built in {time.perf_counter() - started:.2f} s"
    common: dict[str, Any] = dict(host=host or config.web.host, log_level="warning", access_log=False,
                  timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
                  # X-Forwarded-For only from the configured proxies: else any local process could pose as
                  # another client and dodge the login lockout
                  proxy_headers=bool(config.web.trusted_proxies),
                  forwarded_allow_ips=config.web.trusted_proxies or None)
    servers: list[uvicorn.Server] = [_Server(uvicorn.Config(app, port=port or config.web.port, **common))]
    if tls is not None:  # the app's start-up (Gradio's queue) runs once, with the first server
        servers.append(_Server(uvicorn.Config(app, port=config.web.tls_port, ssl_certfile=str(tls[0]),
                                              ssl_keyfile=str(tls[1]), lifespan="off", **common)))
    log.info("serving: %s", addresses(config, port or config.web.port, tls is not None))
    watchdog = Watchdog(pipeline.worth_keeping, lambda: status_line(service), watchdog_interval())
    stopping = threading.Event()

    def announce_ready() -> None:
        def listening() -> bool:
            return all(server.started for server in servers)
        why = wait_until_ready(lambda: listening() and pipeline.metrics.published > 0,
                               lambda: listening() and not pipeline.source.connected
                               and bool(pipeline.source.last_error), stopping)
        if why is None:
            return
        notify(f"READY=1\nSTATUS={why}; {phases}; {status_line(service)}")
        log.info("ready: %s", why)
        watchdog.start()

    threading.Thread(target=announce_ready, name="systemd-ready", daemon=True).start()
    stop_once, stopped = threading.Lock(), threading.Event()

    def stop() -> None:  # once, from whichever comes first: a signal, or the servers having ended
        if not stop_once.acquire(blocking=False):
            return
        stopping.set()
        notify("STOPPING=1")
        watchdog.stop()
        stop_kiosk()
        stopped.set()

    try:
        asyncio.run(serve_together(servers, stop))
    finally:
        stop()
        stopped.wait(SERVICE_STOP_S)
