"""The audit trail as CSV or JSON Lines, oldest first, with the hashes that chain it."""

import csv
import json
import unicodedata
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from console.audit.models import AuditEvent

FIELDS = [
    "id",
    "created",
    "engine",
    "actor_id",
    "actor_name",
    "source_ip",
    "user_agent",
    "request_id",
    "action",
    "target",
    "target_id",
    "params",
    "outcome",
    "error",
    "job_id",
    "prev_hash",
    "hash",
]
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
_FORMULA = ("=", "+", "-", "@")


def as_dict(event: AuditEvent, error_as_read=None) -> dict:
    """The event's fields; `error_as_read(event)` gives its error as the reader may read it."""
    row = {name: getattr(event, name) for name in FIELDS}
    row["created"] = event.created.isoformat(timespec="microseconds")
    if error_as_read is not None:
        row["error"] = error_as_read(event)
    return row


def _cell(value) -> str:
    if value is None:
        return ""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False) if isinstance(value, dict) else str(value)
    # A spreadsheet would run a cell that starts like a formula; sign-in names are typed by anyone. Spreadsheets
    # skip leading blanks and read full-width ＝ ＋ － ＠ as = + - @, so the check does too.
    if text.startswith(("\t", "\r")) or unicodedata.normalize("NFKC", text).lstrip().startswith(_FORMULA):
        return "'" + text
    return text


class _Line:
    def write(self, line: str) -> str:
        return line


def csv_lines(events: Iterable[AuditEvent], error_as_read=None) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(FIELDS)
    for event in events:
        yield writer.writerow([_cell(v) for v in as_dict(event, error_as_read).values()])


def jsonl_lines(events: Iterable[AuditEvent], error_as_read=None) -> Iterator[str]:
    for event in events:
        yield json.dumps(as_dict(event, error_as_read), ensure_ascii=False) + "\n"


def export(fmt: str, events: QuerySet[AuditEvent], error_as_read=None) -> Iterator[str]:
    """Stream the events, oldest first, in `fmt` ("csv" or "jsonl")."""
    rows = events.order_by("id").iterator(chunk_size=2000)
    return csv_lines(rows, error_as_read) if fmt == "csv" else jsonl_lines(rows, error_as_read)
