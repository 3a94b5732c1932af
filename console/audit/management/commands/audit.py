import sys

from django.core.management.base import BaseCommand, CommandError

from console.audit.record import verify


class Command(BaseCommand):
    help = "Check the audit trail's hash chain (verify)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("verify", help="walk the chain and fail on the first bad event")

    def handle(self, *args, verb: str, **options):
        if verb == "verify":
            count, bad, problem = verify()
            if problem:
                where = f"event {bad.pk} ({bad})" if bad is not None else "the chain's end"
                raise CommandError(f"Audit chain broken at {where}: {problem}. {count} events before it are intact.")
            self.stdout.write(f"Audit chain intact: {count} events.")
            sys.stdout.flush()
