"""The admin page's Password tab."""
from __future__ import annotations

import gradio as gr

from kiosk.web.auth import SESSION_COOKIE
from kiosk.web.service import KioskService


def account_tab(service: KioskService) -> None:
    gr.Markdown("Change the admin password. It is in force at once; the old one stops working.")
    with gr.Column(elem_classes="account-form"):
        current = gr.Textbox(label="current password", type="password")
        new = gr.Textbox(label="new password (at least 8 characters)", type="password")
        again = gr.Textbox(label="new password again", type="password")
        change = gr.Button("Change password", variant="primary")
        result = gr.Markdown(elem_classes="password-result")

    def change_password(old: str, first: str, second: str, request: gr.Request):
        client = request.client.host if request.client else "unknown"
        session = request.cookies.get(SESSION_COOKIE)
        return service.change_password(client, session, old or "", first or "", second or ""), "", "", ""

    change.click(change_password, [current, new, again], [result, current, new, again], api_visibility="private")
