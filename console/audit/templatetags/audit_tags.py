import json
from typing import Any

from django import template
from django.urls import NoReverseMatch, resolve, reverse
from django.utils.text import Truncator

from console import engine, snapshot
from console.accounts.roles import can_see_engine, has_role
from console.audit.models import AuditEvent

register = template.Library()


def _has_container(request, engine_name: str, ref: str) -> bool:
    """Whether the engine still has a container with this id or name: from the snapshot (one listing per
    page and engine, no inspect per row), so a removed container, or a run's image, is not linked."""
    known = request.__dict__.setdefault("_audit_containers", {})
    if engine_name not in known:
        try:
            with engine.using(engine_name):
                raw = snapshot.read("containers")[1]
        except engine.EngineError:  # the engine cannot answer: link nothing rather than break the trail
            raw = []
        known[engine_name] = {c["Id"] for c in raw} | {n.lstrip("/") for c in raw for n in c.get("Names") or []}
    return ref in known[engine_name]


@register.simple_tag(takes_context=True)
def target_url(context, event: AuditEvent) -> str:
    """The page of what an event concerns — `<kind>_detail` for its id when a feature has one, else
    `<kind>_list` — or "" when there is none, or the viewer's role may not open it."""
    kind = event.action.partition(".")[0]
    kind = "user" if kind == "role" else kind
    ref = event.target_id or event.target
    user = context["request"].user
    scope = [event.engine] if event.engine else []  # an engine's pages live under it
    if event.engine and not can_see_engine(user, event.engine):
        return ""
    if kind == "container" and not (event.engine and _has_container(context["request"], event.engine, ref)):
        return ""
    for name, args in ((f"{kind}_detail", [*scope, ref]), (f"{kind}_list", scope)):
        try:
            url = reverse(name, args=args)
        except NoReverseMatch:
            continue
        needed = getattr(resolve(url).func, "required_role", None)
        if needed and not has_role(user, needed, event.engine or None):
            return ""
        return f"{url}#user-{event.target_id}" if kind == "user" and event.target_id else url
    return ""


SUMMARY_PAIRS = 4  # key: value pairs a row of the trail shows; the event's page shows them all
SUMMARY_CHARS = 80  # characters of each value shown in a row


def _one_line(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def params_summary(params: dict) -> dict:
    """What a row of the trail shows of an event's details: the first few pairs, each value cut short."""
    pairs = sorted(params.items())
    shown = [(key, Truncator(_one_line(value)).chars(SUMMARY_CHARS)) for key, value in pairs[:SUMMARY_PAIRS]]
    return {"pairs": shown, "more": len(pairs) - len(shown)}


def _lines(value: Any, depth: int) -> list[tuple[int, str]]:
    if isinstance(value, dict):
        return [line for key, item in sorted(value.items()) for line in _pair(str(key), item, depth)]
    if isinstance(value, list | tuple):
        return [line for item in value for line in _pair("-", item, depth)]
    return [(depth, _one_line(value))]


def _pair(key: str, value: Any, depth: int) -> list[tuple[int, str]]:
    """`key: value`, or for a list item `- value`; a nested value goes on indented lines under its key."""
    lead = "-" if key == "-" else f"{key}:"
    if isinstance(value, dict | list | tuple) and value:
        return [(depth, lead), *_lines(value, depth + 1)]
    return [(depth, f"{lead} {_one_line(value)}")]


@register.filter
def params_lines(params: dict) -> list[str]:
    """An event's details as readable lines: `key: value`, nested values indented under their key."""
    return ["  " * depth + text for depth, text in _lines(params, 0)]
