"""One FastAPI app: the kiosk screen at /, the admin page at /admin/, the live stream at /ws/live."""
from __future__ import annotations

import os

# before gradio is imported: no version check, no telemetry, nothing leaves the machine
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import asyncio  # noqa: E402
import html  # noqa: E402
import json  # noqa: E402
import sqlite3  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import gradio as gr  # noqa: E402
from fastapi import FastAPI, Form, Request, WebSocket, WebSocketDisconnect  # noqa: E402
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response  # noqa: E402
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest  # noqa: E402
from starlette.requests import ClientDisconnect  # noqa: E402
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: E402

from kiosk.config.admin import ADMIN  # noqa: E402
from kiosk.live.render import face_labels  # noqa: E402
from kiosk.record.events import Event  # noqa: E402
from kiosk.types import CameraState, Published  # noqa: E402
from kiosk.vision.image_input import image_limits  # noqa: E402
from kiosk.web.auth import SESSION_COOKIE  # noqa: E402
from kiosk.web.i18n import Texts  # noqa: E402
from kiosk.web.page_language import PageLanguage  # noqa: E402
from kiosk.web.pages import KIOSK_CSS, KIOSK_THEME, LIVE_CSS, THEME, admin_head, admin_page, kiosk_head, kiosk_page  # noqa: E402
from kiosk.web.pages.common import viewer_function_ids  # noqa: E402
from kiosk.web.prometheus import registry_for  # noqa: E402
from kiosk.web.review import ReviewFilter, event_page, parse_time, thumbnail  # noqa: E402
from kiosk.web.review import events_csv as events_csv_text  # noqa: E402
from kiosk.web.roles import MAX_CALL_BODY, reads_body, viewer_refusal  # noqa: E402
from kiosk.web.screen_watch import ScreenLink  # noqa: E402
from kiosk.web.service import KioskService  # noqa: E402
from kiosk.web.sounds import NAME as SOUND_NAME  # noqa: E402
from kiosk.web.sounds import sounds_dir  # noqa: E402

if TYPE_CHECKING:
    from kiosk.config import Config
    from kiosk.record.counters import TodayCounts

SESSIONS_KEPT = 32
LOCAL_CLIENTS = {"127.0.0.1", "::1", "localhost"}
# Gradio's upload route of the kiosk app (mounted at /): that page has nothing to upload, so nobody may
KIOSK_UPLOAD = "/gradio_api/upload"
# over plain HTTP only for this device; the LAN gets them over HTTPS
ADMIN_PATHS = ("/admin", "/login", "/logout")
# reachable from the LAN without login: the login itself, and health/metrics for monitoring
OPEN_PATHS = ("/login", "/logout", "/favicon.ico", "/healthz", "/metrics")

LOGIN_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,"Noto Sans CJK SC","DejaVu Sans",sans-serif;background:#263238;color:#fff;
display:flex;align-items:center;justify-content:center;height:100vh;margin:0}}form{{background:#fff;color:#111;
padding:32px;border-radius:8px;min-width:300px}}input{{display:block;width:100%;margin:8px 0 16px;padding:8px;
font-size:16px;box-sizing:border-box}}button{{padding:10px 20px;font-size:16px}}.error{{color:#c62828}}</style>
</head><body><form method="post" action="/login"><h2>{heading}</h2><p class="error">{message}</p>
<label>{user}<input name="username" autocomplete="username" value="admin"></label>
<label>{password}<input name="password" type="password" autocomplete="current-password" autofocus></label>
<button type="submit">{button}</button></form></body></html>"""
# the login form's messages, said in the admin page's language (kiosk.web.i18n)
LOGIN_MESSAGES = {"no_password": "No admin password is set: run mask-kiosk set-password on the device.",
                  "wait": "Too many failed logins: try again in {wait:.0f} s.", "wrong": "Wrong user or password."}


def login_page(config: Config, message: str = "", **values: float) -> str:
    """The login form in the admin page's language, with one of LOGIN_MESSAGES (or none)."""
    texts = Texts(config.admin.page_language(config.display.language))
    shown = html.escape(texts(LOGIN_MESSAGES[message], **values)) if message else ""
    return LOGIN_PAGE.format(lang=texts.language, message=shown, title=texts("mask-kiosk admin login"),
                             heading=texts("mask-kiosk admin"), user=texts("User"), password=texts("Password"),
                             button=texts("Log in"))


class AccessControl:
    """Plain ASGI middleware: each HTTP request is let through or answered by `refusal`, which sees the body too
    when `reads_body` says it needs it (read here, at most MAX_CALL_BODY, and handed on unchanged). (Starlette's
    BaseHTTPMiddleware would log "No response returned" for every stream a leaving browser drops.) A browser that
    leaves in the middle of an upload, or a stream still open when the kiosk stops, is not an error of the kiosk's:
    nothing is logged."""

    def __init__(self, app: ASGIApp, refusal: Callable[[Request, bytes | None], Response | None],
                 reads_body: Callable[[Request], bool]):
        self.app, self.refusal, self.reads_body = app, refusal, reads_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            body = None
            if self.reads_body(request):
                body = b""
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    body += message.get("body", b"")
                    if len(body) > MAX_CALL_BODY:
                        await JSONResponse({"detail": "request too large"}, status_code=413)(scope, receive, send)
                        return
                    if not message.get("more_body", False):
                        break
                receive = _replay(body, receive)
            refused = self.refusal(request, body)
            if refused is not None:
                await refused(scope, receive, send)
                return
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            pass  # nobody is left to answer
        except asyncio.CancelledError:
            # uvicorn cancels the requests still open when the stop's grace is over (a browser's heartbeat
            # stream): the intended end of that request, not a fault to log with a traceback
            if scope.get("type") != "http":
                raise


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body already read, then whatever comes after it (the disconnect)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()
    return replayed


def same_origin(socket: WebSocket) -> bool:
    """True for a handshake from this server's own pages (or from a client that is not a browser and sends no
    Origin); False for one a page of another origin opened."""
    origin = socket.headers.get("origin")
    if origin is None:
        return True
    scheme = {"ws": "http", "wss": "https"}.get(socket.url.scheme, socket.url.scheme)
    return origin.lower() == f"{scheme}://{socket.headers.get('host', '')}".lower()


def client_of(request: Request | WebSocket) -> str:
    return request.client.host if request.client else "unknown"


def create_app(service: KioskService) -> FastAPI:
    config = service.config
    auth = service.auth
    kiosk_remote = config.web.kiosk_remote
    app = FastAPI(title="mask-kiosk", docs_url=None, redoc_url=None, openapi_url=None)

    def admin_user(request: Request) -> str | None:
        return auth.session_user(request.cookies.get(SESSION_COOKIE))

    viewer_functions: frozenset[int] = frozenset()  # the admin page's, once it is built (below)

    def refusal(request: Request, body: bytes | None) -> Response | None:
        """Why this request may not go on (the response to send instead), or None when it may."""
        path = request.url.path
        if path == KIOSK_UPLOAD:
            return JSONResponse({"detail": "the kiosk screen accepts no uploads"}, status_code=403)
        if path.startswith(ADMIN_PATHS) and request.url.scheme != "https" and client_of(request) not in LOCAL_CLIENTS:
            # the password and the session cookie never cross the LAN in clear
            if config.web.tls_port and service.https_problem is None:
                return RedirectResponse(f"https://{request.url.hostname}:{config.web.tls_port}{path}", 307)
            why = service.https_problem or "web.tls_port = 0"
            return JSONResponse({"detail": f"the admin page is served to this device only ({why})"}, status_code=403)
        if path.startswith("/admin"):
            session = auth.session(request.cookies.get(SESSION_COOKIE))
            if session is None:
                if request.method == "GET" and path in ("/admin", "/admin/"):
                    return RedirectResponse("/login", status_code=303)
                return JSONResponse({"detail": "login required"}, status_code=401)
            if session[1] != ADMIN:
                return viewer_refusal(request, body, viewer_functions)
        elif not path.startswith(OPEN_PATHS) and not kiosk_remote and client_of(request) not in LOCAL_CLIENTS:
            return JSONResponse({"detail": "the kiosk screen is served to this device only"}, status_code=403)
        return None

    def viewer_call(request: Request) -> bool:  # only a viewer's Gradio calls are read before they go on
        return reads_body(request) and not auth.is_admin(request.cookies.get(SESSION_COOKIE))

    app.add_middleware(AccessControl, refusal=refusal, reads_body=viewer_call)
    app.add_middleware(PageLanguage, path="/admin/", language=service.texts.language)

    @app.get("/login", response_class=HTMLResponse)
    def login_form() -> str:
        config = service.current()
        return login_page(config, "" if config.admin.password_hash else "no_password")

    @app.post("/login")
    def login(request: Request, username: str = Form(""), password: str = Form("")) -> Response:
        token, wait = auth.login(client_of(request), username, password)
        if wait:
            return HTMLResponse(login_page(service.current(), "wait", wait=wait), status_code=429)
        if token is None:
            return HTMLResponse(login_page(service.current(), "wrong"), status_code=401)
        response = RedirectResponse("/admin/", status_code=303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https")
        return response

    @app.get("/logout")
    def logout(request: Request) -> Response:
        auth.logout(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        health = service.pipeline.health()
        # a recording fault is named here but does not make the kiosk unhealthy: the gate still works
        body = {"healthy": health.healthy, "reason": health.reason, "state": service.pipeline.state.value,
                "selftest": service.pipeline.self_test.detail, "recording": str(service.recording()),
                "screen": service.screens.state()}
        return JSONResponse(body, status_code=200 if health.healthy else 503)

    registry = registry_for(service)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    def record_refusal() -> Response | None:
        if service.events is None:
            return JSONResponse({"detail": "recording is off (record.enabled)"}, status_code=404)
        return None

    def unreadable(error: sqlite3.Error) -> Response:
        return JSONResponse({"detail": f"the record cannot be read: {error}", "recording": str(service.recording())},
                            status_code=503)

    @app.get("/admin/events.csv")
    def events_csv(request: Request, since: str = "", until: str = "", hours: float = 24 * 7, outcome: str = "all",
                   reason: str = "any") -> Response:
        """The events of a range (since/until as local "YYYY-MM-DD HH:MM", or the last `hours`), with links."""
        if (refused := record_refusal()) is not None:
            return refused
        assert service.events is not None
        try:
            start = parse_time(since, "since") if since else time.time() - hours * 3600
            end = parse_time(until, "until") if until else time.time() + 1
            body = events_csv_text(service.events, ReviewFilter(start, end, outcome, reason), str(request.base_url))
        except ValueError as error:
            return JSONResponse({"detail": str(error)}, status_code=400)
        except sqlite3.Error as error:
            return unreadable(error)
        return Response(body, media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="mask-kiosk-events.csv"'})

    def recorded(event_id: int) -> Event | Response:
        """The event, or the answer that says why it cannot be had."""
        if (refused := record_refusal()) is not None:
            return refused
        assert service.events is not None
        try:
            event = service.events.event(event_id)
        except sqlite3.Error as error:
            return unreadable(error)
        return event or JSONResponse({"detail": f"no event {event_id} in the record"}, status_code=404)

    def media_of(event_id: int, kind: str = "picture") -> bytes | Response:
        """The event's picture or clip, or the answer that says why not."""
        event = recorded(event_id)
        if isinstance(event, Response):
            return event
        assert service.events is not None
        relative = event.snapshot if kind == "picture" else event.clip
        try:
            if relative:
                return (service.events.snapshots / relative).read_bytes()
        except FileNotFoundError:  # pruned between the query and the read
            pass
        return JSONResponse({"detail": f"event {event_id} has no {kind} (pruned, or none kept)"}, status_code=404)

    def served(event_id: int, kind: str, media_type: str, made: Callable[[bytes], bytes] = bytes) -> Response:
        data = media_of(event_id, kind)
        if isinstance(data, Response):
            return data
        return Response(made(data), media_type=media_type, headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/admin/events/{event_id:int}.webm")
    def event_clip(event_id: int) -> Response:
        return served(event_id, "clip", "video/webm")

    @app.get("/admin/events/{event_id:int}.jpg")
    def event_picture(event_id: int) -> Response:
        return served(event_id, "picture", "image/jpeg")

    @app.get("/admin/events/{event_id:int}/thumb.jpg")
    def event_thumbnail(event_id: int) -> Response:
        return served(event_id, "picture", "image/jpeg", thumbnail)

    @app.get("/admin/events/{event_id:int}")
    def event_view(event_id: int) -> Response:
        event = recorded(event_id)
        return event if isinstance(event, Response) else HTMLResponse(event_page(event, service.texts))

    sounds = sounds_dir(config)

    @app.get("/sounds/{name}")
    def sound(name: str) -> Response:
        if not SOUND_NAME.match(name) or not (sounds / name).is_file():
            return JSONResponse({"detail": "no such sound (made by `mask-kiosk models build`)"}, status_code=404)
        return FileResponse(sounds / name, media_type="audio/wav", headers={"Cache-Control": "max-age=3600"})

    @app.post("/admin/override")
    def override(request: Request) -> Response:
        """Let one person pass (kiosk.outputs.override): 200 when done, 409 when refused, with the reason."""
        result = service.let_one_pass(request.cookies.get(SESSION_COOKIE), "api")
        return JSONResponse({"accepted": result.accepted, "detail": result.message},
                            status_code=200 if result.accepted else 409)

    @app.post("/admin/photo/known")
    async def photo_known(request: Request) -> JSONResponse:
        """Whether the bytes of a photo (their SHA-256 as hex, the request's body) have a cached answer: then the
        page asks for it by digest instead of uploading them (photo_upload.js)."""
        digest = (await request.body())[:64].decode("ascii", "replace")
        return JSONResponse({"known": service.photos.by_digest(digest) is not None})

    @app.get("/admin/settings.toml")
    def settings_export() -> Response:
        return Response(service.export_settings(), media_type="application/toml",
                        headers={"Content-Disposition": 'attachment; filename="mask-kiosk-settings.toml"'})

    @app.websocket("/ws/live")
    async def live(socket: WebSocket) -> None:
        session = socket.cookies.get(SESSION_COOKIE)
        local = client_of(socket) in LOCAL_CLIENTS or kiosk_remote
        # a page from another web origin (any site open in a browser on this box) must not watch the camera
        if not same_origin(socket) or not (local or auth.session_user(session)):
            await socket.close(code=1008)
            return
        await socket.accept()
        # a viewer let in by its admin session is let go when the session ends (log out, new password)
        allowed = (lambda: True) if local else (lambda: auth.session_user(session) is not None)
        await stream_live(socket, service, allowed)

    # own routes first: a mount at "/" answers every path below it
    snapshots = [str(service.events.snapshots)] if service.events is not None else None
    admin = admin_page(service)
    viewer_functions = viewer_function_ids(admin)
    # Gradio keeps a copy of the whole page's config per session (about 130 kB here), 10000 sessions by default:
    # memory that grows with every admin visit and photo check; a few dozen sessions is plenty for a kiosk's admins
    admin.state_session_capacity = SESSIONS_KEPT
    limits = image_limits(config)
    app = gr.mount_gradio_app(app, admin, path="/admin", auth_dependency=admin_user, theme=THEME,
                              css=LIVE_CSS, footer_links=[], max_file_size=limits.max_bytes,
                              head=admin_head(config.photo.input_size, limits),
                              run_history=False, pwa=False,
                              allowed_paths=snapshots)
    app = gr.mount_gradio_app(app, kiosk_page(), path="/", theme=KIOSK_THEME, css=KIOSK_CSS, footer_links=[],
                              head=kiosk_head(config.display.language),
                              run_history=False, pwa=False)
    return app


async def _read_viewer(socket: WebSocket, link: ScreenLink, pongs: list[dict], wake: asyncio.Event) -> None:
    """Returns when the viewer goes away (or the server closes the socket). A kiosk screen sends pings (answered
    with the server's clock) and reports of the frames it painted (kiosk.web.screen_watch); anything else is
    ignored."""
    while True:
        message = await socket.receive()
        if message["type"] == "websocket.disconnect":
            return
        try:
            report = json.loads(message.get("text") or "null")
        except ValueError:
            continue
        if not isinstance(report, dict):
            continue
        if isinstance(report.get("ping"), (int, float)):
            pongs.append({"pong": report["ping"], "server": time.monotonic()})
            wake.set()
        elif isinstance(report.get("painted"), int) and isinstance(report.get("at"), (int, float)):
            link.painted(report["painted"], float(report["at"]))


@dataclass(frozen=True)
class ScreenStatus:
    """What the screen shows besides the picture: the gate state with the people and the reason it is about (for
    the once-per-person sound), language, sound settings, today's counts and the privacy notice."""
    state: str
    lang: str
    people: tuple[int, ...]
    reason: str | None
    sound_on: bool
    volume: float
    counts: TodayCounts
    notice: str

    def to_json(self) -> dict:
        return {"state": self.state, "lang": self.lang, "people": list(self.people), "reason": self.reason,
                "sound": {"on": self.sound_on, "volume": self.volume}, "counts": self.counts.to_json(),
                "notice": self.notice}


def screen_status(service: KioskService, latest: Published | None) -> ScreenStatus:
    config = service.config  # as last applied; never waits for a save in progress
    state = service.pipeline.state
    if latest is not None and latest.state == state:
        people, reason = latest.people, latest.reason
    else:  # decided on a frame still being drawn and sent: its reason now (a STOP says why), its people with it
        people, reason = (), service.pipeline.reason
    return ScreenStatus(state.value, config.display.language, people, reason, config.sound.enabled,
                        config.sound.volume, service.today(), config.display.notice)


async def stream_live(socket: WebSocket, service: KioskService, allowed: Callable[[], bool]) -> None:
    """Sends each newly published JPEG once, and the gate state whenever it changes; a slow viewer skips frames.
    Ends as soon as the viewer leaves, even while nothing is being sent (camera disconnected), and within half a
    second once `allowed` says no more."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    def notify(_item: Published) -> None:  # runs on the pipeline's thread
        loop.call_soon_threadsafe(wake.set)

    broadcast = service.pipeline.broadcast
    broadcast.subscribe(notify)
    link = service.screens.link()
    pongs: list[dict] = []  # answers to the screen's pings, sent by this loop (one writer per socket)
    closed = asyncio.create_task(_read_viewer(socket, link, pongs, wake))
    sent_sequence, sent_status = -1, None
    try:
        while not closed.done():
            if not allowed():
                await socket.close(code=1008)
                break
            wake.clear()  # before looking, so a frame published meanwhile still wakes us
            while pongs:
                await socket.send_text(json.dumps(pongs.pop(0)))
            latest = broadcast.latest()
            status = screen_status(service, latest)
            if status != sent_status:
                await socket.send_text(json.dumps(status.to_json()))
                sent_status = status
            # no picture while the camera is lost (a frozen face must not stay on a public screen) or the kiosk is
            # out of service
            camera_lost = status.state in (CameraState.DISCONNECTED.value, CameraState.OUT_OF_SERVICE.value)
            if latest is not None and latest.sequence > sent_sequence and not camera_lost:
                sent_sequence = latest.sequence
                # the state and reason go with the frame they belong to: the banner changes as it is drawn
                await socket.send_text(json.dumps({"faces": face_labels(latest), "frame": latest.frame_index,
                                                   "state": latest.state.value, "reason": latest.reason,
                                                   "hint": latest.hint}))
                await socket.send_bytes(latest.jpeg)
                link.sent(latest.frame_index, latest.captured)
                continue
            woken = asyncio.create_task(wake.wait())
            # at most 0.5 s between looks at the camera state
            await asyncio.wait([woken, closed], timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
            woken.cancel()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        closed.cancel()
        link.close()
        broadcast.unsubscribe(notify)
