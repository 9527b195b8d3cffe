from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from kiosk.config.base import Section


class AdminConfig(Section):
    """The admin login."""

    user: str = Field("admin", min_length=1, title="admin user", description="user name for the admin page")
    password_hash: str = Field("", title="password hash",
                               description="set with `mask-kiosk set-password` (saved hashed in the state "
                                           "folder); empty: every login is refused")
    viewer_user: str = Field("viewer", min_length=1, title="viewer user",
                             description="user name of the viewer account: live view, events and counts only; no "
                                         "settings, zone, passwords, gate or override")
    viewer_password_hash: str = Field("", title="viewer password hash",
                                      description="set with `mask-kiosk set-password --viewer` or on the admin "
                                                  "page's Password tab (saved hashed); empty: no viewer login")
    language: Literal["", "en", "zh"] = Field("", title="admin page language",
                                              description="en or zh (Simplified Chinese); empty: the kiosk screen's "
                                                          "language (English when it shows both)")
    max_failed_logins: int = Field(5, ge=1, le=100, title="failed logins before lockout",
                                   description="per client address, then locked out for lockout_s")
    lockout_s: float = Field(60.0, ge=1, le=86400, title="lockout (s)", description="how long a lockout lasts")

    @field_validator("password_hash", "viewer_password_hash")
    @classmethod
    def _hash_format(cls, value: str) -> str:
        if value and not (value.startswith("scrypt$") and value.count("$") == 5):
            raise ValueError("must be a hash made by `mask-kiosk set-password` (never a plain password)")
        return value

    @model_validator(mode="after")
    def _two_names(self) -> AdminConfig:
        if self.viewer_user == self.user:
            raise ValueError("viewer_user must differ from user")
        return self

    def page_language(self, screen_language: str) -> str:
        """The admin page's and login's language: its own, or the kiosk screen's first."""
        return self.language or screen_language.split("+")[0]

    def hash_of(self, role: str) -> str:
        """The password hash that role logs in with ("admin" or "viewer")."""
        return self.password_hash if role == ADMIN else self.viewer_password_hash


ADMIN, VIEWER = "admin", "viewer"  # the roles: the admin may do everything, a viewer may only look
