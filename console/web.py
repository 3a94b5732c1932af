"""The web server: uvicorn serving console/asgi.py on a listening socket made here, with TCP_NODELAY.

    python -m console.web --host 0.0.0.0 --port 8000 --workers 3 [more uvicorn options]

uvicorn's `--workers` binds its socket without naming IPPROTO_TCP, so asyncio does not turn Nagle's algorithm
off on the connections it accepts, and every request after the first on a kept-alive connection (a browser's,
htmx's polls) waits about 40 ms for the client's delayed ACK (Kludex/uvicorn#3149). A listening socket with
TCP_NODELAY passes it on to every connection it accepts; uvicorn serves it through `--fd`.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys


def listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sys.exit(f"Cannot listen on {host}:{port}: {exc.strerror}.")
    sock.set_inheritable(True)
    return sock


def argv(fd: int, options: list[str]) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "console.asgi:application", "--fd", str(fd), *options]


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    known, options = parser.parse_known_args(args)
    sock = listener(known.host, known.port)
    os.execv(sys.executable, argv(sock.fileno(), options))  # noqa: S606 -- this same Python, running uvicorn


if __name__ == "__main__":
    main()
