"""The console's own filters, for every app's templates (`{% load console_tags %}`, registered in settings)."""

import json
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

register = template.Library()


def _scaled(value, base: int, units: list[str]) -> tuple[float, str] | None:
    """`value` in the largest of `units` (each `base` times the last) that keeps it at least 1."""
    try:
        size = float(value)
    except (TypeError, ValueError):
        return None
    i = 0
    while size >= base and i < len(units) - 1:
        size /= base
        i += 1
    return size, units[i]


@register.filter
def docker_size(value) -> str:
    """Sizes as the docker CLI prints them: decimal units, three significant digits (13.3kB, 167MB)."""
    if (scaled := _scaled(value, 1000, ["B", "kB", "MB", "GB", "TB", "PB"])) is None:
        return ""
    size, unit = scaled
    text = f"{size:.3g}"
    return f"{size:.0f}{unit}" if "e" in text else f"{text}{unit}"


@register.filter
def binary_size(value) -> str:
    """Memory as `docker info` and `docker stats` print it: four significant digits, binary units (1.5MiB, 23.54GiB)."""
    if (scaled := _scaled(value, 1024, ["B", "KiB", "MiB", "GiB", "TiB"])) is None:
        return ""
    return f"{scaled[0]:.4g}{scaled[1]}"


_IN_QUOTES = str.maketrans({"&": "\\u0026", "<": "\\u003c", ">": "\\u003e", "'": "\\u0027"})


@register.filter
def hx_vals(live_token: str) -> str:
    """A live partial's `hx-vals='…'`: JSON, whose strings escape what could end the quoted attribute,
    so whatever the token holds (filter text) stays one value."""
    return mark_safe(json.dumps({"v": str(live_token)}).translate(_IN_QUOTES))  # noqa: S308 (escaped above)


@register.filter
def ago(value: datetime | None) -> str:
    """'2 months ago', as docker's CLI says it, in lower case: it is read mid-sentence ("Computed less than a
    minute ago")."""
    if not value:
        return ""
    delta = timezone.now() - value
    if delta.total_seconds() < 60:
        return "less than a minute ago" if delta.total_seconds() >= 1 else "less than a second ago"
    return timesince(value, depth=1).replace("\xa0", " ") + " ago"


@register.filter
def error_for(job, user) -> str:
    """A failed job's error as `user` may read it; everyone else learns that it failed."""
    from console.accounts.roles import HIDDEN_ERROR, reads_engine_errors

    if job.state != "failed" or not job.error:
        return job.error
    return job.error if reads_engine_errors(user, [job.requested_by_name, *job.joined_by]) else HIDDEN_ERROR


@register.filter
def event_error_for(event, user) -> str:
    from console.accounts.roles import engine_error_as_read_by

    return engine_error_as_read_by(user, event)


@register.filter
def operates_on(user, engine_name: str) -> bool:
    """The user may act (Operator or more) on that engine: for rows of pages that span engines."""
    from console.accounts.roles import OPERATOR, has_role

    return has_role(user, OPERATOR, engine_name)
