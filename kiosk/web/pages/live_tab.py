"""The admin page's Live tab: the picture with labels and confidence, and the status cards."""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

import gradio as gr

from kiosk.web.pages.common import live_view
from kiosk.web.service import KioskService

if TYPE_CHECKING:
    from kiosk.outputs.gate import GateStatus
    from kiosk.outputs.mqtt import MqttStatus

CARDS_LOADING = '<div class="cards cards-loading">loading the kiosk\'s state…</div>'


def _card(title: str, value: str, detail: str = "", tone: str = "") -> str:
    return (f'<div class="card {tone}"><div class="card-title">{html.escape(title)}</div>'
            f'<div class="card-value">{html.escape(value)}</div>'
            f'<div class="card-detail">{html.escape(detail)}</div></div>')


def _output_card(gate: GateStatus | None) -> str:
    if gate is None:
        return _card("gate output", "off", "gate.mode in Settings")
    failing = [o for o in gate.outputs if o.last_error]
    detail = "; ".join(f"{o.backend}: {o.sent} sent, {o.failures} failed, {o.expired} too late" +
                       (f" ({o.last_error})" if o.last_error else "") for o in gate.outputs) or "no backend set"
    value = f"{gate.mode}: {'released' if gate.released else 'held'}"
    if gate.fault:
        detail = f"fail state ({gate.fault}); " + detail
    return _card("gate output", value, detail, "bad" if failing or gate.fault else "")


def _mqtt_card(mqtt: MqttStatus | None) -> str:
    if mqtt is None:
        return _card("MQTT", "off", "mqtt.host in Settings")
    detail = f"{mqtt.broker}; {mqtt.sent_events} events sent, {mqtt.unsent_events} waiting"
    if mqtt.last_error:
        detail += f" ({mqtt.last_error})"
    return _card("MQTT", "connected" if mqtt.connected else "not connected", detail, "" if mqtt.connected else "bad")


def status_cards(service: KioskService) -> str:
    """The Live tab's cards: the gate, the pipeline, today's counts, recording and the outputs."""
    snapshot = service.pipeline.snapshot()
    today = service.today()
    compliance = "–" if today.compliance is None else f"{today.compliance * 100:.0f}%"
    health = service.pipeline.health()
    recording = service.recording()
    outputs = service.outputs_status()
    state = snapshot.state.value
    cards = [
        _card("gate", state, "healthy" if health.healthy else health.reason, f"state-{state}"),
        _card("passed today", str(today.passed), f"people; {today.pass_verdicts} PASS verdicts"),
        _card("stopped today", str(today.stopped), f"people; {today.stop_verdicts} STOP verdicts"),
        _card("masked", compliance, "passed / (passed + stopped)"),
        _card("frames", f"{snapshot.processed_fps:.1f} fps",
              f"camera {snapshot.capture_fps:.1f} fps; detector {snapshot.detect_fps:.1f} fps; "
              f"latency p50 {snapshot.latency_ms.p50:.0f} ms, "
              f"p95 {snapshot.latency_ms.p95:.0f} ms"),
        _screen_card(service),
        _card("recording", "failed" if recording.fault else str(recording), str(recording) if recording.fault else "",
              "bad" if recording.fault else ""),
        _output_card(outputs.gate),
        _mqtt_card(outputs.mqtt),
    ]
    return '<div class="cards">' + "".join(cards) + "</div>"


def _screen_card(service: KioskService) -> str:
    """Glass to glass, as the kiosk screen itself reports it (kiosk.web.screen_watch)."""
    state, latency = service.screens.state(), service.screens.latency()
    if state == "none":
        return _card("kiosk screen", "–", "no kiosk screen connected")
    if state == "stale":
        return _card("kiosk screen", "stale", "a screen stopped painting the frames sent to it", "bad")
    return _card("kiosk screen", f"{latency.p50:.0f} ms", f"capture → painted, p95 {latency.p95:.0f} ms")


def live_tab(service: KioskService, page: gr.Blocks) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            live_view("admin-live")
        with gr.Column(scale=2):
            # no figures until the real ones arrive: the page is built once, long before it is opened
            cards = gr.HTML(CARDS_LOADING, elem_classes="status-cards")
    page.load(lambda: status_cards(service), outputs=cards, queue=False, api_visibility="private")
    gr.Timer(1.0).tick(lambda: status_cards(service), outputs=cards, queue=False, api_visibility="private")
