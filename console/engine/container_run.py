"""`docker run` and `docker exec`: create from a checked spec, attach, start, stream, wait."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from contextlib import suppress
from typing import Any

from console.engine.core import EngineError, NotFound, call, close_stream

LINE_LIMIT = 65536  # a line longer than this is passed on in pieces


def run_config(spec: dict[str, Any]) -> dict[str, Any]:
    """The engine's create request, built from the known keys of a spec the console checked (never client JSON)."""
    host: dict[str, Any] = {
        "RestartPolicy": spec.get("restart_policy") or {"Name": "no"},
        "AutoRemove": bool(spec.get("auto_remove")),
        "PortBindings": {},
        "Mounts": [
            {"Type": "volume", "Source": v["source"], "Target": v["target"], "ReadOnly": bool(v.get("read_only"))}
            for v in spec.get("volumes") or []
        ]
        + list(spec.get("mounts") or []),
    }
    exposed: dict[str, dict] = {}
    for port in spec.get("ports") or []:
        exposed[port["container"]] = {}
        binding = {"HostIp": port["host_ip"], "HostPort": port["host_port"]}
        host["PortBindings"].setdefault(port["container"], []).append(binding)
    # Options only Admins may set; the form refuses them to anyone else before a spec exists.
    optional = {
        "Privileged": bool(spec.get("privileged")),
        "Binds": spec.get("binds") or None,
        "NetworkMode": spec.get("network_mode") or None,
        "PidMode": spec.get("pid_mode") or None,
        "IpcMode": spec.get("ipc_mode") or None,
        "UTSMode": spec.get("uts_mode") or None,
        "CapAdd": spec.get("cap_add") or None,
        "Devices": spec.get("devices") or None,
        "SecurityOpt": spec.get("security_opt") or None,
        "Sysctls": spec.get("sysctls") or None,
    }
    host.update({key: value for key, value in optional.items() if value})
    config: dict[str, Any] = {
        "Image": spec["image"],
        "Env": list(spec.get("environment") or []),
        "ExposedPorts": exposed,
        "AttachStdout": True,
        "AttachStderr": True,
        "HostConfig": host,
    }
    if spec.get("command"):
        config["Cmd"] = list(spec["command"])
    if spec.get("tty"):  # docker run -it: a terminal, and stdin kept open for whoever attaches
        config.update(Tty=True, OpenStdin=True, AttachStdin=True)
    return config


def image_present(reference: str) -> bool:
    try:
        call(lambda c: c.api.inspect_image(reference))
    except NotFound:
        return False
    return True


def create_container(spec: dict[str, Any]) -> tuple[str, list[str]]:
    """Create the container; return its id and the engine's warnings."""
    config = run_config(spec)
    created = call(lambda c: c.api.create_container_from_config(config, name=spec.get("name") or None))
    return created["Id"], created.get("Warnings") or []


class OutputPump:
    """Reads a demultiplexed (stdout, stderr) stream on a thread, so its reader can wait with a timeout
    and stop whenever it likes."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._pending = {"stdout": b"", "stderr": b""}
        self.ended = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        # Closing the stream under this thread is how a reader stops it: that ends the loop too.
        with suppress(Exception):
            for out, err in self._stream:
                if out:
                    self._queue.put(("stdout", out))
                if err:
                    self._queue.put(("stderr", err))
        self._queue.put(None)

    def lines(self, wait: float) -> list[tuple[str, str]]:
        """The whole lines (stream, text) that arrive within `wait` seconds; the rest once the stream ends."""
        found: list[tuple[str, str]] = []
        deadline = time.monotonic() + wait
        while not self.ended:
            try:
                item = self._queue.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                break
            if item is None:
                self.ended = True
                found.extend((name, rest.decode("utf-8", "replace")) for name, rest in self._pending.items() if rest)
                break
            name, data = item
            *complete, rest = (self._pending[name] + data).split(b"\n")
            if len(rest) > LINE_LIMIT:
                complete, rest = [*complete, rest], b""
            self._pending[name] = rest
            found.extend((name, line.decode("utf-8", "replace")) for line in complete)
        return found

    def close(self) -> None:
        close_stream(self._stream)


class Attachment:
    """A created container's output, attached before it starts (as `docker run` does) so none is missed,
    and its exit code, asked for before it starts so a quick exit (or --rm) cannot slip past."""

    def __init__(self, container_id: str, auto_remove: bool) -> None:
        self.container_id = container_id

        def attach(c):
            api = c.api
            condition = "removed" if auto_remove else "next-exit"
            # The engine answers the headers once the wait is registered, the body when it is met.
            waiter = api._post(
                api._url("/containers/{0}/wait", container_id),
                params={"condition": condition},
                stream=True,
                timeout=None,
            )
            api._raise_for_status(waiter)
            return waiter, api.attach(container_id, stream=True, logs=True, demux=True)

        self._waiter, stream = call(attach)
        self.output = OutputPump(stream)

    def start(self) -> None:
        call(lambda c: c.api.start(self.container_id))

    def exit_code(self) -> int | None:
        return call(lambda c: c.api._result(self._waiter, json=True)).get("StatusCode")

    def close(self) -> None:
        self.output.close()
        self._waiter.close()


EXEC_MARK = "CONSOLE_EXEC"  # set in every exec's environment, so its processes can be found and ended
# The engine cannot end an exec: a second one, as root in the same container, stops and then kills every process
# carrying the first one's mark (its children inherit it). In numeric order, so parents are stopped before their
# children and none can act on a child's death. Needs sh and grep in the image.
END_EXEC = (
    "d='[0-9]'; for p in /proc/$d /proc/$d$d /proc/$d$d$d /proc/$d$d$d$d /proc/$d$d$d$d$d /proc/$d$d$d$d$d$d "
    '/proc/$d$d$d$d$d$d$d; do grep -qs "$0" "$p/environ" && set -- "$@" "${p#/proc/}"; done; '
    '[ $# -eq 0 ] || { kill -STOP "$@"; kill -KILL "$@"; } 2>/dev/null; exit 0'
)


class Exec:
    """`docker exec` without a TTY, started at once; its output is read on a thread (see OutputPump)."""

    def __init__(self, container_id: str, argv: list[str]) -> None:
        self.container_id = container_id
        self._mark = f"{EXEC_MARK}={uuid.uuid4().hex}"

        def start(c):
            exec_id = c.api.exec_create(container_id, argv, stdout=True, stderr=True, environment=[self._mark])["Id"]
            return exec_id, c.api.exec_start(exec_id, stream=True, demux=True)

        self.exec_id, stream = call(start)
        self.output = OutputPump(stream)

    def state(self) -> tuple[bool, int | None]:
        """(still running, exit code)."""
        state = call(lambda c: c.api.exec_inspect(self.exec_id))
        return bool(state.get("Running")), state.get("ExitCode")

    def end(self) -> None:
        """Kill what this exec started. Raises EngineError when the image lacks what that takes."""

        def kill(c):
            helper = c.api.exec_create(self.container_id, ["sh", "-c", END_EXEC, self._mark], user="0")["Id"]
            c.api.exec_start(helper)
            return c.api.exec_inspect(helper).get("ExitCode")

        if call(kill) != 0:
            raise EngineError("the image has no sh and grep to end it with")

    def close(self) -> None:
        self.output.close()
