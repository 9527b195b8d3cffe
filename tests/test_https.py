"""The admin page on the LAN over TLS only: a generated certificate a client can verify, a Secure cookie, and no
admin page over plain HTTP on the LAN address."""
import http.client
import ssl
import urllib.parse

import pytest
from kiosk_server import PASSWORD, KioskServer

from kiosk.web.tls import local_addresses

LAN = next(iter(sorted(local_addresses() - {"127.0.0.1"})), None)
if LAN is None:
    pytest.skip("this machine has no LAN address to test from", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory, videos):
    with KioskServer.running_with_admin(tmp_path_factory.mktemp("https"), videos["bare"], host="0.0.0.0") as kiosk:
        yield kiosk


def login_body() -> str:
    return urllib.parse.urlencode({"username": "admin", "password": PASSWORD})


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_login_over_https_verified_against_the_generated_certificate(server):
    cert = server.workdir / "state" / "tls" / "cert.pem"
    assert oct((server.workdir / "state" / "tls" / "key.pem").stat().st_mode & 0o777) == "0o600"
    context = ssl.create_default_context(cafile=str(cert))  # verifies the chain and that LAN is in the certificate
    connection = http.client.HTTPSConnection(LAN, server.tls_port, context=context, timeout=30)
    connection.request("POST", "/login", body=login_body(), headers=FORM)
    response = connection.getresponse()
    response.read()
    assert response.status == 303
    cookie = response.getheader("Set-Cookie")
    assert "Secure" in cookie and "HttpOnly" in cookie
    connection.request("GET", "/admin/", headers={"Cookie": cookie.split(";")[0]})
    page = connection.getresponse()
    assert page.status == 200 and b"mask-kiosk admin" in page.read()


@pytest.mark.parametrize("method, path", [("GET", "/admin/"), ("GET", "/login"), ("POST", "/login")])
def test_no_admin_page_over_plain_http_on_the_lan(server, method, path):
    connection = http.client.HTTPConnection(LAN, server.port, timeout=30)
    connection.request(method, path, body=login_body() if method == "POST" else None, headers=FORM)
    response = connection.getresponse()
    response.read()
    assert response.status == 307
    assert response.getheader("Location") == f"https://{LAN}:{server.tls_port}{path}"


def test_monitoring_stays_on_plain_http(server):
    connection = http.client.HTTPConnection(LAN, server.port, timeout=30)
    for path in ("/healthz", "/metrics"):
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        assert response.status in (200, 503), path  # 503 only while the pipeline is not yet healthy
    connection.request("GET", "/")
    response = connection.getresponse()
    response.read()
    assert response.status == 403  # the kiosk screen is for this device (web.kiosk_remote is false)
