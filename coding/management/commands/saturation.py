"""Print a study's saturation analysis — the same numbers as the saturation page."""

import json

from django.core.management.base import BaseCommand, CommandError

from coding.formats.saturation import TABLES, csv_table
from coding.selectors.saturation import INFORMATION, MODES, SaturationParams, StudyWide, analyse
from workbench.models import Study


class Command(BaseCommand):
    help = (
        "Thematic saturation per interview, in interview order (interview date, then the "
        "lead's order): new first-level codes, themes and categories (deductive/inductive), "
        "codebook changes made while coding each interview, cumulative counts; Guest, Namey & "
        "Chen (2020)'s runs and verdicts; Francis et al. (2010)'s stopping criterion; meaning "
        "stability per code. JSON prints everything; CSV prints one table (--table). The "
        "command reads the whole study (no coder's blindness applies on the command line)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="study slug")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--table", choices=TABLES, default="interviews", help="for CSV")
        parser.add_argument(
            "--layer", default="consensus", help="'consensus' or a coder's username"
        )
        parser.add_argument("--information", choices=sorted(INFORMATION), default="themes")
        parser.add_argument("--base", default="4", help="base size (interviews)")
        parser.add_argument("--run", default="2", help="run length (interviews)")
        parser.add_argument(
            "--thresholds", default="5, 0", help="new-information thresholds in %% (e.g. '5, 0')"
        )
        parser.add_argument("--mode", choices=sorted(MODES), default="sliding")
        parser.add_argument("--initial", default="10", help="Francis et al.: initial sample")
        parser.add_argument(
            "--consecutive", default="3", help="interviews in a row with nothing new"
        )

    def handle(self, *args, **options):
        study = Study.objects.filter(slug=options["study"]).first()
        if study is None:
            raise CommandError(f"No study with the slug “{options['study']}”.")
        params, errors = SaturationParams.from_data(
            {
                name: options[name]
                for name in (
                    "layer",
                    "information",
                    "base",
                    "run",
                    "thresholds",
                    "mode",
                    "initial",
                    "consecutive",
                )
            }
        )
        if errors:
            raise CommandError(" ".join(f"--{k}: {v}" for k, v in sorted(errors.items())))
        evidence = analyse(StudyWide(study), params).evidence()
        if options["format"] == "json":
            self.stdout.write(json.dumps(evidence, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(csv_table(evidence, options["table"]), ending="")
