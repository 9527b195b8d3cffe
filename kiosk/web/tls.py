"""The admin page's TLS certificate: the site's own (web.tls_cert / web.tls_key) or a self-signed one made once
in the state folder, valid for this box's name and addresses, its key readable by the kiosk user only."""
from __future__ import annotations

import fcntl
import hashlib
import socket
import ssl
import struct
import subprocess
from pathlib import Path

from kiosk.config import Config, ConfigError
from kiosk.durable import PRIVATE_FILE, PRIVATE_FOLDER, private_folder

SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address


def local_addresses() -> set[str]:
    """The IPv4 addresses of this box's interfaces, asked of the kernel (nothing goes on the network)."""
    addresses = {"127.0.0.1"}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            try:
                request = struct.pack("256s", name[:15].encode())
                addresses.add(socket.inet_ntoa(fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)[20:24]))
            except OSError:
                pass  # an interface without an IPv4 address
    return addresses


def load_error(cert: Path, key: Path) -> str | None:
    """Why a TLS server could not use this pair, or None when it can."""
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        return str(error)
    return None


def make_self_signed(cert: Path, key: Path) -> None:
    """An EC P-256 certificate for ten years, for localhost, this host name and its addresses (needs openssl).
    Both files appear whole, or not at all (a full disk leaves nothing half-written)."""
    private_folder(cert.parent).chmod(PRIVATE_FOLDER)
    host = socket.gethostname()
    names = [f"DNS:{n}" for n in sorted({"localhost", host, f"{host}.local"})]
    names += [f"IP:{a}" for a in sorted(local_addresses())]
    new_cert, new_key = cert.with_name(f"{cert.name}.new"), key.with_name(f"{key.name}.new")
    try:
        result = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days",
             "3650", "-subj", f"/CN=mask-kiosk {host}", "-addext", f"subjectAltName={','.join(names)}",
             "-keyout", str(new_key), "-out", str(new_cert)], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"openssl could not make a certificate: {result.stderr.strip().splitlines()[-1:]}")
        new_key.chmod(PRIVATE_FILE)
        new_cert.chmod(PRIVATE_FILE)
        problem = load_error(new_cert, new_key)
        if problem:
            raise RuntimeError(f"the certificate made is not usable: {problem}")
        new_key.replace(key)
        new_cert.replace(cert)
    finally:
        new_cert.unlink(missing_ok=True)
        new_key.unlink(missing_ok=True)


def certificate(config: Config, make: bool = True) -> tuple[Path, Path] | None:
    """(cert, key) for the HTTPS port, making the self-signed pair when none is configured or usable yet;
    None when HTTPS is off (web.tls_port = 0)."""
    web = config.web
    if web.tls_port == 0:
        return None
    if web.tls_cert or web.tls_key:
        cert, key = Path(web.tls_cert).expanduser(), Path(web.tls_key).expanduser()
        problem = load_error(cert, key)
        if problem:
            raise ConfigError(f"web.tls_cert: {cert} with web.tls_key {key} cannot be used ({problem})")
        return cert, key
    folder = config.state_dir() / "tls"
    cert, key = folder / "cert.pem", folder / "key.pem"
    if make and load_error(cert, key):
        make_self_signed(cert, key)
    return cert, key


def fingerprint(cert: Path) -> str:
    """SHA-256 of the certificate, as browsers show it, to check the first visit by hand."""
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
