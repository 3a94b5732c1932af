"""The terminal's WebSocket: a `docker exec -it` stream between xterm.js and the engine.

Frames from the browser: binary = keystrokes (and pastes), text = JSON control ({"resize": [cols, rows]}).
Frames to the browser: binary = the terminal's output, text = JSON ({"closed": why}) just before the close.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from contextlib import suppress
from urllib.parse import parse_qs, urlparse

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security.websocket import AllowedHostsOriginValidator, WebsocketDenier
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.urls import path

from console import engine, policy
from console.accounts.roles import OPERATOR, engine_role, has_role
from console.audit.record import record
from console.middleware import client_address
from console.terminals import recording
from console.terminals.recording import Cast

OPEN, CLOSE = "terminal.open", "terminal.close"
MAX_SIZE = 1000  # columns or rows
CHECK_SECONDS = 1.0  # how often an open terminal checks its user is still allowed, and its idle time
SHELL = "command -v bash >/dev/null && exec bash || exec sh"  # bash where the image has it


def _headers(scope) -> dict[str, str]:
    return {name.decode("latin1"): value.decode("latin1") for name, value in scope.get("headers", [])}


def as_request(scope) -> HttpRequest:
    """What the audit trail reads of a request (user, address, browser), from a WebSocket's scope."""
    request = HttpRequest()
    headers = _headers(scope)
    remote = (scope.get("client") or ("", 0))[0]
    request.META = {
        "REMOTE_ADDR": client_address(remote, headers.get("x-forwarded-for", "")),
        "HTTP_USER_AGENT": headers.get("user-agent", ""),
    }
    request.path = scope.get("path", "")
    request.user = scope.get("user")
    return request


def _size(given: list[str] | None, default: int) -> int:
    try:
        value = int((given or [""])[0])
    except ValueError:
        return default
    return value if 0 < value <= MAX_SIZE else default


class SameOrigin:
    """Channels' AllowedHostsOriginValidator, and more: the Origin must be the page's own (the Host the socket was
    opened on), so a page of another allowed host name cannot open one either. Refusals are recorded."""

    def __init__(self, application):
        self.application = application
        self.allowed = AllowedHostsOriginValidator(application)

    async def __call__(self, scope, receive, send):
        headers = _headers(scope)
        origin = headers.get("origin", "")
        parsed = urlparse(origin)
        same = bool(origin) and parsed.netloc == headers.get("host") and parsed.scheme in ("http", "https")
        trusted = origin in settings.CSRF_TRUSTED_ORIGINS
        if self.allowed.valid_origin(parsed) and (same or trusted):
            return await self.application(scope, receive, send)
        await database_sync_to_async(record)(
            as_request(scope),
            OPEN,
            scope.get("path", ""),
            "denied",
            error=f"a page of another origin ({origin or 'none'})",
        )
        return await WebsocketDenier()(scope, receive, send)


class TerminalConsumer(AsyncWebsocketConsumer):
    terminal: engine.Terminal | None = None

    async def connect(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        self.engine_name, self.container_id = kwargs["engine"], kwargs["container_id"]
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.command = (query.get("command") or [""])[0].strip()
        self.exec_user = (query.get("user") or [""])[0].strip()
        self.workdir = (query.get("workdir") or [""])[0].strip()
        self.attach = (query.get("attach") or [""])[0] == "1"
        self.detach_keys = (query.get("detach_keys") or [""])[0].strip()[:64]
        if self.attach:
            self.command = "(attached)"
        self.cols, self.rows = _size(query.get("cols"), 80), _size(query.get("rows"), 24)
        self.request = as_request(self.scope)
        with engine.using(self.engine_name):
            refusal = await sync_to_async(self._open, thread_sensitive=False)()
        if refusal:
            await self.close(code=4403)
            return
        self.started = self.last_input = time.monotonic()
        self.bytes_in = self.bytes_out = 0
        self.loop = asyncio.get_running_loop()
        await self.accept()
        threading.Thread(target=self._pump, name=f"terminal {self.terminal.exec_id[:12]}", daemon=True).start()
        self.watch = asyncio.create_task(self._watch())

    def _open(self) -> str:
        """Check who asks and start the exec; the reason for a refusal (recorded), or ""."""
        user = self.request.user
        target = self.container_id
        if user is None or not user.is_authenticated or not has_role(user, OPERATOR, self.engine_name):
            have = (engine_role(user, self.engine_name) if user is not None else None) or "no role"
            reason = f"needs the {OPERATOR} role on the engine {self.engine_name}; has {have}"
            record(self.request, OPEN, target, "denied", error=reason, engine=self.engine_name)
            return reason
        try:
            container = engine.inspect_container(self.container_id)
            target = container.name
            if not container.running:
                raise engine.EngineError(f"Container {container.name} is not running.")
            dangerous = policy.check(user, container.host_config)
            if self.attach:
                if not container.tty:
                    raise engine.EngineError(f"Container {container.name} has no terminal (it was not run with -it).")
                self.terminal = engine.Attached(
                    container.id, detach_keys=self.detach_keys, rows=self.rows, cols=self.cols
                )
            else:
                self.terminal = engine.Terminal(
                    container.id,
                    ["sh", "-c", self.command or SHELL],
                    user=self.exec_user,
                    workdir=self.workdir,
                    rows=self.rows,
                    cols=self.cols,
                )
        except policy.Refused as exc:
            reason = (
                f"Only Admins may open a terminal in {target}, which reaches the host through {'; '.join(exc.reasons)}"
            )
            record(self.request, OPEN, target, "denied", error=reason, engine=self.engine_name, refused=exc.reasons)
            return reason
        except engine.EngineError as exc:
            record(
                self.request, OPEN, target, "failed", error=exc.message, engine=self.engine_name, command=self.command
            )
            return exc.message
        self.target = container.name
        self.cast = Cast(self.cols, self.rows, f"{self.command or 'shell'} in {container.name} on {self.engine_name}")
        record(
            self.request,
            OPEN,
            container.name,
            "succeeded",
            target_id=container.id,
            engine=self.engine_name,
            command=self.command or "(shell)",
            user=self.exec_user or None,
            workdir=self.workdir or None,
            exec_id=self.terminal.exec_id,
            dangerous=dangerous or None,
        )
        return ""

    def _pump(self) -> None:
        """The engine's output to the browser, on a thread of its own (a read blocks)."""
        terminal = self.terminal
        while data := terminal.read():
            asyncio.run_coroutine_threadsafe(self._output(data), self.loop).result()
        asyncio.run_coroutine_threadsafe(self._end(None), self.loop)

    async def _output(self, data: bytes) -> None:
        self.bytes_out += len(data)
        self.cast.add("o", data)
        await self.send(bytes_data=data)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        terminal = self.terminal
        if terminal is None:
            return
        if bytes_data is not None:
            self.last_input = time.monotonic()
            self.bytes_in += len(bytes_data)
            self.cast.add("i", bytes_data)
            with suppress(engine.EngineError):  # ended meanwhile: the close frame follows
                await asyncio.to_thread(terminal.write, bytes_data)
            return
        try:
            cols, rows = (int(n) for n in json.loads(text_data)["resize"])
        except (ValueError, KeyError, TypeError):
            return
        if 0 < cols <= MAX_SIZE and 0 < rows <= MAX_SIZE:
            self.cast.add("r", f"{cols}x{rows}")
            with engine.using(self.engine_name), suppress(engine.EngineError):
                await sync_to_async(terminal.resize, thread_sensitive=False)(rows, cols)

    async def _watch(self) -> None:
        """End the session when it has been idle too long, or its user may no longer have it."""
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            if time.monotonic() - self.last_input > settings.TERMINAL_IDLE_SECONDS:
                await self._end(f"idle for {settings.TERMINAL_IDLE_SECONDS} s")
                return
            if not await database_sync_to_async(self._still_allowed)():
                await self._end("the user may no longer open terminals here")
                return

    def _still_allowed(self) -> bool:
        user = get_user_model().objects.filter(pk=self.request.user.pk).first()
        return user is not None and has_role(user, OPERATOR, self.engine_name)

    async def _end(self, why: str | None) -> None:
        """Close the browser's side and the engine's, once, whoever ends first."""
        terminal, self.terminal = self.terminal, None
        if terminal is None:
            return
        if asyncio.current_task() is not self.watch:
            self.watch.cancel()
        with engine.using(self.engine_name):
            await sync_to_async(terminal.close, thread_sensitive=False)()
            exit_code = await sync_to_async(terminal.exit_code, thread_sensitive=False)()
        if why is None:  # the stream ended on the engine's side
            why = "the command exited"
            if self.attach:
                why = "the container exited" if exit_code is not None else "detached; the container keeps running"
        kept = await database_sync_to_async(recording.save)(
            self.cast,
            engine=self.engine_name,
            container=self.target,
            container_id=terminal.container_id,
            actor_name=self.request.user.get_username(),
        )
        await database_sync_to_async(record)(
            self.request,
            CLOSE,
            self.target,
            "succeeded",
            target_id=terminal.container_id,
            engine=self.engine_name,
            command=self.command or "(shell)",
            why=why,
            exit_code=exit_code,
            seconds=round(time.monotonic() - self.started, 1),
            bytes_in=self.bytes_in,
            bytes_out=self.bytes_out,
            recording=kept.pk,
            recording_sha256=kept.sha256,
            recording_truncated=kept.truncated or None,
        )
        if why != "the browser closed it":
            await self.send(text_data=json.dumps({"closed": why, "exit_code": exit_code}))
            await self.close()

    async def disconnect(self, code: int) -> None:
        await self._end("the browser closed it")


websocket_urlpatterns = [
    path("engines/<slug:engine>/containers/<str:container_id>/terminal/socket/", TerminalConsumer.as_asgi()),
]
