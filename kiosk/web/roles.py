"""What a viewer session may do: look, never change. Enforced on the server for every request under /admin, whatever
the page shows (kiosk.web.app's AccessControl asks `viewer_refusal`):

- GET anything under /admin (the page, the record's pictures, the CSV) except the settings export;
- run, through Gradio's own calls, only the admin page's functions marked for viewers
  (kiosk.web.pages.common.for_viewers: the live cards, the Events tab, the page's own role view);
- no other POST: settings, zone, passwords, override, import, photo uploads.

Anything else is answered 403 with the reason. An admin session may do everything.
"""
from __future__ import annotations

import json
from collections.abc import Collection

from fastapi.responses import JSONResponse, Response
from starlette.requests import Request

REFUSED_GETS = ("/admin/settings.toml",)
# where Gradio's page runs a function, naming it by fn_index in a small JSON body
GRADIO_CALLS = ("/admin/gradio_api/queue/join", "/admin/gradio_api/run/predict")
MAX_CALL_BODY = 256 * 1024  # a viewer's own calls carry a few hundred bytes


def reads_body(request: Request) -> bool:
    """Whether the decision needs the request's body (a Gradio call, whose function is named there)."""
    return request.method == "POST" and request.url.path in GRADIO_CALLS


def viewer_refusal(request: Request, body: bytes | None, allowed: Collection[int]) -> Response | None:
    """The 403 for what a viewer may not do; None when it may. `body` is the request's, for a Gradio call."""
    path = request.url.path
    if request.method in ("GET", "HEAD"):
        if path in REFUSED_GETS:
            return _refused("the settings are the admin's")
        return None
    if path in GRADIO_CALLS and body is not None:
        try:
            fn_index = json.loads(body).get("fn_index")
        except (ValueError, AttributeError):
            return _refused("not a Gradio call")
        if isinstance(fn_index, int) and fn_index in allowed:
            return None
        return _refused("this action is the admin's")
    return _refused("this action is the admin's")


def _refused(why: str) -> Response:
    return JSONResponse({"detail": f"a viewer may only look: {why}"}, status_code=403)
