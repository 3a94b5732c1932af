"""`docker exec -it`: a command with a TTY and stdin, its raw socket read and written by the console's terminal."""

from __future__ import annotations

import socket
import uuid
from contextlib import suppress

from console.engine.container_run import END_EXEC, EXEC_MARK
from console.engine.core import EngineError, call

READ_SIZE = 65536


class Terminal:
    """An exec with a TTY, started at once. `read` blocks (run it on a thread of its own) and returns b"" when the
    stream has ended; `write`, `resize` and `close` may be called from any other thread."""

    def __init__(
        self, container_id: str, argv: list[str], *, user: str = "", workdir: str = "", rows: int = 24, cols: int = 80
    ) -> None:
        self.container_id = container_id
        self._mark = f"{EXEC_MARK}={uuid.uuid4().hex}"

        def start(c):
            exec_id = c.api.exec_create(
                container_id,
                argv,
                stdin=True,
                tty=True,
                user=user,
                workdir=workdir or None,
                environment=[self._mark, "TERM=xterm-256color"],
            )["Id"]
            return exec_id, c.api.exec_start(exec_id, tty=True, socket=True)

        self.exec_id, raw = call(start)
        self._hold(raw, rows, cols)

    def _hold(self, raw, rows: int, cols: int) -> None:
        # Unix: a SocketIO over the socket; TLS: the SSL socket; SSH: the paramiko channel. All recv and sendall.
        self._sock = getattr(raw, "_sock", raw)
        self._raw = raw  # holds the HTTP response, whose collection would close a TLS socket
        self._sock.settimeout(None)  # a terminal may be quiet for as long as its idle limit
        with suppress(EngineError):  # a command that has already exited has no size to set
            self.resize(rows, cols)

    def read(self) -> bytes:
        try:
            return self._sock.recv(READ_SIZE)
        except (OSError, EOFError):
            return b""

    def write(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except (OSError, EOFError) as exc:
            raise EngineError(f"The terminal's stream has ended: {exc}") from exc

    def resize(self, rows: int, cols: int) -> None:
        call(lambda c: c.api.exec_resize(self.exec_id, height=rows, width=cols))

    def exit_code(self) -> int | None:
        """The command's exit code once it has ended, None while it runs."""
        state = call(lambda c: c.api.exec_inspect(self.exec_id))
        return None if state.get("Running") else state.get("ExitCode")

    def close(self) -> None:
        """End the stream (waking `read`) and whatever the command left running in the container (the engine
        keeps an exec's processes after its client has gone)."""
        self._close_stream()
        with suppress(EngineError):
            if self.exit_code() is None:
                call(self._end)

    def _close_stream(self) -> None:
        with suppress(OSError, EOFError):
            if isinstance(self._sock, socket.socket):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()

    def _end(self, c) -> None:
        helper = c.api.exec_create(self.container_id, ["sh", "-c", END_EXEC, self._mark], user="0")["Id"]
        c.api.exec_start(helper)


class Attached(Terminal):
    """`docker attach` to a container started with a TTY (`docker run -it`): its own process's terminal. The
    detach keys end the stream and leave the container running; closing the terminal does the same."""

    def __init__(self, container_id: str, *, detach_keys: str = "", rows: int = 24, cols: int = 80) -> None:
        self.container_id = container_id
        self.exec_id = ""
        params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        if detach_keys:
            params["detachKeys"] = detach_keys
        raw = call(lambda c: c.api.attach_socket(container_id, params=params))
        self._hold(raw, rows, cols)

    def resize(self, rows: int, cols: int) -> None:
        call(lambda c: c.api.resize(self.container_id, height=rows, width=cols))

    def exit_code(self) -> int | None:
        state = call(lambda c: c.api.inspect_container(self.container_id))["State"]
        return None if state.get("Running") else state.get("ExitCode")

    def close(self) -> None:
        self._close_stream()
