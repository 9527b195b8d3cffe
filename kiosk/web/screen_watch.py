"""What the kiosk screens say they painted: capture->painted latency, and a screen that stopped painting.

A kiosk screen's page aligns its clock with the server's by a ping (the reply with the shortest round trip wins)
and reports each frame it draws from its next requestAnimationFrame, in the server's monotonic clock. Guarantees:
the figures come only from those reports; a socket counts as a screen once it has reported a paint; a screen is
stale once a frame sent to it has gone unpainted for STALE_S (a frozen browser, a stopped page), and not merely
because no frames are sent (a lost camera).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from kiosk.live.metrics import Percentiles, percentiles

STALE_S = 3.0
SAMPLES = 300         # latency percentiles over the last 300 painted frames, all screens together
REMEMBERED = 120      # frames sent to one screen and not yet painted: a frozen one stops growing here


class ScreenLink:
    """One viewer's socket, as the stream handler sees it."""

    def __init__(self, watch: ScreenWatch):
        self._watch = watch
        self._unpainted: OrderedDict[int, tuple[float, float]] = OrderedDict()  # frame -> captured, sent
        self.painting = False  # a kiosk screen: it has reported a paint

    def sent(self, frame_index: int, captured: float) -> None:
        with self._watch.lock:
            self._unpainted[frame_index] = (captured, time.monotonic())
            while len(self._unpainted) > REMEMBERED:
                self._unpainted.popitem(last=False)

    def painted(self, frame_index: int, at: float) -> None:
        """The screen drew this frame at `at` (server monotonic seconds); earlier frames it skipped are forgotten."""
        with self._watch.lock:
            known = self._unpainted.get(frame_index)
            while self._unpainted and next(iter(self._unpainted)) <= frame_index:
                self._unpainted.popitem(last=False)
            if known is None:
                return
            self.painting = True
            self._watch.latency_ms.append((at - known[0]) * 1000)

    def stale(self, now: float) -> bool:
        oldest = next(iter(self._unpainted.values()), None)
        return self.painting and oldest is not None and now - oldest[1] > STALE_S

    def close(self) -> None:
        with self._watch.lock:
            self._watch.links.discard(self)


class ScreenWatch:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.links: set[ScreenLink] = set()
        self.latency_ms: deque[float] = deque(maxlen=SAMPLES)

    def link(self) -> ScreenLink:
        link = ScreenLink(self)
        with self.lock:
            self.links.add(link)
        return link

    def state(self) -> str:
        """"ok", "stale" (a screen stopped painting) or "none" (no kiosk screen connected)."""
        now = time.monotonic()
        with self.lock:
            screens = [link for link in self.links if link.painting]
            if not screens:
                return "none"
            return "stale" if any(link.stale(now) for link in screens) else "ok"

    def latency(self) -> Percentiles:
        """Capture -> painted, over the last painted frames."""
        with self.lock:
            return percentiles(self.latency_ms)
