"""The one place that writes the audit trail."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from console import secrets
from console.audit.models import AuditEvent, ChainHead
from console.engine.core import scoped

OUTSIDE = "outside the console"
SYSTEM = "console"
# An event says what happened, not everything a caller handed over: longer details are cut, saying so.
ERROR_LIMIT = 4000
VALUE_LIMIT = 2000
PARAMS_LIMIT = 16000
# Tighter cuts (characters of a value, items of a list or dict) tried in turn when the details are still
# longer than PARAMS_LIMIT, so that what is kept stays key: value pairs rather than a cut JSON text.
TIGHTER = ((200, 20), (80, 5))


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (truncated: {len(text)} characters)"


def _bounded(value: Any, chars: int = VALUE_LIMIT, items: int | None = None) -> Any:
    if isinstance(value, dict):
        pairs = list(value.items())
        kept = {str(k)[:200]: _bounded(v, chars, items) for k, v in pairs[:items]}
        if items is not None and len(pairs) > items:
            kept["…"] = f"{len(pairs) - items} more"
        return kept
    if isinstance(value, list | tuple):
        kept = [_bounded(v, chars, items) for v in value[:items]]
        return [*kept, f"… {len(value) - items} more"] if items is not None and len(value) > items else kept
    if isinstance(value, str):
        return _cut(value, chars)
    return value


def _size(value: Any) -> int:
    return len(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str))


def _details(params: dict[str, Any]) -> dict[str, Any]:
    """What an event keeps of a caller's params: secrets masked (console.secrets), sizes bounded."""
    masked = secrets.mask({k: v for k, v in params.items() if v is not None})
    kept = _bounded(masked)
    if (size := _size(kept)) <= PARAMS_LIMIT:
        return kept
    for chars, items in TIGHTER:
        tighter = _bounded(masked, chars, items)
        note = f"the details were {size} characters; values are cut to {chars} characters, lists to {items} items"
        if _size(tighter) <= PARAMS_LIMIT - len(note) - 20:
            return {**tighter, "truncated": note}
    text = json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str)
    return {
        "truncated": f"the details were {size} characters; the first {PARAMS_LIMIT} are kept",
        "head": text[:PARAMS_LIMIT],
    }


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def record(
    who: HttpRequest | AbstractBaseUser | str | None,
    action: str,
    target: str,
    outcome: str,
    *,
    target_id: str = "",
    error: str = "",
    job_id: int | None = None,
    engine: str | None = None,
    **params: Any,
) -> AuditEvent:
    """Append one event to the hash chain. `who` is a request, a user, or a name."""
    actor_id, actor_name, ip, agent, request_id = None, SYSTEM, "", "", ""
    user = who
    if isinstance(who, HttpRequest):
        user = getattr(who, "user", None)
        ip = client_ip(who)
        agent = who.META.get("HTTP_USER_AGENT", "")[:300]
        request_id = getattr(who, "request_id", "")
    if isinstance(user, str):
        actor_name = user
    elif user is not None and not isinstance(user, AnonymousUser) and user.is_authenticated:
        actor_id, actor_name = user.pk, user.get_username()
    elif isinstance(who, HttpRequest):
        actor_name = "anonymous"
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            id=head.last_id + 1,
            created=timezone.now(),
            engine=(scoped() or "") if engine is None else engine,
            actor_id=actor_id,
            actor_name=actor_name[:150],
            source_ip=ip,
            user_agent=agent,
            request_id=request_id,
            action=action,
            target=str(target)[:500],
            target_id=str(target_id)[:200],
            params=_details(params),
            outcome=outcome,
            error=_cut(secrets.mask_text(str(error)), ERROR_LIMIT),
            job_id=job_id,
            prev_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save()
        head.last_id, head.last_hash = event.pk, event.hash
        head.save(update_fields=["last_id", "last_hash"])
    return event


# action -> a check of what events of that action hold by its hash: (the first bad event, what is wrong) or
# (None, ""). An app adds its own when it is ready (the terminal's recordings), so this module imports none.
HELD_BY_HASH: dict[str, Callable[[Iterable[AuditEvent]], tuple[AuditEvent | None, str]]] = {}


def verify() -> tuple[int, AuditEvent | None, str]:
    """Walk the chain; return (events checked, first bad event, what is wrong)."""
    prev_hash = "0" * 64
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != prev_hash:
            return count, event, "does not follow the event before it (a row was deleted, inserted or moved)"
        if event.compute_hash() != event.hash:
            return count, event, "its content does not match its hash (the row was changed)"
        prev_hash = event.hash
        count += 1
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != prev_hash:
        return count, None, "the newest events are missing (the chain ends before its recorded head)"
    # What events hold only by its hash (a terminal session's recording): each app that keeps such a thing
    # checks it, given its events oldest first.
    for action, check in HELD_BY_HASH.items():
        bad, problem = check(AuditEvent.objects.filter(action=action).order_by("id").iterator(chunk_size=2000))
        if bad is not None or problem:
            return count, bad, problem
    return count, None, ""
