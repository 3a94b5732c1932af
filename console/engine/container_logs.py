"""Container logs as `docker logs` reads them, with stdout and stderr kept apart."""

from __future__ import annotations

import struct
from collections import deque
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


def _lines(ref: str, params: dict[str, object], after: int = 0, meter: dict | None = None) -> Iterator[LogLine]:
    """The log's lines newer than `after`, as the engine sends them; stops once `meter["read"]` (bytes so
    far) reaches `meter["max"]`, and then sets `meter["stopped"]`."""
    response, tty = call(lambda c: _open(c, ref, params))
    with errors(), response:
        pending = {"stdout": b"", "stderr": b""}
        for stream, data in _frames(response, tty):
            *complete, pending[stream] = (pending.get(stream, b"") + data).split(b"\n")
            for raw in complete:
                stamp, _, text = raw.decode("utf-8", errors="replace").partition(" ")
                nanos = _nanos(stamp)
                if nanos > after:
                    yield LogLine(stream, nanos, stamp, text)
            if meter is not None:
                meter["read"] += len(data)
                if meter["read"] >= meter["max"]:
                    meter["stopped"] = True
                    return


def read_logs(ref: str, tail: int, after: int = 0) -> list[LogLine]:
    """The last `tail` lines, or of those only the ones newer than the `after` cursor (nanoseconds)."""
    params: dict[str, object] = {"stdout": 1, "stderr": 1, "timestamps": 1, "tail": tail}
    if after:
        params["since"] = _since_param(after)
    return list(_lines(ref, params, after))


@dataclass(frozen=True)
class LogSearch:
    lines: list[LogLine]  # the newest matching lines, at most `keep` of them
    matched: int  # how many lines matched in all
    scanned: int  # how many lines were read
    bounded: bool  # True when the log may hold older lines than were read
    last: int  # the newest line read, as a cursor for what comes next


def search_logs(ref: str, text: str, scan: int, keep: int, max_bytes: int) -> LogSearch:
    """The lines holding `text` (any case) among the log's last `scan` lines, reading at most `max_bytes`."""
    needle = text.casefold()
    params: dict[str, object] = {"stdout": 1, "stderr": 1, "timestamps": 1, "tail": scan}
    found: deque[LogLine] = deque(maxlen=keep)
    matched = scanned = last = 0
    meter = {"read": 0, "max": max_bytes, "stopped": False}
    for line in _lines(ref, params, meter=meter):
        scanned, last = scanned + 1, line.nanos
        if needle in line.text.casefold():
            matched += 1
            found.append(line)
    # As many lines as were asked for came back (older ones went unread), or the bytes ran out.
    return LogSearch(list(found), matched, scanned, scanned >= scan or meter["stopped"], last)


def log_download(ref: str, timestamps: bool) -> Iterator[bytes]:
    """The whole log, stdout and stderr interleaved as they were written, streamed."""
    params = {"stdout": 1, "stderr": 1, "timestamps": int(timestamps), "tail": "all"}
    response, tty = call(lambda c: _open(c, ref, params))

    def chunks() -> Iterator[bytes]:
        with errors(), response:
            for _, data in _frames(response, tty):
                yield data

    return chunks()
