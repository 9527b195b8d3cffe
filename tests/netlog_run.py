"""Runs `mask-kiosk` with every DNS lookup and outgoing connection logged, one host per line.

Usage: python netlog_run.py LOGFILE mask-kiosk-arguments...
"""
import socket
import sys

from kiosk.cli import main

log_path = sys.argv[1]
original_getaddrinfo = socket.getaddrinfo
original_connect = socket.socket.connect


def record(kind, host):
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"{kind} {host}\n")


def logged_getaddrinfo(host, *args, **kwargs):
    record("dns", host)
    return original_getaddrinfo(host, *args, **kwargs)


def logged_connect(self, address):
    if isinstance(address, tuple):
        record("connect", address[0])
    return original_connect(self, address)


socket.getaddrinfo = logged_getaddrinfo
socket.socket.connect = logged_connect
sys.exit(main(sys.argv[2:]))
