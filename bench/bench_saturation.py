"""Benchmark of the saturation page of issue 13 (run: .venv/bin/python bench/bench_saturation.py).

Builds its own database on whatever DATABASE_URL names (SQLite by default, in a temporary file;
PostgreSQL: ``test_<name>`` next to the named database, dropped afterwards) with one study:

- a lead (Lena), two coders, the admin who made the study;
- 5 categories, 100 themes (20 per category), 2,000 first-level codes (20 per theme, every
  tenth also in a second theme; a fifth of them inductive);
- 200 interviews (``--quick``: 20) of ~3,000 characters, one consented participant each, with
  interview dates over 2026 (every tenth date shared by two interviews, ordered by the lead),
  imported through the real parser and service; a reconciliation per interview;
- 100,000 consensus codings (``--quick``: 10,000), 500 per interview, codes drawn so that the
  study's vocabulary grows quickly at first and then slowly (each interview draws mostly from
  the codes already seen, some from the not-yet-seen ones, fewer as the study goes on), as a
  saturating study does; every coding of the same code in one interview counts once;
- 3,000 codebook versions: every code created before coding, 800 redefinitions placed on the
  interview being coded, 200 away from coding. All bulk-created, then ANALYZEd (PostgreSQL:
  VACUUM ANALYZE).

Settings are production-like: DEBUG off (cached template loader, hashed static files collected
into a temporary STATIC_ROOT), ``--debug`` keeps it on.

Measured, whole requests through Django's test client signed in as the lead (force_login),
median and worst of N after a warm-up, with the query count of each request:

1. the saturation page with the default parameters (target ≤ 300 ms);
2. a parameter change, as the page's form sends it with htmx (only the analysis is swapped):
   run length 3, stepping runs, first-level codes as the information (target ≤ 150 ms each);
3. the CSV download and the analysis alone (``analyse``, no HTTP), for reference.

``--profile`` prints the top functions of cProfile for each request. Not a test: numbers go to
bench/RESULTS.md by hand. Exits 1 if a target is missed.
"""

import argparse
import cProfile
import io
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from _common import OPENERS, QUESTIONS, SENTENCES

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 interviews, 10,000 codings")
    parser.add_argument("--debug", action="store_true", help="keep DEBUG on (no template cache)")
    parser.add_argument("--profile", action="store_true", help="print cProfile for each request")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (e.g. tottime)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


ARGS = parse_args()
SEED = 2029
INTERVIEWS = 20 if ARGS.quick else 200
CONSENSUS = 10_000 if ARGS.quick else 100_000
THEMES, CODES_PER_THEME, CATEGORIES = 100, 20, 5
N = 3 if ARGS.quick else 10
WARMUP = 1 if ARGS.quick else 2
TARGETS_MS = {"page": 300, "change": 150}

STATIC_ROOT = tempfile.mkdtemp(prefix="bench_saturation_static_")
os.environ.update(
    {
        "DEBUG": "1" if ARGS.debug else "0",
        "SECRET_KEY": "bench-saturation-throwaway-key-never-used-anywhere-else-0123456789abcd",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_ROOT": STATIC_ROOT,
        "LOG_LEVEL": "ERROR",
    }
)
os.environ["DJANGO_SETTINGS_MODULE"] = "workbench.settings"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402


def interview(rng: random.Random, label: str) -> str:
    lines, size = [], 0
    while size < 3_000:
        said = rng.choice(OPENERS)
        while len(said) < 200:
            said += " " + rng.choice(SENTENCES)
        for speaker, text in (("Interviewer", rng.choice(QUESTIONS)), (label, said)):
            lines.append(f"{speaker}: {text}")
            size += len(lines[-1]) + 2
    return "\n\n".join(lines) + "\n"


def build():
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from coding.models import (
        ChangeKind,
        Code,
        CodeKind,
        CodeOrigin,
        CodeVersion,
        ConsensusCoding,
        ConsensusSource,
        Reconciliation,
    )
    from tests.factories import consented_participant, imported_transcript
    from transcripts.models import Transcript
    from workbench.services import members as member_services
    from workbench.services import studies as study_services

    rng = random.Random(SEED)
    User = get_user_model()
    admin = User.objects.create_user("bench_admin", password="x", first_name="Alice")
    study = study_services.study_create(actor=admin, name="Saturation bench")
    lead = User.objects.create_user("lena", password="x", first_name="Lena")
    member_services.member_set_roles(actor=admin, study=study, user=lead, roles={"lead"})

    # The codebook, bulk-created (2,105 rows) with one creation version each.
    def code(n, name, kind, parent=None, origin=CodeOrigin.DEDUCTIVE):
        return Code(
            study=study,
            name=name,
            kind=kind,
            parent=parent,
            origin=origin,
            position=n,
            created_by=admin,
            definition=f"Definition of {name.lower()}.",
        )

    categories = Code.objects.bulk_create(
        code(n, f"Category {n + 1}", CodeKind.CATEGORY) for n in range(CATEGORIES)
    )
    themes = Code.objects.bulk_create(
        code(10 + n, f"Theme {n + 1}: a claim", CodeKind.THEME, categories[n // 20])
        for n in range(THEMES)
    )
    codes = Code.objects.bulk_create(
        code(
            200 + n,
            f"Code {n + 1}",
            CodeKind.CODE,
            themes[n // CODES_PER_THEME],
            CodeOrigin.INDUCTIVE if n % 5 == 0 else CodeOrigin.DEDUCTIVE,
        )
        for n in range(THEMES * CODES_PER_THEME)
    )
    Code.also_in.through.objects.bulk_create(
        Code.also_in.through(from_code_id=c.pk, to_code_id=themes[(n // 20 + 37) % THEMES].pk)
        for n, c in enumerate(codes)
        if n % 10 == 0
    )

    transcripts = []
    start = date(2026, 1, 5)
    for k in range(INTERVIEWS):
        label = f"P{k + 1:03d}"
        participant = consented_participant(study, label, actor=admin)
        t = imported_transcript(
            study, participant, interview(rng, label), filename=f"{label}.txt", actor=admin
        )
        transcripts.append(t)
    for k, t in enumerate(transcripts):
        t.interview_date = start + timedelta(days=k - k // 10)  # every tenth day: two
        t.interview_order = k % 10
    Transcript.objects.bulk_update(transcripts, ["interview_date", "interview_order"])
    Reconciliation.objects.bulk_create(
        Reconciliation(transcript=t, started_by=lead) for t in transcripts
    )

    # Consensus codings: a saturating vocabulary.
    # Codes come in theme by theme (in a shuffled theme order, a little mixed), so themes
    # keep appearing for a while and then stop, while single codes trickle in longer.
    rank = {t.pk: r for r, t in enumerate(rng.sample(themes, len(themes)))}
    order = sorted(codes, key=lambda c: rank[c.parent_id] + rng.random() * 3, reverse=True)
    seen: list = []
    per = CONSENSUS // INTERVIEWS
    rows = []
    for k, t in enumerate(transcripts):
        fresh = max(1, round(THEMES * CODES_PER_THEME * 0.08 * (0.85**k))) if order else 0
        drawn = [order.pop() for _ in range(min(fresh, len(order)))]
        seen += drawn
        chosen = drawn + rng.choices(seen, k=per - len(drawn))
        for c in chosen:
            begin = rng.randrange(0, len(t.text) - 40)
            rows.append(
                ConsensusCoding(
                    transcript=t,
                    code=c,
                    start=begin,
                    end=begin + 30,
                    snippet=t.text[begin : begin + 30],
                    source=ConsensusSource.AGREED,
                    created_by=lead,
                )
            )
    ConsensusCoding.objects.bulk_create(rows, batch_size=5_000)

    now = timezone.now()
    versions = [
        CodeVersion(
            code=c,
            number=1,
            change=ChangeKind.CREATE,
            changes=[ChangeKind.CREATE],
            snapshot={},
            changed_by=admin,
            changed_at=now,
        )
        for c in [*categories, *themes, *codes]
    ]
    for n in range(1_000):
        c = codes[n * 2]
        versions.append(
            CodeVersion(
                code=c,
                number=2,
                change=ChangeKind.REDEFINE,
                changes=[ChangeKind.REDEFINE],
                snapshot={},
                changed_by=admin,
                changed_at=now,
                during=transcripts[rng.randrange(INTERVIEWS)] if n % 5 else None,
            )
        )
    CodeVersion.objects.bulk_create(versions, batch_size=5_000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {
        "study": study,
        "lead": lead,
        "consensus": ConsensusCoding.objects.filter(transcript__study=study).count(),
        "codes": len(codes),
        "versions": len(versions),
    }


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(fn) -> list[float]:
    for _ in range(WARMUP):
        fn()
    samples = []
    for _ in range(N):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def queries_of(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


ROWS = []


def report(label, key, samples, queries=None):
    median, worst = statistics.median(samples), max(samples)
    target = TARGETS_MS.get(key)
    met = "" if target is None else ("met" if median <= target else "MISSED")
    shown = "" if queries is None else f"  {queries:3d} queries"
    aim = f"  target {target} ms {met}" if target else ""
    print(f"{label:<52} median {median:8.1f} ms  worst {worst:8.1f} ms{shown}{aim}")
    ROWS.append((label, median, worst, queries, target, met))


def profile(label, fn):
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(ARGS.sort).print_stats(30)
    print(f"\n--- cProfile: {label} ---")
    print("\n".join(out.getvalue().splitlines()[:45]))


def get(client, url, params, headers=None):
    def request():
        response = client.get(url, params, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return request


def run():
    from coding.selectors.blindness import Viewer
    from coding.selectors.saturation import SaturationParams, analyse
    from workbench.access import member_perms

    began = time.perf_counter()
    data = build()
    study, lead = data["study"], data["lead"]
    print(
        f"built in {time.perf_counter() - began:.0f} s: {INTERVIEWS} interviews, "
        f"{data['codes']:,} codes in {THEMES} themes, {data['consensus']:,} consensus codings, "
        f"{data['versions']:,} codebook versions"
    )
    viewer = Viewer(lead, member_perms(lead, study), study)
    analysis = analyse(viewer, SaturationParams())
    print("verdicts:", "; ".join(result.label for result in analysis.guest.results))
    report("analyse() alone (no HTTP)", None, measure(lambda: analyse(viewer, SaturationParams())))
    if ARGS.profile:
        profile("analyse()", lambda: analyse(viewer, SaturationParams()))
    client = Client()
    client.force_login(lead)
    url = reverse("saturation", args=[study.slug])
    htmx = {"HX-Request": "true"}
    steps = [
        ("saturation page, defaults", "page", {}, None),
        ("parameter change: run length 3 (htmx)", "change", {"run": "3"}, htmx),
        ("parameter change: stepping runs (htmx)", "change", {"mode": "stepping"}, htmx),
        ("parameter change: first-level codes (htmx)", "change", {"information": "codes"}, htmx),
        ("CSV download", None, {"format": "csv"}, None),
    ]
    print(load())
    for label, key, params, headers in steps:
        fn = get(client, url, params, headers)
        report(label, key, measure(fn), queries_of(fn))
        if ARGS.profile:
            profile(label, fn)
    print(load())


def main():
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        db["TEST"]["NAME"] = os.path.join(tempfile.gettempdir(), "bench_saturation.sqlite3")
    old_name = db["NAME"]
    print(f"database: {connection.vendor}, DEBUG={settings.DEBUG}, {load()}")
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    call_command("collectstatic", interactive=False, verbosity=0)
    try:
        run()
    finally:
        if ARGS.keep:
            print(f"kept: {connection.settings_dict['NAME']}")
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(STATIC_ROOT, ignore_errors=True)
    missed = [row for row in ROWS if row[5] == "MISSED"]
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
