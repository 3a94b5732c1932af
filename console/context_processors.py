import functools

from django.core.cache import cache
from django.template.loader import render_to_string

from console import engine, snapshot
from console.accounts.roles import ADMIN, OPERATOR, global_role, has_role, visible_engines


def engine_problem() -> str:
    """Why the engine cannot be reached, or "" — asked at most every few seconds per process."""
    # A watcher following the engine already knows; then no page pings it.
    if (known := snapshot.engine_problem()) is not None:
        return known
    key = f"engine-problem:{engine.address()}"
    problem = cache.get(key)
    if problem is None:
        try:
            engine.ping()
            problem = ""
        except engine.EngineError as exc:
            problem = exc.message
        cache.set(key, problem, 3)
    return problem


@functools.lru_cache(maxsize=256)
def _switcher(entries: tuple[tuple[str, str], ...], current: str) -> str:
    """The engine switcher's entries, drawn once per set of engines and current engine (every page has it:
    a link reversed per engine on every request cost more than the rest of the nav)."""
    return render_to_string("includes/switcher.html", {"entries": entries, "current": current})


def _shown_engine(request, visible: list):
    """The engine a page shows: its own, or on the pages that span engines the one last visited."""
    if request.engine is not None:
        if request.session.get("engine") != request.engine.name:
            request.session["engine"] = request.engine.name  # saved only when it changes
        return request.engine
    last = request.session.get("engine")
    return next((row for row in visible if row.name == last), visible[0] if visible else None)


def console(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    visible = visible_engines(user)
    shown = _shown_engine(request, visible)
    scoped = request.engine is not None
    return {
        "engine": shown,
        "engine_switcher": _switcher(tuple((row.name, row.description) for row in visible), shown.name)
        if shown
        else "",
        "engine_name": shown.name if shown else "",
        "engine_address": shown.address if shown else "",
        # An engine's troubles are shown on its own pages only.
        "engine_problem": engine_problem() if scoped else "",
        "engine_insecure": scoped and shown.kind == "tcp",
        # On an engine's pages (and a job's) the role there; elsewhere the global role.
        "can_operate": has_role(user, OPERATOR),
        "is_admin": global_role(user) == ADMIN,  # users, engines, registry credentials
    }
