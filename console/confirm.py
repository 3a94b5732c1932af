"""Destructive actions say what they will do before they do it, as the CLI's y/N does: a POST without
`confirm=yes` answers with a page that names what will happen, whose button sends the same POST with
`confirm=yes`. The role and policy checks run before either, as they always have."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM = "confirm"


def confirmed(request: HttpRequest) -> bool:
    return request.POST.get(CONFIRM) == "yes"


@dataclass(frozen=True)
class Question:
    title: str  # "Remove 3 containers?"
    intro: str  # "You are about to remove these 3 containers:"
    button: str  # "Remove 3 containers"
    cancel: str  # where Cancel goes
    items: list[tuple[str, str]] = field(default_factory=list)  # (name, what happens to it)
    notes: list[str] = field(default_factory=list)  # warnings, space to be freed, …


def ask(request: HttpRequest, question: Question) -> HttpResponse:
    """The confirmation page: what will happen, and the same form again with confirm=yes."""
    fields = [
        (key, value)
        for key, values in request.POST.lists()
        if key not in ("csrfmiddlewaretoken", CONFIRM)
        for value in values
    ]
    ctx = {"q": question, "fields": fields, "action": request.path}
    return render(request, "confirm.html", ctx)
