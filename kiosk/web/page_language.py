"""The admin page's language told to the browser before Gradio starts. Gradio chooses its own widgets' texts
("Drop File Here", …) from navigator.language once, at start, before it adds the page's head; so the page's HTML
itself gets a first script that answers navigator.language with the admin page's language, and tells the live view
(live.js) to write its banner in it too. Nothing is added for English, Gradio's own default."""
from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BROWSER_LANGUAGE = {"zh": "zh-CN"}
SCRIPT = """<script>Object.defineProperty(Navigator.prototype, "language", {{get: () => {tag}}});
Object.defineProperty(Navigator.prototype, "languages", {{get: () => [{tag}]}});
document.documentElement.lang = {tag}; window.kioskAdminLanguage = {language};</script>"""


class PageLanguage:
    """ASGI middleware: the HTML of the page at `path` gets SCRIPT first in its head."""

    def __init__(self, app: ASGIApp, path: str, language: str):
        self.app, self.path = app, path
        tag = BROWSER_LANGUAGE.get(language)
        self.script = SCRIPT.format(tag=json.dumps(tag), language=json.dumps(language)).encode() if tag else b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.script or scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        start: Message = {}
        body = b""

        async def with_script(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body += message.get("body", b"")
            if message.get("more_body"):
                return
            headers = [(name, value) for name, value in start.get("headers", []) if name.lower() != b"content-length"]
            html = any(name.lower() == b"content-type" and value.startswith(b"text/html") for name, value in headers)
            plain = not any(name.lower() == b"content-encoding" for name, _ in headers)
            if html and plain:
                body = body.replace(b"<head>", b"<head>" + self.script, 1)
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, with_script)
