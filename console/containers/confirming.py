"""What a destructive container action will do, said before it is done (console/confirm.py): the bulk
Remove, and Kill and Remove on a container's page."""

from __future__ import annotations

from django.urls import reverse

from console import engine
from console.confirm import Question


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def bulk_remove(ids: list[str], force: bool, cancel: str) -> Question:
    items, running, missing = [], 0, 0
    for ref in ids:
        try:
            c = engine.inspect_container(ref)  # as it is now, not as a list last saw it
        except engine.EngineError:
            missing += 1
            items.append((ref[:12], "not found on the engine: nothing is done to it"))
            continue
        if c.running:
            running += 1
            what = "killed, then removed" if force else "the engine refuses to remove it without force; it stays"
        else:
            what = "removed"
        items.append((c.name, f"{c.status} ({c.image}): {what}"))
    count = _plural(len(ids), "container")
    notes = ["Each container's writable layer (files changed inside it) is deleted; this cannot be undone."]
    if running and force:
        notes.insert(0, f"Force is on: {_plural(running, 'running container')} will be killed and removed.")
    elif running:
        notes.insert(0, f"{_plural(running, 'container')} running: without force the engine refuses to remove them.")
    if missing:
        notes.append(f"{_plural(missing, 'container')} could not be found.")
    return Question(
        title=f"Remove {count}?",
        intro=f"You are about to remove {count}{' with force' if force else ''}:",
        button=f"Remove {count}",
        cancel=cancel,
        items=items,
        notes=notes,
    )


def single(action: str, container: engine.ContainerDetail, params: dict) -> Question:
    """Kill or Remove on one container's page."""
    cancel = reverse("container_detail", args=[engine.current(), container.id])
    label = f"{container.name} ({container.short_id})"
    if action == "kill":
        signal = params["signal"]
        notes = (
            ["The process stops at once: it has no chance to finish its work or shut down cleanly."]
            if signal == "SIGKILL"
            else [f"What the container's main process does on {signal} is up to it."]
        )
        notes.append(f"Restart policy: {container.restart_policy}.")
        return Question(
            title=f"Send {signal} to {container.name}?",
            intro=f"You are about to send {signal} to {label}, which is {container.status}.",
            button=f"Send {signal}",
            cancel=cancel,
            notes=notes,
        )
    notes = ["Its writable layer (files changed inside it) is deleted; this cannot be undone."]
    if container.running:
        notes.insert(
            0,
            "It is running: force kills it first."
            if params["force"]
            else "It is running: without force the engine refuses to remove it.",
        )
    notes.append(
        "Its anonymous volumes are removed too; named volumes stay." if params["volumes"] else "Its volumes stay."
    )
    return Question(
        title=f"Remove {container.name}?",
        intro=f"You are about to remove {label}, which is {container.status}{' (forced)' * params['force']}.",
        button=f"Remove {container.name}",
        cancel=cancel,
        notes=notes,
    )
