from django.conf import settings
from django.core.management.base import BaseCommand

from console.terminals.recording import purge


class Command(BaseCommand):
    help = (
        "Terminal recordings: `purge` deletes those older than TERMINAL_RECORDING_DAYS (run it daily, e.g. from cron)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("purge", help="delete the recordings older than TERMINAL_RECORDING_DAYS")

    def handle(self, *args, verb: str, **options):
        count = purge()
        self.stdout.write(f"{count} terminal recordings older than {settings.TERMINAL_RECORDING_DAYS} days deleted.")
