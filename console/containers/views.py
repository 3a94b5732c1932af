from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console import engine


def container_list(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("all") == "1"
    try:
        containers, error = engine.list_containers(all=show_all), ""
    except engine.EngineError as exc:
        containers, error = [], exc.message
    return render(request, "containers/list.html", {"containers": containers, "show_all": show_all, "error": error})
