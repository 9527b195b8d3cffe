"""Errors in one line: how a fault from a backend, the disk or a broker is logged and shown to the admin."""
from __future__ import annotations


def one_line(error: BaseException) -> str:
    """'Kind: message' on one line, whatever line breaks the message had."""
    return " ".join(f"{type(error).__name__}: {error}".split())
