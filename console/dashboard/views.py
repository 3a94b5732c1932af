from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console import engine
from console.audit.models import AuditEvent
from console.htmx import htmx_partial
from console.jobs.models import Job


def index(request: HttpRequest) -> HttpResponse:
    try:
        summary, error = engine.summary(), ""
    except engine.EngineError as exc:
        summary, error = None, exc.message
    ctx = {
        "summary": summary,
        "summary_error": error,
        "active_jobs": Job.objects.exclude(state__in=Job.TERMINAL)[:10],
        "recent_jobs": Job.objects.filter(state__in=Job.TERMINAL)[:5],
        "recent_events": AuditEvent.objects.all()[:8],
    }
    template = "dashboard/index.html#live" if htmx_partial(request) else "dashboard/index.html"
    response = render(request, template, ctx)
    response["Vary"] = "HX-Request"
    return response
