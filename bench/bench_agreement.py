"""Benchmark of agreement and disagreement lists (run: .venv/bin/python bench/bench_agreement.py).

Builds its own PostgreSQL database (``bench_agreement``, dropped and re-created and migrated;
the server is ``BENCH_PG_URL``, default ``postgres://postgres@127.0.0.1:5432``) with two
studies that share an admin, a lead, two coders (Chen, Kofi) and a reviewer (Rosa):

- "small": 17 transcripts, "large": 200 transcripts (``--quick``: 17 and 20);
- each with 80 codes, one consented participant per transcript, and transcripts of interview
  shape: ~60,000 characters in 150–250 alternating interviewer/participant turns (seed 2027),
  imported through the real parser and service, set ready, assigned to Chen and Kofi in
  independent mode;
- 400 codings per layer: Chen's are random word-aligned spans (mostly inside participant
  turns, a few across turns, codes Zipf-distributed); Kofi's are a perturbed copy — some
  boundaries shifted by whole words, some codes changed, some codings missing and as many
  extra ones — so there are real disagreements. Codings are bulk-created (snippet =
  text[start:end]) and both layers set to submitted directly (no audit events: the figures do
  not read them); the tables are then ANALYZEd.

Settings are production-like: DEBUG off (cached template loader, hashed static files collected
into a temporary STATIC_ROOT), ``DB_CONN_MAX_AGE`` as configured (default 0: a fresh database
connection per request, as deployed). ``--debug`` keeps DEBUG on.

Measured (min / p50 / p95 / max over the repeats, after a warm-up; per step also the time in
the cyclic garbage collector and its full collections, and the p95 less that time):

1. whole-study agreement, for the small and the large study: ``agreement_report.build(study)``
   plus ``code_rows`` / ``overall`` / ``transcript_rows`` (what the page computes), the same
   speaker-aware, and the agreement page GET through the test client as the reviewer, with its
   query count; where the time of ``build`` and of the page goes (SQL, the NumPy core, template
   rendering, the rest);
2. the disagreement list of one transcript (small study): ``reconciliation.reconciliation_start``
   on it inside a transaction rolled back after each repeat (so the COMMIT is not in the
   figure), and the reconcile page GET once a reconciliation exists (and its htmx fragment
   for a disagreement half-way down the list), with query counts.

Targets (issue): whole-study agreement ≤ 300 ms for 17 transcripts and ≤ 3 s for 200; the
disagreement list of one transcript ≤ 100 ms. A target is met when the p95 is within it. When
one is missed (or with ``--profile``) the step is run under cProfile and the top functions are
printed, with the slowest queries of one run. Exits 1 if a target is missed. Not a test:
numbers go to bench/RESULTS.md by hand. ``--quick`` is a smoke run (17 + 20 transcripts, a few
repeats); ``--no-large`` skips the 200-transcript study; ``--keep`` keeps the database.
"""

import argparse
import colorsys
import cProfile
import gc
import io
import os
import pstats
import random
import re
import shutil
import sys
import tempfile
import time
from bisect import bisect_left, bisect_right
from pathlib import Path

import _common  # bench/_common.py: shared interview text and scratch database
from _common import ASPECTS, OPENERS, QUESTIONS, SENTENCES, TOPICS, GCWatch, pct

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DB_NAME = "bench_agreement"
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
PASSWORD = "bench-agreement-password-2027"
SEED = 2027
CHARS = 60_000
TURNS = (150, 250)
CODINGS = 400  # per layer
TARGET_SMALL_MS = 300.0
TARGET_LARGE_MS = 3_000.0
TARGET_DISAGREEMENTS_MS = 100.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 17 + 20, few repeats")
    parser.add_argument("--no-large", action="store_true", help="skip the 200-transcript study")
    parser.add_argument("--debug", action="store_true", help="keep DEBUG on (no template cache)")
    parser.add_argument("--profile", action="store_true", help="always print the cProfile part")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    return parser.parse_args()


ARGS = parse_args()
SMALL = 17
LARGE = 20 if ARGS.quick else 200
REPEATS_SMALL = 5 if ARGS.quick else 30
REPEATS_LARGE = 3 if ARGS.quick else 10
WARMUP = 1 if ARGS.quick else 3
STATIC_ROOT = tempfile.mkdtemp(prefix="bench_agreement_static_")
os.environ.update(
    {
        "DATABASE_URL": f"{PG_URL}/{DB_NAME}",
        "DEBUG": "1" if ARGS.debug else "0",
        "SECRET_KEY": "bench-agreement-throwaway-key-never-used-anywhere-else-0123456789abcdef",
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
from django.db import connection, transaction  # noqa: E402
from django.template.backends import django as template_backend  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

# --- the database ----------------------------------------------------------------------------


def recreate_database():
    _common.recreate_database(PG_URL, DB_NAME)


def drop_database():
    _common.drop_database(PG_URL, DB_NAME)


# --- the data ----------------------------------------------------------------------------------

WORD = re.compile(r"\S+")


def interview(rng: random.Random, label: str) -> str:
    """An interview of ~CHARS characters in an even number of turns within TURNS."""
    pairs = rng.randrange(TURNS[0], TURNS[1] + 1) // 2
    asks = [" ".join(rng.sample(QUESTIONS, rng.choice([1, 1, 2]))) for _ in range(pairs)]
    stamps = 12 + len(label) + 2  # "[hh:mm:ss] " and "label: ", roughly, per turn
    left = CHARS - sum(len(q) + 16 for q in asks) - pairs * stamps
    weights = [rng.lognormvariate(0, 0.5) for _ in range(pairs)]
    lengths = [max(80, round(left * w / sum(weights))) for w in weights]
    lines, second = [], 0
    for ask, length in zip(asks, lengths, strict=True):
        said = rng.choice(OPENERS)
        while len(said) < length:
            said += ("" if not said or said.endswith(" ") else " ") + rng.choice(SENTENCES)
        said = said[:length].rsplit(" ", 1)[0].rstrip(",;:—")
        said = said if said.endswith((".", "?", "!")) else said + "."
        for speaker, text in (("Interviewer", ask), (label, said)):
            stamp = f"[{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}]"
            lines.append(f"{stamp} {speaker}: {text}")
            second += max(2, round(len(text.split()) * 0.4))
    return "\n\n".join(lines) + "\n"


def colour(n: int) -> str:
    r, g, b = colorsys.hsv_to_rgb(
        (n * 0.618034) % 1, 0.55 + 0.3 * (n % 3) / 2, 0.55 + 0.1 * (n % 4)
    )
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


class Words:
    """The words of a transcript, and which of them each turn holds, for word-aligned spans."""

    def __init__(self, text: str, utterances):
        self.spans = [(m.start(), m.end()) for m in WORD.finditer(text)]
        starts = [s for s, _ in self.spans]
        self.turns = [
            (bisect_left(starts, u.start), bisect_right(starts, u.end - 1)) for u in utterances
        ]
        self.weights = [
            (hi - lo) * (1.0 if u.role == "participant" else 0.3)
            for (lo, hi), u in zip(self.turns, utterances, strict=True)
        ]

    def span(self, rng: random.Random) -> tuple[int, int]:
        """Word indexes (first, last) of a span: mostly inside a turn, 1 in 20 across turns."""
        if rng.random() < 0.05:
            turn = rng.randrange(len(self.turns) - 2)
            (lo, hi), (lo2, hi2) = self.turns[turn], self.turns[turn + rng.choice([1, 2])]
            return rng.randrange(max(lo, hi - 8), hi), rng.randrange(lo2, min(hi2, lo2 + 8))
        lo, hi = rng.choices(self.turns, self.weights)[0]
        length = min(hi - lo, max(1, round(rng.lognormvariate(2.4, 0.7))))  # median ~11 words
        first = rng.randrange(lo, hi - length + 1)
        return first, first + length - 1

    def shifted(self, rng: random.Random, first: int, last: int) -> tuple[int, int]:
        """The span with one or both boundaries moved by 1–3 words (still at least a word)."""
        which = rng.choice(["start", "end", "both"])
        if which in ("start", "both"):
            first += rng.choice([-3, -2, -1, 1, 2, 3])
        if which in ("end", "both"):
            last += rng.choice([-3, -2, -1, 1, 2, 3])
        first = min(max(0, first), len(self.spans) - 1)
        last = min(max(first, last), len(self.spans) - 1)
        return first, last

    def chars(self, first: int, last: int) -> tuple[int, int]:
        return self.spans[first][0], self.spans[last][1]


# How coder B's layer differs from A's (fractions of A's codings).
DROP, RECODE, SHIFT = 0.08, 0.08, 0.15


def layers_for(rng: random.Random, words: Words, codes: list, popularity: list) -> tuple:
    """A's CODINGS spans and B's perturbed copy, as (code, first word, last word) rows."""
    a = [(rng.choices(codes, popularity)[0], *words.span(rng)) for _ in range(CODINGS)]
    b = []
    for code, first, last in a:
        r = rng.random()
        if r < DROP:
            continue
        if r < DROP + RECODE:
            code = rng.choice([c for c in codes[:20] if c != code])
        elif r < DROP + RECODE + SHIFT:
            first, last = words.shifted(rng, first, last)
        b.append((code, first, last))
    while len(b) < CODINGS:
        b.append((rng.choices(codes, popularity)[0], *words.span(rng)))
    rng.shuffle(b)
    return a, b


def build_study(rng, people, name: str, n: int) -> dict:
    """A study of ``n`` transcripts, ready, assigned, both layers coded and submitted."""
    from django.utils import timezone

    from coding.models import Coding, CodingMode, Layer, LayerRole, LayerStatus
    from coding.services import assignments as assignment_services
    from coding.services.codebook import code_create
    from tests.factories import consented_participant, imported_transcript
    from transcripts.services import transcripts as transcript_services
    from workbench.services import members as member_services
    from workbench.services import studies as study_services

    admin = people["admin"]
    study = study_services.study_create(actor=admin, name=name)
    for username, role in (
        ("lena", "lead"),
        ("chen", "coder"),
        ("kofi", "coder"),
        ("rosa", "reviewer"),
    ):
        member_services.member_set_roles(
            actor=admin, study=study, user=people[username], roles={role}
        )
    codes = [
        code_create(
            actor=admin,
            study=study,
            name=f"{topic} {aspect}",
            definition=f"The interviewee talks about {topic.lower()} in terms of {aspect}.",
            colour=colour(k),
        )
        for k, (topic, aspect) in enumerate((t, a) for t in TOPICS for a in ASPECTS)
    ]
    popularity = [1 / (k + 1) ** 0.8 for k in range(len(codes))]
    transcripts, rows, chars, turns = [], [], 0, []
    for k in range(n):
        label = f"P{k + 1:03d}"
        participant = consented_participant(study, label, actor=admin)
        transcript = imported_transcript(
            study, participant, interview(rng, label), filename=f"{label.lower()}.txt", actor=admin
        )
        transcript = transcript_services.transcript_update(
            actor=admin, transcript=transcript, version=transcript.version, status="ready"
        )
        assignment_services.assignment_set(
            actor=people["lena"],
            transcript=transcript,
            primary=people["chen"],
            second=people["kofi"],
            mode=CodingMode.INDEPENDENT,
        )
        layers = {layer.role: layer for layer in Layer.objects.filter(transcript=transcript)}
        utterances = list(transcript.utterances.order_by("index"))
        text = transcript.text
        words = Words(text, utterances)
        a, b = layers_for(rng, words, codes, popularity)
        for role, side in ((LayerRole.PRIMARY, a), (LayerRole.SECOND, b)):
            seen = set()
            for code, first, last in side:
                start, end = words.chars(first, last)
                if (code.pk, start, end) in seen:
                    continue  # one coding per code and span in a layer (coding_once_per_span)
                seen.add((code.pk, start, end))
                rows.append(
                    Coding(
                        layer=layers[role], code=code, start=start, end=end, snippet=text[start:end]
                    )
                )
        transcripts.append(transcript)
        chars += len(text)
        turns.append(len(utterances))
    Coding.objects.bulk_create(rows, batch_size=2_000)
    Layer.objects.filter(transcript__study=study).update(
        status=LayerStatus.SUBMITTED, submitted_at=timezone.now()
    )
    return {
        "study": study,
        "transcripts": transcripts,
        "codings": len(rows),
        "chars": chars,
        "turns": turns,
    }


# --- measuring ---------------------------------------------------------------------------------


def load():
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def heap() -> str:
    """The process's GC-tracked objects and what one full collection of them costs now."""
    start = time.perf_counter()
    gc.collect()
    ms = (time.perf_counter() - start) * 1000
    return f"heap {len(gc.get_objects()):,} GC-tracked objects, a full collection {ms:.0f} ms"


class Samples(list):
    """Times (ms) of the timed runs, with the GC time within each and the full collections."""

    def __init__(self):
        super().__init__()
        self.gc = []
        self.full = 0

    def timed(self, fn):
        with GCWatch() as watch:
            start = time.perf_counter()
            result = fn()
            self.append((time.perf_counter() - start) * 1000)
        self.gc.append(watch.ms)
        self.full += watch.full
        return result


def sample(fn, n, *, warmup=WARMUP):
    for _ in range(warmup):
        fn()
    samples = Samples()
    for _ in range(n):
        samples.timed(fn)
    return samples


def count_queries(fn):
    with CaptureQueriesContext(connection) as queries:
        fn()
    return len(queries.captured_queries)


class Split:
    """Exclusive time in SQL (execute wrapper), in the agreement core (``study_agreement`` or
    ``find_disagreements``), in template rendering (less SQL inside it), and the rest."""

    KEYS = ("sql", "core", "render")

    def __init__(self):
        self.own = dict.fromkeys(self.KEYS, 0.0)
        self.stack = []

    def timed(self, key, fn, *args, **kwargs):
        self.stack.append(0.0)
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent = time.perf_counter() - start
            inner = self.stack.pop()
            self.own[key] += spent - inner
            if self.stack:
                self.stack[-1] += spent

    def run(self, fn, n):
        import coding.agreement
        from coding.services import reconciliation

        split = self
        patches = [
            (template_backend.Template, "render", "render"),
            (coding.agreement, "study_agreement", "core"),
            (reconciliation, "find_disagreements", "core"),
        ]
        originals = []
        for owner, name, key in patches:
            original = getattr(owner, name)
            originals.append((owner, name, original))

            def wrapper(*args, _original=original, _key=key, **kwargs):
                return split.timed(_key, _original, *args, **kwargs)

            setattr(owner, name, wrapper)

        def execute(execute, sql, params, many, context):
            return split.timed("sql", execute, sql, params, many, context)

        total = 0.0
        try:
            with connection.execute_wrapper(execute):
                for _ in range(n):
                    start = time.perf_counter()
                    fn()
                    total += time.perf_counter() - start
        finally:
            for owner, name, original in originals:
                setattr(owner, name, original)
        spent = {key: self.own[key] / n * 1000 for key in self.KEYS}
        spent["total"] = total / n * 1000
        spent["other"] = spent["total"] - sum(self.own.values()) / n * 1000
        return spent


def profile(fn, n, top=15):
    """Top functions by own time, and the project's functions by cumulative time, per run."""
    profiler = cProfile.Profile()
    for _ in range(n):
        profiler.enable()
        fn()
        profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, name), (_cc, calls, tt, ct, _callers) in stats.stats.items():
        short = filename.replace(str(ROOT) + "/", "").replace(
            ".venv/lib/python3.11/site-packages/", ""
        )
        rows.append((tt / n * 1000, ct / n * 1000, calls // n, f"{short}:{line}({name})"))
    own = sorted(rows, reverse=True)[:top]
    project = ("coding/", "transcripts/", "workbench/")
    cumulative = sorted(
        (r for r in rows if r[3].startswith(project)), key=lambda r: r[1], reverse=True
    )[:top]
    out = io.StringIO()
    print(f"    top {top} by own time (ms per run: own, cumulative, calls):", file=out)
    for tt, ct, calls, where in own:
        print(f"      {tt:8.1f} {ct:8.1f} {calls:8d}  {where}", file=out)
    print(
        "    project functions by cumulative time (ms per run: own, cumulative, calls):", file=out
    )
    for tt, ct, calls, where in cumulative:
        print(f"      {tt:8.1f} {ct:8.1f} {calls:8d}  {where}", file=out)
    # The slowest queries of one more run (time as the database driver saw it).
    with CaptureQueriesContext(connection) as queries:
        fn()
    slowest = sorted(queries.captured_queries, key=lambda q: float(q["time"]), reverse=True)
    total = sum(float(q["time"]) for q in slowest) * 1000
    print(f"    slowest of {len(slowest)} queries (together {total:.1f} ms):", file=out)
    for q in slowest[:4]:
        sql = re.sub(r"\s+", " ", q["sql"])
        sql = sql if len(sql) <= 150 else sql[:110] + " … " + sql[-37:]
        print(f"      {float(q['time']) * 1000:8.1f} ms  {sql}", file=out)
    return out.getvalue().rstrip()


RESULTS = []  # (label, n, min, p50, p95, max, target or None, queries or None)
PROFILES = []  # (label, cProfile report): steps that missed their target, or all (--profile)


def step(steps, label, fn, missed):
    """Note a step's verdict; profile it now (while its data is as measured) if needed."""
    steps.append((label, missed))
    if missed or ARGS.profile:
        PROFILES.append((label, profile(fn, 3)))


def record(label, times, target=None, queries=None):
    p50, p95, worst = pct(times, 0.5), pct(times, 0.95), max(times)
    RESULTS.append((label, len(times), min(times), p50, p95, worst, target, queries))
    q = f"  {queries:3d} queries" if queries is not None else ""
    verdict = ""
    if target is not None:
        verdict = f"  target ≤ {target:,.0f} ms: {'met' if p95 <= target else 'MISSED'}"
    print(
        f"  {label:<52} n={len(times):<3d} min {min(times):7.1f}  p50 {p50:7.1f}  "
        f"p95 {p95:7.1f}  max {worst:7.1f} ms"
        f"{q}{verdict}",
        flush=True,
    )
    if getattr(times, "gc", None):
        less = [t - g for t, g in zip(times, times.gc, strict=True)]
        print(
            f"    in the cyclic GC: max {max(times.gc):.1f} ms per run, {times.full} full "
            f"collections in {len(times)} runs; p95 less GC {pct(less, 0.95):.1f} ms"
        )
    return target is not None and p95 > target


def print_split(label, spent):
    parts = "  ".join(f"{key} {spent[key]:6.1f}" for key in ("sql", "core", "render", "other"))
    print(f"    where {label} goes (ms per run): {parts}  = total {spent['total']:6.1f}")


# --- the steps ---------------------------------------------------------------------------------


def agreement_steps(data, people, repeats, target) -> list:
    """Whole-study agreement as the page computes it, and the page itself."""
    from coding.selectors import agreement as agreement_report

    study, n = data["study"], len(data["transcripts"])
    steps = []

    def figures(speaker_aware=False):
        def fn():
            report = agreement_report.build(study, speaker_aware=speaker_aware)
            rows = (
                agreement_report.code_rows(report),
                agreement_report.overall(report),
                agreement_report.transcript_rows(report),
            )
            assert len(report.transcripts) == n and rows[1]["transcripts"] == n, rows[1]
            return report, rows

        return fn

    report, (codes, overall_row, _rows) = figures()()
    print(
        f"  figures: {overall_row['transcripts']} transcripts compared, {len(codes)} codes, "
        f"{overall_row['characters']:,} characters; κ {overall_row['kappa']}, "
        f"α (turns) {overall_row['alpha_nominal']}, α_U {overall_row['alpha_u']}"
    )
    client = Client()
    client.force_login(people["rosa"])
    url = reverse("agreement", args=[study.slug])

    def page(query=""):
        def fn():
            response = client.get(url + query)
            assert response.status_code == 200, response.status_code
            return response

        return fn

    body = page()().content.decode()
    assert data["transcripts"][-1].title in body or str(n) in body

    build_fn = figures()
    missed = record(
        f"{n} tr: build + code/overall/transcript rows",
        sample(build_fn, repeats),
        target,
        count_queries(build_fn),
    )
    step(steps, f"{n} transcripts: build + rows", build_fn, missed)
    aware_fn = figures(speaker_aware=True)
    record(
        f"{n} tr: the same, speaker-aware (participant turns)",
        sample(aware_fn, repeats),
        target,
        count_queries(aware_fn),
    )
    page_fn = page()
    missed = record(
        f"{n} tr: agreement page GET (reviewer)",
        sample(page_fn, repeats),
        target,
        count_queries(page_fn),
    )
    step(steps, f"{n} transcripts: agreement page GET", page_fn, missed)
    print(f"    page: {len(body):,} bytes of HTML")
    split_n = max(1, repeats // 3)
    print_split("build + rows", Split().run(build_fn, split_n))
    print_split("the page", Split().run(page_fn, split_n))
    return steps


def disagreement_steps(data, people, repeats) -> list:
    """``reconciliation_start`` on one transcript (rolled back), then the reconcile page."""
    from coding.models import Disagreement, Reconciliation
    from coding.services import reconciliation

    study, transcript = data["study"], data["transcripts"][0]
    reviewer = people["rosa"]
    steps = []

    class Rollback(Exception):
        pass

    found, elapsed = [], Samples()

    def start_in_rollback(timed=False):
        """``reconciliation_start`` inside a transaction that is rolled back (with ``timed``:
        its own time only — the rollback and the count are outside the figure)."""

        def start():
            return reconciliation.reconciliation_start(actor=reviewer, transcript=transcript)

        try:
            with transaction.atomic():
                if timed:
                    elapsed.timed(start)
                else:
                    found.append(Disagreement.objects.filter(reconciliation=start()).count())
                raise Rollback
        except Rollback:
            pass

    start_in_rollback()
    assert not Reconciliation.objects.filter(transcript=transcript).exists()
    print(
        f"  transcript {transcript.pk}: {len(transcript.text):,} characters, "
        f"{transcript.utterances.count()} turns, {CODINGS} + {CODINGS} codings, "
        f"{found[0]} disagreements found (10-character tolerance)"
    )
    for _ in range(WARMUP):
        start_in_rollback()
    for _ in range(repeats):
        start_in_rollback(timed=True)
    queries = count_queries(start_in_rollback)

    missed = record(
        "reconciliation_start, one transcript (rolled back)",
        elapsed,
        TARGET_DISAGREEMENTS_MS,
        queries,
    )
    step(steps, "reconciliation_start, one transcript", start_in_rollback, missed)
    print_split("reconciliation_start", Split().run(start_in_rollback, max(1, repeats // 3)))

    # A real one (committed) for the page.
    r = reconciliation.reconciliation_start(actor=reviewer, transcript=transcript)
    total = r.disagreements.count()
    client = Client()
    client.force_login(reviewer)
    url = reverse("reconcile", args=[study.slug, transcript.pk])

    def page(query="", **headers):
        def fn():
            response = client.get(url + query, **headers)
            assert response.status_code == 200, response.status_code
            return response

        return fn

    body = page()().content.decode()
    page_fn = page()
    missed = record(
        f"reconcile page GET, {total} disagreements (reviewer)",
        sample(page_fn, repeats),
        TARGET_DISAGREEMENTS_MS,
        count_queries(page_fn),
    )
    step(steps, "reconcile page GET", page_fn, missed)
    middle = page(f"?d={total // 2}", HTTP_HX_REQUEST="true")
    record(
        f"reconcile fragment (htmx), disagreement {total // 2}",
        sample(middle, repeats),
        TARGET_DISAGREEMENTS_MS,
        count_queries(middle),
    )
    print(f"    page: {len(body):,} bytes of HTML")
    print_split("the reconcile page", Split().run(page_fn, max(1, repeats // 3)))
    return steps


def run():
    from django.contrib.auth import get_user_model

    rng = random.Random(SEED)
    User = get_user_model()
    people = {
        username: User.objects.create_user(username, password=PASSWORD, first_name=first)
        for username, first in (
            ("admin", "Alice"),
            ("lena", "Lena"),
            ("chen", "Chen"),
            ("kofi", "Kofi"),
            ("rosa", "Rosa"),
        )
    }
    sizes = [("small", SMALL, REPEATS_SMALL, TARGET_SMALL_MS)]
    if not ARGS.no_large:
        sizes.append(("large", LARGE, REPEATS_LARGE, TARGET_LARGE_MS))
    studies = {}
    for name, n, _repeats, _target in sizes:
        started = time.perf_counter()
        data = build_study(rng, people, f"Agreement bench ({name})", n)
        studies[name] = data
        turns = data["turns"]
        print(
            f"{name} study: {n} transcripts ({data['chars'] / n:,.0f} characters on average, "
            f"{min(turns)}–{max(turns)} turns), {data['codings']:,} codings, 80 codes; "
            f"built in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    steps = []
    for name, n, repeats, target in sizes:
        print(f"\n1. whole-study agreement, {name} study ({n} transcripts)  [{load()}; {heap()}]")
        steps += agreement_steps(studies[name], people, repeats, target)
    print(f"\n2. disagreement list of one transcript (small study)  [{load()}; {heap()}]")
    steps += disagreement_steps(studies["small"], people, REPEATS_SMALL)

    print(f"\nsummary (p95 against the target)  [{load()}]")
    print(
        f"  {'step (ms)':<52} {'n':>3} {'min':>7} {'p50':>7} {'p95':>7} {'max':>7} queries  target"
    )
    for label, n, least, p50, p95, worst, target, queries in RESULTS:
        t = "" if target is None else f"≤ {target:,.0f} ms {'met' if p95 <= target else 'MISSED'}"
        q = "" if queries is None else str(queries)
        print(f"  {label:<52} {n:3d} {least:7.1f} {p50:7.1f} {p95:7.1f} {worst:7.1f} {q:>7}  {t}")

    missed = [label for label, _missed in steps if _missed]
    profiles = [(label, text) for label, text in PROFILES if label in missed or ARGS.profile]
    if profiles:
        print("\ncProfile" + (" of the missed targets" if missed else " (--profile)"))
        for label, text in profiles:
            print(f"  {label}:")
            print(text)
    return 1 if missed else 0


def main():
    print(f"database: {PG_URL}/{DB_NAME} (re-created)  DEBUG={settings.DEBUG}")
    print(f"{load()} at start, {os.cpu_count()} CPUs")
    recreate_database()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    started = time.perf_counter()
    try:
        status = run()
    finally:
        shutil.rmtree(STATIC_ROOT, ignore_errors=True)
        if not ARGS.keep:
            drop_database()
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    sys.exit(status)


if __name__ == "__main__":
    main()
