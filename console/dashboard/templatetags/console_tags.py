from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def docker_size(value) -> str:
    """Sizes as the docker CLI prints them: decimal units, three significant digits (13.3kB, 167MB)."""
    try:
        size = float(value)
    except (TypeError, ValueError):
        return ""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    text = f"{size:.3g}"
    if "e" in text:
        text = f"{size:.0f}"
    return f"{text}{units[i]}"


@register.filter
def ago(value: datetime | None) -> str:
    """'2 months ago', as docker's CLI says it."""
    if not value:
        return ""
    delta = timezone.now() - value
    if delta.total_seconds() < 60:
        return "Less than a minute ago" if delta.total_seconds() >= 1 else "Less than a second ago"
    return timesince(value, depth=1).replace("\xa0", " ") + " ago"


@register.filter
def error_for(job, user) -> str:
    """A failed job's error as `user` may read it: the engine's text is for whoever asked and for Admins
    (it can say what answers on the engine's host); everyone else learns that it failed."""
    from console.accounts.roles import ADMIN, has_role

    if job.state != "failed" or not job.error:
        return job.error
    if user.pk == job.requested_by_id or user.get_username() in job.joined_by or has_role(user, ADMIN):
        return job.error
    return "The job failed; its error is shown to whoever asked for it and to Admins."
