from __future__ import annotations

from pydantic import Field, field_validator

from kiosk.config.base import Section


class AdminConfig(Section):
    """The admin login."""

    user: str = Field("admin", min_length=1, title="admin user", description="user name for the admin page")
    password_hash: str = Field("", title="password hash",
                               description="set with `mask-kiosk set-password` (saved hashed in the state "
                                           "folder); empty: every login is refused")
    max_failed_logins: int = Field(5, ge=1, le=100, title="failed logins before lockout",
                                   description="per client address, then locked out for lockout_s")
    lockout_s: float = Field(60.0, ge=1, le=86400, title="lockout (s)", description="how long a lockout lasts")

    @field_validator("password_hash")
    @classmethod
    def _hash_format(cls, value: str) -> str:
        if value and not (value.startswith("scrypt$") and value.count("$") == 5):
            raise ValueError("must be a hash made by `mask-kiosk set-password` (never a plain password)")
        return value
