from django import template
from django.urls import NoReverseMatch, resolve, reverse

from console.accounts.roles import can_see_engine, has_role
from console.audit.models import AuditEvent

register = template.Library()


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
