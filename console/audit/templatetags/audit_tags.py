from django import template
from django.urls import NoReverseMatch, resolve, reverse

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


@register.filter
def params_text(params: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(params.items()))
