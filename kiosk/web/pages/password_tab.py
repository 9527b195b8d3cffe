"""The admin page's Password tab."""
from __future__ import annotations

import gradio as gr

from kiosk.web.auth import SESSION_COOKIE
from kiosk.web.service import KioskService


def account_tab(service: KioskService) -> None:
    tr = service.texts
    gr.Markdown(tr("Change the admin password. It is in force at once; the old one stops working."))
    with gr.Column(elem_classes="account-form"):
        current = gr.Textbox(label=tr("current password"), type="password")
        new = gr.Textbox(label=tr("new password (at least 8 characters)"), type="password")
        again = gr.Textbox(label=tr("new password again"), type="password")
        change = gr.Button(tr("Change password"), variant="primary")
        result = gr.Markdown(elem_classes="password-result")

    def change_password(old: str, first: str, second: str, request: gr.Request):
        client = request.client.host if request.client else "unknown"
        session = request.cookies.get(SESSION_COOKIE)
        return service.change_password(client, session, old or "", first or "", second or ""), "", "", ""

    change.click(change_password, [current, new, again], [result, current, new, again], api_visibility="private")

    viewer = service.current().admin.viewer_user
    gr.Markdown(tr("### Viewer account\nThe user `{viewer}` sees the live view, the events and the counts, and "
                   "changes nothing. Set its password here (or with `mask-kiosk set-password --viewer`); both fields "
                   "empty removes the viewer login. Its sessions end either way.", viewer=viewer))
    with gr.Column(elem_classes="account-form"):
        viewer_new = gr.Textbox(label=tr("viewer password (at least 8 characters)"), type="password")
        viewer_again = gr.Textbox(label=tr("viewer password again"), type="password")
        set_viewer = gr.Button(tr("Set viewer password"), variant="secondary")
        viewer_result = gr.Markdown(elem_classes="viewer-password-result")

    def viewer_password(first: str, second: str, request: gr.Request):
        return service.set_viewer_password(request.cookies.get(SESSION_COOKIE), first or "", second or ""), "", ""

    set_viewer.click(viewer_password, [viewer_new, viewer_again], [viewer_result, viewer_new, viewer_again],
                     api_visibility="private")
