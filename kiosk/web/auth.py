"""Admin sessions and failed-login rate limiting (per client address).

Each attempt is counted before the password is checked, under one lock, so parallel guesses cannot
all get through before the lockout; at most SCRYPT_AT_ONCE scrypt checks run at a time (each costs
16 MB), and a wrong user name costs the same work as a wrong password.
"""
from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.config.admin import AdminConfig
from kiosk.web.passwords import verify_password

log = logging.getLogger(__name__)

SESSION_COOKIE = "kiosk_admin"
SESSION_TTL_S = 12 * 3600
SCRYPT_AT_ONCE = 2
_scrypt_slots = threading.BoundedSemaphore(SCRYPT_AT_ONCE)


@dataclass
class AdminAuth:
    """`settings` gives the admin section as saved now, so a password set meanwhile works at once. A session
    belongs to the password it logged in with: a new password (from the admin page or `set-password`) ends every
    other session at once; `keep` lets the one that made the change stay."""
    settings: Callable[[], AdminConfig]
    _sessions: dict[str, tuple[str, float, str]] = field(default_factory=dict)  # token: user, expiry, hash
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _wait_locked(self, client: str, now: float) -> float:
        """Seconds until this client may try again (0: may try now); call with the lock held."""
        settings = self.settings()
        recent = [t for t in self._failures.get(client, []) if now - t < settings.lockout_s]
        self._failures[client] = recent
        return 0.0 if len(recent) < settings.max_failed_logins else settings.lockout_s - (now - recent[0])

    def locked_out(self, client: str) -> float:
        """Seconds until this client may try again (0: may try now)."""
        with self._lock:
            return self._wait_locked(client, time.monotonic())

    def login(self, client: str, user: str, password: str) -> tuple[str | None, float]:
        """(new session token, 0) on success; (None, 0) for a wrong user or password; (None, seconds to wait)
        while locked out, without checking anything. The password is never logged."""
        ok, wait = self.check(client, user, password)
        if not ok:
            return None, wait
        token = secrets.token_urlsafe(32)
        password_hash = self.settings().password_hash
        with self._lock:
            self._sessions[token] = (user, time.monotonic() + SESSION_TTL_S, password_hash)
        log.info("admin %r logged in from %s", user, client)
        return token, 0.0

    def check(self, client: str, user: str, password: str) -> tuple[bool, float]:
        """(True, 0) for the right user and password; (False, 0) for a wrong one, counted against this client;
        (False, seconds to wait) while it is locked out, without checking anything."""
        with self._lock:
            now = time.monotonic()
            wait = self._wait_locked(client, now)
            if wait:
                return False, wait
            self._failures.setdefault(client, []).append(now)  # counted now; taken back if it succeeds
        settings = self.settings()
        with _scrypt_slots:
            password_ok = verify_password(password, settings.password_hash)
        if not (hmac.compare_digest(user.encode(), settings.user.encode()) and password_ok):
            log.warning("failed admin password check for user %r from %s", user, client)
            return False, 0.0
        with self._lock:
            self._failures.pop(client, None)
        return True, 0.0

    def session_user(self, token: str | None) -> str | None:
        """The user of a live session; None for no, an expired, or an outdated session (the password changed)."""
        if not token:
            return None
        password_hash = self.settings().password_hash
        with self._lock:
            entry = self._sessions.get(token)
            if entry is None or entry[1] < time.monotonic() or entry[2] != password_hash:
                self._sessions.pop(token, None)
                return None
            return entry[0]

    def keep(self, token: str | None, old_hash: str) -> None:
        """After a password change made in this session (which logged in under old_hash): it stays, the others end."""
        new_hash = self.settings().password_hash
        with self._lock:
            entry = self._sessions.get(token) if token else None
            if token and entry is not None and entry[2] == old_hash:
                self._sessions[token] = (entry[0], entry[1], new_hash)

    def logout(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)
