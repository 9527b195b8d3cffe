"""Admin sessions and failed-login rate limiting (per client address)."""
from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field

from kiosk.passwords import verify_password

log = logging.getLogger(__name__)

SESSION_COOKIE = "kiosk_admin"
SESSION_TTL_S = 12 * 3600


@dataclass
class AdminAuth:
    user: str
    password_hash: str
    max_failed: int
    lockout_s: float
    _sessions: dict[str, tuple[str, float]] = field(default_factory=dict)
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def locked_out(self, client: str) -> float:
        """Seconds until this client may try again (0: may try now)."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(client, []) if now - t < self.lockout_s]
            self._failures[client] = recent
            if len(recent) < self.max_failed:
                return 0.0
            return self.lockout_s - (now - recent[0])

    def login(self, client: str, user: str, password: str) -> str | None:
        """A new session token, or None (and the failure counted). The password is never logged."""
        ok = user == self.user and verify_password(password, self.password_hash)
        if not ok:
            with self._lock:
                self._failures.setdefault(client, []).append(time.monotonic())
            log.warning("failed admin login for user %r from %s", user, client)
            return None
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._failures.pop(client, None)
            self._sessions[token] = (user, time.monotonic() + SESSION_TTL_S)
        log.info("admin %r logged in from %s", user, client)
        return token

    def session_user(self, token: str | None) -> str | None:
        if not token:
            return None
        with self._lock:
            entry = self._sessions.get(token)
            if entry is None or entry[1] < time.monotonic():
                self._sessions.pop(token, None)
                return None
            return entry[0]

    def logout(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)
