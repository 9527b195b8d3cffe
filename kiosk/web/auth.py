"""Sessions of the two roles (admin, viewer) and failed-login rate limiting (per client address).

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

from kiosk.config.admin import ADMIN, VIEWER, AdminConfig
from kiosk.web.passwords import verify_password

log = logging.getLogger(__name__)

SESSION_COOKIE = "kiosk_admin"
SESSION_TTL_S = 12 * 3600
SCRYPT_AT_ONCE = 2
_scrypt_slots = threading.BoundedSemaphore(SCRYPT_AT_ONCE)


@dataclass
class AdminAuth:
    """`settings` gives the admin section as saved now, so a password set meanwhile works at once. A session
    belongs to the password it logged in with: a new password for a role (from the admin page or `set-password`)
    ends every other session of that role at once; `keep` lets the one that made the change stay."""
    settings: Callable[[], AdminConfig]
    _sessions: dict[str, tuple[str, float, str, str]] = field(default_factory=dict)  # token: user, expiry, hash, role
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
        role, wait = self.check(client, user, password)
        if role is None:
            return None, wait
        token = secrets.token_urlsafe(32)
        password_hash = self.settings().hash_of(role)
        with self._lock:
            self._sessions[token] = (user, time.monotonic() + SESSION_TTL_S, password_hash, role)
        log.info("%s %r logged in from %s", role, user, client)
        return token, 0.0

    def check(self, client: str, user: str, password: str, role: str | None = None) -> tuple[str | None, float]:
        """(the role, 0) for the right user and password (of `role`, when given); (None, 0) for a wrong one,
        counted against this client; (None, seconds to wait) while it is locked out, without checking anything."""
        with self._lock:
            now = time.monotonic()
            wait = self._wait_locked(client, now)
            if wait:
                return None, wait
            self._failures.setdefault(client, []).append(now)  # counted now; taken back if it succeeds
        settings = self.settings()
        # the role the user name asks for; a name of neither costs the same scrypt work as a wrong password
        asked = VIEWER if hmac.compare_digest(user.encode(), settings.viewer_user.encode()) else ADMIN
        with _scrypt_slots:
            password_ok = verify_password(password, settings.hash_of(asked))
        name = settings.user if asked == ADMIN else settings.viewer_user
        if not (hmac.compare_digest(user.encode(), name.encode()) and password_ok and role in (None, asked)):
            log.warning("failed password check for user %r from %s", user, client)
            return None, 0.0
        with self._lock:
            self._failures.pop(client, None)
        return asked, 0.0

    def session(self, token: str | None) -> tuple[str, str] | None:
        """(user, role) of a live session; None for no, an expired, or an outdated session (its role's password
        changed)."""
        if not token:
            return None
        settings = self.settings()
        with self._lock:
            entry = self._sessions.get(token)
            if entry is None or entry[1] < time.monotonic() or entry[2] != settings.hash_of(entry[3]):
                self._sessions.pop(token, None)
                return None
            return entry[0], entry[3]

    def session_user(self, token: str | None) -> str | None:
        found = self.session(token)
        return found[0] if found else None

    def is_admin(self, token: str | None) -> bool:
        found = self.session(token)
        return found is not None and found[1] == ADMIN

    def keep(self, token: str | None, old_hash: str) -> None:
        """After an admin password change made in this session (which logged in under old_hash): it stays, the other
        admin sessions end."""
        new_hash = self.settings().password_hash
        with self._lock:
            entry = self._sessions.get(token) if token else None
            if token and entry is not None and entry[2] == old_hash and entry[3] == ADMIN:
                self._sessions[token] = (entry[0], entry[1], new_hash, ADMIN)

    def logout(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)
