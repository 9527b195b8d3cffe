from __future__ import annotations

from ipaddress import ip_address

from pydantic import Field, field_validator

from kiosk.config.base import Section


class WebConfig(Section):
    """The kiosk screen (/) and the admin page (/admin/)."""

    host: str = Field("0.0.0.0", title="listen address", description="0.0.0.0: reachable on the LAN")
    port: int = Field(8080, ge=1, le=65535, title="HTTP port",
                      description="plain HTTP: the kiosk screen for this device, /healthz and /metrics; the admin "
                                  "page only for this device (others are sent to HTTPS)")
    tls_port: int = Field(8443, ge=0, le=65535, title="HTTPS port",
                          description="the admin page on the LAN, over TLS; 0: no HTTPS (admin from this device only)")
    tls_cert: str = Field("", title="TLS certificate",
                          description="the site's own PEM certificate; empty: a self-signed one made in the state "
                                      "folder (tls/)")
    tls_key: str = Field("", title="TLS key", description="the key of tls_cert (PEM)")
    kiosk_remote: bool = Field(False, title="kiosk screen for other devices",
                               description="false: the kiosk screen answers this device only")
    photo_workers: int = Field(2, ge=1, le=8, title="photo checks at once",
                               description='"check a photo": concurrent analyses')
    photo_queue: int = Field(16, ge=1, le=256, title="photo queue", description="waiting uploads beyond this "
                                                                                "are refused")
    photo_cache: int = Field(64, ge=0, le=4096, title="photo cache",
                             description="answers remembered by the photo file's hash (a repeat is not decoded)")
    trusted_proxies: list[str] = Field([], title="trusted proxies",
                                       description="reverse proxies whose X-Forwarded-For is believed; empty: none")

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            ip_address(item)  # ValueError names the bad one
        return value
