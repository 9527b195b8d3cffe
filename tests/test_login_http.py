"""The login over real HTTP: parallel guesses from one address, and a forged X-Forwarded-For."""
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from kiosk_server import KioskServer


@pytest.fixture(scope="module")
def server(tmp_path_factory, videos):
    with KioskServer.running_with_admin(tmp_path_factory.mktemp("login"), videos["bare"]) as kiosk:
        yield kiosk


def attempt(server: KioskServer, index: int) -> int:
    body = urllib.parse.urlencode({"username": "admin", "password": f"guess {index}"}).encode()
    # each guess claims another origin: the kiosk must not believe it (no proxy is configured)
    request = urllib.request.Request(server.url + "/login", data=body,
                                     headers={"X-Forwarded-For": f"10.9.8.{index}"})
    try:
        return urllib.request.urlopen(request, timeout=60).status
    except urllib.error.HTTPError as error:
        return error.code


def test_forty_parallel_wrong_logins_get_at_most_five_checks(server):
    with ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(lambda i: attempt(server, i), range(40)))
    assert codes.count(401) <= 5, codes
    assert codes.count(429) == 40 - codes.count(401)
