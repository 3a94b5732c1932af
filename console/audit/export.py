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


def as_dict(event: AuditEvent) -> dict:
    row = {name: getattr(event, name) for name in FIELDS}
    row["created"] = event.created.isoformat(timespec="microseconds")
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


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(FIELDS)
    for event in events:
        yield writer.writerow([_cell(v) for v in as_dict(event).values()])


def jsonl_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    for event in events:
        yield json.dumps(as_dict(event), ensure_ascii=False) + "\n"


def export(fmt: str, events: QuerySet[AuditEvent]) -> Iterator[str]:
    """Stream the events, oldest first, in `fmt` ("csv" or "jsonl")."""
    rows = events.order_by("id").iterator(chunk_size=2000)
    return csv_lines(rows) if fmt == "csv" else jsonl_lines(rows)
