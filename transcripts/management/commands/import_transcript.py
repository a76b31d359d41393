"""Import transcript files from the command line, with the same checks as the browser."""

from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from transcripts.models import SpeakerRole
from transcripts.selectors import imports as importing
from transcripts.services import imports as import_services
from workbench.access import member_perms
from workbench.models import Study

User = get_user_model()


class Command(BaseCommand):
    help = (
        "Import transcripts for one participant. Good files are imported, bad ones listed; "
        "the exit status is 1 when any file was refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="study slug")
        parser.add_argument("--participant", required=True, help="pseudonym code, e.g. I3")
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            help="the member the audit trail records as importer (needs import rights)",
        )
        parser.add_argument(
            "--role",
            action="append",
            default=[],
            metavar="LABEL=ROLE",
            help="speaker role (interviewer, participant, other); repeatable. "
            "Unmapped speakers get a guess, as in the browser preview.",
        )
        parser.add_argument("--interview-date", type=date.fromisoformat, default=None)
        parser.add_argument("--language", default="")
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args, **options):
        study = Study.objects.filter(slug=options["study"]).first()
        if study is None:
            raise CommandError(f"No study with the slug {options['study']!r}.")
        user = User.objects.filter(username=options["username"]).first()
        if user is None or "import_transcripts" not in member_perms(user, study):
            raise CommandError(f"{options['username']} may not import transcripts into {study}.")
        participant = study.participants.filter(code__iexact=options["participant"]).first()
        if participant is None:
            raise CommandError(f"{study} has no participant {options['participant']!r}.")
        roles = {}
        for mapping in options["role"]:
            label, _, role = mapping.partition("=")
            if role not in SpeakerRole.values:
                raise CommandError(
                    f"--role {mapping!r}: the role must be one of {SpeakerRole.values}."
                )
            roles[label] = role

        files = []
        failed = 0
        for path in options["files"]:
            try:
                files.append((path.name, path.read_bytes()))
            except OSError as exc:
                self.stderr.write(f"✗ {path}: cannot read it ({exc.strerror}).")
                failed += 1
        candidates, rejected = importing.examine(files, participant)
        for item in rejected:
            self.stderr.write(f"✗ {item.problem}")
        failed += len(rejected)
        for candidate in candidates:
            try:
                transcript = import_services.transcript_import(
                    actor=user,
                    study=study,
                    participant=participant,
                    parsed=candidate.parsed,
                    filename=candidate.name,
                    original_sha256=candidate.sha256,
                    original_size=candidate.size,
                    speaker_roles=candidate.roles | roles,
                    unlabelled_speaker=importing.unlabelled_speaker(candidate, participant),
                    interview_date=options["interview_date"],
                    language=options["language"],
                )
            except ValidationError as exc:
                self.stderr.write(f"✗ {candidate.name}: {' '.join(exc.messages)}")
                failed += 1
                continue
            self.stdout.write(
                f"✓ {candidate.name}: {len(candidate.parsed.turns)} turns, "
                f"speakers {', '.join(s or '(none)' for s in candidate.parsed.speakers)} "
                f"→ transcript {transcript.pk}"
            )
        if failed:
            raise SystemExit(1)
