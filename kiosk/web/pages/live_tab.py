"""The admin page's Live tab: the picture with labels and confidence, and the status cards."""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

import gradio as gr

from kiosk.types import Text
from kiosk.web.auth import SESSION_COOKIE
from kiosk.web.i18n import Texts
from kiosk.web.pages.common import for_viewers, live_view
from kiosk.web.service import KioskService

if TYPE_CHECKING:
    from kiosk.outputs.gate import GateStatus
    from kiosk.outputs.mqtt import MqttStatus



def _card(title: str, value: str, detail: str = "", tone: str = "") -> str:
    return (f'<div class="card {tone}"><div class="card-title">{html.escape(title)}</div>'
            f'<div class="card-value">{html.escape(value)}</div>'
            f'<div class="card-detail">{html.escape(detail)}</div></div>')


def _output_card(gate: GateStatus | None, tr: Texts) -> str:
    if gate is None:
        return _card(tr("gate output"), tr("off"), tr("the gate mode in Settings"))
    failing = [o for o in gate.outputs if o.last_error]
    detail = "; ".join(tr("{backend}: {sent} sent, {failures} failed, {expired} too late", backend=Text(o.backend),
                          sent=o.sent, failures=o.failures, expired=o.expired) +
                       (f" ({o.last_error})" if o.last_error else "") for o in gate.outputs) or tr("no backend set")
    value = f"{tr(gate.mode)}: {tr('released' if gate.released else 'held')}"
    if gate.fault:
        detail = tr("fail state ({fault}); ", fault=gate.fault) + detail
    return _card(tr("gate output"), value, detail, "bad" if failing or gate.fault else "")


def _mqtt_card(mqtt: MqttStatus | None, tr: Texts) -> str:
    if mqtt is None:
        return _card("MQTT", tr("off"), tr("the MQTT broker in Settings"))
    detail = tr("{broker}; {sent} events sent, {unsent} waiting", broker=mqtt.broker, sent=mqtt.sent_events,
                unsent=mqtt.unsent_events)
    if mqtt.last_error:
        detail += f" ({mqtt.last_error})"
    return _card("MQTT", tr("connected" if mqtt.connected else "not connected"), detail,
                 "" if mqtt.connected else "bad")


def _recording_card(service: KioskService, tr: Texts) -> str:
    recording = service.recording()
    if recording.fault:
        return _card(tr("recording"), tr("failed"), recording.fault, "bad")
    return _card(tr("recording"), tr(str(recording)))


def status_cards(service: KioskService) -> str:
    """The Live tab's cards: the gate, the pipeline, today's counts, recording and the outputs."""
    tr = service.texts
    snapshot = service.pipeline.snapshot()
    today = service.today()
    compliance = "–" if today.compliance is None else f"{today.compliance * 100:.0f}%"
    health = service.pipeline.health()
    outputs = service.outputs_status()
    state = snapshot.state.value
    latency = snapshot.latency_ms
    cards = [
        _card(tr("gate"), tr(state), tr("healthy") if health.healthy else health.reason, f"state-{state}"),
        _card(tr("passed today"), str(today.passed),
              tr("people; {verdicts} PASS verdicts", verdicts=today.pass_verdicts)),
        _card(tr("stopped today"), str(today.stopped),
              tr("people; {verdicts} STOP verdicts", verdicts=today.stop_verdicts)),
        _card(tr("masked"), compliance, tr("passed / (passed + stopped)")),
        _card(tr("frames"), f"{snapshot.processed_fps:.1f} fps",
              tr("camera {camera:.1f} fps; detector {detector:.1f} fps; latency p50 {p50:.0f} ms, p95 {p95:.0f} ms",
                 camera=snapshot.capture_fps, detector=snapshot.detect_fps, p50=latency.p50, p95=latency.p95)),
        _screen_card(service, tr),
        _recording_card(service, tr),
        _output_card(outputs.gate, tr),
        _mqtt_card(outputs.mqtt, tr),
    ]
    return '<div class="cards">' + "".join(cards) + "</div>"


def _screen_card(service: KioskService, tr: Texts) -> str:
    """Glass to glass, as the kiosk screen itself reports it (kiosk.web.screen_watch)."""
    state, latency = service.screens.state(), service.screens.latency()
    if state == "none":
        return _card(tr("kiosk screen"), "–", tr("no kiosk screen connected"))
    if state == "stale":
        return _card(tr("kiosk screen"), tr("stale"), tr("a screen stopped painting the frames sent to it"), "bad")
    return _card(tr("kiosk screen"), f"{latency.p50:.0f} ms",
                 tr("capture → painted, p95 {p95:.0f} ms", p95=latency.p95))


def live_tab(service: KioskService, page: gr.Blocks) -> gr.Button:
    """The tab; returns its override button (the admin's only: kiosk.web.pages.admin_page hides it from viewers)."""
    with gr.Row():
        with gr.Column(scale=3):
            live_view("admin-live")
        with gr.Column(scale=2):
            # no figures until the real ones arrive: the page is built once, long before it is opened
            loading = html.escape(service.texts("loading the kiosk's state…"))
            cards = gr.HTML(f'<div class="cards cards-loading">{loading}</div>', elem_classes="status-cards")
            # a person the gate may not judge (a medical exemption): let through by hand, recorded with who
            let_pass = gr.Button(service.texts("Let one person pass"), variant="secondary", elem_classes="override")
            override_result = gr.Markdown(elem_classes="override-result")

    def override(request: gr.Request) -> str:
        result = service.let_one_pass(request.cookies.get(SESSION_COOKIE), "admin page")
        return service.texts(result.template, **result.values)

    let_pass.click(override, None, override_result, api_visibility="private")
    def cards_now() -> str:
        return status_cards(service)

    for_viewers(page, cards_now)
    page.load(cards_now, outputs=cards, queue=False, api_visibility="private")
    gr.Timer(1.0).tick(cards_now, outputs=cards, queue=False, api_visibility="private")
    return let_pass
