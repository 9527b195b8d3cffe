"""The viewer role over real HTTP, against the kiosk's own app (kiosk.web.app.create_app) served by uvicorn in this
process, so that every route and every Gradio function of the admin page can be enumerated: a viewer session gets
403 on each one that is not for looking (kiosk.web.roles), the admin on none, and a viewer's override releases
nothing on the serial relay."""
from __future__ import annotations

import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
import tomlkit
import uvicorn
from relay_board import ON, RelayBoard
from starlette.routing import Mount, Route
from waiting import wait_until

from kiosk.app import Kiosk
from kiosk.bench.common import free_port
from kiosk.config import load_config, save_settings
from kiosk.web.passwords import hash_password
from kiosk.web.roles import GRADIO_CALLS, REFUSED_GETS

ADMIN_PASSWORD, VIEWER_PASSWORD = "admin password 1", "viewer password 1"
# the functions a viewer may run, by name: each only reads (a mutating one marked by mistake fails here)
# (the settings' and zone's page loads send a viewer nothing)
READ_ONLY = {"cards_now", "show", "role_view", "current_values", "show_saved"}


class Served:
    def __init__(self, kiosk: Kiosk, app, port: int, board: RelayBoard):
        self.kiosk, self.app, self.url, self.board = kiosk, app, f"http://127.0.0.1:{port}", board

    def session(self, user: str, password: str) -> urllib.request.OpenerDirector:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        body = urllib.parse.urlencode({"username": user, "password": password}).encode()
        assert opener.open(self.url + "/login", data=body, timeout=30).status == 200  # redirected to the page
        assert any(cookie.name == "kiosk_admin" for cookie in jar)
        return opener


@pytest.fixture(scope="module")
def served(tmp_path_factory, videos):
    from kiosk.web.app import create_app
    folder = tmp_path_factory.mktemp("roles")
    board = RelayBoard()
    (folder / "kiosk.toml").write_text(tomlkit.dumps({
        "runtime": {"state_dir": str(folder / "state"), "inference_threads": 1},
        "gate": {"mode": "hard", "serial_port": board.port, "override_min_interval_s": 0.5}}))
    settings = save_settings(load_config(folder / "kiosk.toml"), {"admin": {
        "password_hash": hash_password(ADMIN_PASSWORD), "viewer_password_hash": hash_password(VIEWER_PASSWORD)}})
    kiosk = Kiosk(settings, str(videos["bare"])).start()  # bare faces: nothing but an override releases
    app = create_app(kiosk.service)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 30, "the server listening")
    try:
        yield Served(kiosk, app, port, board)
    finally:
        server.should_exit = True
        thread.join(10)
        kiosk.stop()


def admin_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every HTTP route under /admin, the Gradio app's included; path parameters filled in."""
    found: list[tuple[str, str]] = []

    def walk(routes, prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                walk(route.routes, prefix + route.path)
            elif hasattr(route, "original_router"):  # FastAPI's included router (Gradio's /gradio_api)
                walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif isinstance(route, Route):
                path = re.sub(r"\{[^}]+\}", "1", prefix + route.path)
                found.extend((method, path) for method in sorted(route.methods or ()) if method != "HEAD")
    walk(app.routes, "")
    return sorted({route for route in found if route[1].startswith("/admin")})


def answer(opener, method: str, path: str, url: str, body: bytes | None = None) -> int:
    """The status; REFUSED when it is the viewer rule's 403 (Gradio has 403s of its own, for files)."""
    request = urllib.request.Request(url + path, data=body if method != "GET" else None, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with opener.open(request, timeout=30) as response:
            response.read(1)  # a stream (Gradio's queue data) need not be read to its end
            return response.status
    except urllib.error.HTTPError as error:
        return REFUSED if error.code == 403 and b"a viewer may only look" in error.read() else error.code


REFUSED = -403


def admin_blocks(app):
    mount = next(route for route in app.routes if isinstance(route, Mount) and route.path == "/admin")
    return mount.app.blocks


def test_the_override_releases_for_the_admin_and_is_refused_to_a_viewer(served):
    """First in this file: the enumeration below calls every route, the override's too."""
    viewer = served.session("viewer", VIEWER_PASSWORD)
    admin = served.session("admin", ADMIN_PASSWORD)
    wait_until(lambda: served.kiosk.pipeline.health().healthy, 30, "a healthy kiosk")
    assert ON not in served.board.commands()  # held: the bare faces are stopped
    assert answer(viewer, "POST", "/admin/override", served.url, b"") == REFUSED
    assert answer(admin, "POST", "/admin/override", served.url, b"") == 200
    wait_until(lambda: ON in served.board.commands(), 10, "the release")
    assert answer(admin, "POST", "/admin/override", served.url, b"") == 409  # within the interval: refused
    assert answer(viewer, "GET", "/admin/events.csv", served.url) == 200
    wait_until(lambda: any(row.state == "OVERRIDE" for row in served.kiosk.events.query(0)), 10, "the record")
    rows = [row for row in served.kiosk.events.query(0) if row.state == "OVERRIDE"]
    assert [(row.actor, row.reason) for row in rows] == [("admin", "api")]  # the viewer's and the refused: none
    assert served.board.commands().count(ON) == 1  # released once


def test_a_viewer_gets_403_on_every_route_and_function_that_is_not_for_looking(served):
    viewer = served.session("viewer", VIEWER_PASSWORD)
    admin = served.session("admin", ADMIN_PASSWORD)
    routes = admin_routes(served.app)
    assert ("POST", "/admin/override") in routes and ("GET", "/admin/settings.toml") in routes
    assert len(routes) > 30, routes  # the Gradio app's own routes are in the list
    looking = {(method, path) for method, path in routes if method == "GET" and path not in REFUSED_GETS}
    for method, path in routes:
        code = answer(viewer, method, path, served.url, b"{}")
        assert (code == REFUSED) is ((method, path) not in looking), (method, path, code)
        assert answer(admin, method, path, served.url, b"{}") != REFUSED, (method, path)

    blocks = admin_blocks(served.app)
    allowed = {index for index, block_fn in blocks.fns.items() if block_fn.fn is not None
               and getattr(block_fn.fn, "__name__", getattr(getattr(block_fn.fn, "func", None), "__name__", ""))
               in READ_ONLY}
    called = 0
    for index, block_fn in blocks.fns.items():
        if block_fn.fn is None:
            continue  # runs in the browser only
        call = json.dumps({"fn_index": index, "data": [], "session_hash": "roles", "event_data": None,
                           "trigger_id": None}).encode()
        for path in GRADIO_CALLS:
            code = answer(viewer, "POST", path, served.url, call)
            assert (code == REFUSED) is (index not in allowed), (index, block_fn.name, path, code)
        called += 1
    assert called >= 15 and len(allowed) >= 6, (called, allowed)
