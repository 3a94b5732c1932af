import platform

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

import console
from console import engine
from console.accounts.roles import OPERATOR, role_required
from console.jobs.models import Job
from console.jobs.runner import enqueue


def index(request: HttpRequest) -> HttpResponse:
    ctx = {
        "console_version": console.__version__,
        "sdk_version": engine.sdk_version(),
        "python_version": platform.python_version(),
        "last_df": Job.objects.filter(kind="system.df", state=Job.State.SUCCEEDED).order_by("-finished").first(),
    }
    try:
        ctx["info"] = engine.info()
        ctx["version"] = engine.version()
        ctx["api_version"] = engine.api_version()
    except engine.EngineError as exc:
        ctx["error"] = exc.message
    return render(request, "system/index.html", ctx)


@require_POST
@role_required(OPERATOR, "system.df")
def refresh_disk_usage(request: HttpRequest) -> HttpResponse:
    job = enqueue(request, "system.df", "disk usage", "system.df")
    return redirect("job_detail", job_id=job.pk)


@require_GET
@never_cache
@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: says whether the console serves, and nothing else."""
    from django.db import connection

    try:
        connection.ensure_connection()
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
