"""The terminal: `docker exec -it` in the browser (xterm.js over a WebSocket on the console's one ASGI server),
who may open one, and what the audit trail keeps of it."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from urllib.parse import urlencode

import docker
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from playwright.sync_api import expect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from console.audit.models import AuditEvent
from console.terminals.models import Recording
from tests.conftest import sign_in, wait_until

SCREEN = (
    "() => [...document.querySelectorAll('.xterm-rows > div')]"
    ".map(r => r.textContent.replace(/\\u00a0/g, ' ').trimEnd()).join('\\n')"
)

# A paste, as the browser hands one to xterm.js (headless Chromium has no clipboard shortcut to press).
PASTE = """text => {
  const data = new DataTransfer();
  data.setData('text/plain', text);
  document.querySelector('#terminal textarea').dispatchEvent(
    new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
}"""


def screen(page) -> str:
    return page.evaluate(SCREEN)


def wait_screen(page, predicate, what: str) -> str:
    page.wait_for_function(f"(() => {{ const s = ({SCREEN})(); return {predicate}; }})", timeout=15_000)
    return screen(page)


def socket_url(base: str, engine_name: str, container_id: str, **query: str) -> str:
    ws = base.replace("http", "ws", 1)
    return f"{ws}/engines/{engine_name}/containers/{container_id}/terminal/socket/?{urlencode(query)}"


def cookie_of(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def open_socket(base: str, user, engine_name: str, container_id: str, origin: str | None = None, **query):
    return connect(
        socket_url(base, engine_name, container_id, **query),
        additional_headers={"Cookie": cookie_of(user), "Origin": origin or base},
        open_timeout=30,
    )


def read_until(ws, text: bytes, limit: int = 400) -> bytes:
    seen = b""
    for _ in range(limit):
        frame = ws.recv(timeout=20)
        seen += frame if isinstance(frame, bytes) else frame.encode()
        if text in seen:
            return seen
    raise AssertionError(f"{text!r} not in {seen[-500:]!r}")


def test_an_operator_types_resizes_interrupts_and_exits_in_a_real_terminal(lab, operator, asgi_page):
    up = lab.httpd()
    page = asgi_page
    sign_in(page, operator.username)
    page.goto(f"/engines/local/containers/{up.id}/")
    page.click("#open-terminal")
    page.click("#terminal-form button[type=submit]")
    expect(page.locator("#terminal-state")).to_have_text("Connected.")
    page.locator("#terminal").click()

    word = f"hello-{uuid.uuid4().hex[:8]}"
    page.keyboard.type(f"echo {word}\n")
    wait_screen(page, f"s.split('\\n').some(l => l.trim() === '{word}')", "the echo")

    page.evaluate(PASTE, "echo pasted-$((6*7))\n")
    wait_screen(page, "s.split('\\n').some(l => l.trim() === 'pasted-42')", "the paste")

    page.keyboard.type("echo size-$(stty size | tr ' ' x)\n")
    before = wait_screen(page, "/size-\\d+x\\d+/.test(s.replace(/\\$\\(stty/g, ''))", "stty size")
    first = next(line.strip() for line in before.splitlines() if line.strip().startswith("size-"))
    page.set_viewport_size({"width": 800, "height": 600})
    page.keyboard.type("clear; echo size-$(stty size | tr ' ' x)\n")
    after = wait_screen(page, f"/^size-\\d+x\\d+$/m.test(s) && !s.includes('{first}')", "a new stty size")
    second = next(line.strip() for line in after.splitlines() if line.strip().startswith("size-"))
    assert second != first

    page.keyboard.type("sleep 100\n")
    # Ctrl-C once the sleep runs: pressed while the shell still reads the line, it would interrupt the shell.
    wait_until(lambda: sleeping(up), message="the sleep to run in the container")
    page.keyboard.press("Control+C")
    page.keyboard.type("echo after-$?\n")
    wait_screen(page, "s.split('\\n').some(l => l.trim() === 'after-130')", "the interrupted sleep")

    page.keyboard.type("exit\n")
    expect(page.locator("#terminal-state")).to_contain_text("Closed: the command exited")
    opened = AuditEvent.objects.get(action="terminal.open")
    closed = AuditEvent.objects.get(action="terminal.close")
    assert (opened.outcome, opened.actor_name, opened.target, opened.engine) == (
        "succeeded",
        operator.username,
        up.name,
        "local",
    )
    assert closed.params["why"] == "the command exited" and closed.params["bytes_in"] > len(word)
    assert closed.params["bytes_out"] > 0 and closed.params["exit_code"] == 0


def test_a_viewer_is_refused_and_the_refusal_audited(lab, viewer, asgi_server):
    up = lab.httpd()
    with pytest.raises(InvalidStatus) as refused:
        open_socket(asgi_server, viewer, "local", up.id)
    assert refused.value.response.status_code == 403
    event = AuditEvent.objects.get(action="terminal.open")
    assert (event.outcome, event.actor_name) == ("denied", viewer.username) and "Operator" in event.error
    assert lab.get(up.name).attrs["ExecIDs"] is None  # nothing was started in it


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:{port}", None])
def test_a_page_of_another_origin_is_refused_and_the_refusal_audited(lab, operator, asgi_server, origin):
    up = lab.httpd()
    port = asgi_server.rsplit(":", 1)[1]
    headers = {"Cookie": cookie_of(operator)}
    if origin:
        headers["Origin"] = origin.format(port=port)
    with pytest.raises(InvalidStatus) as refused:
        connect(socket_url(asgi_server, "local", up.id), additional_headers=headers, open_timeout=30)
    assert refused.value.response.status_code == 403
    event = AuditEvent.objects.get(action="terminal.open")
    assert (event.outcome, event.actor_name) == ("denied", operator.username) and "another origin" in event.error


def test_only_an_admin_opens_a_terminal_in_a_container_that_binds_a_host_path(lab, operator, admin, asgi_server):
    up = lab.httpd(volumes={"/tmp": {"bind": "/host-tmp", "mode": "ro"}})
    with pytest.raises(InvalidStatus):
        open_socket(asgi_server, operator, "local", up.id)
    event = AuditEvent.objects.get(action="terminal.open")
    assert event.outcome == "denied" and "bind mount of the host path /tmp" in event.error
    with open_socket(asgi_server, admin, "local", up.id, command="echo admin-$((6*7))") as ws:
        read_until(ws, b"admin-42")


@pytest.mark.parametrize("engine_name", ["tls", "ssh"])
def test_a_terminal_works_on_the_tls_and_ssh_engines(fleet, admin, asgi_server, engine_name):
    socket = os.environ[{"tls": "LAB_TLS_SOCKET", "ssh": "LAB_SSH_SOCKET"}[engine_name]]
    client = docker.DockerClient(base_url=socket)
    client.images.pull("httpd", tag="2.4")
    up = client.containers.run("httpd:2.4", name=f"t-term-{uuid.uuid4().hex[:8]}", detach=True)
    try:
        with open_socket(asgi_server, admin, engine_name, up.id) as ws:
            ws.send(b"echo on-$((40+2))\n")
            read_until(ws, b"on-42")
            ws.send(b"exit\n")
            read_until(ws, b'"closed"')
        assert AuditEvent.objects.get(action="terminal.close").engine == engine_name
        # Closed from the browser's side: the stream ends on every transport, and the shell with it.
        with open_socket(asgi_server, admin, engine_name, up.id) as ws:
            ws.send(b"echo again-$((40+2))\n")
            read_until(ws, b"again-42")
            assert shells_in(client, up)
        wait_until(lambda: not shells_in(client, up), message="the shell to end")
        closes = AuditEvent.objects.filter(action="terminal.close")
        wait_until(lambda: closes.count() == 2, message="the second close event")
        assert [e.params["why"] for e in closes] == ["the browser closed it", "the command exited"]
    finally:
        up.remove(force=True)
        client.close()


def shells_in(engine, container) -> list[str]:
    """The terminal's shells still running in a container (the lab's httpd image has sh, not bash); `engine`: the
    lab fixture, or a docker client."""
    found = engine.get(container.name) if hasattr(engine, "get") else engine.containers.get(container.name)
    return [p for p in found.top(ps_args="-eo pid,args")["Processes"] if p[-1] in ("sh", "bash")]


def sleeping(container) -> bool:
    return any(p[-1] == "sleep 100" for p in container.top(ps_args="-eo pid,args")["Processes"])


def closed_reason(ws) -> str:
    """Read to the end of the stream; the reason the console gave for closing it."""
    while True:
        frame = ws.recv(timeout=20)
        if isinstance(frame, str):
            return json.loads(frame)["closed"]


def test_closing_the_socket_ends_the_shell_in_the_container(lab, operator, asgi_server):
    up = lab.httpd()
    with open_socket(asgi_server, operator, "local", up.id) as ws:
        ws.send(b"echo ready-$((1+1))\n")
        read_until(ws, b"ready-2")
        assert shells_in(lab, up)
    wait_until(lambda: not shells_in(lab, up), message="the shell to end")
    closed = wait_until(lambda: AuditEvent.objects.filter(action="terminal.close").first(), message="the close event")
    assert closed.params["why"] == "the browser closed it"


def test_deactivating_a_user_closes_their_terminal_at_once(lab, operator, admin_client, asgi_server):
    up = lab.httpd()
    with open_socket(asgi_server, operator, "local", up.id) as ws:
        ws.send(b"echo ready-$((1+1))\n")
        read_until(ws, b"ready-2")
        assert shells_in(lab, up)
        assert admin_client.post(f"/users/{operator.pk}/deactivate/").status_code == 302
        assert closed_reason(ws) == "the user may no longer open terminals here"
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=20)
    assert not shells_in(lab, up)


def test_an_idle_terminal_is_closed(lab, operator, asgi_server, settings):
    settings.TERMINAL_IDLE_SECONDS = 1
    up = lab.httpd()
    with open_socket(asgi_server, operator, "local", up.id) as ws:
        assert closed_reason(ws) == "idle for 1 s"
    assert AuditEvent.objects.get(action="terminal.close").params["why"] == "idle for 1 s"


def test_the_recording_replays_the_session_and_verify_fails_when_it_is_edited(lab, operator, viewer, asgi_page):
    up = lab.httpd()
    word = f"replay-{uuid.uuid4().hex[:8]}"
    with open_socket(asgi_page.base, operator, "local", up.id, cols="90", rows="30") as ws:
        ws.send(json.dumps({"resize": [100, 40]}))
        ws.send(f"echo {word}\n".encode())
        read_until(ws, f"{word}\r\n".encode())
        ws.send(b"exit\n")
        closed_reason(ws)
    closed = AuditEvent.objects.get(action="terminal.close")
    recording = Recording.objects.get(pk=closed.params["recording"])
    header, *events = [json.loads(line) for line in recording.cast.splitlines()]
    assert (header["version"], header["width"], header["height"]) == (2, 90, 30)
    assert [e[2] for e in events if e[1] == "r"] == ["100x40"]
    assert "".join(e[2] for e in events if e[1] == "i") == f"echo {word}\nexit\n"
    assert closed.params["recording_sha256"] == hashlib.sha256(recording.cast.encode()).hexdigest()

    page = asgi_page
    sign_in(page, operator.username)
    page.goto(f"/audit/{closed.pk}/")
    page.click("#event-recording")
    player = page.locator("#recording-player")  # the terminal the player replays into, and its controls
    expect(player).to_contain_text(word)
    download = page.request.get(f"/recordings/{recording.pk}.cast")
    assert download.ok and download.text() == recording.cast
    other = Client()
    other.force_login(viewer)
    assert other.get(f"/recordings/{recording.pk}/").status_code == 403  # a Viewer who did not type in it

    call_command("audit", "verify")
    Recording.objects.filter(pk=recording.pk).update(cast=recording.cast.replace(word, "nothing-to-see"))
    with pytest.raises(CommandError, match=f"the terminal recording it names \\({recording.pk}\\) was changed"):
        call_command("audit", "verify")


def test_old_recordings_are_purged_and_verify_still_passes(lab, operator, asgi_server, settings):
    up = lab.httpd()
    with open_socket(asgi_server, operator, "local", up.id, command="true") as ws:
        closed_reason(ws)
    recording = Recording.objects.get()
    settings.TERMINAL_RECORDING_DAYS = 0
    call_command("recordings", "purge")
    assert not Recording.objects.exists()
    assert AuditEvent.objects.get(action="terminal.purge").params["count"] == 1
    call_command("audit", "verify")
    # A recording deleted otherwise (no purge covers it) breaks verify.
    with open_socket(asgi_server, operator, "local", up.id, command="true") as ws:
        closed_reason(ws)
    Recording.objects.exclude(pk=recording.pk).delete()
    with pytest.raises(CommandError, match="deleted without a purge"):
        call_command("audit", "verify")


def test_run_it_opens_the_containers_own_terminal_and_the_detach_keys_leave_it_running(
    lab, operator, asgi_page, job_runner
):
    lab.pull("httpd", "2.4")
    name = lab.name("it")
    page = asgi_page
    sign_in(page, operator.username)
    page.goto("/engines/local/containers/run/")
    page.fill("#id_image", "httpd:2.4")
    page.fill("#id_name", name)
    page.fill("#id_command", "sh")
    page.check("#id_interactive")
    page.get_by_role("button", name="Run").click()
    page.click("#run-terminal")
    expect(page.locator("#terminal-state")).to_have_text("Connected.")
    page.locator("#terminal").click()
    page.keyboard.type("echo it-$((2*21))\n")
    wait_screen(page, "s.split('\\n').some(l => l.trim() === 'it-42')", "the echo")
    page.keyboard.press("Control+P")
    page.keyboard.press("Control+Q")
    expect(page.locator("#terminal-state")).to_have_text("Closed: detached; the container keeps running.")
    assert lab.get(name).status == "running"
    assert lab.get(name).attrs["Config"]["Tty"] is True


def test_a_recording_is_bounded_and_says_where_it_was_cut(lab, operator, asgi_server, settings):
    settings.TERMINAL_RECORDING_LIMIT = 4000
    up = lab.httpd()
    with open_socket(asgi_server, operator, "local", up.id, command="seq 1 20000") as ws:
        assert closed_reason(ws) == "the command exited"
    closed = AuditEvent.objects.get(action="terminal.close")
    recording = Recording.objects.get(pk=closed.params["recording"])
    assert closed.params["bytes_out"] > 100_000 and closed.params["recording_truncated"] is True
    assert recording.truncated and len(recording.cast) < 4000 + 200
    assert "the recording stops here: it reached its limit of 4000 bytes" in recording.cast
