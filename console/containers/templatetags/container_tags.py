import json

from django import template

register = template.Library()


@register.filter
def ps_command(command: str) -> str:
    """COMMAND as `docker ps` prints it: cut to 20 characters with an ellipsis, then quoted."""
    if len(command) > 20:
        command = command[:19] + "…"
    return json.dumps(command, ensure_ascii=False)


@register.filter
def binary_size(value) -> str:
    """Memory as `docker stats` prints it: 1.5MiB, 23.54GiB."""
    try:
        size = float(value)
    except (TypeError, ValueError):
        return ""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    i = 0
    while size >= 1024 and i < len(units) - 1:
        size /= 1024
        i += 1
    return f"{size:.4g}{units[i]}" if i else f"{int(size)}B"
