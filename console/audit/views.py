from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console.audit.models import AuditEvent


def audit_list(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.all()
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "audit/list.html", {"page": page})
