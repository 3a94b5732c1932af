from django.conf import settings
from django.core.cache import cache

from console import engine, snapshot
from console.accounts.roles import ADMIN, OPERATOR, has_role


def engine_problem() -> str:
    """Why the engine cannot be reached, or "" — asked at most every few seconds per process."""
    # A watcher following the engine already knows; then no page pings it.
    if (known := snapshot.engine_problem()) is not None:
        return known
    key = f"engine-problem:{settings.DOCKER_HOST}"
    problem = cache.get(key)
    if problem is None:
        try:
            engine.ping()
            problem = ""
        except engine.EngineError as exc:
            problem = exc.message
        cache.set(key, problem, 3)
    return problem


def console(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"engine_name": settings.ENGINE_NAME}
    return {
        "engine_name": settings.ENGINE_NAME,
        "engine_address": settings.DOCKER_HOST,
        "engine_problem": engine_problem(),
        "can_operate": has_role(user, OPERATOR),
        "is_admin": has_role(user, ADMIN),
    }
