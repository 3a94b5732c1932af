import json

from django import template

register = template.Library()


@register.filter
def ps_command(command: str) -> str:
    """COMMAND as `docker ps` prints it: cut to 20 characters with an ellipsis, then quoted."""
    if len(command) > 20:
        command = command[:19] + "…"
    return json.dumps(command, ensure_ascii=False)
