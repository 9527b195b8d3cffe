import logging

from kiosk.passwords import hash_password, verify_password
from kiosk.web.auth import AdminAuth


def test_password_hash_is_salted_and_verifies():
    first, second = hash_password("s3cret pass"), hash_password("s3cret pass")
    assert first != second and "s3cret" not in first
    assert verify_password("s3cret pass", first) and verify_password("s3cret pass", second)
    assert not verify_password("wrong", first)
    assert not verify_password("anything", "")  # no password set: nobody gets in


def test_failed_logins_lock_the_client_out_and_are_logged_without_the_password(caplog):
    auth = AdminAuth("admin", hash_password("right password"), max_failed=3, lockout_s=60)
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            assert auth.login("10.0.0.9", "admin", "guess-123") is None
    assert auth.locked_out("10.0.0.9") > 50
    assert auth.locked_out("10.0.0.10") == 0  # another client is not affected
    assert "guess-123" not in caplog.text and "10.0.0.9" in caplog.text
    token = auth.login("10.0.0.10", "admin", "right password")
    assert token and auth.session_user(token) == "admin"
    auth.logout(token)
    assert auth.session_user(token) is None
