"""The one list idiom: sort by a column from a whitelist (`?sort=key&dir=asc|desc`), render a window
of at most LIST_WINDOW rows, and say how many more match.

Templates draw the headers with `templates/includes/sort_headers.html` and the note with
`templates/includes/more.html`; every list that cuts rows off says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import get_template, render_to_string

from console import engine, snapshot

# Seconds a list rendered from the snapshot is served as it is: its "5 minutes ago" and "Up 2 hours" age that much.
RENDER_SECONDS = 10


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort_key: Callable[[Any], Any]
    first: str = "asc"  # the direction a click on an unsorted column sorts
    num: bool = False  # numbers align right


@dataclass(frozen=True)
class Sort:
    column: Column
    descending: bool
    headers: list[dict[str, Any]]

    @property
    def key(self) -> str:
        return self.column.key

    def apply(self, rows: list) -> list:
        return sorted(rows, key=self.column.sort_key, reverse=self.descending)


def sort_of(request: HttpRequest, columns: Sequence[Column], default: str) -> Sort:
    """The sort the request asks for, if its column is one of `columns`; else `default` its natural way."""
    by_key = {c.key: c for c in columns}
    key = request.GET.get("sort", "")
    key = key if key in by_key else default
    descending = request.GET.get("dir", by_key[key].first) == "desc"
    headers = [
        {
            "key": c.key,
            "label": c.label,
            "num": c.num,
            "active": c.key == key,
            # A click on the sorted column turns it round; on another, sorts it its natural way.
            "dir": ("asc" if descending else "desc") if c.key == key else c.first,
        }
        for c in columns
    ]
    return Sort(by_key[key], descending, headers)


@dataclass(frozen=True)
class Window:
    rows: list
    matched: int
    first: int = 1  # the number of the first row shown, counting from 1

    @property
    def more(self) -> int:
        """How many matching rows are not shown."""
        return self.matched - len(self.rows)

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def window(rows: list | QuerySet) -> Window:
    """The first LIST_WINDOW rows of a list or queryset, and how many match in all."""
    size = settings.LIST_WINDOW
    shown = list(rows[:size])
    if len(shown) < size:
        return Window(shown, len(shown))
    return Window(shown, len(rows) if isinstance(rows, list) else rows.count())


def page(rows: QuerySet, number: str | None, size: int) -> tuple[Window, Any]:
    """One page of `size` rows, as a window (its note says which rows of how many), and the page for its links."""
    current = Paginator(rows, size).get_page(number)
    return Window(list(current.object_list), current.paginator.count, current.start_index() or 1), current


def shared_render(request: HttpRequest, kind: str, template: str, context: Callable[[], dict], *variant: object) -> str:
    """A list rendered from the snapshot of `kind`, once for everyone who asks for the same rows the same way:
    kept under the snapshot's stamp, the engine, the query string and `variant` (what differs between viewers,
    such as their role), for RENDER_SECONDS at most. A new snapshot of the kind is a new stamp, so a change is
    shown at once. Without a watcher keeping the snapshot, every request renders afresh."""
    made = snapshot.stamp(kind)
    if not made:
        return render_to_string(template, context(), request)
    parts = (engine.current(), engine.address(), made, template, settings.LIST_WINDOW, sorted(request.GET.lists()))
    key = "render:" + hashlib.sha256(repr((*parts, *variant)).encode()).hexdigest()
    renders = caches["renders"]
    html = renders.get(key)
    if html is None:
        html = render_to_string(template, context(), request)
        renders.set(key, html, RENDER_SECONDS)
    return html


def rendered_rows(template: str, rows: Sequence[Any], **context: Any) -> list[str]:
    """Each row's HTML (`template` renders one, as `r`, with `context`), rendered once per what the row holds and
    the context, for RENDER_SECONDS at most (its ages move), whoever asks: a list of rows that did not change
    costs a lookup each, not a rendering, with the snapshot or without."""
    kept = caches["rows"]
    keys = [f"row:{hashlib.sha256(repr((template, row, context)).encode()).hexdigest()}" for row in rows]
    found = kept.get_many(keys)
    made = {}
    one = get_template(template)
    for key, row in zip(keys, rows, strict=True):
        if key not in found:
            found[key] = made[key] = one.render({"r": row, **context})
    if made:
        kept.set_many(made, RENDER_SECONDS)
    return [found[key] for key in keys]
