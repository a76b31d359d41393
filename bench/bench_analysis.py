"""Benchmark of the analysis pages of issue 12 (run: .venv/bin/python bench/bench_analysis.py).

Builds its own database on whatever DATABASE_URL names (SQLite by default, in a temporary file;
PostgreSQL: ``test_<name>`` next to the named database, dropped afterwards) with one study:

- a lead (Lena), two coders (Chen, Kofi), the admin who made the study;
- three research questions, three dimensions (lifecycle stage, polarity, collaboration type),
  a participant attribute (role) and a case attribute (organisational model), 20 cases;
- 5 categories mapped to the RQs, 20 themes (4 per category, claims with dimension values,
  tentative or established), 80 first-level codes (4 per theme, 8 also in a second theme);
- 200 transcripts (``--quick``: 20) of ~30,000 characters in alternating turns, one consented
  participant each (most in a case), imported through the real parser and service, set ready
  and assigned to Chen and Kofi in independent mode; some interviews are mostly Thai or
  Chinese;
- 100,000 consensus codings (``--quick``: 10,000): word-aligned spans in participant turns,
  codes Zipf-distributed, except that one code holds 5,000 segments (the retrieval target) and
  another 5,000 plus 2,500 in each coder's layer (10,000 codings: the merge); each coder's
  layer holds 150 codings per transcript and is submitted. All bulk-created, then ANALYZEd
  (PostgreSQL: VACUUM ANALYZE).

Settings are production-like: DEBUG off (cached template loader, hashed static files collected
into a temporary STATIC_ROOT), ``--debug`` keeps it on.

Measured, whole requests through Django's test client signed in as the lead (force_login),
median and worst of N after a warm-up, with the query count of each request:

1. the theme board (target ≤ 150 ms), and one code's "Move…" menu, read when it is opened;
2. the first page of retrieval for the code with 5,000 segments (≤ 150 ms);
3. co-occurrence over all codes, overlap and turn (≤ 1 s each);
4. codes × cases and themes × cases (≤ 1 s);
5. search across all transcripts: a common phrase, a rare one, Thai and Chinese (≤ 300 ms on
   PostgreSQL; SQLite reported);
6. merging the code with 10,000 codings into another (``codes_merge``, ≤ 2 s), each repeat in
   a transaction rolled back afterwards.

``--profile`` prints the top functions of cProfile for each request (and, on PostgreSQL, the
plan of the search query). Not a test: numbers go to bench/RESULTS.md by hand. Exits 1 if a
target is missed.
"""

import argparse
import colorsys
import cProfile
import io
import os
import pstats
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import OPENERS, QUESTIONS, SENTENCES

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 transcripts, 10,000 codings")
    parser.add_argument("--debug", action="store_true", help="keep DEBUG on (no template cache)")
    parser.add_argument("--profile", action="store_true", help="print cProfile for each request")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (e.g. tottime)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--only", help="measure only the steps whose label contains this")
    return parser.parse_args()


ARGS = parse_args()
SEED = 2028
TRANSCRIPTS = 20 if ARGS.quick else 200
CONSENSUS = 10_000 if ARGS.quick else 100_000
LAYER_CODINGS = 150  # per layer (per coder per transcript)
CHARS = 30_000
N = 3 if ARGS.quick else 10
WARMUP = 1 if ARGS.quick else 2
TARGETS_MS = {
    "board": 150,
    "retrieval": 150,
    "cooccurrence": 1000,
    "cases": 1000,
    "search": 300,  # PostgreSQL only
    "merge": 2000,
}

STATIC_ROOT = tempfile.mkdtemp(prefix="bench_analysis_static_")
os.environ.update(
    {
        "DEBUG": "1" if ARGS.debug else "0",
        "SECRET_KEY": "bench-analysis-throwaway-key-never-used-anywhere-else-0123456789abcdef",
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
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

# --- the data ----------------------------------------------------------------------------------

THAI = [
    "ชุมชนของเราช่วยกันตรวจสอบข้อมูลทุกชุดก่อนนำไปฝึกโมเดล",
    "ปัญหาใหญ่ที่สุดคือไม่มีการ์ดจอสำหรับฝึกโมเดลเลยหลายเดือน",
    "ภาษาไทย มีข้อมูลน้อยมาก และต้องทำความสะอาดด้วยมือ",
    "เราคุยกันเรื่องใบอนุญาตนานมากก่อนจะปล่อยโมเดล",
]
CHINESE = [
    "我们一起训练了模型，社区在数据进入训练之前审查了每一个数据集。",
    "说实话，算力预算是最难的部分，好几个月我们都没有显卡。",
    "许可证很重要，写下这些文字的人也同样重要。",
    "真的很感谢，那些积分让第二次训练得以进行。",
]
WORD = re.compile(r"\S+")
SEARCHES = [
    ("common phrase", "compute budget"),
    ("rare phrase", "Kraków meetup"),
    ("Thai", "ข้อมูลน้อย"),
    ("Chinese", "算力预算"),
]


def interview(rng: random.Random, label: str, language: str) -> str:
    """An interview of ~CHARS characters in alternating interviewer/participant turns."""
    extra = {"th": THAI, "zh": CHINESE}.get(language, [])
    lines, second, size = [], 0, 0
    while size < CHARS:
        ask = " ".join(rng.sample(QUESTIONS, rng.choice([1, 1, 2])))
        length = max(80, round(rng.lognormvariate(5.3, 0.5)))
        said = rng.choice(OPENERS)
        while len(said) < length:
            pool = extra if extra and rng.random() < 0.7 else SENTENCES
            said += ("" if not said or said.endswith(" ") else " ") + rng.choice(pool)
        for speaker, text in (("Interviewer", ask), (label, said)):
            stamp = f"[{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}]"
            lines.append(f"{stamp} {speaker}: {text}")
            size += len(lines[-1]) + 2
            second += max(2, round(len(text.split()) * 0.4))
    return "\n\n".join(lines) + "\n"


def colour(n: int) -> str:
    r, g, b = colorsys.hsv_to_rgb((n * 0.618034) % 1, 0.55 + 0.3 * (n % 3) / 2, 0.6)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def spans(rng: random.Random, text: str, utterances, count: int) -> list[tuple[int, int]]:
    """``count`` word-aligned spans inside participant turns (median ~11 words)."""
    turns = [
        [(m.start(), m.end()) for m in WORD.finditer(text, u.start, u.end)]
        for u in utterances
        if u.role == "participant"
    ]
    turns = [t for t in turns if t]
    weights = [len(t) for t in turns]
    found = []
    for _ in range(count):
        words = rng.choices(turns, weights)[0]
        length = min(len(words), max(1, round(rng.lognormvariate(2.4, 0.7))))
        first = rng.randrange(len(words) - length + 1)
        found.append((words[first][0], words[first + length - 1][1]))
    return found


CATEGORIES = [
    ("Pre-training collaboration", [1]),
    ("Training and compute", [1]),
    ("Release and after", [1, 3]),
    ("Why people contribute", [2]),
    ("How projects are organised", [3]),
]
THEME_CLAIMS = [
    "Shared documentation of training experiences reduces experimentation costs",
    "Pooled compute makes training runs possible for small groups",
    "Unclear licences slow down the reuse of datasets",
    "Community review of data builds trust in the release",
    "Evaluation harnesses shared across groups catch contamination",
    "Credit on papers keeps volunteers engaged",
    "Burnout follows launches without a plan for maintenance",
    "Steering committees settle disputes that stall releases",
    "Language communities supply data others cannot reach",
    "Sponsors' credits shape which runs happen",
    "Safety filtering removes dialect and minority text",
    "Model cards take more work than training",
    "Weekly calls build more trust than written policies",
    "Tokenizer choices decide which languages are served",
    "Failed runs teach more than successful ones",
    "Meetups turn mailing lists into working groups",
    "Forum accusations push projects to open their data",
    "Unpaid moderation is invisible labour",
    "Governance saves projects at moments of crisis",
    "Funding gaps end projects after the first release",
]
DIMENSIONS = [
    ("Lifecycle stage", ["pre-training", "training", "post-release", "deployment"]),
    ("Polarity", ["on-ramp", "off-ramp"]),
    ("Collaboration type", ["data", "compute", "evaluation", "governance"]),
]


def build():
    """The study (see the module's docstring); returns what the measurements need."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from coding.models import (
        Code,
        CodeKind,
        Coding,
        CodingMode,
        ConsensusCoding,
        ConsensusSource,
        Layer,
        LayerStatus,
        ThemeStatus,
    )
    from coding.services import assignments as assignment_services
    from coding.services.codebook import code_create
    from tests.factories import consented_participant, imported_transcript
    from transcripts.services import attributes as attribute_services
    from transcripts.services import cases as case_services
    from transcripts.services import transcripts as transcript_services
    from workbench.services import design as design_services
    from workbench.services import members as member_services
    from workbench.services import studies as study_services

    rng = random.Random(SEED)
    User = get_user_model()
    admin = User.objects.create_user("bench_admin", password="x", first_name="Alice")
    study = study_services.study_create(actor=admin, name="Open LLM interviews (analysis bench)")
    people = {}
    for username, first, role in (
        ("lena", "Lena", "lead"),
        ("chen", "Chen", "coder"),
        ("kofi", "Kofi", "coder"),
    ):
        people[username] = User.objects.create_user(username, password="x", first_name=first)
        member_services.member_set_roles(
            actor=admin, study=study, user=people[username], roles={role}
        )

    rqs = [
        design_services.research_question_create(
            actor=admin, study=study, label=f"RQ{n}", text=text
        )
        for n, text in enumerate(
            [
                "How do communities collaborate across the lifecycle of an open model?",
                "What motivates people to contribute?",
                "How are the projects organised?",
            ],
            start=1,
        )
    ]
    values = []
    for name, labels in DIMENSIONS:
        dimension = design_services.dimension_create(
            actor=admin, study=study, name=name, values=labels
        )
        values.append(list(dimension.values.order_by("position")))
    role = attribute_services.attribute_create(
        actor=admin,
        study=study,
        target="participant",
        name="Role",
        kind="choice",
        options=["researcher", "engineer", "volunteer", "manager"],
    )
    model = attribute_services.attribute_create(
        actor=admin,
        study=study,
        target="case",
        name="Organisational model",
        kind="choice",
        options=["non-profit", "company", "academic", "grassroots"],
    )
    cases = [
        case_services.case_create(
            actor=admin,
            study=study,
            name=f"Project {chr(65 + n)}",
            attributes={str(model.pk): model.options[n % 4]},
        )
        for n in range(20)
    ]

    # The codebook: categories → themes → codes.
    categories, themes, codes = [], [], []
    for n, (name, rq_numbers) in enumerate(CATEGORIES):
        categories.append(
            code_create(
                actor=admin,
                study=study,
                name=name,
                kind=CodeKind.CATEGORY,
                research_questions=[rqs[k - 1] for k in rq_numbers],
                colour=colour(n),
            )
        )
    for n, claim in enumerate(THEME_CLAIMS):
        themes.append(
            code_create(
                actor=admin,
                study=study,
                name=claim,
                definition=f"Theme {n + 1}: {claim.lower()}.",
                kind=CodeKind.THEME,
                parent=categories[n // 4],
                dimension_values=[values[0][n % 4], values[1][n % 2], values[2][(n // 2) % 4]],
                theme_status=ThemeStatus.ESTABLISHED if n % 3 else ThemeStatus.TENTATIVE,
                colour=colour(n + 5),
            )
        )
    aspects = ["as a gate", "sharing", "trust", "credit"]
    for n in range(80):
        theme = themes[n // 4]
        codes.append(
            code_create(
                actor=admin,
                study=study,
                name=f"{theme.name.split()[0]} {aspects[n % 4]} {n + 1}",
                definition=f"The interviewee talks about {aspects[n % 4]} (code {n + 1}).",
                parent=theme,
                colour=colour(n + 25),
            )
        )
    for n in range(0, 80, 10):  # 8 codes also in a second theme
        codes[n].also_in.add(themes[(n // 4 + 7) % 20])

    # Transcripts, participants, layers.
    transcripts = []
    for k in range(TRANSCRIPTS):
        label = f"P{k + 1:03d}"
        language = "th" if k % 10 == 3 else "zh" if k % 10 == 7 else "en"
        participant = consented_participant(
            study,
            label,
            actor=admin,
            case=cases[k % 20] if k % 19 else None,
            attributes={str(role.pk): role.options[k % 4]},
        )
        transcript = imported_transcript(
            study,
            participant,
            interview(rng, label, language),
            filename=f"{label.lower()}.txt",
            actor=admin,
        )
        transcript = transcript_services.transcript_update(
            actor=admin,
            transcript=transcript,
            version=transcript.version,
            status="ready",
            language=language,
        )
        assignment_services.assignment_set(
            actor=people["lena"],
            transcript=transcript,
            primary=people["chen"],
            second=people["kofi"],
            mode=CodingMode.INDEPENDENT,
        )
        transcripts.append(transcript)

    # Codings: the retrieval code and the merge code get fixed shares, the rest Zipf.
    retrieval_code, merge_code, merge_target = codes[0], codes[1], codes[2]
    others = codes[2:]
    popularity = [1 / (n + 1) ** 0.8 for n in range(len(others))]
    per_transcript = CONSENSUS // TRANSCRIPTS
    fixed = per_transcript // 20  # 5% each: 5,000 of 100,000
    consensus, coded = [], []
    for transcript in transcripts:
        text = transcript.text
        utterances = list(transcript.utterances.order_by("index"))
        chosen = [retrieval_code] * fixed + [merge_code] * fixed
        chosen += rng.choices(others, popularity, k=per_transcript - len(chosen))
        for code, (start, end) in zip(
            chosen, spans(rng, text, utterances, per_transcript), strict=True
        ):
            consensus.append(
                ConsensusCoding(
                    transcript=transcript,
                    code=code,
                    start=start,
                    end=end,
                    snippet=text[start:end],
                    source=ConsensusSource.AGREED,
                    created_by=people["lena"],
                    exemplar=rng.random() < 0.01,
                    memo="A clear statement of the theme." if rng.random() < 0.02 else "",
                )
            )
        for layer in Layer.objects.filter(transcript=transcript):
            # 12 or 13 per layer: 2,500 per coder at 200 transcripts.
            picked = [merge_code] * (12 + (layer.role == "primary"))
            picked += rng.choices(codes[2:], k=LAYER_CODINGS - len(picked))
            seen = set()
            for code, (start, end) in zip(
                picked, spans(rng, text, utterances, LAYER_CODINGS), strict=True
            ):
                if (code.pk, start, end) in seen:
                    continue  # coding_once_per_span
                seen.add((code.pk, start, end))
                coded.append(
                    Coding(layer=layer, code=code, start=start, end=end, snippet=text[start:end])
                )
    ConsensusCoding.objects.bulk_create(consensus, batch_size=2_000)
    Coding.objects.bulk_create(coded, batch_size=2_000)
    Layer.objects.filter(transcript__study=study).update(
        status=LayerStatus.SUBMITTED, submitted_at=timezone.now()
    )
    with connection.cursor() as cursor:
        # As autovacuum leaves a table after a bulk load: statistics, and on PostgreSQL the
        # visibility map (index-only scans).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {
        "study": study,
        "lead": people["lena"],
        "admin": admin,
        "retrieval_code": retrieval_code,
        "merge_code": merge_code,
        "merge_target": merge_target,
        "consensus": ConsensusCoding.objects.filter(transcript__study=study).count(),
        "layer_codings": Coding.objects.filter(layer__transcript__study=study).count(),
        "chars": sum(len(t.text) for t in transcripts),
        "Code": Code,
        "Coding": Coding,
        "ConsensusCoding": ConsensusCoding,
    }


# --- measuring ---------------------------------------------------------------------------------


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(fn, n=N, warmup=WARMUP) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def queries_of(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def profile(label, fn):
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(ARGS.sort).print_stats(30)
    print(f"\n--- cProfile: {label} ---")
    print("\n".join(out.getvalue().splitlines()[:45]))


ROWS = []


def report(label, key, samples, queries=None):
    median, worst = statistics.median(samples), max(samples)
    target = TARGETS_MS.get(key)
    if key == "search" and connection.vendor != "postgresql":
        target = None  # the search target is for PostgreSQL; SQLite is reported
    met = "" if target is None else ("met" if median <= target else "MISSED")
    shown = "" if queries is None else f"  {queries:3d} queries"
    aim = f"  target {target} ms {met}" if target else ""
    print(f"{label:<48} median {median:8.1f} ms  worst {worst:8.1f} ms{shown}{aim}")
    ROWS.append((label, median, worst, queries, target, met))


def get(client, url, headers=None, **params):
    def request():
        response = client.get(url, params, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return request


def run():
    started = time.perf_counter()
    data = build()
    study = data["study"]
    print(
        f"built in {time.perf_counter() - started:.0f} s: {TRANSCRIPTS} transcripts "
        f"({data['chars'] / 1e6:.1f} M characters), {data['consensus']:,} consensus codings, "
        f"{data['layer_codings']:,} codings in the coders' submitted layers"
    )
    client = Client()
    client.force_login(data["lead"])
    slug = study.slug
    retrieval_code = data["retrieval_code"]
    in_consensus = data["ConsensusCoding"].objects.filter(code=retrieval_code).count()
    steps = [
        ("theme board", "board", reverse("themes", args=[slug]), {}),
        (
            "theme board: a code's Move… menu (htmx)",
            "board",
            reverse("theme_menu", args=[slug, retrieval_code.public_id]),
            {"headers": {"HX-Request": "true"}},
        ),
        (
            f"retrieval, first page ({in_consensus:,} segments)",
            "retrieval",
            reverse("retrieval", args=[slug, retrieval_code.public_id]),
            {},
        ),
        ("co-occurrence, overlap", "cooccurrence", reverse("matrices", args=[slug]), {}),
        ("co-occurrence, turn", "cooccurrence", reverse("matrices", args=[slug]), {"by": "turn"}),
        (
            "co-occurrence, Jaccard (overlap)",
            "cooccurrence",
            reverse("matrices", args=[slug]),
            {"measure": "jaccard"},
        ),
        ("codes × cases", "cases", reverse("matrix_cases", args=[slug]), {}),
        ("themes × cases", "cases", reverse("matrix_cases", args=[slug]), {"rows": "themes"}),
    ]
    for name, query in SEARCHES:
        url = reverse("search", args=[slug])
        steps.append((f"search: {name} ({query})", "search", url, {"q": query}))
    print(load())
    for label, key, url, params in steps:
        if ARGS.only and ARGS.only not in label:
            continue
        fn = get(client, url, **params)
        report(label, key, measure(fn), queries_of(fn))
        if ARGS.profile:
            profile(label, fn)
    if not ARGS.only or ARGS.only in "merge":
        merge(data)
    if ARGS.profile and connection.vendor == "postgresql":
        explain_search(study)
    print(load())


def merge(data):
    from coding.services.codebook_evolution import codes_merge

    Coding, ConsensusCoding = data["Coding"], data["ConsensusCoding"]
    source, target, admin = data["merge_code"], data["merge_target"], data["admin"]
    held = (
        Coding.objects.filter(code=source).count()
        + ConsensusCoding.objects.filter(code=source).count()
    )
    samples, counts = [], []
    for _ in range(max(3, N // 2)):
        with transaction.atomic():
            fresh = data["Code"].objects.get(pk=source.pk)
            into = data["Code"].objects.get(pk=target.pk)
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                codes_merge(actor=admin, sources=[fresh], target=into)
                samples.append((time.perf_counter() - start) * 1000)
            counts.append(len(captured.captured_queries))
            transaction.set_rollback(True)
    report(f"merge a code with {held:,} codings (service)", "merge", samples, max(counts))


def explain_search(study):
    from transcripts.selectors.transcripts import analysable_transcripts

    for _, query in SEARCHES:
        qs = analysable_transcripts(study).filter(text__icontains=query).values_list("pk")
        print(f"\n--- EXPLAIN ANALYZE: search {query!r} ---")
        print(qs.explain(analyze=True))


def main():
    # No setup_test_environment(): it instruments template rendering (the test client then
    # copies every template's context), which is not what a user waits for.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        # A file, as deployed (the test default would be an in-memory database).
        db["TEST"]["NAME"] = os.path.join(tempfile.gettempdir(), "bench_analysis.sqlite3")
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
