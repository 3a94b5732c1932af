import sys

from django.core.management.base import BaseCommand, CommandError

from console.audit.export import FORMATS, export
from console.audit.forms import AuditFilterForm
from console.audit.models import AuditEvent
from console.audit.record import verify


class Command(BaseCommand):
    help = "Check the audit trail's hash chain (verify), or write it out (export)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("verify", help="walk the chain and fail on the first bad event")
        out = sub.add_parser("export", help="write the (filtered) trail to stdout, oldest first")
        out.add_argument("--format", choices=sorted(FORMATS), default="jsonl")
        for name, field in AuditFilterForm.base_fields.items():
            out.add_argument(f"--{name}", default="", help=field.help_text)

    def handle(self, *args, verb: str, **options):
        if verb == "export":
            self.export(options)
            return
        count, bad, problem = verify()
        if problem:
            where = f"event {bad.pk} ({bad})" if bad is not None else "the chain's end"
            raise CommandError(f"Audit chain broken at {where}: {problem}. {count} events before it are intact.")
        self.stdout.write(f"Audit chain intact: {count} events.")
        sys.stdout.flush()

    def export(self, options) -> None:
        form = AuditFilterForm({name: options[name] for name in AuditFilterForm.base_fields})
        if not form.is_valid():
            raise CommandError(f"Bad filter: {form.problems()}")
        for line in export(options["format"], form.filter(AuditEvent.objects.all())):
            self.stdout.write(line, ending="")
