"""Delete import previews nobody confirmed: schedule it (hourly is plenty; see README)."""

from django.core.management.base import BaseCommand

from transcripts.services import staging


class Command(BaseCommand):
    help = (
        "Delete staged import previews older than a day, and those of participants who have "
        "withdrawn. Schedule it (cron, a systemd timer or your platform's scheduler)."
    )

    def handle(self, *args, **options):
        expired = staging.sweep_expired()
        withdrawn = staging.sweep_withdrawn()
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Deleted {expired} expired import preview{'s' if expired != 1 else ''} and "
                f"{withdrawn} of withdrawn participants."
            )
