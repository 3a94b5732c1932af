from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console.accounts.roles import ADMIN, role_required
from console.engines.models import Engine


@role_required(ADMIN, "engine.list")
def engine_list(request: HttpRequest) -> HttpResponse:
    return render(request, "engines/list.html", {"rows": Engine.objects.all()})
