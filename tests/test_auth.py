import logging
import time
from concurrent.futures import ThreadPoolExecutor

from kiosk.config.admin import AdminConfig
from kiosk.web.auth import AdminAuth
from kiosk.web.passwords import hash_password, verify_password

RIGHT = hash_password("right password")


def test_password_hash_is_salted_and_verifies():
    first, second = hash_password("s3cret pass"), hash_password("s3cret pass")
    assert first != second and "s3cret" not in first
    assert verify_password("s3cret pass", first) and verify_password("s3cret pass", second)
    assert not verify_password("wrong", first)
    assert not verify_password("anything", "")  # no password set: nobody gets in


def test_failed_logins_lock_the_client_out_and_are_logged_without_the_password(caplog):
    auth = AdminAuth(lambda: AdminConfig(password_hash=RIGHT, max_failed_logins=3, lockout_s=60))
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            assert auth.login("10.0.0.9", "admin", "guess-123") == (None, 0.0)
    assert auth.locked_out("10.0.0.9") > 50
    token, wait = auth.login("10.0.0.9", "admin", "right password")
    assert token is None and wait > 50  # locked out: not even the right password is checked
    assert auth.locked_out("10.0.0.10") == 0  # another client is not affected
    assert "guess-123" not in caplog.text and "10.0.0.9" in caplog.text
    token, _ = auth.login("10.0.0.10", "admin", "right password")
    assert token and auth.session_user(token) == "admin"
    auth.logout(token)
    assert auth.session_user(token) is None


def test_parallel_guesses_are_counted_before_the_password_is_checked():
    auth = AdminAuth(lambda: AdminConfig(password_hash=RIGHT, max_failed_logins=5, lockout_s=60))
    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(lambda _: auth.login("10.0.0.9", "admin", "guess"), range(40)))
    checked = [r for r in results if r[1] == 0.0]
    assert len(checked) == 5 and all(token is None for token, _ in checked)
    assert sum(1 for _, wait in results if wait > 0) == 35


def test_an_unknown_user_costs_a_full_password_check():
    auth = AdminAuth(lambda: AdminConfig(password_hash=RIGHT, max_failed_logins=100, lockout_s=60))
    timings = {}
    for user in ("admin", "nobody"):
        started = time.perf_counter()
        for _ in range(3):
            auth.login("10.0.0.9", user, "wrong")
        timings[user] = time.perf_counter() - started
    # scrypt ran for the unknown user too: without it the ratio would be near 0.001, with it near 1
    assert timings["nobody"] > 0.2 * timings["admin"]
