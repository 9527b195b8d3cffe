"""`mask-kiosk run`: start the pipeline, serve both pages, and keep systemd informed."""
from __future__ import annotations

import logging
import signal
import sys
import threading

import uvicorn

from kiosk.config import Config
from kiosk.systemd_notify import Watchdog, notify, wait_until_ready, watchdog_interval

log = logging.getLogger(__name__)
# after SIGTERM, open requests (Gradio's heartbeat streams, live views) get this long, then are cancelled;
# with the pipeline's own stop the process ends well inside the unit's TimeoutStopSec
SHUTDOWN_GRACE_S = 2


def status_line(service) -> str:
    snapshot = service.pipeline.snapshot()
    return (f"{snapshot['state']}, {snapshot['processed_fps']:.1f} fps processed, "
            f"latency p50 {snapshot['latency_ms']['p50']:.0f} ms")


def serve(config: Config, source: str | None = None, host: str | None = None, port: int | None = None) -> int:
    from kiosk.web.app import create_app
    from kiosk.web.service import KioskService
    notify("STATUS=compiling models, opening camera")
    service = KioskService.start(config, source)
    pipeline = service.pipeline
    server = uvicorn.Server(uvicorn.Config(create_app(service), host=host or config["web"]["host"],
                                           port=port or config["web"]["port"], log_level="warning",
                                           access_log=False, timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
                                           # X-Forwarded-For only from the configured proxies: else any local
                                           # process could pose as another client and dodge the login lockout
                                           proxy_headers=bool(config["web"]["trusted_proxies"]),
                                           forwarded_allow_ips=config["web"]["trusted_proxies"] or None))
    watchdog = Watchdog(pipeline.worth_keeping, lambda: status_line(service), watchdog_interval())
    stopping = threading.Event()

    def announce_ready() -> None:
        why = wait_until_ready(lambda: server.started and pipeline.metrics.published > 0,
                               lambda: server.started and not pipeline.source.connected
                               and bool(pipeline.source.last_error), stopping)
        if why is None:
            return
        notify(f"READY=1\nSTATUS={why}; models loaded in {service.models_load_s:.2f} s; {status_line(service)}")
        log.info("ready: %s", why)
        watchdog.start()

    threading.Thread(target=announce_ready, name="systemd-ready", daemon=True).start()
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again: exit through `finally`
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.run()
    finally:
        stopping.set()
        notify("STOPPING=1")
        watchdog.stop()
        service.stop()
    return 0
