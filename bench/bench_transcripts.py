"""Benchmarks for the transcripts app (run: .venv/bin/python bench/bench_transcripts.py).

Measures, on whatever database DATABASE_URL names (SQLite by default):
- parsing + importing a 10,000-word interview (parse, then the service writes text and turns);
- rendering the reading page of a transcript with 1,000 turns (the whole request);
- rendering the transcript list with 1,000 transcripts, and its query count.

Each step runs several times; the median and the worst are printed, with peak memory of the
parse (tracemalloc). Not a test: numbers go to bench/RESULTS.md by hand.
"""

import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

PHRASE = (
    "we trained the model together and the community reviewed every dataset before it went "
    "into the mix because licences matter and so do the people who wrote the text"
)
WORDS = PHRASE.split()


def interview(words: int, turns: int) -> str:
    per_turn = words // turns
    lines = []
    for n in range(turns):
        speaker = "Interviewer" if n % 2 == 0 else "I1"
        said = " ".join(WORDS[(n + k) % len(WORDS)] for k in range(per_turn))
        lines.append(f"[{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}] {speaker}: {said}")
    return "\n\n".join(lines) + "\n"


def timed(label, fn, runs=7):
    samples = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    print(f"{label:<52} median {statistics.median(samples):8.1f} ms   worst {max(samples):8.1f} ms")
    return result


def main():
    from django.test.utils import get_runner  # noqa: F401

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run():
    from tests.factories import consented_participant
    from transcripts.formats import parse_transcript
    from transcripts.models import Transcript
    from transcripts.selectors import imports as importing
    from transcripts.services import imports as import_services
    from workbench.models import Study  # noqa: F401
    from workbench.services import members as member_services
    from workbench.services import studies as study_services

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.contrib.auth import get_user_model

    lead = get_user_model().objects.create_user("bench", password="x")
    study = study_services.study_create(actor=lead, name="Bench")
    member_services.member_set_roles(actor=lead, study=study, user=lead, roles={"admin", "lead"})
    print(f"database: {connection.vendor}")

    text = interview(10_000, 400)
    data = text.encode()
    tracemalloc.start()
    parse_transcript("big.txt", data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"10,000-word file: {len(data) / 1024:.0f} KiB, parse peak memory {peak / 2**20:.1f} MiB")
    timed("parse 10,000 words / 400 turns", lambda: parse_transcript("big.txt", data))

    participants = [consented_participant(study, f"I{n}", actor=lead) for n in range(12)]
    counter = iter(range(10_000))

    def import_once():
        n = next(counter)
        body = data + f"\n\nI1: run {n}\n".encode()
        [candidate], _ = importing.examine([("big.txt", body)], participants[0])
        return import_services.transcript_import(
            actor=lead,
            study=study,
            participant=participants[0],
            parsed=candidate.parsed,
            filename="big.txt",
            original_sha256=candidate.sha256,
            original_size=len(body),
            speaker_roles=candidate.roles,
        )

    timed("parse + import 10,000 words (400 turns)", import_once)

    long_text = interview(30_000, 1000)
    [candidate], _ = importing.examine([("long.txt", long_text.encode())], participants[1])
    long = import_services.transcript_import(
        actor=lead,
        study=study,
        participant=participants[1],
        parsed=candidate.parsed,
        filename="long.txt",
        original_sha256=candidate.sha256,
        original_size=len(long_text),
        speaker_roles=candidate.roles,
    )
    client = Client()
    client.force_login(lead)
    page = reverse("transcript_detail", args=[study.slug, long.pk])
    timed("reading page, 1,000 turns", lambda: client.get(page))
    timed("reading page, 1,000 turns, find 'licences'", lambda: client.get(page, {"q": "licences"}))

    Transcript.objects.bulk_create(
        Transcript(
            study=study,
            participant=participants[n % 12],
            title=f"T{n}",
            text="x",
            text_sha256="0" * 64,
            source_format="text",
            original_sha256=f"{n:064d}",
            imported_by=lead,
        )
        for n in range(1000 - Transcript.objects.count())
    )
    listing = reverse("transcript_list", args=[study.slug])
    timed(f"transcript list, {Transcript.objects.count()} transcripts", lambda: client.get(listing))
    with CaptureQueriesContext(connection) as queries:
        client.get(listing)
    print(f"transcript list queries: {len(queries.captured_queries)}")


if __name__ == "__main__":
    main()
