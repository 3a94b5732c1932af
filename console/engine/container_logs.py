"""Container logs as `docker logs` reads them, with stdout and stderr kept apart."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from console.engine.core import call, errors

STREAMS = {0: "stdin", 1: "stdout", 2: "stderr"}
_HEADER = struct.Struct(">BxxxL")


@dataclass(frozen=True)
class LogLine:
    stream: str
    nanos: int  # the engine's timestamp, in nanoseconds since the epoch: a cursor for `since`
    time: str
    text: str


def _nanos(stamp: str) -> int:
    # RFC 3339 with nanoseconds: 2024-01-02T03:04:05.123456789Z
    head, _, frac = stamp.rstrip("Z").partition(".")
    try:
        seconds = int(datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp())
        return seconds * 1_000_000_000 + int((frac + "000000000")[:9])
    except ValueError:
        return 0


def _since_param(nanos: int) -> str:
    return f"{nanos // 1_000_000_000}.{nanos % 1_000_000_000:09d}"


def _frames(response, tty: bool) -> Iterator[tuple[str, bytes]]:
    """The logs endpoint's body: raw text for a TTY, else 8-byte-headed frames naming their stream."""
    raw = response.raw
    if tty:
        for chunk in response.iter_content(chunk_size=65536):
            yield "stdout", chunk
        return
    while header := raw.read(_HEADER.size):
        if len(header) < _HEADER.size:
            return
        stream, length = _HEADER.unpack(header)
        yield STREAMS.get(stream, "stdout"), raw.read(length)


def _open(c, ref: str, params: dict[str, object]):
    api = c.api
    tty = bool(api.inspect_container(ref)["Config"].get("Tty"))
    response = api._get(api._url("/containers/{0}/logs", ref), params=params, stream=True)
    api._raise_for_status(response)
    return response, tty


def read_logs(ref: str, tail: int, after: int = 0) -> list[LogLine]:
    """The last `tail` lines, or of those only the ones newer than the `after` cursor (nanoseconds)."""
    params: dict[str, object] = {"stdout": 1, "stderr": 1, "timestamps": 1, "tail": tail}
    if after:
        params["since"] = _since_param(after)
    response, tty = call(lambda c: _open(c, ref, params))
    lines = []
    with errors(), response:
        pending = {"stdout": b"", "stderr": b""}
        for stream, data in _frames(response, tty):
            *complete, pending[stream] = (pending.get(stream, b"") + data).split(b"\n")
            for raw in complete:
                stamp, _, text = raw.decode("utf-8", errors="replace").partition(" ")
                nanos = _nanos(stamp)
                if nanos > after:
                    lines.append(LogLine(stream, nanos, stamp, text))
    return lines


def log_download(ref: str, timestamps: bool) -> Iterator[bytes]:
    """The whole log, stdout and stderr interleaved as they were written, streamed."""
    params = {"stdout": 1, "stderr": 1, "timestamps": int(timestamps), "tail": "all"}
    response, tty = call(lambda c: _open(c, ref, params))

    def chunks() -> Iterator[bytes]:
        with errors(), response:
            for _, data in _frames(response, tty):
                yield data

    return chunks()
