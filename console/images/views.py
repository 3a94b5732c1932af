from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console import engine


def image_list(request: HttpRequest) -> HttpResponse:
    try:
        images, error = engine.list_images(), ""
    except engine.EngineError as exc:
        images, error = [], exc.message
    return render(request, "images/list.html", {"images": images, "error": error})
