"""The web server `make run`, the image and compose start (`python -m console.web`, uvicorn with workers): the
connections it accepts have Nagle's algorithm off, so a kept-alive browser's second request is not held up
about 40 ms by its own delayed ACK (uvicorn's --workers leaves it on: Kludex/uvicorn#3149)."""

from __future__ import annotations

import ctypes
import http.client
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from console.system.management.commands.serve import console_processes, signal_group
from tests.lab import descendants, free_port, port_open, wait_for

ROOT = Path(__file__).resolve().parent.parent
SYS_PIDFD_GETFD = 438  # Linux, every architecture


def server_side(pids: list[int], client: socket.socket) -> socket.socket:
    """The server's end of `client`'s connection, copied out of whichever process holds it (pidfd_getfd)."""
    libc = ctypes.CDLL(None, use_errno=True)
    wanted = client.getsockname()
    for pid in pids:
        pidfd = os.pidfd_open(pid)
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if not os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                    continue
                copy = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(fd), 0)
                if copy < 0:
                    continue
                sock = socket.socket(fileno=copy)
                try:
                    if sock.family == socket.AF_INET and sock.getpeername() == wanted:
                        return sock
                except OSError:
                    pass  # a listening socket has no peer
                sock.close()
        finally:
            os.close(pidfd)
    raise AssertionError(f"no process of the web server holds the connection from {wanted}")


@pytest.mark.foundation
def test_the_web_server_answers_a_kept_alive_connection_with_nagle_off(tmp_path):
    port = free_port()
    argv = console_processes(sys.executable, "127.0.0.1", port, web_workers=2)["web"]
    env = {**os.environ, "CONSOLE_VAR_DIR": str(tmp_path)}
    server = subprocess.Popen(
        argv, cwd=ROOT, env=env, process_group=0, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: port_open(port), "the web server", timeout=60)
        browser = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(2):  # one connection, kept alive, as a browser's
            browser.request("GET", "/static/favicon.svg")
            browser.getresponse().read()
        with server_side([server.pid, *descendants(server.pid)], browser.sock) as served:
            assert served.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        browser.close()
    finally:
        signal_group(server, signal.SIGTERM)
        server.wait(timeout=30)
