"""Print a study's intercoder agreement — the same numbers as the agreement page."""

import csv
import json

from django.core.management.base import BaseCommand, CommandError

from coding.selectors import agreement as agreement_report
from workbench.models import Study


class Command(BaseCommand):
    help = (
        "Intercoder agreement between the two layers of each transcript (both submitted): "
        "agreement and Cohen's kappa on characters, Krippendorff's alpha on utterances and "
        "unitizing alpha, overall, per code and per transcript. Every figure, in JSON and CSV "
        "alike, is on 0-1: agreement_proportion is the share of characters both or neither "
        "coder coded (NVivo's percentage / 100). Per code, kappa is Cohen's kappa of all "
        "transcripts' characters pooled (kappa_verdict: reliable, tentative, unreliable, or "
        "no-agreement when the coders share no coded character); kappa_nvivo_mean is NVivo's "
        "size-weighted mean of the per-transcript kappas, where a transcript in which neither "
        "coder used the code counts as 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="study slug")
        parser.add_argument(
            "--transcript", type=int, action="append", help="transcript id (repeatable)"
        )
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument(
            "--speaker-aware",
            action="store_true",
            help="count only what non-interviewers said",
        )

    def handle(self, *args, **options):
        study = Study.objects.filter(slug=options["study"]).first()
        if study is None:
            raise CommandError(f"No study with the slug “{options['study']}”.")
        report = agreement_report.build(
            study,
            transcript_ids=options["transcript"],
            speaker_aware=options["speaker_aware"],
        )
        if options["transcript"] and not report.transcripts:
            raise CommandError("None of those transcripts has both layers submitted in this study.")
        if options["format"] == "json":
            self.stdout.write(json.dumps(agreement_report.as_json(report), indent=2))
            return
        fields, rows = agreement_report.flat_rows(report)
        writer = csv.DictWriter(self.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
