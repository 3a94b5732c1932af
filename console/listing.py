"""The one list idiom: sort by a column from a whitelist (`?sort=key&dir=asc|desc`), render a window
of at most LIST_WINDOW rows, and say how many more match.

Templates draw the headers with `templates/includes/sort_headers.html` and the note with
`templates/includes/more.html`; every list that cuts rows off says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


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
