from functools import partial

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from console.accounts.roles import engine_error_as_read_by, global_role, visible_engines
from console.audit.export import FORMATS, export
from console.audit.forms import AuditFilterForm
from console.audit.models import AuditEvent
from console.listing import page

PER_PAGE = 50


def visible_events(user) -> QuerySet[AuditEvent]:
    """The events of the engines a user can see, and (with a global role) those of no engine: sign-ins,
    users, engines, registry credentials."""
    engines = [row.name for row in visible_engines(user)]
    if global_role(user) is not None:
        engines.append("")
    return AuditEvent.objects.filter(engine__in=engines)


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    events = form.filter(visible_events(request.user).order_by("-id")) if form.is_valid() else AuditEvent.objects.none()
    shown, current = page(events, request.GET.get("page"), PER_PAGE)
    ctx = {
        "form": form,
        "window": shown,
        "page": current,
        "engine_names": [row.name for row in visible_engines(request.user)],
        "known_users": AuditEvent.objects.order_by("actor_name").values_list("actor_name", flat=True).distinct(),
        "known_actions": AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct(),
    }
    return render(request, "audit/list.html", ctx)


@require_GET
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One event in full; an event of an engine the user cannot see does not exist for them."""
    event = get_object_or_404(visible_events(request.user), pk=pk)
    return render(request, "audit/detail.html", {"event": event})


@require_GET
def audit_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404("No such export format.")
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(f"Bad filter: {form.problems()}", content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(
        export(fmt, form.filter(visible_events(request.user)), partial(engine_error_as_read_by, request.user)),
        content_type=FORMATS[fmt],
    )
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%dT%H%M%SZ}.{fmt}"'
    return response
