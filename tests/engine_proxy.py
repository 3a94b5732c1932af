"""A unix-socket proxy in front of the lab engine: it counts the API requests that pass through
it, and can hold back the ones whose path matches a pattern (a slow engine, on demand)."""

from __future__ import annotations

import contextlib
import re
import socket
import tempfile
import threading
from pathlib import Path

REQUEST_LINE = re.compile(rb"(?:^|\n)(GET|HEAD|POST|PUT|DELETE) (\S+) HTTP/1\.[01]\r\n")


class EngineProxy:
    def __init__(self, upstream: str, hold: str | None = None):
        self.upstream = upstream.removeprefix("unix://")
        self.path = Path(tempfile.mkdtemp(prefix="engine-proxy-")) / "docker.sock"
        self.hold = re.compile(hold) if hold else None
        self.release = threading.Event()
        self.held = threading.Event()  # set once a held request has arrived
        self.requests: list[str] = []
        self.refusing = False  # while true, new connections are closed at once: an engine gone away
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._open: list[socket.socket] = []

    @property
    def address(self) -> str:
        return f"unix://{self.path}"

    def start(self) -> EngineProxy:
        self._server.bind(str(self.path))
        self._server.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        with contextlib.suppress(OSError):
            self._server.close()
        for sock in list(self._open):
            with contextlib.suppress(OSError):
                sock.close()

    def cut(self) -> None:
        """Close every open connection, as an engine restart would."""
        for sock in list(self._open):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def since(self, start: int) -> list[str]:
        with self._lock:
            return self.requests[start:]

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            engine.connect(self.upstream)
            self._open += [client, engine]
            threading.Thread(target=self._pump, args=(engine, client, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(client, engine, True), daemon=True).start()

    def _pump(self, source: socket.socket, dest: socket.socket, requests: bool) -> None:
        try:
            while data := source.recv(65536):
                if requests:
                    self._saw(data)
                dest.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, dest):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _saw(self, data: bytes) -> None:
        lines = [f"{m.group(1).decode()} {m.group(2).decode()}" for m in REQUEST_LINE.finditer(data)]
        with self._lock:
            self.requests += lines
        if self.hold and any(self.hold.search(line) for line in lines):
            self.held.set()
            self.release.wait(timeout=120)
