"""Container pages: the list (`docker ps` / `ps -a`), one container's details, and their live parts."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from console import engine, policy, snapshot
from console.accounts.roles import ADMIN, OPERATOR, has_role
from console.containers import stats
from console.containers.actions import SIGNALS
from console.htmx import htmx_partial
from console.images.updates import update_context
from console.listing import Column, rendered_rows, shared_render, sort_of, window
from console.secrets import mask, visible_env

SHOW_ALL = "containers.show_all"  # the session key that remembers the ps / ps -a switch
_OLDEST = datetime.min.replace(tzinfo=UTC)
COLUMNS = [
    Column("id", "Container ID", lambda c: c.id),
    Column("image", "Image", lambda c: c.image.lower()),
    Column("command", "Command", lambda c: c.command),
    Column("created", "Created", lambda c: c.created or _OLDEST, first="desc"),
    Column("status", "Status", lambda c: (c.state, c.status)),
    Column("ports", "Ports", lambda c: c.ports),
    Column("names", "Names", lambda c: c.names.lower()),
]
STATES = ["running", "paused", "restarting", "created", "exited", "removing", "dead"]
LOG_TAILS = [100, 200, 500, 1000]
LOG_WINDOW = 1000  # lines the page holds (static/containers.js drops older ones); also a poll's most
LOG_SEARCH_LINES = 100_000  # a filter searches at most the log's last this many lines…
LOG_SEARCH_BYTES = 64 * 1024 * 1024  # …and reads at most this much of it
LOG_FILTER_MAX = 200


def _show_all(request: HttpRequest) -> bool:
    if "all" in request.GET and request.session.get(SHOW_ALL) != (request.GET["all"] == "1"):
        request.session[SHOW_ALL] = request.GET["all"] == "1"
    return bool(request.session.get(SHOW_ALL, False))


def _matches(row: engine.ContainerRow, query: str) -> bool:
    text = " ".join((row.id, row.names, row.image, row.command, row.status, row.ports)).lower()
    return all(word in text for word in query.lower().split())


def _list_query(request: HttpRequest, query: str, show_all: bool) -> str:
    """The list's filter, switch and order, which a bulk action sends back to return to the same list."""
    kept = {"q": query, "all": "1" if show_all else "0"}
    kept.update({key: request.GET[key] for key in ("sort", "dir") if request.GET.get(key)})
    return urlencode({key: value for key, value in kept.items() if value})


@require_GET
@vary_on_headers("HX-Request")
def container_list(request: HttpRequest) -> HttpResponse:
    show_all = _show_all(request)
    query = request.GET.get("q", "").strip()
    sort = sort_of(request, COLUMNS, "created")
    operator = has_role(request.user, OPERATOR)
    available = update_context()["updates_available"]

    def table() -> dict:
        try:
            containers, error = snapshot.containers(all=True), ""
        except engine.EngineError as exc:
            containers, error = [], exc.message
        counts = Counter(c.state for c in containers)
        rows = [c for c in containers if (show_all or c.state in engine.RUNNING_STATES) and _matches(c, query)]
        shown = window(sort.apply(rows))
        return {
            "window": shown,
            "rows": rendered_rows(
                "containers/list.html#row",
                shown.rows,
                engine_name=engine.current(),
                can_operate=operator,
                updates_available=available,
            ),
            "show_all": show_all,
            "query": query,
            "sort": sort,
            "counts": [(state, counts[state]) for state in STATES if counts[state]],
            "total": len(containers),
            "error": error,
            "list_query": _list_query(request, query, show_all),
        }

    # The table is rendered once per snapshot for everyone with the same view; the switch is in the session.
    html = shared_render(request, "containers", "containers/list.html#table", table, show_all, operator, available)
    if htmx_partial(request):
        return HttpResponse(html)
    return render(request, "containers/list.html", {"show_all": show_all, "query": query, "table": html})


def _inspect(container_id: str) -> engine.ContainerDetail:
    try:
        return engine.inspect_container(container_id)
    except engine.NotFound:
        raise Http404(f"No such container: {container_id}") from None


@require_GET
def container_detail(request: HttpRequest, container_id: str) -> HttpResponse:
    try:
        container = _inspect(container_id)
    except engine.EngineError as exc:
        return render(request, "containers/detail.html", {"error": exc.message, "container_id": container_id})
    admin = has_role(request.user, ADMIN)
    if not admin:
        # What the container was started with can hold secrets too: --password=…, labels named like one.
        args, cmd, labels = mask(container.args), mask(container.cmd), mask(container.labels)
        container = replace(container, args=args, cmd=cmd, entrypoint=mask(container.entrypoint), labels=labels)
    ctx = {
        "c": container,
        "env": visible_env(container.env, admin),
        "signals": SIGNALS,
        # The exec form is offered only to whom the policy lets in; the POST is checked again all the same.
        "exec_refused": [] if admin or not container.running else _host_reaching(container),
        **update_context(),
    }
    return render(request, "containers/detail.html", ctx)


def _host_reaching(container: engine.ContainerDetail) -> list[str]:
    try:
        return policy.host_reaching(container.host_config)
    except engine.EngineError as exc:
        return [f"the engine could not say whether it reaches the host ({exc.message})"]


def _number(text: str | None, default: int) -> int:
    try:
        return max(int(text or default), 0)
    except ValueError:
        return default


@require_GET
def container_logs(request: HttpRequest, container_id: str) -> HttpResponse:
    """The last lines (a fresh window), or, when the page polls with its cursor, only the newer ones; with a
    filter, the lines holding its text, searched for in the whole log (bounded) on the server."""
    polling = "after" in request.GET
    after = _number(request.GET.get("after"), 0)
    tail = _number(request.GET.get("tail"), 200)
    tail = tail if tail in LOG_TAILS else 200
    query = request.GET.get("q", "").strip()[:LOG_FILTER_MAX]
    ctx: dict = {"container_id": container_id, "log_tails": LOG_TAILS, "tail": tail, "q": query}
    search = None
    try:
        if query and not polling:
            search = engine.search_logs(
                container_id, query, scan=LOG_SEARCH_LINES, keep=tail, max_bytes=LOG_SEARCH_BYTES
            )
            lines = search.lines
        else:
            lines = engine.read_logs(container_id, tail=LOG_WINDOW if polling else tail, after=after)
    except engine.NotFound:
        return HttpResponseStopPolling()
    except engine.EngineError as exc:
        if polling:
            return HttpResponse(status=204)
        return render(request, _logs_template(request), {**ctx, "log_error": exc.message})
    cursor = lines[-1].nanos if lines else after
    if search is not None:
        cursor = search.last  # the filter's matches end earlier than what it read
    if query:
        needle = query.casefold()
        lines = [line for line in lines if needle in line.text.casefold()]
    if polling and not lines:
        # Nothing to show, but what was read moves the cursor on: the poller is swapped in with it.
        return (
            HttpResponse(status=204)
            if cursor == after
            else render(request, "containers/detail.html#log_poll", {**ctx, "lines": [], "cursor": cursor})
        )
    ctx.update(
        {"lines": lines, "cursor": cursor, "window": LOG_WINDOW, "search": search, "search_limit": LOG_SEARCH_LINES}
    )
    return render(request, "containers/detail.html#log_poll" if polling else _logs_template(request), ctx)


def _logs_template(request: HttpRequest) -> str:
    """The whole logs card on the page's first load; only its lines and summary when its controls ask."""
    return "containers/detail.html#log_body" if request.GET.get("part") == "body" else "containers/detail.html#logs"


@require_GET
def container_logs_download(request: HttpRequest, container_id: str) -> HttpResponse:
    try:
        container = _inspect(container_id)
        chunks = engine.log_download(container.id, timestamps=request.GET.get("timestamps") == "1")
    except engine.EngineError as exc:
        messages.error(request, exc.message)
        return redirect("container_detail", engine=engine.current(), container_id=container_id)
    response = StreamingHttpResponse(chunks, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{container.name or container.short_id}.log"'
    return response


@require_GET
def container_stats(request: HttpRequest, container_id: str) -> HttpResponse:
    try:
        sample = engine.container_stats(container_id)
    except engine.NotFound:
        return render(request, "containers/detail.html#stats", {"container_id": container_id})
    except engine.EngineError as exc:
        ctx = {"container_id": container_id, "stats_error": exc.message, "polling": True}
        return render(request, "containers/detail.html#stats", ctx)
    ctx = {"container_id": container_id, "polling": sample.running}
    if sample.running:
        ctx.update(stats.live(sample, request.GET.dict()))
    return render(request, "containers/detail.html#stats", ctx)


@require_GET
def container_top(request: HttpRequest, container_id: str) -> HttpResponse:
    ctx: dict = {"container_id": container_id}
    try:
        ctx["titles"], ctx["processes"] = engine.container_top(container_id)
    except engine.EngineError as exc:
        ctx["top_error"] = exc.message
    return render(request, "containers/detail.html#top", ctx)
